//! Speed of one ETD step and of one Sinkhorn solve: `cargo bench -p etd-lab --bench step`.
//!
//! - `step/{f32,f64}/N,M,d`: one full step with `Config::default()` on the four-mode grid
//!   mixture (means `(+-3, +-3)` in the first two coordinates, unit variance; density and score
//!   in the sampler's precision, as a user's target), after a 50-step burn-in from
//!   `N(0, 25 I)`, at (N, M, d) = (100, 25, 2), (100, 25, 10), (32, 4, 2) and (256, 25, 2);
//!   `step-plain/..`: the same with `Config::plain()` (no preconditioning, no mutation), at
//!   the first two shapes: what the defaults cost on top of the transport step.
//! - `sinkhorn/{f32,f64}/NxP/{1,21}`: one balanced solve of the default solver on a random
//!   median-normalised 2-D cost (eps 0.1, uniform marginals, cold start) capped at 1 and at 21
//!   iterations: the difference over 20 iterations is the cost of one iteration, the first the
//!   cost of forming the kernel. Throughput is `N P` entries per iteration.
//! - `sweep/{f32,f64}/NxP`: the bound an iteration is measured against, one fused
//!   multiply-add sweep over a matrix of the same size and type (`y_i = sum_j K_ij x_j`).
//!
//! Times are wall clock on whatever machine runs it; `docs/performance.md` has the table.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use entropic_transport::rng::fill_normal;
use entropic_transport::vector::dot;
use entropic_transport::{
    sinkhorn, sinkhorn_scratch_len, workspace_len, Config, Coupling, DefaultRng, Real,
    SinkhornParams, Solver, Target, Workspace,
};
use rand_core::SeedableRng;
use std::hint::black_box;

/// The four-mode grid (means `(+-3, +-3, 0, ..)`, unit variance, equal weights), evaluated in
/// the sampler's own precision without allocating, as a user's target would be.
struct Grid;

impl Grid {
    /// The largest of the four components' exponents `-|x - m_k|^2 / 2` and each one's
    /// `exp(e_k - max)`.
    fn shifted<T: Real>(x: &[T]) -> (T, [T; 4]) {
        let rest = x[2..].iter().fold(T::ZERO, |acc, &v| acc + v * v);
        let three = T::from_f64(3.0);
        let mut t = [T::ZERO; 4];
        for (k, t_k) in t.iter_mut().enumerate() {
            let m0 = if k < 2 { -three } else { three };
            let m1 = if k % 2 == 0 { -three } else { three };
            let (d0, d1) = (x[0] - m0, x[1] - m1);
            *t_k = T::from_f64(-0.5) * (d0 * d0 + d1 * d1 + rest);
        }
        let max = t.iter().fold(T::NEG_INFINITY, |m, &v| m.max(v));
        t.iter_mut().for_each(|t_k| *t_k = (*t_k - max).exp());
        (max, t)
    }

    /// `ln pi(x)` up to a constant.
    fn log_pi<T: Real>(x: &[T]) -> T {
        let (max, t) = Self::shifted(x);
        max + t.iter().fold(T::ZERO, |sum, &t_k| sum + t_k).ln()
    }

    /// The responsibilities of the four components.
    fn responsibilities<T: Real>(x: &[T]) -> [T; 4] {
        let (_, mut t) = Self::shifted(x);
        let sum = t.iter().fold(T::ZERO, |sum, &t_k| sum + t_k);
        t.iter_mut().for_each(|t_k| *t_k = *t_k / sum);
        t
    }
}

impl<T: Real> Target<T> for Grid {
    fn log_density(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        for (p, o) in x.chunks_exact(dim).zip(out.iter_mut()) {
            *o = Self::log_pi(p);
        }
        Ok(())
    }

    fn score(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        let three = T::from_f64(3.0);
        for (p, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
            let r = Self::responsibilities(p);
            o.iter_mut().zip(p).for_each(|(o, &v)| *o = -v);
            o[0] += three * (r[2] + r[3] - r[0] - r[1]);
            o[1] += three * (r[1] + r[3] - r[0] - r[2]);
        }
        Ok(())
    }

    fn has_score(&self) -> bool {
        true
    }
}

/// Benchmarks one step of a workspace of shape `(n, m, dim)` in `T` with `config`, named
/// `group/precision/n,m,dim`.
fn bench_step<T: Real>(
    c: &mut Criterion,
    (group, config): (&str, Config<T>),
    precision: &str,
    (n, m, dim): (usize, usize, usize),
) {
    let shape = entropic_transport::Shape::new(n, m, dim);
    let mut memory = vec![T::ZERO; workspace_len(&shape).expect("shape")];
    let mut workspace = Workspace::new(shape, &mut memory).expect("workspace");
    let mut target = Grid;
    let mut rng = DefaultRng::seed_from_u64(1);
    let mut particles = vec![T::ZERO; n * dim];
    fill_normal(&mut rng, &mut particles);
    particles.iter_mut().for_each(|x| *x *= T::from_f64(5.0));
    let mut step = |particles: &mut [T]| {
        workspace
            .step(&config, particles, &mut target, &mut rng)
            .expect("step")
    };
    for _ in 0..50 {
        step(&mut particles);
    }
    c.bench_function(&format!("{group}/{precision}/{n},{m},{dim}"), |b| {
        b.iter(|| black_box(step(&mut particles)))
    });
}

