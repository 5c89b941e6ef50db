//! What a run is scored on: the metrics of a final ensemble against the target's reference,
//! and the metric tracked along the run.

use crate::metrics::{
    distance, energy_distance_to, mean, median, mode_coverage, sliced_w2, variance,
};
use crate::problem::Problem;
use crate::reference::{Reference, PROJECTIONS, REFERENCE_SEED};
use serde::{Deserialize, Serialize};

/// The metrics of one run (one target, method and seed); `None` where they do not apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Energy distance (V-statistic) to the reference samples.
    pub energy: Option<f64>,
    /// Sliced Wasserstein-2 to the reference samples (200 projections).
    pub sw2: Option<f64>,
    /// Euclidean norm of the ensemble mean minus the reference mean.
    pub mean_error: Option<f64>,
    /// Median over dimensions of ensemble variance / reference variance.
    pub var_ratio: Option<f64>,
    /// Smallest per-dimension variance ratio.
    pub var_ratio_min: Option<f64>,
    /// Largest per-dimension variance ratio.
    pub var_ratio_max: Option<f64>,
    /// Modes holding at least one particle.
    pub modes: Option<f64>,
    /// Total variation between the ensemble's mode shares and the true mode weights.
    pub mode_tv: Option<f64>,
    /// Test accuracy (classification).
    pub accuracy: Option<f64>,
    /// Mean test log-likelihood of the posterior predictive.
    pub log_lik: Option<f64>,
    /// Test RMSE of the predictive mean (regression).
    pub rmse: Option<f64>,
    /// ETD's importance-weight ESS `1 / sum_j b_j^2` (of `P = N M`), mean over the second half
    /// of the run.
    pub weight_ess: Option<f64>,
    /// Wall time per iteration in milliseconds (steps only).
    pub ms_per_iter: Option<f64>,
}

/// Distance and moment metrics of an ensemble `x` (N, d) against the reference, plus modes and
/// predictive metrics.
pub fn evaluate(problem: &dyn Problem, reference: &Reference, x: &[f64]) -> Metrics {
    let fdim = problem.feature_dim();
    let f = problem.features(x);
    let mut m = Metrics::default();
    if let Some(samples) = &reference.samples {
        m.energy = Some(energy_distance_to(
            &f,
            samples,
            fdim,
            reference.samples_self,
        ));
        m.sw2 = Some(sliced_w2(&f, samples, fdim, PROJECTIONS, REFERENCE_SEED));
    }
    if let (Some(rm), Some(rv)) = (&reference.mean, &reference.var) {
        let (em, ev) = (mean(&f, fdim), variance(&f, fdim));
        m.mean_error = Some(distance(&em, rm));
        let ratios: Vec<f64> = ev.iter().zip(rv).map(|(a, b)| a / b).collect();
        m.var_ratio = Some(median(&ratios));
        m.var_ratio_min = ratios.iter().copied().reduce(f64::min);
        m.var_ratio_max = ratios.iter().copied().reduce(f64::max);
    }
    if let Some(weights) = problem.mode_weights() {
        let d = problem.dim();
        let labels: Vec<usize> = x.chunks_exact(d).map(|p| problem.mode_of(p)).collect();
        let (covered, tv) = mode_coverage(&labels, &weights);
        m.modes = Some(covered as f64);
        m.mode_tv = Some(tv);
    }
    if let Some(p) = problem.predictive(x) {
        m.accuracy = p.accuracy;
        m.log_lik = Some(p.log_likelihood);
        m.rmse = p.rmse;
    }
    m
}

/// The metric tracked along a run: energy distance to the first reference samples where there
/// are samples, the mean error where there are moments, the test RMSE otherwise.
pub(crate) fn curve_metric(problem: &dyn Problem, reference: &Reference, x: &[f64]) -> f64 {
    let fdim = problem.feature_dim();
    if let Some((head, head_self)) = &reference.curve {
        return energy_distance_to(&problem.features(x), head, fdim, *head_self);
    }
    if reference.mean.is_some() {
        return evaluate(problem, reference, x)
            .mean_error
            .unwrap_or(f64::NAN);
    }
    problem
        .predictive(x)
        .and_then(|p| p.rmse)
        .unwrap_or(f64::NAN)
}

/// Name of the metric tracked along a run (energy distance, mean error or test RMSE).
pub fn curve_metric_name(reference: &Reference) -> &'static str {
    if reference.curve.is_some() {
        "energy distance (1000 reference samples)"
    } else if reference.mean.is_some() {
        "posterior-mean error"
    } else {
        "test RMSE"
    }
}
