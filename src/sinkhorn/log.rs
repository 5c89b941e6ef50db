//! The log-domain solver: each half-step is a max-shifted log-sum-exp over contiguous cost rows
//! (one `exp` per entry), so `exp` never sees a positive argument. The last half-step of an
//! iteration enforces the column marginal; the row marginal's L1 error is measured from the
//! next iteration's row pass, which the next `u` half-step needs anyway.

use super::{SinkhornParams, SinkhornStats};
use crate::vector::log_sum_exp_in_place;
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
    let mut iterations = 0;
    loop {
        row_log_sum_exp(cost, inv_eps, v, row_lse, col_sum);
        if iterations > 0 {
            // Row marginal of the current plan: exp(u_i + LSE_j(v_j - k C_ij)).
            let error = l1_error(u, row_lse, log_a);
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
            *u_i = la - lse;
        }
        // g half-step: v_j = lambda (log b_j - LSE_i(u_i - k C_ij)).
        col_log_sum_exp(cost, inv_eps, u, v, col_sum);
        for (v_j, &lb) in v.iter_mut().zip(log_b) {
            *v_j = lambda * (lb - *v_j);
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
    v.copy_from_slice(log_b);
    row_log_sum_exp(cost, inv_eps, v, u, col_mass);
    for (u_i, &la) in u.iter_mut().zip(log_a) {
        *u_i = la - *u_i;
    }
    // Each entry is at most a_i <= 1 once rows are normalised, so a plain sum cannot overflow.
    col_mass.fill(T::ZERO);
    for (row, &u_i) in cost.chunks_exact(v.len()).zip(u.iter()) {
        for ((m, &c), &v_j) in col_mass.iter_mut().zip(row).zip(v.iter()) {
            *m += (u_i + v_j - inv_eps * c).exp();
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

/// `out_i = LSE_j(v_j - k C_ij)` for every row `i` of `cost` (n, p); `terms` (p) is scratch.
fn row_log_sum_exp<T: Real>(cost: &[T], k: T, v: &[T], out: &mut [T], terms: &mut [T]) {
    for (row, o) in cost.chunks_exact(v.len()).zip(out.iter_mut()) {
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
    for (row, &u_i) in cost.chunks_exact(out.len()).zip(u) {
        for (m, &c) in out.iter_mut().zip(row) {
            *m = m.max(u_i - k * c);
        }
    }
    sum.fill(T::ZERO);
    for (row, &u_i) in cost.chunks_exact(out.len()).zip(u) {
        for ((s, &m), &c) in sum.iter_mut().zip(out.iter()).zip(row) {
            *s += (u_i - k * c - m).exp();
        }
    }
    for (m, &s) in out.iter_mut().zip(sum.iter()) {
        *m += s.ln();
    }
}

/// `sum_i |exp(u_i + lse_i) - exp(log_a_i)|`: L1 error of the row marginal.
fn l1_error<T: Real>(u: &[T], lse: &[T], log_a: &[T]) -> T {
    u.iter()
        .zip(lse)
        .zip(log_a)
        .fold(T::ZERO, |acc, ((&u_i, &l), &la)| {
            acc + ((u_i + l).exp() - la.exp()).abs()
        })
}

/// Overwrites the cost (n, p) with the plan `P_ij = exp(u_i + v_j - k C_ij)` of scaled
/// potentials `u` (n), `v` (p). Each entry is at most its column's mass, so at most 1.
pub(crate) fn materialise<T: Real>(cost: &mut [T], k: T, u: &[T], v: &[T]) {
    for (row, &u_i) in cost.chunks_exact_mut(v.len()).zip(u) {
        for (c, &v_j) in row.iter_mut().zip(v) {
            *c = (u_i + v_j - k * *c).exp();
        }
    }
}
