//! Reference targets with closed-form density, score and exact sampling.

use crate::rng::{fill_normal, uniform};
use crate::Target;
use rand_core::Rng;
use std::vec::Vec;

/// A mixture of isotropic Gaussians `sum_k w_k N(mu_k, s_k^2 I)` in R^d (f64).
#[derive(Clone, Debug)]
pub struct GaussianMixture {
    /// Component means, (K, d) row-major.
    pub means: Vec<f64>,
    /// Component standard deviations (K).
    pub stds: Vec<f64>,
    /// Log mixture weights, normalised (K).
    pub log_weights: Vec<f64>,
    /// Dimension d.
    pub dim: usize,
}

impl GaussianMixture {
    /// A mixture from means (K, d), standard deviations and (unnormalised) weights.
    pub fn new(means: Vec<f64>, stds: Vec<f64>, weights: &[f64], dim: usize) -> Self {
        let total: f64 = weights.iter().sum();
        let log_weights = weights.iter().map(|w| (w / total).ln()).collect();
        GaussianMixture {
            means,
            stds,
            log_weights,
            dim,
        }
    }

    /// `N(0, s^2 I_d)`.
    pub fn isotropic(dim: usize, std: f64) -> Self {
        Self::new(std::vec![0.0; dim], std::vec![std], &[1.0], dim)
    }

    /// The 2-D four-mode grid: means `(+-3, +-3)`, unit std, equal weights.
    pub fn grid4() -> Self {
        let means = std::vec![-3.0, -3.0, -3.0, 3.0, 3.0, -3.0, 3.0, 3.0];
        Self::new(means, std::vec![1.0; 4], &[1.0; 4], 2)
    }

    /// Number of components K.
    pub fn components(&self) -> usize {
        self.stds.len()
    }

    /// Mean of component `k` (d).
    pub fn mean(&self, k: usize) -> &[f64] {
        &self.means[k * self.dim..(k + 1) * self.dim]
    }

    /// Log-density of each component at `x` plus its log weight, into `out` (K).
    fn component_log_densities(&self, x: &[f64], out: &mut [f64]) {
        let d = self.dim as f64;
        for (k, o) in out.iter_mut().enumerate() {
            let s = self.stds[k];
            let sq: f64 = x
                .iter()
                .zip(self.mean(k))
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            *o = self.log_weights[k]
                - 0.5 * sq / (s * s)
                - d * (s.ln() + 0.5 * (2.0 * core::f64::consts::PI).ln());
        }
    }

    /// Normalised log-density at one point.
    pub fn log_pdf(&self, x: &[f64]) -> f64 {
        let mut terms = std::vec![0.0; self.components()];
        self.component_log_densities(x, &mut terms);
        log_sum_exp(&terms)
    }

    /// Index of the component with the largest responsibility at `x`.
    pub fn nearest_mode(&self, x: &[f64]) -> usize {
        let mut terms = std::vec![0.0; self.components()];
        self.component_log_densities(x, &mut terms);
        (0..terms.len())
            .max_by(|&a, &b| terms[a].total_cmp(&terms[b]))
            .unwrap_or(0)
    }

    /// `count` exact samples, (count, d) row-major.
    pub fn sample<R: Rng>(&self, count: usize, rng: &mut R) -> Vec<f64> {
        let mut out = std::vec![0.0; count * self.dim];
        fill_normal(rng, &mut out);
        for x in out.chunks_exact_mut(self.dim) {
            let u: f64 = uniform(rng);
            let mut cumulative = 0.0;
            let mut k = self.components() - 1;
            for (j, lw) in self.log_weights.iter().enumerate() {
                cumulative += lw.exp();
                if u <= cumulative {
                    k = j;
                    break;
                }
            }
            for (x_i, m) in x.iter_mut().zip(self.mean(k)) {
                *x_i = m + self.stds[k] * *x_i;
            }
        }
        out
    }
}

/// The mixture as an f64 or f32 target (density and score computed in f64).
impl<T: crate::Real> Target<T> for GaussianMixture {
    fn log_density(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        let mut point = std::vec![0.0; dim];
        for (p, o) in x.chunks_exact(dim).zip(out.iter_mut()) {
            point.iter_mut().zip(p).for_each(|(a, &b)| *a = b.to_f64());
            *o = T::from_f64(self.log_pdf(&point));
        }
        Ok(())
    }

    fn score(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        let k = self.components();
        let mut terms = std::vec![0.0; k];
        let mut point = std::vec![0.0; dim];
        for (p, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
            point.iter_mut().zip(p).for_each(|(a, &b)| *a = b.to_f64());
            self.component_log_densities(&point, &mut terms);
            let norm = log_sum_exp(&terms);
            o.iter_mut().for_each(|v| *v = T::ZERO);
            for (c, &t) in terms.iter().enumerate() {
                let r = (t - norm).exp();
                let s2 = self.stds[c] * self.stds[c];
                for ((v, &x_i), &m) in o.iter_mut().zip(&point).zip(self.mean(c)) {
                    *v += T::from_f64(r * (m - x_i) / s2);
                }
            }
        }
        Ok(())
    }

    fn has_score(&self) -> bool {
        true
    }
}

/// `ln sum_k exp(x_k)`, max-shifted (f64, host side).
fn log_sum_exp(x: &[f64]) -> f64 {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + x.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}
