//! f32 stability of both Sinkhorn solvers at every epsilon, and honest convergence reports.

use entropic_transport::rng::fill_normal;
use entropic_transport::{
    sinkhorn, sinkhorn_scratch_len, Coupling, DefaultRng, SinkhornParams, Solver,
};
use rand_core::SeedableRng;

/// A median-normalised cost between `n` and `p` random 2-D points, plus uniform log-marginals.
fn normalised_problem(n: usize, p: usize, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut rng = DefaultRng::seed_from_u64(seed);
    let mut x = vec![0.0f64; 2 * n];
    let mut y = vec![0.0f64; 2 * p];
    fill_normal(&mut rng, &mut x);
    fill_normal(&mut rng, &mut y);
    let mut cost: Vec<f64> = x
        .chunks_exact(2)
        .flat_map(|a| {
            y.chunks_exact(2)
                .map(move |b| 0.5 * ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)))
        })
        .collect();
    let mut sorted = cost.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    cost.iter_mut().for_each(|c| *c /= median);
    let log_a = vec![-(n as f32).ln(); n];
    let log_b = vec![-(p as f32).ln(); p];
    (cost.iter().map(|&c| c as f32).collect(), log_a, log_b)
}

/// L1 error of the row marginal of `P = exp((f + g - C) / eps)`, recomputed in f64.
fn row_error(cost: &[f32], f: &[f32], g: &[f32], eps: f32, log_a: &[f32]) -> f64 {
    let eps = eps as f64;
    cost.chunks_exact(g.len())
        .zip(f)
        .zip(log_a)
        .map(|((row, &f_i), &la)| {
            let mass: f64 = row
                .iter()
                .zip(g)
                .map(|(&c, &g_j)| ((f_i as f64 + g_j as f64 - c as f64) / eps).exp())
                .sum();
            (mass - (la as f64).exp()).abs()
        })
        .sum()
}

#[test]
fn f32_sinkhorn_is_finite_at_every_epsilon_and_honest_about_convergence() {
    let (n, p) = (32, 128);
    let (cost, log_a, log_b) = normalised_problem(n, p, 3);
    let tolerance = 1e-3f32;
    for solver in [Solver::Log, Solver::Scaling] {
        for coupling in [Coupling::Balanced, Coupling::Unbalanced { rho: 1.0 }] {
            for eps in [1.0f32, 0.1, 0.01, 0.001] {
                let params = SinkhornParams {
                    epsilon: eps,
                    coupling,
                    max_iterations: 1000,
                    tolerance,
                    solver,
                };
                let (mut f, mut g) = (vec![0.0f32; n], vec![0.0f32; p]);
                let mut scratch = vec![0.0f32; sinkhorn_scratch_len(n, p, solver)];
                let stats = sinkhorn(&cost, &log_a, &log_b, &params, &mut f, &mut g, &mut scratch)
                    .expect("valid problem");
                let actual = row_error(&cost, &f, &g, eps, &log_a);
                println!(
                    "{solver:?} {coupling:?} eps {eps}: {} iterations ({} absorptions), converged {}, \
                     reported error {:.3e}, row error recomputed {actual:.3e}",
                    stats.iterations, stats.absorptions, stats.converged, stats.marginal_error
                );
                assert!(
                    f.iter().chain(&g).all(|v| v.is_finite()),
                    "{solver:?} eps {eps}: non-finite potential"
                );
                assert!(stats.marginal_error.is_finite());
                assert_eq!(stats.converged, stats.marginal_error <= tolerance);
                let reported = stats.marginal_error as f64;
                match solver {
                    // The log solver reports the plan's row error: agree with an f64
                    // recomputation up to f32 rounding.
                    Solver::Log => assert!(
                        (reported - actual).abs() <= 1e-3 * actual.max(1e-2),
                        "eps {eps}: reported {reported} but the plan's error is {actual}"
                    ),
                    // The scaling solver reports the last column half-step's change of mass,
                    // an upper bound of the row error (up to f32 rounding).
                    Solver::Scaling => assert!(
                        actual <= reported * (1.0 + 1e-3) + 1e-5,
                        "eps {eps}: reported {reported} below the plan's row error {actual}"
                    ),
                }
                if eps >= 0.01 {
                    assert!(
                        stats.converged,
                        "{solver:?} eps {eps} did not converge in 1000 iterations"
                    );
                }
            }
        }
    }
}
