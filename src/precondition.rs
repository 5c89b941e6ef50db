//! Stage 0, precondition (optional; a project extension, not in ALGORITHM.md): whiten the
//! ensemble by a running estimate of its own covariance, so that every later stage works on a
//! roughly isotropic target.
//!
//! With `Sigma = L L^T`, the step runs on `z = L^{-1} (x - mu)` against the target seen through
//! `x = mu + L z` ([`Whitened`]): proposals `N(z + alpha clip(L^T s), sigma^2 I)` in `z` are
//! `N(x + alpha L clip(L^T s), sigma^2 Sigma)` in `x`, the cost is the Mahalanobis cost
//! `|L^{-1} (x_i - y_j)|^2 / 2`, and a MALA mutation is MALA preconditioned by `Sigma`.
//! Because the Cholesky factor of `A Sigma A^T` is `A L` for a lower-triangular `A` with a
//! positive diagonal, a step is then exactly equivariant under `x -> A x + b` for such `A`
//! (and equivariant in distribution under any invertible `A`): an ill-conditioned target costs
//! what a well-conditioned one does.

use crate::{Error, Real, Target};

/// The preconditioner's state over caller memory: a running covariance that persists between
/// steps, and the factor and mean of the current step.
pub struct Preconditioner<'a, T> {
    /// Exponentially weighted running sum of ensemble covariances (d, d), row-major.
    sum: &'a mut [T],
    /// Total weight of `sum` (one value): `Sigma = sum / weight`; 0 before the first step.
    weight: &'a mut [T],
    /// Lower Cholesky factor `L` of `Sigma` (d, d), row-major; zero above the diagonal.
    factor: &'a mut [T],
    /// Ensemble mean `mu` (d).
    mean: &'a mut [T],
    /// One point in `x` (d), scratch of [`Whitened`].
    point: &'a mut [T],
    /// One score in `x` (d), scratch of [`Whitened`].
    score: &'a mut [T],
}

/// Values of caller memory a [`Preconditioner`] in dimension `d` needs: `2 d (d + 2)`.
pub fn preconditioner_len(dim: usize) -> Option<usize> {
    dim.checked_mul(dim.checked_add(2)?)?.checked_mul(2)
}

impl<'a, T: Real> Preconditioner<'a, T> {
    /// The preconditioner over `matrices` (2 d^2 values: the running sum, the factor) and
    /// `vectors` (4 d: the mean, a point, a score, then the running weight in the first value of
    /// the last row). A running sum that is not finite, or a weight outside [0, 1], is forgotten
    /// (as if no step had run).
    pub fn new(dim: usize, matrices: &'a mut [T], vectors: &'a mut [T]) -> Self {
        let (sum, factor) = matrices.split_at_mut(dim * dim);
        let (mean, rest) = vectors.split_at_mut(dim);
        let (point, rest) = rest.split_at_mut(dim);
        let (score, rest) = rest.split_at_mut(dim);
        let weight = &mut rest[..1];
        let mut preconditioner = Preconditioner {
            sum,
            weight,
            factor,
            mean,
            point,
            score,
        };
        let w = preconditioner.weight[0];
        if !(w >= T::ZERO && w <= T::ONE && preconditioner.sum.iter().all(|v| v.is_finite())) {
            preconditioner.reset();
        }
        preconditioner
    }

    /// Forgets the running covariance: the next step starts from that ensemble's own.
    pub fn reset(&mut self) {
        self.sum.fill(T::ZERO);
        self.weight[0] = T::ZERO;
    }

