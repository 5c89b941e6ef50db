//! Stage 2, weigh: importance-corrected proposal weights `b_j ∝ pi(y_j) / q(y_j)`.

use crate::blocks::{for_blocks, sum_partials, Partials, Rows, RowsRef};
use crate::cost::{half_sq_dist, half_sq_dists};
use crate::vector::{larger, max, row, rows, rows_mut, vectorised};
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
/// Shapes: `means` (N, d), `proposals` (P, d) drawn `P / N` per mean in order, `log_pi`,
/// `log_b` (P); `matrix` (N, P) and `partials` (`BLOCKS`, P) are scratch.
#[allow(clippy::too_many_arguments)]
pub fn log_weights<T: Real>(
    means: &[T],
    proposals: &[T],
    log_pi: &[T],
    dim: usize,
    sigma: T,
    truncate: bool,
    log_b: &mut [T],
    matrix: &mut [T],
    partials: &mut [T],
) -> Result<T, Error> {
    let inv_var = T::ONE / (sigma * sigma);
    if !log_proposal_density(means, proposals, dim, inv_var, log_b, matrix, partials) {
        // Only reachable when a squared distance overflows the type.
        return Err(Error::NonFiniteCost);
    }
    for (lb, &lp) in log_b.iter_mut().zip(log_pi) {
        *lb = lp - *lb; // -inf (zero density) stays -inf
    }
    normalise_log_weights(log_b, truncate)
}

