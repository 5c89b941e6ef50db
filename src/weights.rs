//! Stage 2, weigh: importance-corrected proposal weights `b_j ∝ pi(y_j) / q(y_j)`.

use crate::lse::{log_sum_exp_in_place, max};
use crate::{Error, Real};

/// How far below the largest finite log-weight the others are floored (ALGORITHM.md: 30).
const LOG_WEIGHT_FLOOR: f64 = 30.0;

/// Writes normalised log-weights `log_b` (`logsumexp(log_b) = 0`) and returns the weight ESS
/// `1 / sum b_j^2`.
///
/// `log q(y_j) = log (1/N) sum_i N(y_j; m_i, sigma^2 I)`, the pooled proposal density; its
/// constant terms cancel in the normalisation and are omitted. Finite log-weights are floored at
/// `max - 30`; a proposal with `log pi = -inf` keeps weight exactly 0.
/// Shapes: `means` (N, d), `proposals` (P, d), `log_pi`, `log_b` (P); `row` (N) is scratch.
pub fn log_weights<T: Real>(
    means: &[T],
    proposals: &[T],
    log_pi: &[T],
    dim: usize,
    sigma: T,
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
    let total = log_b
        .iter()
        .fold(T::ZERO, |acc, &lb| acc + (lb - max).exp());
    let norm = max + total.ln();
    for lb in log_b.iter_mut() {
        *lb -= norm;
    }
    let sum_sq = log_b
        .iter()
        .fold(T::ZERO, |acc, &lb| acc + (T::from_f64(2.0) * lb).exp());
    Ok(T::ONE / sum_sq)
}
