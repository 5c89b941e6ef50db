//! Measures Sinkhorn iterations with and without warm-started potentials.
//!
//! `cargo run --release --example warm_start`: the 2-D four-mode grid mixture, N = 50, M = 10,
//! 60 ETD steps from N(0, 25 I), Sinkhorn to tol 1e-3 with the cap raised to 1000 so the
//! counts are not clipped at the default 50; mean iterations per step for several updates.

use entropic_transport::rng::fill_normal;
use entropic_transport::{Config, DefaultRng, Etd, Update};
use etd_lab::targets::GaussianMixture;
use rand_core::SeedableRng;

const STEPS: u32 = 60;

/// Mean Sinkhorn iterations per step over one seeded run.
fn mean_iterations(warm_start: bool, update: Update, damping: f64) -> f64 {
    let mut target = GaussianMixture::grid4();
    let config = Config {
        warm_start,
        max_iterations: 1000,
        update,
        damping,
        ..Config::default()
    };
    let mut sampler: Box<Etd<f64, 50, 500, 2>> = Box::default();
    let mut particles = [[0.0; 2]; 50];
    let mut rng = DefaultRng::seed_from_u64(9);
    fill_normal(&mut rng, particles.as_flattened_mut());
    particles
        .as_flattened_mut()
        .iter_mut()
        .for_each(|v| *v *= 5.0);
    let mut total = 0;
    for _ in 0..STEPS {
        match sampler.step(&config, &mut particles, &mut target, &mut rng) {
            Ok(stats) => total += stats.sinkhorn.iterations,
            Err(e) => panic!("step failed: {e}"),
        }
    }
    f64::from(total) / f64::from(STEPS)
}

fn main() {
    println!("| update | damping | warm start | cold start |");
    println!("|---|---|---|---|");
    for (update, damping) in [
        (Update::Categorical, 1.0),
        (Update::Categorical, 0.2),
        (Update::Barycentric, 1.0),
        (Update::Barycentric, 0.2),
    ] {
        let warm = mean_iterations(true, update, damping);
        let cold = mean_iterations(false, update, damping);
        println!("| {update:?} | {damping} | {warm:.1} | {cold:.1} |");
    }
}
