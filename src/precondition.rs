//! Stage 0, precondition (optional; a project extension, not in the paper): whiten the
//! ensemble by a running estimate of its own covariance, so that every later stage works on a
//! roughly isotropic target.
//!
//! With `Sigma = L L^T`, the step runs on `z = L^{-1} (x - mu)` against the target seen through
//! `x = mu + L z` ([`Whitened`](crate::precondition::Whitened)): proposals `N(z + alpha clip(L^T s), sigma^2 I)` in `z` are
//! `N(x + alpha L clip(L^T s), sigma^2 Sigma)` in `x`, the cost is the Mahalanobis cost
//! `|L^{-1} (x_i - y_j)|^2 / 2`, and a MALA mutation is MALA preconditioned by `Sigma`.
//! Because the Cholesky factor of `A Sigma A^T` is `A L` for a lower-triangular `A` with a
//! positive diagonal, a step is then exactly equivariant under `x -> A x + b` for such `A`
//! (and equivariant in distribution under any invertible `A`): an ill-conditioned target costs
//! what a well-conditioned one does.

use crate::layout::Preconditioner;
use crate::vector::{row, rows, rows_mut, split_mut};
use crate::{Error, Real, Target};

impl<'a, T: Real> Preconditioner<'a, T> {
    /// Forgets a running estimate that is not finite or whose weight lies outside [0, 1] (as if
    /// no step had run): any contents of re-attached memory are safe.
    pub(crate) fn sanitise(&mut self) {
        let w = self.weight.first().copied().unwrap_or(T::ZERO);
        if !(w >= T::ZERO && w <= T::ONE && self.sum.iter().all(|v| v.is_finite())) {
            self.reset();
        }
    }

