//! The log-domain solver: each half-step is a max-shifted log-sum-exp over contiguous cost rows
//! (one `exp` per entry), so `exp` never sees a positive argument. The last half-step of an
//! iteration enforces the column marginal; the row marginal's L1 error is measured from the
//! next iteration's row pass, which the next `u` half-step needs anyway.

use super::{log_total, SinkhornParams, SinkhornStats};
use crate::vector::{copy, log_sum_exp_in_place, rows, rows_mut};
use crate::Real;

/// The log-domain solver on validated inputs, with scaled potentials `u` (n), `v` (p) as warm
/// start and result. `cost` (n, p) is multiplied by `inv_eps`; `row_lse` (n) and `col_sum` (p)
/// are scratch.
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve<T: Real>(
    cost: &[T],
    inv_eps: T,
    log_a: &[T],
    log_b: &[T],
    params: &SinkhornParams<T>,
    u: &mut [T],
    v: &mut [T],
    row_lse: &mut [T],
    col_sum: &mut [T],
) -> SinkhornStats<T> {
    let Some(lambda) = params.lambda() else {
        return gibbs(cost, inv_eps, log_a, log_b, u, v, col_sum);
    };
    // The unbalanced column half-step can raise a column that an earlier step lowered far by
    // `exp((1 - lambda) |v_j|)`, beyond any mass the type holds. At the fixed point every
    // column's mass is at most the rows' total (the rows are exact there), so each column is
    // capped at that total: every iterate stays bounded, and the fixed point does not move.
    let column_cap = (lambda < T::ONE).then(|| log_total(log_a));
    // After a column half-step no row holds more than the whole plan: `sum b` (balanced), or
    // `p` capped columns. Row masses are clamped there, so that rounding in exponents near the
    // type's precision cannot push one past the type's range.
    let row_cap = match column_cap {
        Some(cap) => cap + T::from_usize(v.len()).ln(),
        None => log_total(log_b),
    };
    let mut iterations = 0;
    loop {
        row_log_sum_exp(cost, inv_eps, v, row_lse, col_sum);
        if iterations > 0 {
            // Row marginal of the current plan: exp(u_i + LSE_j(v_j - k C_ij)).
            let error = l1_error(u, row_lse, log_a, row_cap);
            if error <= params.tolerance || iterations == params.max_iterations {
                return SinkhornStats {
                    iterations,
                    converged: error <= params.tolerance,
                    marginal_error: error,
                    absorptions: 0,
                };
            }
        }
        // f half-step: u_i = log a_i - LSE_j(v_j - k C_ij).
        for ((u_i, &la), &lse) in u.iter_mut().zip(log_a).zip(row_lse.iter()) {
            *u_i = normalising(la, lse);
        }
        // g half-step: v_j = lambda (log b_j - LSE_i(u_i - k C_ij)), the column's mass
        // exp(v_j + LSE_i) capped at the rows' total for unbalanced.
        col_log_sum_exp(cost, inv_eps, u, v, col_sum);
        for (v_j, &lb) in v.iter_mut().zip(log_b) {
            let lse = *v_j;
            *v_j = lambda * normalising(lb, lse);
            if let Some(cap) = column_cap {
                *v_j = v_j.min(normalising(cap, lse));
            }
        }
        iterations += 1;
    }
}

