//! Sampling quality: seeded runs, thresholds on accuracy, never on time.
//!
//! Every threshold here holds for every seed listed; the seeds are fixed for reproducibility,
//! not chosen to pass (each test runs several and asserts on all of them).

use entropic_transport::rng::fill_normal;
use entropic_transport::{Config, DefaultRng, Etd, Target};
use etd_lab::metrics::{energy_distance, mean, variance};
use etd_lab::targets::GaussianMixture;
use rand_core::SeedableRng;
use std::thread;

const N: usize = 100;
const M: usize = 25;
type Sampler = Etd<f64, N, { N * M }, 2>;

/// `N` points from `N(0, std^2 I_2)`.
fn initial(seed: u64, std: f64) -> Box<[[f64; 2]; N]> {
    let mut x = Box::new([[0.0; 2]; N]);
    fill_normal(
        &mut DefaultRng::seed_from_u64(seed ^ 0x5eed),
        x.as_flattened_mut(),
    );
    x.as_flattened_mut().iter_mut().for_each(|v| *v *= std);
    x
}

/// Particles per mode of the grid mixture.
fn mode_counts(target: &GaussianMixture, particles: &[[f64; 2]; N]) -> [usize; 4] {
    let mut counts = [0; 4];
    particles
        .iter()
        .for_each(|p| counts[target.nearest_mode(p)] += 1);
    counts
}

/// Runs `iterations` steps; calls `check(iteration, particles)` after each.
fn run<G: Target<f64>>(
    seed: u64,
    target: &mut G,
    config: &Config<f64>,
    particles: &mut [[f64; 2]; N],
    iterations: usize,
    mut check: impl FnMut(usize, &[[f64; 2]; N]),
) {
    let mut sampler: Box<Sampler> = Box::default();
    let mut rng = DefaultRng::seed_from_u64(seed);
    for it in 1..=iterations {
        sampler
            .step(config, particles, target, &mut rng)
            .unwrap_or_else(|e| panic!("seed {seed}, step {it}: {e}"));
        check(it, particles);
    }
}

/// One grid-mixture run: mode counts at iteration 100 and the final energy distance.
fn grid_run(seed: u64, use_score: bool, iterations: usize) -> ([usize; 4], f64) {
    let mut target = GaussianMixture::grid4();
    let config = Config {
        use_score,
        ..Config::default()
    };
    let mut particles = initial(seed, 5.0);
    let mut at_100 = [0; 4];
    let grid = target.clone();
    run(
        seed,
        &mut target,
        &config,
        &mut particles,
        iterations,
        |it, x| {
            if it == 100 {
                at_100 = mode_counts(&grid, x);
            }
        },
    );
    let exact = grid.sample(4000, &mut DefaultRng::seed_from_u64(1000 + seed));
    (at_100, energy_distance(particles.as_flattened(), &exact, 2))
}

