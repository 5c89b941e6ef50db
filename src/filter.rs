//! What a particle-filter loop needs around [`Workspace::transport`](crate::Workspace::transport):
//! the effective sample size of its log-weights and systematic resampling, the classical
//! resampling step, with the same calling convention (proposals `(count, d)` and their
//! unnormalised log-weights in, the caller's particles `(N, d)` out).
//!
//! Weights stay in the log domain: every sum is shifted by the largest log-weight, so any
//! finite log-weights work, however far apart. `-inf` is a weight of exactly 0.

use crate::real::is_nan_or_pos_inf;
use crate::rng::uniform;
use crate::vector::{all_finite, copy, max, row};
use crate::{Error, Real};
use rand_core::Rng;

/// Checks `count = log_weights.len()` proposals `(count, d)` with their log-weights and
/// returns the largest log-weight.
///
/// Errors: `ZeroSize` (`dim` or `count` is 0), `BufferLength` (`proposals` does not hold
/// `count * dim` values), `NonFiniteInput` (a proposal coordinate is not finite, or a
/// log-weight is NaN or `+inf`), `AllWeightsZero` (every log-weight is `-inf`).
pub(crate) fn check_proposals<T: Real>(
    proposals: &[T],
    log_weights: &[T],
    dim: usize,
) -> Result<T, Error> {
    let count = log_weights.len();
    if dim == 0 || count == 0 {
        return Err(Error::ZeroSize);
    }
    let expected = count.checked_mul(dim).ok_or(Error::ZeroSize)?;
    crate::error::check_len(proposals.len(), expected)?;
    if !all_finite(proposals) || log_weights.iter().any(|&w| is_nan_or_pos_inf(w)) {
        return Err(Error::NonFiniteInput);
    }
    let max = max(log_weights);
    if max == T::NEG_INFINITY {
        return Err(Error::AllWeightsZero);
    }
    Ok(max)
}

/// The effective sample size `(sum_j w_j)^2 / sum_j w_j^2` of unnormalised log-weights
/// `log w_j`, in `[1, count]`: `count` for equal weights, 1 when one weight dominates.
///
/// A filter transports (or resamples) only when this falls below a threshold, often `N / 2`.
/// Errors as [`systematic_resample`]'s weights: `ZeroSize`, `NonFiniteInput`, `AllWeightsZero`.
///
/// ```
/// use entropic_transport::weight_ess;
/// assert_eq!(weight_ess(&[0.5f64; 8]), Ok(8.0));
/// let ess = weight_ess(&[0.0f64, -800.0, f64::NEG_INFINITY]).unwrap();
/// assert_eq!(ess, 1.0);
/// ```
pub fn weight_ess<T: Real>(log_weights: &[T]) -> Result<T, Error> {
    if log_weights.is_empty() {
        return Err(Error::ZeroSize);
    }
    if log_weights.iter().any(|&w| is_nan_or_pos_inf(w)) {
        return Err(Error::NonFiniteInput);
    }
    let max = max(log_weights);
    if max == T::NEG_INFINITY {
        return Err(Error::AllWeightsZero);
    }
    let (sum, sum_sq) = log_weights.iter().fold((T::ZERO, T::ZERO), |(s, s2), &lw| {
        let w = (lw - max).exp();
        (s + w, s2 + w * w)
    });
    // The largest weight contributes exactly 1 to both sums, so sum_sq >= 1.
    Ok(sum * sum / sum_sq)
}