    /// Folds the covariance of `particles` (N, d) into the running estimate with weight `rate`
    /// in (0, 1] (`sum <- (1 - rate) sum + rate C`), then sets `mu` to their mean and `L` to the
    /// Cholesky factor of `Sigma = sum / weight`.
    ///
    /// Rank-deficient `Sigma` (duplicated particles, or fewer particles than dimensions) gets a
    /// ridge `sqrt(EPSILON) trace(Sigma) / d` on its diagonal; an ensemble with no spread at all
    /// is whitened by the identity. `Err(NonFiniteCovariance)` if the covariance overflows (the
    /// running estimate is left as it was) or cannot be factored even with the ridge (it is
    /// forgotten).
    pub fn update(&mut self, particles: &[T], dim: usize, rate: T) -> Result<(), Error> {
        let n = T::from_usize(particles.len() / dim);
        self.mean.fill(T::ZERO);
        for x in particles.chunks_exact(dim) {
            for (m, &v) in self.mean.iter_mut().zip(x) {
                *m += v;
            }
        }
        self.mean.iter_mut().for_each(|m| *m = *m / n);
        // The ensemble covariance goes into `factor` first, then the blend into `sum`.
        self.factor.fill(T::ZERO);
        for x in particles.chunks_exact(dim) {
            for (i, row) in self.factor.chunks_exact_mut(dim).enumerate() {
                let di = x[i] - self.mean[i];
                for (c, (&xj, &mj)) in row.iter_mut().zip(x.iter().zip(self.mean.iter())) {
                    *c += di * (xj - mj);
                }
            }
        }
        if !self.factor.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFiniteCovariance);
        }
        let keep = T::ONE - rate;
        for (s, &c) in self.sum.iter_mut().zip(self.factor.iter()) {
            *s = keep * *s + rate * c / n;
        }
        self.weight[0] = keep * self.weight[0] + rate;
        let inv_weight = T::ONE / self.weight[0];
        let trace = (0..dim).fold(T::ZERO, |acc, i| acc + self.sum[i * dim + i]) * inv_weight;
        if trace <= T::ZERO {
            self.factor.fill(T::ZERO);
            (0..dim).for_each(|i| self.factor[i * dim + i] = T::ONE);
            return Ok(());
        }
        let ridge = T::EPSILON.sqrt() * trace / T::from_usize(dim);
        if !cholesky(self.sum, inv_weight, T::ZERO, ridge, dim, self.factor)
            && !cholesky(self.sum, inv_weight, ridge, T::ZERO, dim, self.factor)
        {
            self.reset();
            return Err(Error::NonFiniteCovariance);
        }
        Ok(())
    }

    /// `z = L^{-1} (x - mu)` for every row of `x` (count, d) into `z` (count, d).
    pub fn whiten(&self, x: &[T], dim: usize, z: &mut [T]) {
        for (zr, xr) in z.chunks_exact_mut(dim).zip(x.chunks_exact(dim)) {
            for i in 0..dim {
                let row = &self.factor[i * dim..i * dim + i];
                let partial = row
                    .iter()
                    .zip(zr.iter())
                    .fold(xr[i] - self.mean[i], |acc, (&l, &zk)| acc - l * zk);
                zr[i] = partial / self.factor[i * dim + i];
            }
        }
    }

    /// `x = mu + L z` for every row of `z` (count, d) into `x` (count, d).
    pub fn unwhiten(&self, z: &[T], x: &mut [T]) {
        unwhiten(self.factor, self.mean, z, x);
    }

    /// `target` seen in whitened coordinates, using this step's `L` and `mu`.
    pub fn target<'p>(&'p mut self, target: &'p mut dyn Target<T>) -> Whitened<'p, T> {
        Whitened {
            target,
            factor: self.factor,
            mean: self.mean,
            point: self.point,
            score: self.score,
        }
    }
}

/// Writes the lower Cholesky factor of `sum * scale + shift I` (d, d, row-major) into `factor`;
/// `false` if a pivot is not finite or not above `floor`.
pub fn cholesky<T: Real>(
    sum: &[T],
    scale: T,
    shift: T,
    floor: T,
    dim: usize,
    factor: &mut [T],
) -> bool {
    factor.fill(T::ZERO);
    for i in 0..dim {
        for j in 0..=i {
            let dot = (0..j).fold(T::ZERO, |acc, k| {
                acc + factor[i * dim + k] * factor[j * dim + k]
            });
            let a = sum[i * dim + j] * scale + if i == j { shift } else { T::ZERO };
            let s = a - dot;
            if i == j {
                if !(s.is_finite() && s > floor) {
                    return false;
                }
                factor[i * dim + i] = s.sqrt();
            } else {
                factor[i * dim + j] = s / factor[j * dim + j];
            }
        }
    }
    true
}

/// `x = mu + L z` for every row of `z` (count, d) into `x` (count, d); `L` is lower
/// triangular (d, d), row-major, and `mu` (d) gives `d`.
pub fn unwhiten<T: Real>(factor: &[T], mean: &[T], z: &[T], x: &mut [T]) {
    let dim = mean.len();
    for (xr, zr) in x.chunks_exact_mut(dim).zip(z.chunks_exact(dim)) {
        for (i, (xi, &mi)) in xr.iter_mut().zip(mean).enumerate() {
            let row = &factor[i * dim..=i * dim + i];
            *xi = row.iter().zip(zr).fold(mi, |acc, (&l, &zk)| acc + l * zk);
        }
    }
}

/// A target seen through `x = mu + L z`: `log pi(mu + L z)` and its score `L^T s(x)` in `z`.
/// Each point is mapped and evaluated on its own (batches of one), so it needs no buffer
/// beyond one point and one score.
pub struct Whitened<'p, T> {
    target: &'p mut dyn Target<T>,
    factor: &'p [T],
    mean: &'p [T],
    point: &'p mut [T],
    score: &'p mut [T],
}

impl<'p, T: Real> Whitened<'p, T> {
    /// `target` seen through `x = mu + L z`, with `factor` `L` (d, d, row-major, lower
    /// triangular), `mean` `mu` (d) and `scratch` (2 d) for one point and one score.
    pub fn new(
        target: &'p mut dyn Target<T>,
        factor: &'p [T],
        mean: &'p [T],
        scratch: &'p mut [T],
    ) -> Self {
        let (point, score) = scratch.split_at_mut(mean.len());
        Whitened {
            target,
            factor,
            mean,
            point,
            score,
        }
    }
}