/// Runs `f(seed)` for each seed on its own thread.
fn per_seed<R: Send>(seeds: &[u64], f: impl Fn(u64) -> R + Sync) -> Vec<R> {
    thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = seeds.iter().map(|&seed| s.spawn(move || f(seed))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// "Covered" means at least N/20 = 5 particles, a fifth of the fair share.
const COVERED: usize = N / 20;

#[test]
fn four_mode_mixture_is_covered_and_close_in_energy_distance() {
    let seeds = [1, 2, 3, 4, 5];
    let results = per_seed(&seeds, |seed| grid_run(seed, true, 500));
    let mut total = 0.0;
    for (seed, (counts, ed)) in seeds.iter().zip(&results) {
        println!("seed {seed}: modes at iteration 100 {counts:?}, energy distance at 500 {ed:.4}");
        assert!(
            counts.iter().all(|&c| c >= COVERED),
            "seed {seed}: a mode has fewer than {COVERED} particles at iteration 100: {counts:?}"
        );
        total += ed;
    }
    let mean_ed = total / seeds.len() as f64;
    println!(
        "mean energy distance over {} seeds: {mean_ed:.4}",
        seeds.len()
    );
    assert!(mean_ed <= 0.04, "mean energy distance {mean_ed:.4} > 0.04");
}

#[test]
fn score_free_mode_covers_all_four_modes() {
    let seeds = [11, 12, 13, 14, 15];
    let results = per_seed(&seeds, |seed| grid_run(seed, false, 100));
    for (seed, (counts, ed)) in seeds.iter().zip(&results) {
        println!(
            "score-free seed {seed}: modes at iteration 100 {counts:?}, energy distance {ed:.4}"
        );
        assert!(
            counts.iter().all(|&c| c >= COVERED),
            "score-free seed {seed}: a mode has fewer than {COVERED} particles: {counts:?}"
        );
    }
}

#[test]
fn standard_normal_mean_and_variance() {
    let seeds = [21, 22, 23];
    let results = per_seed(&seeds, |seed| {
        let mut target = GaussianMixture::isotropic(2, 1.0);
        let mut particles = initial(seed, 2.0);
        run(
            seed,
            &mut target,
            &Config::default(),
            &mut particles,
            200,
            |_, _| {},
        );
        let x = particles.as_flattened();
        (mean(x, 2), variance(x, 2))
    });
    for (seed, (m, v)) in seeds.iter().zip(&results) {
        println!("N(0, I_2) seed {seed}: mean {m:.3?}, variance ratio {v:.3?}");
        // The mean of 100 independent draws has a standard error of 0.1 per coordinate; over 30
        // seeds (`stop_rule` example) the default's largest coordinate measured 0.112.
        assert!(m.iter().all(|m| m.abs() < 0.15), "seed {seed}: mean {m:?}");
        assert!(
            v.iter().all(|v| (0.8..=1.2).contains(v)),
            "seed {seed}: variance ratios {v:?}"
        );
    }
}

/// Median over coordinates of the ensemble variance after 300 steps on `N(0, I_10)` from
/// `N(0, 4 I)`, with `config`.
fn median_variance_10d(seed: u64, config: &Config<f64>) -> f64 {
    const D: usize = 10;
    let mut target = GaussianMixture::isotropic(D, 1.0);
    let mut sampler: Box<Etd<f64, N, { N * M }, D>> = Box::default();
    let mut x = Box::new([[0.0; D]; N]);
    fill_normal(
        &mut DefaultRng::seed_from_u64(seed ^ 0x5eed),
        x.as_flattened_mut(),
    );
    x.as_flattened_mut().iter_mut().for_each(|v| *v *= 2.0);
    let mut rng = DefaultRng::seed_from_u64(seed);
    for it in 1..=300 {
        sampler
            .step(config, &mut x, &mut target, &mut rng)
            .unwrap_or_else(|e| panic!("seed {seed}, step {it}: {e}"));
    }
    let mut v = variance(x.as_flattened(), D);
    v.sort_by(f64::total_cmp);
    (v[D / 2 - 1] + v[D / 2]) / 2.0
}

#[test]
fn the_defaults_keep_the_spread_in_ten_dimensions() {
    // The transport step alone contracts the ensemble as the dimension grows (median variance
    // ratio about 0.48 here); the default preconditioning and mutation keep it (0.88-1.02 over
    // these seeds). One seed's median over 10 coordinates of 100 particles has a standard
    // error of about 0.05, so [0.8, 1.2] is a 4-sigma band.
    let seeds = [31, 32, 33];
    let ratios = per_seed(&seeds, |seed| {
        (
            median_variance_10d(seed, &Config::default()),
            median_variance_10d(seed, &Config::plain()),
        )
    });
    for (seed, (default, plain)) in seeds.iter().zip(&ratios) {
        println!("N(0, I_10) seed {seed}: median variance ratio {default:.3}, plain {plain:.3}");
        assert!(
            (0.8..=1.2).contains(default),
            "seed {seed}: default {default:.3}"
        );
        assert!(
            *plain < 0.7,
            "seed {seed}: plain {plain:.3} did not contract"
        );
    }
}