/// Systematic resampling: writes `N = particles.len() / dim` draws from the proposals
/// `(count, d)` weighted by `exp(log_weights)` into `particles` `(N, d)`, with one uniform
/// `u` and the `N` evenly spaced points `(u + k) / N` of the cumulative weights. Proposal `j`
/// is copied `floor` or `ceil` of `N w_j / sum w` times; a weight of 0 is never drawn.
///
/// The work is `O(N d + count)` with no scratch memory, and one uniform is drawn.
/// On any error `particles` are untouched and no uniform is drawn. Errors: `ZeroSize`
/// (`dim`, `N` or `count` is 0), `ParticlesLength` (`particles.len()` is not a multiple of
/// `dim`), and those of the proposals: `BufferLength`, `NonFiniteInput`, `AllWeightsZero`.
///
/// ```
/// use entropic_transport::{systematic_resample, DefaultRng};
/// use rand_core::SeedableRng;
/// let proposals = [0.0f64, 1.0, 2.0];
/// let log_weights = [f64::NEG_INFINITY, 0.0, 0.0];
/// let mut particles = [9.0f64; 4];
/// let mut rng = DefaultRng::seed_from_u64(1);
/// systematic_resample(&mut particles, &proposals, &log_weights, 1, &mut rng)?;
/// assert_eq!(particles.iter().filter(|&&x| x == 1.0).count(), 2);
/// assert_eq!(particles.iter().filter(|&&x| x == 2.0).count(), 2);
/// # Ok::<(), entropic_transport::Error>(())
/// ```
pub fn systematic_resample<T: Real, R: Rng + ?Sized>(
    particles: &mut [T],
    proposals: &[T],
    log_weights: &[T],
    dim: usize,
    rng: &mut R,
) -> Result<(), Error> {
    let max = check_proposals(proposals, log_weights, dim)?;
    // `dim` >= 1 here (checked above); `checked_div` spares the compiler a division by zero.
    let n = particles.len().checked_div(dim).unwrap_or(0);
    if n == 0 {
        return Err(Error::ZeroSize);
    }
    if n * dim != particles.len() {
        return Err(Error::ParticlesLength {
            expected: n * dim,
            found: particles.len(),
        });
    }
    let weight = |j: usize| log_weights.get(j).map_or(T::ZERO, |&w| (w - max).exp());
    // The last proposal with a positive weight: rounding in the cumulative sum can never carry
    // a draw past it onto a zero weight.
    let last = log_weights
        .iter()
        .rposition(|&w| w != T::NEG_INFINITY)
        .unwrap_or(0);
    let total = (0..log_weights.len()).fold(T::ZERO, |acc, j| acc + weight(j));
    let spacing = total / T::from_usize(n);
    let mut point = uniform::<T, R>(rng) * spacing;
    // Invariant: `cumulative` (the weights before `j`) never exceeds `point`, so the loop
    // stops only on a proposal whose weight reaches past `point`, which is positive.
    let (mut j, mut cumulative) = (0, T::ZERO);
    for particle in particles.chunks_exact_mut(dim) {
        while j < last && cumulative + weight(j) <= point {
            cumulative += weight(j);
            j += 1;
        }
        copy(particle, row(proposals, j, dim));
        point += spacing;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::DefaultRng;
    use rand_core::SeedableRng;
    use std::vec::Vec;

    #[test]
    fn systematic_copies_each_proposal_floor_or_ceil_of_its_share() {
        let log_weights: Vec<f64> = [0.1, 0.5, 0.0, 0.25, 0.15]
            .iter()
            .map(|w: &f64| if *w == 0.0 { f64::NEG_INFINITY } else { w.ln() })
            .collect();
        let proposals: Vec<f64> = (0..5).map(f64::from).collect();
        for seed in 0..200 {
            let mut particles = [0.0f64; 20];
            let mut rng = DefaultRng::seed_from_u64(seed);
            systematic_resample(&mut particles, &proposals, &log_weights, 1, &mut rng).unwrap();
            for (j, share) in [0.1, 0.5, 0.0, 0.25, 0.15].iter().enumerate() {
                let copies = particles.iter().filter(|&&x| x == j as f64).count() as f64;
                let expected: f64 = 20.0 * share;
                assert!(
                    copies == expected.floor() || copies == expected.ceil(),
                    "seed {seed}: proposal {j} copied {copies} times, share {expected}"
                );
            }
        }
    }

    #[test]
    fn errors_leave_the_particles_and_the_generator_untouched() {
        let mut particles = [3.0f32; 4];
        let mut rng = DefaultRng::seed_from_u64(5);
        let reference = rng.clone();
        let bad = [
            (&[0.0f32, 1.0][..], &[f32::NAN, 0.0][..]),
            (&[0.0, 1.0], &[f32::INFINITY, 0.0]),
            (&[0.0, f32::INFINITY], &[0.0, 0.0]),
            (&[0.0, 1.0], &[f32::NEG_INFINITY, f32::NEG_INFINITY]),
            (&[0.0, 1.0, 2.0], &[0.0, 0.0]),
            (&[], &[]),
        ];
        for (proposals, log_weights) in bad {
            let result = systematic_resample(&mut particles, proposals, log_weights, 1, &mut rng);
            assert!(result.is_err());
            assert_eq!(particles, [3.0; 4]);
            assert_eq!(rng, reference);
        }
        let odd = systematic_resample(&mut particles[..3], &[0.0, 1.0], &[0.0], 2, &mut rng);
        assert_eq!(
            odd,
            Err(Error::ParticlesLength {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn ess_is_shift_invariant_and_survives_a_huge_range() {
        let a = weight_ess(&[0.0f64, 0.0, 2f64.ln()]).unwrap();
        let b = weight_ess(&[700.0f64, 700.0, 700.0 + 2f64.ln()]).unwrap();
        assert!((a - 16.0 / 6.0).abs() < 1e-12 && (a - b).abs() < 1e-12);
        assert_eq!(weight_ess(&[0.0f32, -1e30]).unwrap(), 1.0);
        assert_eq!(weight_ess::<f64>(&[]), Err(Error::ZeroSize));
        assert_eq!(weight_ess(&[f64::NAN]), Err(Error::NonFiniteInput));
    }
}