fn steps(c: &mut Criterion) {
    for shape in [(100, 25, 2), (100, 25, 10), (32, 4, 2), (256, 25, 2)] {
        bench_step::<f32>(c, ("step", Config::default()), "f32", shape);
        bench_step::<f64>(c, ("step", Config::default()), "f64", shape);
    }
    for shape in [(100, 25, 2), (100, 25, 10)] {
        bench_step::<f32>(c, ("step-plain", Config::plain()), "f32", shape);
        bench_step::<f64>(c, ("step-plain", Config::plain()), "f64", shape);
    }
}

/// A median-normalised 2-D cost `(n, p)` between random points.
fn cost<T: Real>(n: usize, p: usize) -> Vec<T> {
    let mut rng = DefaultRng::seed_from_u64(2);
    let (mut x, mut y) = (vec![0.0f64; 2 * n], vec![0.0f64; 2 * p]);
    fill_normal(&mut rng, &mut x);
    fill_normal(&mut rng, &mut y);
    let mut c: Vec<f64> = x
        .chunks_exact(2)
        .flat_map(|a| {
            y.chunks_exact(2)
                .map(move |b| 0.5 * ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)))
        })
        .collect();
    let mut sorted = c.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    c.iter_mut().for_each(|v| *v /= median);
    c.into_iter().map(T::from_f64).collect()
}

/// Sinkhorn solves capped at 1 and 21 iterations, and the multiply-add sweep bound.
fn bench_solve<T: Real>(c: &mut Criterion, precision: &str, (n, p): (usize, usize)) {
    let cost = cost::<T>(n, p);
    let log_a = vec![-T::from_usize(n).ln(); n];
    let log_b = vec![-T::from_usize(p).ln(); p];
    let mut scratch = vec![T::ZERO; sinkhorn_scratch_len(n, p, Solver::Scaling)];
    let mut group = c.benchmark_group(format!("sinkhorn/{precision}/{n}x{p}"));
    for iterations in [1u32, 21] {
        let params = SinkhornParams {
            epsilon: T::from_f64(0.1),
            coupling: Coupling::Balanced,
            max_iterations: iterations,
            tolerance: T::from_f64(1e-30),
            solver: Solver::Scaling,
        };
        group.throughput(Throughput::Elements((n * p) as u64 * u64::from(iterations)));
        group.bench_function(BenchmarkId::from_parameter(iterations), |b| {
            b.iter(|| {
                let (mut f, mut g) = (vec![T::ZERO; n], vec![T::ZERO; p]);
                sinkhorn(&cost, &log_a, &log_b, &params, &mut f, &mut g, &mut scratch)
                    .expect("solve")
            })
        });
    }
    group.finish();
    let x = vec![T::ONE; p];
    let mut y = vec![T::ZERO; n];
    let mut group = c.benchmark_group(format!("sweep/{precision}"));
    group.throughput(Throughput::Elements((n * p) as u64));
    group.bench_function(format!("{n}x{p}"), |b| {
        b.iter(|| {
            sweep_bound(&cost, &x, &mut y);
            black_box(&y);
        })
    });
    group.finish();
}

fn solves(c: &mut Criterion) {
    for size in [(32, 128), (100, 2500), (256, 6400)] {
        bench_solve::<f32>(c, "f32", size);
        bench_solve::<f64>(c, "f64", size);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = steps, solves
}
criterion_main!(benches);

/// `y_i = sum_j K_ij x_j` with the kernel's own `dot`, compiled for AVX2 and FMA where the
/// running CPU has them (as the kernel's loops are).
fn sweep_bound<T: Real>(matrix: &[T], x: &[T], y: &mut [T]) {
    #[inline(always)]
    fn rows<T: Real, const FUSED: bool>(matrix: &[T], x: &[T], y: &mut [T]) {
        for (row, y_i) in matrix.chunks_exact(x.len()).zip(y.iter_mut()) {
            *y_i = dot::<T, FUSED>(row, x);
        }
    }
    match pulp::Arch::new() {
        pulp::Arch::V3(simd) => pulp::Simd::vectorize(
            simd,
            #[inline(always)]
            || rows::<T, true>(matrix, x, y),
        ),
        _ => rows::<T, false>(matrix, x, y),
    }
}
