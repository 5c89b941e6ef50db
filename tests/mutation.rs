//! The MH mutation leaves the target invariant: started from exact samples, it keeps them exact.

use entropic_transport::host::metrics::{mean, variance};
use entropic_transport::host::targets::GaussianMixture;
use entropic_transport::mutate::{mutate, MutationBuffers};
use entropic_transport::rng::fill_normal;
use entropic_transport::{DefaultRng, LogDensityFn, Mutation, Target};
use rand_core::SeedableRng;

const COUNT: usize = 4000;
const DIM: usize = 2;

/// Runs 50 mutation steps from exact N(0, I_2) samples; returns (mean, variance, acceptance).
fn run_from_exact<G: Target<f64>>(target: &mut G, step_size: f64) -> (Vec<f64>, Vec<f64>, f64) {
    let mut rng = DefaultRng::seed_from_u64(3);
    let mut x = vec![0.0; COUNT * DIM];
    fill_normal(&mut rng, &mut x);
    let (mut proposal, mut score, mut score_proposal) = (
        vec![0.0; COUNT * DIM],
        vec![0.0; COUNT * DIM],
        vec![0.0; COUNT * DIM],
    );
    let (mut log_pi, mut log_pi_proposal) = (vec![0.0; COUNT], vec![0.0; COUNT]);
    let mutation = Mutation {
        steps: 50,
        step_size,
    };
    let buffers = MutationBuffers {
        proposal: &mut proposal,
        score: &mut score,
        score_proposal: &mut score_proposal,
        log_pi: &mut log_pi,
        log_pi_proposal: &mut log_pi_proposal,
    };
    let acceptance = mutate(&mut x, DIM, &mutation, target, buffers, &mut rng).unwrap();
    (mean(&x, DIM), variance(&x, DIM), acceptance)
}

/// With 4000 points the variance estimate has a standard deviation of about 0.022 (plus the
/// chain's correlation with its exact start), so [0.9, 1.1] is a 4-sigma band; a wrong MH ratio
/// drifts far outside it (a reversed Langevin ratio gave 0.37).
fn assert_invariant(name: &str, (m, v, acceptance): (Vec<f64>, Vec<f64>, f64)) {
    println!("{name}: mean {m:.3?}, variance {v:.3?}, acceptance {acceptance:.2}");
    assert!(m.iter().all(|m| m.abs() < 0.08), "{name}: mean {m:?}");
    assert!(
        v.iter().all(|v| (0.9..=1.1).contains(v)),
        "{name}: variance {v:?}"
    );
    assert!(
        acceptance > 0.2 && acceptance < 1.0,
        "{name}: acceptance {acceptance}"
    );
}

#[test]
fn mala_keeps_a_standard_normal_invariant() {
    // A large step, where a wrong Langevin correction shows at once.
    let mut target = GaussianMixture::isotropic(DIM, 1.0);
    assert_invariant("MALA", run_from_exact(&mut target, 0.8));
}

#[test]
fn random_walk_keeps_a_standard_normal_invariant() {
    let mut target = LogDensityFn(|x: &[f64]| -0.5 * (x[0] * x[0] + x[1] * x[1]));
    assert_invariant("random walk", run_from_exact(&mut target, 0.8));
}
