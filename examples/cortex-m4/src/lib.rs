//! The firmware's problem, kept free of any hardware so the host tests run the same code.
//!
//! Target: a 2-D mixture of three isotropic Gaussians with unequal weights (0.5, 0.3, 0.2),
//! standard deviation 0.7, means about 4.5 apart (in `d > 2` the extra coordinates are
//! `N(0, 0.7^2)`). The ensemble starts from `N(0, 3^2 I)`, takes [`ITERATIONS`] ETD steps with
//! [`config`] (the defaults, score-guided, balanced, categorical, but with the proposal step
//! matched to the target's scale), and is then judged by [`check`] against the closed-form
//! mean, variance and mode weights, within [`TOLERANCES`].
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod robot;

use entropic_transport::rng::fill_normal;
use entropic_transport::{Config, DefaultRng, Real, Target};

/// The firmware's scalar: `f32`, or `FastF32` (micromath's `exp`/`ln`) with the `fast-math`
/// feature.
#[cfg(not(feature = "fast-math"))]
pub type Scalar = f32;
/// The firmware's scalar: `f32`, or `FastF32` (micromath's `exp`/`ln`) with the `fast-math`
/// feature.
#[cfg(feature = "fast-math")]
pub type Scalar = entropic_transport::FastF32;

/// Particles.
#[cfg(not(feature = "shape-b"))]
pub const N: usize = 32;
/// Proposals per particle.
#[cfg(not(feature = "shape-b"))]
pub const M: usize = 4;
/// Dimension.
#[cfg(not(feature = "shape-b"))]
pub const D: usize = 2;
/// Particles (second shape).
#[cfg(feature = "shape-b")]
pub const N: usize = 16;
/// Proposals per particle (second shape).
#[cfg(feature = "shape-b")]
pub const M: usize = 8;
/// Dimension (second shape).
#[cfg(feature = "shape-b")]
pub const D: usize = 3;
/// Pool size `P = N * M`.
pub const P: usize = N * M;
/// ETD iterations of one run.
pub const ITERATIONS: usize = 100;

/// Mixture components.
pub const K: usize = 3;
/// Mixture weights (sum to 1).
pub const WEIGHTS: [f32; K] = [0.5, 0.3, 0.2];
/// Component means in the first two coordinates (the rest are 0).
pub const MEANS: [[f32; 2]; K] = [[-2.0, -1.5], [2.5, -1.0], [0.0, 2.5]];
/// Common component standard deviation.
pub const STD: f32 = 0.7;
/// Standard deviation of the initial ensemble `N(0, INIT_STD^2 I)`.
pub const INIT_STD: f32 = 3.0;

/// The run's configuration: `Config::default()`, untuned.
///
/// The default preconditioning scales the proposals with the ensemble's own spread, so they are
/// wide from the wide start and narrow as the ensemble settles. The transport step alone
/// (`Config::plain()`) needed `alpha = 0.3` here: with its fixed spread `sqrt(2 alpha) = 0.32` a
/// pool of 128 proposals was too narrow from the wide start, and whole modes were lost (host,
/// 100 seeds: worst mode-share error 0.64).
pub fn config() -> Config<Scalar> {
    Config::default()
}

/// The three-mode mixture as an ETD target with score, computed in the scalar's own
/// arithmetic (`exp` and `ln` of `Real`: the kernel's polynomial `exp` and `libm`'s `ln` for
/// `f32`, micromath's for `FastF32`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Mixture3;

impl Mixture3 {
    /// `ln w_k - |x - mu_k|^2 / (2 s^2)` for each component (the shared normaliser dropped).
    fn component_terms<T: Real>(x: &[T]) -> [T; K] {
        let inv_two_var = T::from_f64((0.5 / (STD * STD)) as f64);
        let mut terms = [T::ZERO; K];
        for (k, t) in terms.iter_mut().enumerate() {
            let sq = x.iter().enumerate().fold(T::ZERO, |acc, (i, &x_i)| {
                let diff = x_i - T::from_f64(mean_coord(k, i) as f64);
                acc + diff * diff
            });
            *t = T::from_f64(WEIGHTS[k] as f64).ln() - sq * inv_two_var;
        }
        terms
    }

    /// Component responsibilities at `x` and the log-density (up to a constant).
    fn responsibilities<T: Real>(x: &[T]) -> ([T; K], T) {
        let mut r = Self::component_terms(x);
        let max = r.iter().fold(T::NEG_INFINITY, |m, &t| m.max(t));
        let mut total = T::ZERO;
        for t in r.iter_mut() {
            *t = (*t - max).exp();
            total += *t;
        }
        r.iter_mut().for_each(|t| *t = *t / total);
        (r, max + total.ln())
    }

    /// Index of the component with the largest responsibility at `x`.
    pub fn nearest_mode(x: &[f32]) -> usize {
        let terms = Self::component_terms(x);
        let mut best = 0;
        for k in 1..K {
            if terms[k] > terms[best] {
                best = k;
            }
        }
        best
    }
}

/// Coordinate `i` of component `k`'s mean.
fn mean_coord(k: usize, i: usize) -> f32 {
    MEANS[k].get(i).copied().unwrap_or(0.0)
}

impl<T: Real> Target<T> for Mixture3 {
    fn log_density(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        for (point, o) in x.chunks_exact(dim).zip(out.iter_mut()) {
            *o = Self::responsibilities(point).1;
        }
        Ok(())
    }