impl<T: Real> Target<T> for Whitened<'_, T> {
    fn log_density(&mut self, z: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        for (zr, value) in z.chunks_exact(dim).zip(out.chunks_exact_mut(1)) {
            unwhiten(self.factor, self.mean, zr, self.point);
            self.target.log_density(self.point, dim, value)?;
        }
        Ok(())
    }

    fn score(&mut self, z: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        for (zr, o) in z.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
            unwhiten(self.factor, self.mean, zr, self.point);
            self.target.score(self.point, dim, self.score)?;
            // (L^T s)_k = sum_{i >= k} L_ik s_i
            for (k, ok) in o.iter_mut().enumerate() {
                *ok = (k..dim).fold(T::ZERO, |acc, i| {
                    acc + self.factor[i * dim + k] * self.score[i]
                });
            }
        }
        Ok(())
    }

    fn has_score(&self) -> bool {
        self.target.has_score()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    /// A preconditioner over one slice of [`preconditioner_len`] values.
    fn over(dim: usize, memory: &mut [f64]) -> Preconditioner<'_, f64> {
        let (matrices, vectors) = memory.split_at_mut(2 * dim * dim);
        Preconditioner::new(dim, matrices, vectors)
    }

    fn preconditioned(particles: &[f64], dim: usize, memory: &mut [f64]) -> Result<(), Error> {
        over(dim, memory).update(particles, dim, 1.0)
    }

    #[test]
    fn the_factor_reproduces_the_ensemble_covariance_and_whitening_inverts() {
        let x = [1.0, 2.0, 3.0, 1.0, -1.0, 0.5, 0.0, 4.0, 2.0, -2.0];
        let mut memory = vec![0.0; preconditioner_len(2).unwrap()];
        let mut p = over(2, &mut memory);
        p.update(&x, 2, 1.0).unwrap();
        let (l, mu) = (p.factor.to_vec(), p.mean.to_vec());
        assert_eq!(l[1], 0.0);
        for (i, j) in [(0, 0), (0, 1), (1, 1)] {
            let cov = x
                .chunks(2)
                .map(|r| (r[i] - mu[i]) * (r[j] - mu[j]))
                .sum::<f64>()
                / 5.0;
            let llt = l[i * 2] * l[j * 2] + l[i * 2 + 1] * l[j * 2 + 1];
            assert!((llt - cov).abs() < 1e-12, "{i}{j}: {llt} vs {cov}");
        }
        let mut z = [0.0; 10];
        let mut back = [0.0; 10];
        p.whiten(&x, 2, &mut z);
        p.unwhiten(&z, &mut back);
        for (a, b) in x.iter().zip(&back) {
            assert!((a - b).abs() < 1e-12);
        }
        // Whitened, the ensemble has identity covariance.
        let zz = z.chunks(2).map(|r| r[0] * r[1]).sum::<f64>() / 5.0;
        assert!(zz.abs() < 1e-12);
    }

    #[test]
    fn a_point_ensemble_is_whitened_by_the_identity_and_a_line_gets_a_ridge() {
        let mut memory = vec![0.0; preconditioner_len(2).unwrap()];
        preconditioned(&[1.0, 2.0, 1.0, 2.0], 2, &mut memory).unwrap();
        let p = over(2, &mut memory);
        assert_eq!(p.factor, &[1.0, 0.0, 0.0, 1.0]);
        let mut memory = vec![0.0; preconditioner_len(2).unwrap()];
        preconditioned(&[0.0, 0.0, 1.0, 1.0, 2.0, 2.0], 2, &mut memory).unwrap();
        let p = over(2, &mut memory);
        assert!(p.factor.iter().all(|v| v.is_finite()) && p.factor[3] > 0.0);
    }

    #[test]
    fn an_overflowing_covariance_is_an_error_and_keeps_the_running_estimate() {
        let mut memory = vec![0.0; preconditioner_len(1).unwrap()];
        preconditioned(&[0.0, 2.0], 1, &mut memory).unwrap();
        let before = memory.clone();
        let result = preconditioned(&[-1e200, 1e200], 1, &mut memory);
        assert_eq!(result, Err(Error::NonFiniteCovariance));
        assert_eq!(memory[0], before[0]);
        assert_eq!(memory[memory.len() - 1], before[memory.len() - 1]);
    }

    #[test]
    fn the_running_estimate_is_a_bias_corrected_average() {
        // Variances 1 then 4 at rate 0.5: sum 0.5 * (0.5 * 1) + 0.5 * 4, weight 0.75.
        let mut memory = vec![0.0; preconditioner_len(1).unwrap()];
        let mut p = over(1, &mut memory);
        p.update(&[-1.0, 1.0], 1, 0.5).unwrap();
        assert_eq!(p.factor[0], 1.0);
        p.update(&[-2.0, 2.0], 1, 0.5).unwrap();
        assert!((p.factor[0] - 3f64.sqrt()).abs() < 1e-12);
    }
}
