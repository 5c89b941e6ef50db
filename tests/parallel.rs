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

/// With fewer rows than blocks some blocks are empty, and they must add nothing: a step from
/// the same particles and random state gives the same result in a workspace that has already
/// stepped (its column-sum buffer full of the last step's values) as in a fresh one. (The
/// weights once left an empty block's partial column sums as the previous stage wrote them.)
#[test]
fn empty_blocks_add_nothing() {
    let shape = Shape::new(5, 4, 2);
    let config = Config {
        use_score: false,
        warm_start: false,
        ..Config::plain()
    };
    let mut target = LogDensityFn(|x: &[f64]| -0.5 * (x[0] * x[0] + x[1] * x[1]));
    let mut memory = vec![0.0; workspace_len(&shape).expect("shape")];
    let mut used = Workspace::new(shape, &mut memory).expect("workspace");
    let mut rng = DefaultRng::seed_from_u64(3);
    let mut particles: Vec<f64> = (0..10).map(|i| f64::from(i) / 3.0 - 1.5).collect();
    used.step(&config, &mut particles, &mut target, &mut rng)
        .expect("step");
    let (mut again, mut fresh_particles) = (particles.clone(), particles);
    let mut fresh_rng = rng.clone();
    let used_stats = used
        .step(&config, &mut again, &mut target, &mut rng)
        .expect("step");
    let mut fresh_memory = vec![0.0; workspace_len(&shape).expect("shape")];
    let mut fresh = Workspace::new(shape, &mut fresh_memory).expect("workspace");
    let fresh_stats = fresh
        .step(&config, &mut fresh_particles, &mut target, &mut fresh_rng)
        .expect("step");
    assert_eq!(format!("{used_stats:?}"), format!("{fresh_stats:?}"));
    assert_eq!(again, fresh_particles);
}
