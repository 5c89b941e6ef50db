//! What the experiment runner needs from a target beyond [`Target`]: its dimension, a cheap
//! score estimate for SGLD, exact samples when they exist, a feature map for the distance
//! metrics, mode labels for multimodal targets, and predictive metrics for data targets.

use entropic_transport::{DefaultRng, Target};

/// Predictive quality of an ensemble on held-out data (posterior-predictive average).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Predictive {
    /// Test accuracy in [0, 1] (classification only).
    pub accuracy: Option<f64>,
    /// Mean test log-likelihood per point of the posterior-predictive mixture.
    pub log_likelihood: f64,
    /// Test root-mean-square error of the predictive mean, in the data's units (regression only).
    pub rmse: Option<f64>,
}

/// A host experiment target (f64). Every method of the runner goes through this interface.
pub trait Problem: Target<f64> {
    /// Dimension `d` of the parameter space.
    fn dim(&self) -> usize;

    /// An unbiased estimate of the score at `x` (count, d) into `out` (count, d): a minibatch
    /// estimate for data targets (SGLD), the exact score otherwise.
    fn stochastic_score(
        &mut self,
        x: &[f64],
        out: &mut [f64],
        rng: &mut DefaultRng,
    ) -> Result<(), i32> {
        let _ = rng;
        let dim = self.dim();
        self.score(x, dim, out)
    }

    /// `count` exact samples (count, d), when the target can draw them.
    fn exact_samples(&self, count: usize, rng: &mut DefaultRng) -> Option<Vec<f64>> {
        let _ = (count, rng);
        None
    }

    /// Width of [`Problem::features`] rows.
    fn feature_dim(&self) -> usize {
        self.dim()
    }

    /// The representation the distance and moment metrics compare, (count, feature_dim) from
    /// points (count, d). The identity, except for symmetric targets (DW-4: pair distances).
    fn features(&self, x: &[f64]) -> Vec<f64> {
        x.to_vec()
    }

    /// True probabilities of the target's modes, for multimodal targets.
    fn mode_weights(&self) -> Option<Vec<f64>> {
        None
    }

    /// The mode a point (d) belongs to (an index into [`Problem::mode_weights`]).
    fn mode_of(&self, x: &[f64]) -> usize {
        let _ = x;
        0
    }

    /// Held-out predictive metrics of the ensemble `particles` (count, d), for data targets.
    fn predictive(&self, particles: &[f64]) -> Option<Predictive> {
        let _ = particles;
        None
    }
}