    fn score(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        let inv_var = T::from_f64((1.0 / (STD * STD)) as f64);
        for (point, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
            let (r, _) = Self::responsibilities(point);
            for (i, (o_i, &x_i)) in o.iter_mut().zip(point).enumerate() {
                let pull = (0..K).fold(T::ZERO, |acc, k| {
                    acc + r[k] * T::from_f64(mean_coord(k, i) as f64)
                });
                *o_i = (pull - x_i) * inv_var;
            }
        }
        Ok(())
    }

    fn has_score(&self) -> bool {
        true
    }
}

/// Exact mean of the mixture in coordinate `i`.
pub fn true_mean(i: usize) -> f32 {
    (0..K).map(|k| WEIGHTS[k] * mean_coord(k, i)).sum()
}

/// Exact variance of the mixture in coordinate `i`.
pub fn true_variance(i: usize) -> f32 {
    let m = true_mean(i);
    STD * STD
        + (0..K)
            .map(|k| WEIGHTS[k] * (mean_coord(k, i) - m) * (mean_coord(k, i) - m))
            .sum::<f32>()
}

/// The initial ensemble: `N(0, INIT_STD^2 I)` from `rng`.
pub fn initial_particles(rng: &mut DefaultRng, particles: &mut [[Scalar; D]; N]) {
    fill_normal(rng, particles.as_flattened_mut());
    let scale = Scalar::from_f64(INIT_STD as f64);
    particles
        .as_flattened_mut()
        .iter_mut()
        .for_each(|x| *x *= scale);
}

/// What the firmware reports about the final ensemble.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Sample mean per coordinate.
    pub mean: [f32; D],
    /// Sample variance (divided by N) per coordinate.
    pub variance: [f32; D],
    /// Fraction of particles nearest each component.
    pub shares: [f32; K],
}

/// Summary statistics of an ensemble (in `f32`).
pub fn summarise(particles: &[[Scalar; D]; N]) -> Summary {
    let particles = particles.map(|p| p.map(|x| x.to_f64() as f32));
    let n = N as f32;
    let mut mean = [0.0; D];
    let mut variance = [0.0; D];
    let mut shares = [0.0; K];
    for p in &particles {
        mean.iter_mut().zip(p).for_each(|(m, &x)| *m += x / n);
        shares[Mixture3::nearest_mode(p)] += 1.0 / n;
    }
    for p in &particles {
        variance
            .iter_mut()
            .zip(p.iter().zip(&mean))
            .for_each(|(v, (&x, &m))| *v += (x - m) * (x - m) / n);
    }
    Summary {
        mean,
        variance,
        shares,
    }
}

/// Acceptance bounds of [`check`].
#[derive(Clone, Copy, Debug)]
pub struct Tolerances {
    /// Largest `|mean - true mean|` per coordinate.
    pub mean: f32,
    /// Largest `|ln(variance / true variance)|` per coordinate.
    pub log_variance_ratio: f32,
    /// Largest `|share - weight|` per component.
    pub share: f32,
}

/// The tolerances the firmware exits non-zero on, set from the sampling error rather than from
/// one seed: an iid sample of 32 points from the target has mean errors of standard deviation
/// 0.37 (x) and 0.30 (y) and a share error of standard deviation 0.088 for the 0.5 mode. ETD
/// stratifies and does better; `tests/seeds.rs` runs this exact problem on the host for 500
/// seeds and requires every one to pass (worst seen with libm: mean 0.52, |ln var ratio| 0.46,
/// share 0.14; with `fast-math`: 0.50, 0.58, 0.13). A lost mode fails the share bound (its
/// weight is at least 0.2), a collapsed ensemble fails the variance bound. Sampling errors
/// scale as `1 / sqrt(N)`, and so do the bounds for other `N`: the second shape's 16 particles
/// (in 3-D, where the defaults add 10 MALA steps and the ensemble is about as spread as an iid
/// sample) get bounds `sqrt(2)` wider.
pub const TOLERANCES: Tolerances = Tolerances {
    mean: 0.6 * SAMPLING_SCALE,
    log_variance_ratio: 0.8 * SAMPLING_SCALE,
    share: 0.15 * SAMPLING_SCALE,
};

/// `sqrt(32 / N)`: how much larger the sampling error of `N` particles is than of 32.
const SAMPLING_SCALE: f32 = {
    let x = 32.0 / N as f32;
    // Newton's iteration for sqrt(x) from x: converged to f32 precision well within 30 steps
    // for the shapes here (x in [1/8, 8]).
    let mut y = if x > 1.0 { x } else { 1.0 };
    let mut k = 0;
    while k < 30 {
        y = 0.5 * (y + x / y);
        k += 1;
    }
    y
};

/// The worst error of each kind in a summary, in the units of [`Tolerances`].
pub fn errors(s: &Summary) -> Tolerances {
    let mut e = Tolerances {
        mean: 0.0,
        log_variance_ratio: 0.0,
        share: 0.0,
    };
    for i in 0..D {
        e.mean = worse(e.mean, (s.mean[i] - true_mean(i)).abs());
        let ratio = s.variance[i] / true_variance(i);
        e.log_variance_ratio = worse(e.log_variance_ratio, libm::logf(ratio).abs());
    }
    for (&share, &weight) in s.shares.iter().zip(&WEIGHTS) {
        e.share = worse(e.share, (share - weight).abs());
    }
    e
}

/// The larger error, NaN counting as the largest (so a NaN summary fails [`check`]).
fn worse(a: f32, b: f32) -> f32 {
    if b > a || b.is_nan() {
        b
    } else {
        a
    }
}

/// `true` when every error is within [`TOLERANCES`] (NaN fails).
pub fn check(s: &Summary) -> bool {
    let e = errors(s);
    e.mean <= TOLERANCES.mean
        && e.log_variance_ratio <= TOLERANCES.log_variance_ratio
        && e.share <= TOLERANCES.share
}
