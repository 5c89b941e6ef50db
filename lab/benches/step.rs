//! Speed of one ETD step and of one Sinkhorn solve (`cargo bench -p etd-lab --bench step`).
//!
//! Sizes: the host reference problem (N = 100, M = 25, d = 2, f64), the microcontroller problem
//! (N = 32, M = 4, d = 2, f32), and a 100 x 2500 balanced Sinkhorn solve to tolerance 1e-6 (the
//! size of the POT comparison in `docs/performance.md`).

use criterion::{criterion_group, criterion_main, Criterion};
use entropic_transport::cost::half_sq_dist;
use entropic_transport::rng::fill_normal;
use entropic_transport::{
    sinkhorn, sinkhorn_scratch_len, Config, Coupling, DefaultRng, Etd, Real, SinkhornParams,
};
use etd_lab::targets::GaussianMixture;
use rand_core::SeedableRng;
use std::hint::black_box;

/// Benchmarks steps of an `Etd<T, N, P, 2>` on the four-mode mixture, after a 50-step burn-in.
fn bench_step<T: Real, const N: usize, const P: usize>(c: &mut Criterion, name: &str) {
    let mut target = GaussianMixture::grid4();
    let config = Config::<T>::default();
    let mut sampler: Box<Etd<T, N, P, 2>> = Box::default();
    let mut rng = DefaultRng::seed_from_u64(1);
    let mut particles = [[T::ZERO; 2]; N];
    fill_normal(&mut rng, particles.as_flattened_mut());
    let mut step = |particles: &mut [[T; 2]; N]| {
        sampler
            .step(&config, particles, &mut target, &mut rng)
            .expect("step")
    };
    for _ in 0..50 {
        step(&mut particles);
    }
    c.bench_function(name, |b| b.iter(|| black_box(step(&mut particles))));
}

fn step_host(c: &mut Criterion) {
    bench_step::<f64, 100, 2500>(c, "step f64 N=100 M=25 d=2");
}

fn step_mcu_size(c: &mut Criterion) {
    bench_step::<f32, 32, 128>(c, "step f32 N=32 M=4 d=2");
}

fn sinkhorn_100x2500(c: &mut Criterion) {
    let (n, p) = (100, 2500);
    let mut rng = DefaultRng::seed_from_u64(2);
    let mut x = vec![0.0f64; 2 * n];
    let mut y = vec![0.0f64; 2 * p];
    fill_normal(&mut rng, &mut x);
    fill_normal(&mut rng, &mut y);
    let cost: Vec<f64> = x
        .chunks_exact(2)
        .flat_map(|a| y.chunks_exact(2).map(move |b| half_sq_dist(a, b)))
        .collect();
    let log_a = vec![-(n as f64).ln(); n];
    let log_b = vec![-(p as f64).ln(); p];
    let params = SinkhornParams {
        epsilon: 0.1,
        coupling: Coupling::Balanced,
        max_iterations: 10_000,
        tolerance: 1e-6,
    };
    let mut scratch = vec![0.0; sinkhorn_scratch_len(n, p)];
    c.bench_function("sinkhorn f64 100x2500 eps=0.1 tol=1e-6 (cold)", |b| {
        b.iter(|| {
            let (mut f, mut g) = (vec![0.0; n], vec![0.0; p]);
            sinkhorn(&cost, &log_a, &log_b, &params, &mut f, &mut g, &mut scratch).expect("solve")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = step_host, step_mcu_size, sinkhorn_100x2500
}
criterion_main!(benches);
