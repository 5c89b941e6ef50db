//! Host run of the firmware's exact problem over many seeds, so the firmware's tolerances are
//! not tuned to the one seed it boots with. `cargo test -p etd-cortex-m4 --release -- --nocapture`
//! (from the repository root) prints the error distribution.

use entropic_transport::{DefaultRng, Etd};
use etd_cortex_m4::{
    errors, initial_particles, summarise, Mixture3, Scalar, Summary, D, ITERATIONS, N, P,
};
use rand_core::SeedableRng;

/// One firmware run on the host.
fn run(seed: u64) -> Summary {
    let mut sampler: Box<Etd<Scalar, N, P, D>> = Box::default();
    let mut rng = DefaultRng::seed_from_u64(seed);
    let mut particles = [[Scalar::default(); D]; N];
    initial_particles(&mut rng, &mut particles);
    let config = etd_cortex_m4::config();
    for it in 0..ITERATIONS {
        sampler
            .step(&config, &mut particles, &mut Mixture3, &mut rng)
            .unwrap_or_else(|e| panic!("seed {seed}, step {it}: {e}"));
    }
    summarise(&particles)
}

#[test]
fn tolerances_hold_over_many_seeds() {
    let seeds = 0..500u64;
    let mut worst = [0.0f32; 3];
    let mut failures = Vec::new();
    let mut all = Vec::new();
    for seed in seeds.clone() {
        let s = run(seed);
        let e = errors(&s);
        worst[0] = worst[0].max(e.mean);
        worst[1] = worst[1].max(e.log_variance_ratio);
        worst[2] = worst[2].max(e.share);
        all.push(e);
        if !etd_cortex_m4::check(&s) {
            failures.push((seed, e));
        }
    }
    let q = |f: fn(&etd_cortex_m4::Tolerances) -> f32| {
        let mut v: Vec<f32> = all.iter().map(f).collect();
        v.sort_by(f32::total_cmp);
        (v[v.len() / 2], v[v.len() * 99 / 100], v[v.len() - 1])
    };
    println!("over {} seeds (median, p99, max):", all.len());
    println!("  mean error       {:?}", q(|e| e.mean));
    println!("  |ln var ratio|   {:?}", q(|e| e.log_variance_ratio));
    println!("  share error      {:?}", q(|e| e.share));
    println!("failures: {failures:?}");
    assert!(
        failures.is_empty(),
        "{} of {} seeds fail",
        failures.len(),
        all.len()
    );
}