/// Closed-form semi-relaxed plan: `v = log b`, rows normalised; reports the column error.
fn gibbs<T: Real>(
    cost: &[T],
    inv_eps: T,
    log_a: &[T],
    log_b: &[T],
    u: &mut [T],
    v: &mut [T],
    col_mass: &mut [T],
) -> SinkhornStats<T> {
    copy(v, log_b);
    row_log_sum_exp(cost, inv_eps, v, u, col_mass);
    for (u_i, &la) in u.iter_mut().zip(log_a) {
        *u_i = normalising(la, *u_i);
    }
    // Each entry is at most its row's mass a_i once the rows are normalised: clamped there, so
    // that rounding cannot exceed it, a plain sum cannot overflow.
    col_mass.fill(T::ZERO);
    for ((row, &u_i), &la) in rows(cost, v.len()).zip(u.iter()).zip(log_a) {
        for ((m, &c), &v_j) in col_mass.iter_mut().zip(row).zip(v.iter()) {
            *m += (u_i + v_j - inv_eps * c).min(la).exp();
        }
    }
    let marginal_error = col_mass
        .iter()
        .zip(log_b)
        .fold(T::ZERO, |acc, (&m, &lb)| acc + (m - lb.exp()).abs());
    SinkhornStats {
        iterations: 1,
        converged: true,
        marginal_error,
        absorptions: 0,
    }
}

/// The potential `log_mass - lse` that gives a row or column of log-sum-exp `lse` its mass;
/// `-inf` if `lse` is (every exponent is `-inf`: in the sampler, its normalised costs
/// overflowed), so that it carries no mass instead of an infinite potential.
fn normalising<T: Real>(log_mass: T, lse: T) -> T {
    if lse == T::NEG_INFINITY {
        lse
    } else {
        log_mass - lse
    }
}

/// `out_i = LSE_j(v_j - k C_ij)` for every row `i` of `cost` (n, p); `terms` (p) is scratch.
fn row_log_sum_exp<T: Real>(cost: &[T], k: T, v: &[T], out: &mut [T], terms: &mut [T]) {
    for (row, o) in rows(cost, v.len()).zip(out.iter_mut()) {
        for ((t, &c), &v_j) in terms.iter_mut().zip(row).zip(v) {
            *t = v_j - k * c;
        }
        *o = log_sum_exp_in_place::<T, false>(terms);
    }
}

/// `out_j = LSE_i(u_i - k C_ij)` for every column `j`, accumulated along rows (two passes:
/// column maxima into `out`, then shifted sums into `sum`).
fn col_log_sum_exp<T: Real>(cost: &[T], k: T, u: &[T], out: &mut [T], sum: &mut [T]) {
    out.fill(T::NEG_INFINITY);
    for (row, &u_i) in rows(cost, out.len()).zip(u) {
        for (m, &c) in out.iter_mut().zip(row) {
            *m = m.max(u_i - k * c);
        }
    }
    sum.fill(T::ZERO);
    for (row, &u_i) in rows(cost, out.len()).zip(u) {
        for ((s, &m), &c) in sum.iter_mut().zip(out.iter()).zip(row) {
            *s += (u_i - k * c - m).exp();
        }
    }
    for (m, &s) in out.iter_mut().zip(sum.iter()) {
        *m += s.ln();
    }
}

/// `sum_i |exp(u_i + lse_i) - exp(log_a_i)|`: L1 error of the row marginal, each row's
/// log-mass `u_i + lse_i` clamped at `row_cap`.
fn l1_error<T: Real>(u: &[T], lse: &[T], log_a: &[T], row_cap: T) -> T {
    u.iter()
        .zip(lse)
        .zip(log_a)
        .fold(T::ZERO, |acc, ((&u_i, &l), &la)| {
            acc + ((u_i + l).min(row_cap).exp() - la.exp()).abs()
        })
}

/// Overwrites the cost (n, p) with the plan `P_ij = exp(u_i + v_j - k C_ij)` of scaled
/// potentials `u` (n), `v` (p) that the sampler's normalised marginals produced. Each entry is
/// at most its column's mass, so at most 1: the exponent is clamped at 0, so that rounding in
/// exponents near the type's precision cannot exceed it.
pub(crate) fn materialise<T: Real>(cost: &mut [T], k: T, u: &[T], v: &[T]) {
    for (row, &u_i) in rows_mut(cost, v.len()).zip(u) {
        for (c, &v_j) in row.iter_mut().zip(v) {
            *c = (u_i + v_j - k * *c).min(T::ZERO).exp();
        }
    }
}
