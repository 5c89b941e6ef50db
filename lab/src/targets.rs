//! Reference targets with closed-form density, score and exact sampling: Gaussian mixtures
//! (grid and rings), axis-aligned Gaussians, the banana and Neal's funnel.

use crate::problem::Problem;
use entropic_transport::rng::{fill_normal, uniform};
use entropic_transport::{DefaultRng, Target};
use rand_core::Rng;

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
        Self::new(vec![0.0; dim], vec![std], &[1.0], dim)
    }

    /// The 2-D four-mode grid: means `(+-3, +-3)`, unit std, equal weights.
    pub fn grid4() -> Self {
        let means = vec![-3.0, -3.0, -3.0, 3.0, 3.0, -3.0, 3.0, 3.0];
        Self::new(means, vec![1.0; 4], &[1.0; 4], 2)
    }

    /// `k` unit-std components, equally weighted, with means on a circle of `radius` in the
    /// first two coordinates (the others 0) of R^`dim`; the first mean lies on the x axis.
    pub fn ring(k: usize, radius: f64, dim: usize) -> Self {
        let mut means = vec![0.0; k * dim];
        for (j, m) in means.chunks_exact_mut(dim).enumerate() {
            let angle = core::f64::consts::TAU * j as f64 / k as f64;
            m[0] = radius * angle.cos();
            m[1] = radius * angle.sin();
        }
        Self::new(means, vec![1.0; k], &vec![1.0; k], dim)
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
        self.log_pdf_with(x, &mut vec![0.0; self.components()])
    }

    /// [`GaussianMixture::log_pdf`] with `terms` (K) as scratch.
    fn log_pdf_with(&self, x: &[f64], terms: &mut [f64]) -> f64 {
        self.component_log_densities(x, terms);
        log_sum_exp(terms)
    }

    /// Index of the component with the largest responsibility at `x`.
    pub fn nearest_mode(&self, x: &[f64]) -> usize {
        let mut terms = vec![0.0; self.components()];
        self.component_log_densities(x, &mut terms);
        (0..terms.len())
            .max_by(|&a, &b| terms[a].total_cmp(&terms[b]))
            .unwrap_or(0)
    }

    /// `count` exact samples, (count, d) row-major.
    pub fn sample<R: Rng>(&self, count: usize, rng: &mut R) -> Vec<f64> {
        let mut out = vec![0.0; count * self.dim];
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
impl<T: entropic_transport::Real> Target<T> for GaussianMixture {
    fn log_density(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        let mut point = vec![0.0; dim];
        let mut terms = vec![0.0; self.components()];
        for (p, o) in x.chunks_exact(dim).zip(out.iter_mut()) {
            point.iter_mut().zip(p).for_each(|(a, &b)| *a = b.to_f64());
            *o = T::from_f64(self.log_pdf_with(&point, &mut terms));
        }
        Ok(())
    }

    fn score(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        let k = self.components();
        let mut terms = vec![0.0; k];
        let mut point = vec![0.0; dim];
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

impl Problem for GaussianMixture {
    fn dim(&self) -> usize {
        self.dim
    }

    fn exact_samples(&self, count: usize, rng: &mut DefaultRng) -> Option<Vec<f64>> {
        Some(self.sample(count, rng))
    }

    fn mode_weights(&self) -> Option<Vec<f64>> {
        (self.components() > 1).then(|| self.log_weights.iter().map(|w| w.exp()).collect())
    }

    fn mode_of(&self, x: &[f64]) -> usize {
        self.nearest_mode(x)
    }
}

/// A target with a pointwise log-density, score and exact sampler (f64); [`Pointwise`] turns it
/// into a batch [`Target`] and [`Problem`].
pub trait PointTarget {
    /// Dimension d.
    fn dim(&self) -> usize;
    /// `log pi(x)` up to a constant, at one point (d).
    fn log_pdf(&self, x: &[f64]) -> f64;
    /// `grad log pi(x)` at one point (d) into `out` (d).
    fn grad(&self, x: &[f64], out: &mut [f64]);
    /// One exact sample into `out` (d), from standard normals `z` (d).
    fn transform(&self, z: &[f64], out: &mut [f64]);
    /// True mode probabilities, for multimodal targets.
    fn mode_weights(&self) -> Option<Vec<f64>> {
        None
    }
    /// The mode of a point (d).
    fn mode_of(&self, x: &[f64]) -> usize {
        let _ = x;
        0
    }
}

/// Batch adapter of a [`PointTarget`].
#[derive(Clone, Debug)]
pub struct Pointwise<P>(pub P);

impl<P: PointTarget> Target<f64> for Pointwise<P> {
    fn log_density(&mut self, x: &[f64], dim: usize, out: &mut [f64]) -> Result<(), i32> {
        for (p, o) in x.chunks_exact(dim).zip(out.iter_mut()) {
            *o = self.0.log_pdf(p);
        }
        Ok(())
    }

    fn score(&mut self, x: &[f64], dim: usize, out: &mut [f64]) -> Result<(), i32> {
        for (p, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
            self.0.grad(p, o);
        }
        Ok(())
    }

    fn has_score(&self) -> bool {
        true
    }
}

impl<P: PointTarget> Problem for Pointwise<P> {
    fn dim(&self) -> usize {
        self.0.dim()
    }

    fn exact_samples(&self, count: usize, rng: &mut DefaultRng) -> Option<Vec<f64>> {
        let d = self.0.dim();
        let mut z = vec![0.0; count * d];
        fill_normal(rng, &mut z);
        let mut out = vec![0.0; count * d];
        for (zi, o) in z.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
            self.0.transform(zi, o);
        }
        Some(out)
    }

    fn mode_weights(&self) -> Option<Vec<f64>> {
        self.0.mode_weights()
    }

    fn mode_of(&self, x: &[f64]) -> usize {
        self.0.mode_of(x)
    }
}

/// `N(0, diag(std^2))`: with stds spanning a factor 10 it has condition number 100.
#[derive(Clone, Debug)]
pub struct DiagonalGaussian {
    /// Standard deviation per coordinate (d).
    pub std: Vec<f64>,
}

impl PointTarget for DiagonalGaussian {
    fn dim(&self) -> usize {
        self.std.len()
    }

    fn log_pdf(&self, x: &[f64]) -> f64 {
        -0.5 * x
            .iter()
            .zip(&self.std)
            .map(|(a, s)| (a / s) * (a / s))
            .sum::<f64>()
    }

    fn grad(&self, x: &[f64], out: &mut [f64]) {
        for ((o, a), s) in out.iter_mut().zip(x).zip(&self.std) {
            *o = -a / (s * s);
        }
    }

    fn transform(&self, z: &[f64], out: &mut [f64]) {
        for ((o, a), s) in out.iter_mut().zip(z).zip(&self.std) {
            *o = a * s;
        }
    }
}

/// The banana (twisted Gaussian, Haario et al. 1999) in 2-D: `x1 ~ N(0, s^2)`,
/// `x2 | x1 ~ N(b (x1^2 - s^2), 1)`; exact samples by that transformation.
#[derive(Clone, Copy, Debug)]
pub struct Banana {
    /// Standard deviation `s` of `x1`.
    pub scale: f64,
    /// Curvature `b`.
    pub twist: f64,
}

impl Banana {
    /// Conditional mean of `x2` given `x1`.
    fn centre(&self, x1: f64) -> f64 {
        self.twist * (x1 * x1 - self.scale * self.scale)
    }
}

impl PointTarget for Banana {
    fn dim(&self) -> usize {
        2
    }

    fn log_pdf(&self, x: &[f64]) -> f64 {
        let r = x[1] - self.centre(x[0]);
        -0.5 * (x[0] / self.scale).powi(2) - 0.5 * r * r
    }

    fn grad(&self, x: &[f64], out: &mut [f64]) {
        let r = x[1] - self.centre(x[0]);
        out[0] = -x[0] / (self.scale * self.scale) + r * 2.0 * self.twist * x[0];
        out[1] = -r;
    }

    fn transform(&self, z: &[f64], out: &mut [f64]) {
        out[0] = self.scale * z[0];
        out[1] = z[1] + self.centre(out[0]);
    }
}

/// Neal's funnel in R^d: `v = x_0 ~ N(0, 3^2)`, `x_i | v ~ N(0, e^v)` for `i >= 1`
/// (Neal 2003); exact samples by construction.
#[derive(Clone, Copy, Debug)]
pub struct Funnel {
    /// Dimension d (one scale coordinate `v`, `d - 1` funnel coordinates).
    pub dim: usize,
}

impl PointTarget for Funnel {
    fn dim(&self) -> usize {
        self.dim
    }

    fn log_pdf(&self, x: &[f64]) -> f64 {
        let v = x[0];
        let sq: f64 = x[1..].iter().map(|a| a * a).sum();
        -v * v / 18.0 - 0.5 * sq * (-v).exp() - 0.5 * (self.dim - 1) as f64 * v
    }

    fn grad(&self, x: &[f64], out: &mut [f64]) {
        let v = x[0];
        let inv = (-v).exp();
        let sq: f64 = x[1..].iter().map(|a| a * a).sum();
        out[0] = -v / 9.0 + 0.5 * sq * inv - 0.5 * (self.dim - 1) as f64;
        for (o, a) in out[1..].iter_mut().zip(&x[1..]) {
            *o = -a * inv;
        }
    }

    fn transform(&self, z: &[f64], out: &mut [f64]) {
        out[0] = 3.0 * z[0];
        let s = (0.5 * out[0]).exp();
        for (o, a) in out[1..].iter_mut().zip(&z[1..]) {
            *o = s * a;
        }
    }
}
