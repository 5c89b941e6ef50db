//! Stage 2, weigh: importance-corrected proposal weights `b_j ∝ pi(y_j) / q(y_j)`.

use crate::lse::{log_sum_exp_in_place, max};
use crate::{Error, Real};

/// How far below the largest finite log-weight the others are floored.
const LOG_WEIGHT_FLOOR: f64 = 30.0;

/// Writes normalised log-weights `log_b` (`logsumexp(log_b) = 0`) and returns the weight ESS
/// `1 / sum b_j^2`.
///
/// `log q(y_j) = log (1/N) sum_i N(y_j; m_i, sigma^2 I)`, the pooled proposal density; its
/// constant terms cancel in the normalisation and are omitted. Finite log-weights are floored at
/// `max - 30`; a proposal with `log pi = -inf` keeps weight exactly 0. With `truncate`, weights
/// are then capped at `sqrt(P)` times their mean (truncated importance sampling, Ionides 2008)
/// and renormalised, so no single proposal can claim more than `1/sqrt(P)` of the mass.
/// Shapes: `means` (N, d), `proposals` (P, d), `log_pi`, `log_b` (P); `row` (N) is scratch.
#[allow(clippy::too_many_arguments)]
pub fn log_weights<T: Real>(
    means: &[T],
    proposals: &[T],
    log_pi: &[T],
    dim: usize,
    sigma: T,
    truncate: bool,
    log_b: &mut [T],
    row: &mut [T],
) -> Result<T, Error> {
    let inv_two_var = T::ONE / (T::from_f64(2.0) * sigma * sigma);
    for ((y, &lp), lb) in proposals
        .chunks_exact(dim)
        .zip(log_pi)
        .zip(log_b.iter_mut())
    {
        for (r, m) in row.iter_mut().zip(means.chunks_exact(dim)) {
            let sq = y
                .iter()
                .zip(m)
                .fold(T::ZERO, |acc, (&y_k, &m_k)| acc + (y_k - m_k) * (y_k - m_k));
            *r = -sq * inv_two_var;
        }
        let log_q = log_sum_exp_in_place(row);
        if !log_q.is_finite() {
            // Only reachable when a squared distance overflows the type.
            return Err(Error::NonFiniteCost);
        }
        *lb = lp - log_q; // -inf (zero density) stays -inf
    }
    let max = max(log_b);
    if max == T::NEG_INFINITY {
        return Err(Error::AllWeightsZero);
    }
    let floor = max - T::from_f64(LOG_WEIGHT_FLOOR);
    for lb in log_b.iter_mut().filter(|lb| **lb != T::NEG_INFINITY) {
        *lb = lb.max(floor);
    }
    normalise(log_b, max);
    if truncate {
        // The mean normalised weight is 1/P, so the cap sqrt(P)/P is -ln(P)/2 in logs.
        let cap = -T::from_f64(0.5) * T::from_usize(log_b.len()).ln();
        for lb in log_b.iter_mut() {
            *lb = lb.min(cap);
        }
        normalise(log_b, cap);
    }
    let sum_sq = log_b
        .iter()
        .fold(T::ZERO, |acc, &lb| acc + (T::from_f64(2.0) * lb).exp());
    Ok(T::ONE / sum_sq)
}

/// Shifts `log_b` so that `logsumexp(log_b) = 0`, given an upper bound `max` of its entries
/// that is attained or close (so the sum of `exp(lb - max)` neither overflows nor underflows).
fn normalise<T: Real>(log_b: &mut [T], max: T) {
    let total = log_b
        .iter()
        .fold(T::ZERO, |acc, &lb| acc + (lb - max).exp());
    let norm = max + total.ln();
    for lb in log_b.iter_mut() {
        *lb -= norm;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    /// 100 proposals at one mean (so `q` is constant): the weights follow `pi` alone.
    fn weights(log_pi: &[f64], truncate: bool) -> (std::vec::Vec<f64>, f64) {
        let p = log_pi.len();
        let proposals = std::vec![0.0; p];
        let mut log_b = std::vec![0.0; p];
        let mut row = [0.0];
        let ess = log_weights(
            &[0.0],
            &proposals,
            log_pi,
            1,
            1.0,
            truncate,
            &mut log_b,
            &mut row,
        )
        .unwrap();
        (log_b.iter().map(|lb| lb.exp()).collect(), ess)
    }

    #[test]
    fn truncation_caps_a_dominant_weight_at_sqrt_p_times_the_mean() {
        // One raw weight 1000, 99 raw weights 1: mean 10.99, cap 109.9.
        let mut log_pi = std::vec![0.0; 100];
        log_pi[7] = 1000f64.ln();
        let (plain, plain_ess) = weights(&log_pi, false);
        let (capped, capped_ess) = weights(&log_pi, true);
        assert!((plain[7] - 1000.0 / 1099.0).abs() < 1e-12);
        let cap = 1099.0 / 100.0 * 10.0;
        assert!(
            (capped[7] - cap / (cap + 99.0)).abs() < 1e-12,
            "{}",
            capped[7]
        );
        assert!((capped.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(capped_ess > plain_ess);
    }

    #[test]
    fn zero_density_stays_zero_and_the_floor_holds() {
        let mut log_pi = std::vec![0.0; 10];
        log_pi[2] = f64::NEG_INFINITY;
        log_pi[3] = -100.0; // floored up to max - 30
        for truncate in [false, true] {
            let (b, _) = weights(&log_pi, truncate);
            assert_eq!(b[2], 0.0);
            assert!((b[3] / b[0] - (-30f64).exp()).abs() < 1e-20);
        }
    }
}
