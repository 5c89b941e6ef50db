//! Stage 5, couple: entropic optimal transport in the log domain (balanced, unbalanced, gibbs).
//!
//! The solver works on scaled potentials `u = f / eps`, `v = g / eps` and reads the cost with a
//! factor `k = 1 / eps`, so the plan is `P_ij = exp(u_i + v_j - k C_ij)`. Every log-sum-exp is
//! max-shifted, so `exp` never sees a positive argument and nothing overflows at any `eps`.
//! All loops run along contiguous cost rows; column reductions are accumulated row by row.

use crate::config::is_positive;
use crate::error::check_len;
use crate::lse::log_sum_exp_in_place;
use crate::real::is_nan_or_pos_inf;
use crate::{Coupling, Error, Real};

/// Parameters of one Sinkhorn solve.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SinkhornParams<T> {
    /// Entropic regulariser, in the units of the cost it is applied to.
    pub epsilon: T,
    /// Which coupling to solve.
    pub coupling: Coupling<T>,
    /// Iteration cap (each iteration is one `f` and one `g` half-step).
    pub max_iterations: u32,
    /// Stop when the L1 error of the marginal the last half-step did not enforce is below this.
    pub tolerance: T,
}

/// What a Sinkhorn solve did.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SinkhornStats<T> {
    /// Full iterations performed (1 for gibbs).
    pub iterations: u32,
    /// Whether `marginal_error <= tolerance` was reached (always `true` for gibbs).
    pub converged: bool,
    /// L1 error of the unenforced marginal of the returned plan: the row marginal for balanced
    /// and unbalanced, the column marginal for gibbs.
    pub marginal_error: T,
}

/// Scratch length of [`sinkhorn`] for an `n x p` problem: `n + p`.
pub const fn sinkhorn_scratch_len(n: usize, p: usize) -> usize {
    n.saturating_add(p)
}

/// Solves the entropic OT problem of `params` on a raw cost.
///
/// Shapes: `cost` (n, p) row-major, `log_a` (n), `log_b` (p), `f` (n), `g` (p),
/// `scratch` ([`sinkhorn_scratch_len`]). `f` and `g` are in cost units; on input they are the
/// warm start (non-finite entries start from 0), on output the potentials, so that for all three
/// couplings the plan is `P_ij = exp((f_i + g_j - C_ij) / epsilon)`. For gibbs, `g = eps log b`.
/// `log_a`, `log_b` may hold `-inf` (zero mass) but each needs one finite entry. On error
/// nothing is written.
pub fn sinkhorn<T: Real>(
    cost: &[T],
    log_a: &[T],
    log_b: &[T],
    params: &SinkhornParams<T>,
    f: &mut [T],
    g: &mut [T],
    scratch: &mut [T],
) -> Result<SinkhornStats<T>, Error> {
    params.check_problem(cost, log_a, log_b)?;
    let (n, p) = (log_a.len(), log_b.len());
    check_len(f.len(), n)?;
    check_len(g.len(), p)?;
    check_len(scratch.len(), sinkhorn_scratch_len(n, p))?;
    let inv_eps = T::ONE / params.epsilon;
    for x in f.iter_mut().chain(g.iter_mut()) {
        *x = if x.is_finite() { *x * inv_eps } else { T::ZERO };
    }
    let (row_lse, col_sum) = scratch.split_at_mut(n);
    let stats = solve(cost, inv_eps, log_a, log_b, params, f, g, row_lse, col_sum);
    for x in f.iter_mut().chain(g.iter_mut()) {
        *x *= params.epsilon;
    }
    Ok(stats)
}

impl<T: Real> SinkhornParams<T> {
    /// Checks a problem as [`sinkhorn`] does before it solves: the parameters, the sizes
    /// (`log_a` (n), `log_b` (p) non-empty, `cost` (n, p)), and the values (finite costs, no
    /// NaN or `+inf` marginal, one finite entry in each marginal).
    pub fn check_problem(&self, cost: &[T], log_a: &[T], log_b: &[T]) -> Result<(), Error> {
        let (n, p) = (log_a.len(), log_b.len());
        if n == 0 || p == 0 {
            return Err(Error::ZeroSize);
        }
        check_len(cost.len(), n.saturating_mul(p))?;
        self.validate()?;
        if !cost.iter().all(|c| c.is_finite())
            || [log_a, log_b]
                .iter()
                .any(|m| m.iter().any(|&x| is_nan_or_pos_inf(x)))
        {
            return Err(Error::NonFiniteInput);
        }
        if !log_a.iter().any(|x| x.is_finite()) || !log_b.iter().any(|x| x.is_finite()) {
            return Err(Error::AllWeightsZero);
        }
        Ok(())
    }

    /// Checks epsilon, tolerance, the iteration cap and rho.
    pub fn validate(&self) -> Result<(), Error> {
        if !is_positive(self.epsilon) {
            return Err(Error::InvalidEpsilon);
        }
        if !is_positive(self.tolerance) {
            return Err(Error::InvalidTolerance);
        }
        if self.max_iterations == 0 {
            return Err(Error::InvalidMaxIterations);
        }
        match self.coupling {
            Coupling::Unbalanced { rho } if !is_positive(rho) => Err(Error::InvalidRho),
            _ => Ok(()),
        }
    }
}

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
    let lambda = match params.coupling {
        Coupling::Balanced => T::ONE,
        Coupling::Unbalanced { rho } => rho / (T::ONE + rho),
        Coupling::Gibbs => return gibbs(cost, inv_eps, log_a, log_b, u, v, col_sum),
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
    }
}

/// `out_i = LSE_j(v_j - k C_ij)` for every row `i` of `cost` (n, p); `terms` (p) is scratch.
fn row_log_sum_exp<T: Real>(cost: &[T], k: T, v: &[T], out: &mut [T], terms: &mut [T]) {
    for (row, o) in cost.chunks_exact(v.len()).zip(out.iter_mut()) {
        for ((t, &c), &v_j) in terms.iter_mut().zip(row).zip(v) {
            *t = v_j - k * c;
        }
        *o = log_sum_exp_in_place(terms);
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