    /// Forgets the running covariance: the next step starts from that ensemble's own.
    pub(crate) fn reset(&mut self) {
        self.sum.fill(T::ZERO);
        self.weight.fill(T::ZERO);
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
    pub(crate) fn update(&mut self, particles: &[T], dim: usize, rate: T) -> Result<(), Error> {
        let n = T::from_usize(particles.len() / dim.max(1));
        self.mean.fill(T::ZERO);
        for x in rows(particles, dim) {
            for (m, &v) in self.mean.iter_mut().zip(x) {
                *m += v;
            }
        }
        self.mean.iter_mut().for_each(|m| *m = *m / n);
        // The ensemble covariance goes into `factor` first, then the blend into `sum`.
        self.factor.fill(T::ZERO);
        for x in rows(particles, dim) {
            for ((row, &xi), &mi) in rows_mut(self.factor, dim).zip(x).zip(self.mean.iter()) {
                let di = xi - mi;
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
        let mut weight = rate;
        for w in self.weight.iter_mut() {
            *w = keep * *w + rate;
            weight = *w;
        }
        let inv_weight = T::ONE / weight;
        let trace = diagonal(self.sum, dim).fold(T::ZERO, |acc, &s| acc + s) * inv_weight;
        if trace <= T::ZERO {
            self.factor.fill(T::ZERO);
            diagonal_mut(self.factor, dim).for_each(|l| *l = T::ONE);
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

    /// Whitens `particles` (N, d) into `z = L^{-1} (x - mu)`, and returns them with `target`
    /// seen in whitened coordinates (this step's `L` and `mu`).
    pub(crate) fn whiten<'p>(
        &'p mut self,
        particles: &[T],
        dim: usize,
        target: &'p mut dyn Target<T>,
    ) -> (&'p [T], Whitened<'p, T>) {
        for (zr, xr) in rows_mut(self.whitened, dim).zip(rows(particles, dim)) {
            // Forward substitution: z_i = (x_i - mu_i - sum_{k < i} L_ik z_k) / L_ii.
            let lines = rows(self.factor, dim).zip(xr).zip(self.mean.iter());
            for (i, ((l, &xi), &mi)) in lines.enumerate() {
                let (done, rest) = split_mut(zr, i);
                let partial = l
                    .iter()
                    .zip(done.iter())
                    .fold(xi - mi, |acc, (&l_ik, &zk)| acc - l_ik * zk);
                if let (Some(zi), Some(&l_ii)) = (rest.first_mut(), l.get(i)) {
                    *zi = partial / l_ii;
                }
            }
        }
        let target = Whitened::new(target, self.factor, self.mean, self.point, self.score);
        (self.whitened, target)
    }

    /// `x = mu + L z` for every row of `z` (count, d) into `x` (count, d).
    pub(crate) fn unwhiten(&self, z: &[T], x: &mut [T]) {
        unwhiten(self.factor, self.mean, z, x);
    }
}

/// The diagonal of a `d x d` row-major matrix.
fn diagonal<T>(m: &[T], dim: usize) -> impl Iterator<Item = &T> {
    m.iter().step_by(dim.saturating_add(1)).take(dim)
}

/// [`diagonal`], mutable.
fn diagonal_mut<T>(m: &mut [T], dim: usize) -> impl Iterator<Item = &mut T> {
    m.iter_mut().step_by(dim.saturating_add(1)).take(dim)
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
        // Rows `0..i` are final; row `i` is filled left to right.
        let (above, rest) = split_mut(factor, i * dim);
        let current = rest.get_mut(..dim).unwrap_or_default();
        for (j, &a_ij) in (0..=i).zip(row(sum, i, dim)) {
            let (done, entry) = split_mut(current, j);
            let done = &*done;
            // Row j of L: a finished row above, or (on the diagonal) this row's own entries.
            let l_j = if j < i { row(above, j, dim) } else { done };
            let dot = done
                .iter()
                .zip(l_j)
                .fold(T::ZERO, |acc, (&l_ik, &l_jk)| acc + l_ik * l_jk);
            let a = a_ij * scale + if i == j { shift } else { T::ZERO };
            let s = a - dot;
            let Some(l_ij) = entry.first_mut() else {
                return false; // a buffer shorter than d x d: never for the layout's
            };
            if i == j {
                if !(s.is_finite() && s > floor) {
                    return false;
                }
                *l_ij = s.sqrt();
            } else {
                *l_ij = s / l_j.get(j).copied().unwrap_or(T::ZERO);
            }
        }
    }
    true
}

/// `x = mu + L z` for every row of `z` (count, d) into `x` (count, d); `L` is lower
/// triangular (d, d), row-major, and `mu` (d) gives `d`.
pub fn unwhiten<T: Real>(factor: &[T], mean: &[T], z: &[T], x: &mut [T]) {
    let dim = mean.len();
    for (xr, zr) in rows_mut(x, dim).zip(rows(z, dim)) {
        for (i, ((xi, &mi), l)) in xr.iter_mut().zip(mean).zip(rows(factor, dim)).enumerate() {
            let below = l.get(..=i).unwrap_or_default();
            *xi = below.iter().zip(zr).fold(mi, |acc, (&l_ik, &zk)| acc + l_ik * zk);
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
    /// triangular), `mean` `mu` (d), and scratch for one point and one score (d each).
    pub fn new(
        target: &'p mut dyn Target<T>,
        factor: &'p [T],
        mean: &'p [T],
        point: &'p mut [T],
        score: &'p mut [T],
    ) -> Self {
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
        for (zr, value) in rows(z, dim).zip(rows_mut(out, 1)) {
            unwhiten(self.factor, self.mean, zr, self.point);
            self.target.log_density(self.point, dim, value)?;
        }
        Ok(())
    }

    fn score(&mut self, z: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        for (zr, o) in rows(z, dim).zip(rows_mut(out, dim)) {
            unwhiten(self.factor, self.mean, zr, self.point);
            self.target.score(self.point, dim, self.score)?;
            // (L^T s)_k = sum_{i >= k} L_ik s_i, accumulated over the rows i of L.
            o.fill(T::ZERO);
            for (i, (l, &s_i)) in rows(self.factor, dim).zip(self.score.iter()).enumerate() {
                for (ok, &l_ik) in o.iter_mut().zip(l).take(i + 1) {
                    *ok += l_ik * s_i;
                }
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
    use crate::layout::{carve, groups, total_len};
    use crate::Shape;
    use std::vec;
    use std::vec::Vec;

    /// Runs `f` on the preconditioner of a workspace for `n` particles in dimension `dim`.
    fn with<R>(n: usize, dim: usize, f: impl FnOnce(&mut Preconditioner<'_, f64>) -> R) -> R {
        let shape = Shape::new(n, 1, dim);
        let mut memory = vec![0.0; total_len(&shape).unwrap()];
        let (_, mut p) = carve(&shape, groups(&shape, &mut memory));
        f(&mut p)
    }

    /// A target that is never evaluated here.
    struct Unused;

    impl Target<f64> for Unused {
        fn log_density(&mut self, _: &[f64], _: usize, _: &mut [f64]) -> Result<(), i32> {
            Err(1)
        }
    }

    #[test]
    fn the_factor_reproduces_the_ensemble_covariance_and_whitening_inverts() {
        let x = [1.0, 2.0, 3.0, 1.0, -1.0, 0.5, 0.0, 4.0, 2.0, -2.0];
        with(5, 2, |p| {
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
            let z: Vec<f64> = p.whiten(&x, 2, &mut Unused).0.to_vec();
            let mut back = [0.0; 10];
            p.unwhiten(&z, &mut back);
            for (a, b) in x.iter().zip(&back) {
                assert!((a - b).abs() < 1e-12);
            }
            // Whitened, the ensemble has identity covariance.
            let zz = z.chunks(2).map(|r| r[0] * r[1]).sum::<f64>() / 5.0;
            assert!(zz.abs() < 1e-12);
        });
    }

    #[test]
    fn a_point_ensemble_is_whitened_by_the_identity_and_a_line_gets_a_ridge() {
        with(2, 2, |p| {
            p.update(&[1.0, 2.0, 1.0, 2.0], 2, 1.0).unwrap();
            assert_eq!(p.factor, &[1.0, 0.0, 0.0, 1.0]);
        });
        with(3, 2, |p| {
            p.update(&[0.0, 0.0, 1.0, 1.0, 2.0, 2.0], 2, 1.0).unwrap();
            assert!(p.factor.iter().all(|v| v.is_finite()) && p.factor[3] > 0.0);
        });
    }

    #[test]
    fn an_overflowing_covariance_is_an_error_and_keeps_the_running_estimate() {
        with(2, 1, |p| {
            p.update(&[0.0, 2.0], 1, 1.0).unwrap();
            let (sum, weight) = (p.sum[0], p.weight[0]);
            let result = p.update(&[-1e200, 1e200], 1, 1.0);
            assert_eq!(result, Err(Error::NonFiniteCovariance));
            assert_eq!((p.sum[0], p.weight[0]), (sum, weight));
        });
    }

    #[test]
    fn the_running_estimate_is_a_bias_corrected_average() {
        // Variances 1 then 4 at rate 0.5: sum 0.5 * (0.5 * 1) + 0.5 * 4, weight 0.75.
        with(2, 1, |p| {
            p.update(&[-1.0, 1.0], 1, 0.5).unwrap();
            assert_eq!(p.factor[0], 1.0);
            p.update(&[-2.0, 2.0], 1, 0.5).unwrap();
            assert!((p.factor[0] - 3f64.sqrt()).abs() < 1e-12);
        });
    }

    #[test]
    fn garbage_memory_is_forgotten() {
        with(2, 1, |p| {
            p.sum[0] = f64::NAN;
            p.weight[0] = 0.5;
            p.sanitise();
            assert_eq!((p.sum[0], p.weight[0]), (0.0, 0.0));
        });
    }
}