/// Normalises finite-or-`-inf` log-weights in place (`logsumexp(log_b) = 0`) and returns the
/// weight ESS `1 / sum b_j^2`: finite log-weights are floored at `max - 30`, `-inf` stays a
/// weight of exactly 0, and `truncate` caps every weight at `sqrt(P)` times the mean.
/// `Err(AllWeightsZero)` if every entry is `-inf`. Entries must not be NaN or `+inf`.
pub(crate) fn normalise_log_weights<T: Real>(log_b: &mut [T], truncate: bool) -> Result<T, Error> {
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

/// `ln G`: how far the shift of a column may sit below its exponents' upper bound 0. Half the
/// type's exponent range, so `N` terms of at most `G` cannot overflow.
fn ln_guard<T: Real>() -> T {
    T::from_f64(-0.5 * T::LN_MIN_POSITIVE)
}

/// Writes `log q(y_j) = LSE_i(e_ij)`, `e_ij = -|y_j - m_i|^2 / (2 sigma^2)` (`inv_var =
/// 1 / sigma^2`), into `log_q` (P); `false` if one is not finite.
///
/// One pass over the means, with no matrix stored: every column is shifted by its exponent at
/// its own mean, `s_j = max(e_{parent(j), j}, -ln G)`, so its sum has a term `exp(e - s_j) = 1`
/// (or at least `1/G`) and no term above `G`. A column whose sum still falls below `1/G` (a
/// proposal more than `2 ln G` from its own mean in exponent units) is summed again exactly,
/// with its own maximum. Rows run in blocks ([`for_blocks`]), each on the first row of its part
/// of `matrix` (N, P), adding into its own partial of `partials` (`BLOCKS`, P).
fn log_proposal_density<T: Real>(
    means: &[T],
    proposals: &[T],
    dim: usize,
    inv_var: T,
    log_q: &mut [T],
    matrix: &mut [T],
    partials: &mut [T],
) -> bool {
    let p = log_q.len();
    let per_mean = (p / (means.len() / dim.max(1)).max(1)).max(1);
    let guard = ln_guard::<T>();
    for (j, (s, y)) in log_q.iter_mut().zip(rows(proposals, dim)).enumerate() {
        let parent = row(means, j / per_mean, dim);
        *s = (-inv_var * half_sq_dist(parent, y)).max(-guard);
    }
    let shift = &*log_q;
    let data = (
        Rows {
            data: matrix,
            width: p,
        },
        RowsRef {
            data: means,
            width: dim,
        },
        Partials {
            data: &mut *partials,
            width: p,
        },
    );
    for_blocks(
        means.len() / dim.max(1),
        data,
        &|_, _, (buffer, means, part)| {
            vectorised!(FUSED => shifted_sums::<T, FUSED>(
                means.data, proposals, dim, inv_var, shift, buffer.data, part.first()
            ))
        },
        &|(), ()| (),
    );
    sum_partials(partials, p);
    // Every column's logarithm in one pass without branches (it vectorises), then the
    // columns below the floor again, exactly.
    vectorised!(_FUSED => {
        for (lq, &sum) in log_q.iter_mut().zip(partials.iter()) {
            *lq += sum.ln();
        }
    });
    let floor = (-guard).exp();
    let mut finite = true;
    for (j, (lq, &sum)) in log_q.iter_mut().zip(partials.iter()).enumerate() {
        if sum < floor || sum.is_nan() {
            *lq = exact_log_density(means, row(proposals, j, dim), inv_var);
        }
        finite &= lq.is_finite();
    }
    finite
}

/// For every mean (row) of `means` (rows, d): its half squared distances to all proposals,
/// then `sums_j += exp(-inv_var h_ij - shift_j)`; `sums` (P) starts from 0. Means go four at a
/// time while `buffers` (rows, P) holds four rows: their distances, then one pass adding their
/// four terms in order, which rounds as mean after mean does and loads and stores each sum a
/// quarter as often.
#[inline(always)]
fn shifted_sums<T: Real, const FUSED: bool>(
    means: &[T],
    proposals: &[T],
    dim: usize,
    inv_var: T,
    shift: &[T],
    buffers: &mut [T],
    sums: &mut [T],
) {
    let p = sums.len();
    sums.fill(T::ZERO);
    let mut all = rows(means, dim);
    if let Some(four) = buffers.get_mut(..4 * p) {
        let mut bufs = rows_mut(four, p);
        let mut next = || bufs.next().unwrap_or_default();
        let (b0, b1, b2, b3) = (next(), next(), next(), next());
        for _ in 0..means.len() / dim.max(1) / 4 {
            for buffer in [&mut *b0, &mut *b1, &mut *b2, &mut *b3] {
                half_sq_dists(all.next().unwrap_or_default(), proposals, buffer);
            }
            let h = b0.iter().zip(b1.iter()).zip(b2.iter().zip(b3.iter()));
            for ((sum, &s), ((&h0, &h1), (&h2, &h3))) in sums.iter_mut().zip(shift).zip(h) {
                *sum += term::<T, FUSED>(inv_var, h0, s);
                *sum += term::<T, FUSED>(inv_var, h1, s);
                *sum += term::<T, FUSED>(inv_var, h2, s);
                *sum += term::<T, FUSED>(inv_var, h3, s);
            }
        }
    }
    let Some(buffer) = buffers.get_mut(..p) else {
        return; // an empty block
    };
    for m in all {
        half_sq_dists(m, proposals, buffer);
        for ((sum, &h), &s) in sums.iter_mut().zip(buffer.iter()).zip(shift) {
            *sum += term::<T, FUSED>(inv_var, h, s);
        }
    }
}

/// One mean's term of a shifted sum: `exp(-inv_var h - shift)` for half squared distance `h`.
#[inline(always)]
fn term<T: Real, const FUSED: bool>(inv_var: T, h: T, shift: T) -> T {
    (-inv_var).mul_add::<FUSED>(h, -shift).exp_with::<FUSED>()
}

/// `LSE_i(-|y - m_i|^2 / (2 sigma^2))` for one proposal `y` (d), shifted by its own maximum.
fn exact_log_density<T: Real>(means: &[T], y: &[T], inv_var: T) -> T {
    let exponents = || rows(means, y.len()).map(|m| -inv_var * half_sq_dist(m, y));
    let max = exponents().fold(T::NEG_INFINITY, larger);
    max + exponents().fold(T::ZERO, |acc, e| acc + (e - max).exp()).ln()
}

/// Shifts `log_b` so that `logsumexp(log_b) = 0`, given an upper bound `max` of its entries
/// that is attained or close (so the sum of `exp(lb - max)` neither overflows nor underflows).
/// Each entry is shifted by `max` first and then by `ln(total)`: in one step, `max + ln(total)`
/// would lose `ln(total)` to rounding whenever `|max|` is large (log-weights of `-1e13` in f32
/// left two equal weights at 1 each).
fn normalise<T: Real>(log_b: &mut [T], max: T) {
    let total = log_b
        .iter()
        .fold(T::ZERO, |acc, &lb| acc + (lb - max).exp());
    let log_total = total.ln();
    for lb in log_b.iter_mut() {
        *lb = (*lb - max) - log_total;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::blocks::BLOCKS;
    use crate::real::sealed::Sealed;

    /// 100 proposals at one mean (so `q` is constant): the weights follow `pi` alone.
    fn weights(log_pi: &[f64], truncate: bool) -> (std::vec::Vec<f64>, f64) {
        let p = log_pi.len();
        let proposals = std::vec![0.0; p];
        let mut log_b = std::vec![0.0; p];
        let (mut matrix, mut col) = (std::vec![0.0; p], std::vec![0.0; p * BLOCKS]);
        let ess = log_weights(
            &[0.0],
            &proposals,
            log_pi,
            1,
            1.0,
            truncate,
            &mut log_b,
            &mut matrix,
            &mut col,
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

    /// Four means at a time round as mean after mean, for 1 to 9 means (so with and without a
    /// remainder, and with scratch for fewer than four rows).
    #[test]
    fn four_means_at_a_time_round_as_mean_after_mean() {
        let value = |k: usize| ((k * 7919) % 1000) as f64 / 250.0 - 2.0;
        let (dim, p, inv_var) = (3, 23, 0.8);
        let proposals: std::vec::Vec<f64> = (0..p * dim).map(value).collect();
        let shift: std::vec::Vec<f64> = (0..p).map(|j| -value(j + 5) / 4.0).collect();
        for n in 1..=9 {
            let means: std::vec::Vec<f64> = (0..n * dim).map(|k| value(k + 101)).collect();
            let mut want = std::vec![0.0; p];
            let mut buffer = std::vec![0.0; p];
            for m in rows(&means, dim) {
                half_sq_dists(m, &proposals, &mut buffer);
                for ((w, &h), &s) in want.iter_mut().zip(&buffer).zip(&shift) {
                    *w += (-inv_var * h - s).exp_with::<false>();
                }
            }
            for scratch_rows in [1, n] {
                let mut buffers = std::vec![0.0; scratch_rows * p];
                let mut sums = std::vec![0.0; p];
                shifted_sums::<f64, false>(&means, &proposals, dim, inv_var, &shift, &mut buffers, &mut sums);
                assert_eq!(sums, want, "n = {n}, scratch rows {scratch_rows}");
            }
        }
    }
}
