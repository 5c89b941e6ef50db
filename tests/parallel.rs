//! The `parallel` feature: a step's result does not depend on the number of threads
//! (`cargo test -p entropic-transport --features parallel --tests`).
#![cfg(feature = "parallel")]

use entropic_transport::{workspace_len, Config, DefaultRng, LogDensityFn, Real, Shape, Workspace};
use rand_core::SeedableRng;

/// Particles and per-step statistics after `steps` steps of a problem large enough (N = 256)
/// for the blocks to run on rayon's threads, inside a pool of `threads` threads.
fn run<T: Real>(threads: usize, steps: usize) -> (Vec<T>, Vec<String>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    pool.install(|| {
        let shape = Shape::new(256, 4, 2);
        let mut memory = vec![T::ZERO; workspace_len(&shape).expect("shape")];
        let mut workspace = Workspace::new(shape, &mut memory).expect("workspace");
        // Two well-separated modes, score-free.
        let mut target = LogDensityFn(|x: &[T]| {
            let (a, b) = (x[0] - T::from_f64(2.0), x[0] + T::from_f64(2.0));
            let near = if a.abs() < b.abs() { a } else { b };
            T::from_f64(-0.5) * (near * near + x[1] * x[1])
        });
        let config = Config {
            use_score: false,
            ..Config::default()
        };
        let mut rng = DefaultRng::seed_from_u64(11);
        let mut particles: Vec<T> = (0..512)
            .map(|i| T::from_f64(((i * 37 % 101) as f64 - 50.0) / 10.0))
            .collect();
        let stats = (0..steps)
            .map(|_| {
                let s = workspace
                    .step(&config, &mut particles, &mut target, &mut rng)
                    .expect("step");
                format!("{s:?}")
            })
            .collect();
        (particles, stats)
    })
}

#[test]
fn one_and_two_threads_give_identical_steps() {
    let (one, one_stats) = run::<f64>(1, 5);
    let (two, two_stats) = run::<f64>(2, 5);
    assert_eq!(one_stats, two_stats);
    assert!(one
        .iter()
        .zip(&two)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    let (one, one_stats) = run::<f32>(1, 5);
    let (two, two_stats) = run::<f32>(4, 5);
    assert_eq!(one_stats, two_stats);
    assert!(one
        .iter()
        .zip(&two)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}
