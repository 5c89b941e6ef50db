//! Stage 5, couple: entropic optimal transport between the particles and the proposals
//! (balanced, unbalanced or gibbs), by one of two solvers of the same fixed point:
//!
//! - [`Solver::Scaling`] (the default): the stabilised scaling-domain iteration of
//!   `scaling.rs`. The kernel `K_ij = exp(u_i + v_j - C_ij / eps)` is formed once from the
//!   potentials, every `exp` argument shifted to at most 0; the iteration then runs on bounded
//!   scalings with multiply-adds only, one fused sweep over `K` per iteration, and folds the
//!   scalings back into the potentials whenever one leaves `[1/tau, tau]`.
//! - [`Solver::Log`]: the log-domain iteration of `log.rs`, two max-shifted log-sum-exp passes
//!   (one `exp` per entry each) per iteration.
//!
//! Both work on scaled potentials `u = f / eps`, `v = g / eps`; neither can overflow in `f32` or
//! `f64` at any `eps` (for the standalone [`sinkhorn`], on inputs that pass
//! [`SinkhornParams::check_problem`]). For balanced and unbalanced both end on a column
//! half-step, so the plan's column condition holds exactly, and both stop once the row
//! marginal's L1 error is at most `tolerance`: the log solver measures it, the scaling solver
//! bounds it from above by the L1 change of column mass its last column half-step made.

mod log;
mod scaling;

use crate::blocks::BLOCKS;
use crate::config::is_positive;
use crate::error::check_len;
use crate::real::is_nan_or_pos_inf;
use crate::vector::{all_finite, max, split_mut};
use crate::{Coupling, Error, Real};

pub(crate) use scaling::{Kernel, Marginals, Points};

/// Which iteration solves the coupling (both reach the same fixed point).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Solver {
    /// Stabilised scaling domain (the default): `exp` once per matrix entry per solve, then two
    /// multiply-adds per entry per iteration.
    #[default]
    Scaling,
    /// Log domain: one `exp` per matrix entry per half-step.
    Log,
}

/// Parameters of one Sinkhorn solve.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SinkhornParams<T> {
    /// Entropic regulariser, in the units of the cost it is applied to.
    pub epsilon: T,
    /// Which coupling to solve.
    pub coupling: Coupling<T>,
    /// Iteration cap (each iteration is one row and one column half-step).
    pub max_iterations: u32,
    /// Stop once the statistics' `marginal_error` is at most this (gibbs does not iterate).
    pub tolerance: T,
    /// Which iteration to run.
    pub solver: Solver,
}

/// What a Sinkhorn solve did.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SinkhornStats<T> {
    /// Full iterations performed (1 for gibbs).
    pub iterations: u32,
    /// Whether `marginal_error <= tolerance` was reached (always `true` for gibbs).
    pub converged: bool,
    /// For balanced and unbalanced, the L1 error of the returned plan's row marginal (its
    /// column condition holds exactly): measured by the log solver, bounded from above by the
    /// scaling solver (the L1 change of column mass its last column half-step made). For gibbs,
    /// the L1 error of the column marginal (its rows are exact).
    pub marginal_error: T,
    /// Times the scaling solver folded its scalings into the potentials and formed the kernel
    /// again (0 for the log solver).
    pub absorptions: u32,
}

/// Scratch length of [`sinkhorn`] for an `n x p` problem: `n + p` for the log solver,
/// `n p + n + (2 + B) p` for the scaling solver (its kernel, row and column scalings, the linear
/// column marginal and `B` partial column sums, `B` = 8 with the `parallel` feature, else 1).
/// Saturates on overflow, so an absurd size fails the length
/// check instead.
pub const fn sinkhorn_scratch_len(n: usize, p: usize, solver: Solver) -> usize {
    match solver {
        Solver::Log => n.saturating_add(p),
        Solver::Scaling => n
            .saturating_mul(p)
            .saturating_add(n)
            .saturating_add(p.saturating_mul(2 + BLOCKS)),
    }
}

/// Solves the entropic OT problem of `params` on a raw cost.
///
/// Shapes: `cost` (n, p) row-major, `log_a` (n), `log_b` (p), `f` (n), `g` (p),
/// `scratch` ([`sinkhorn_scratch_len`]). `f` and `g` are in cost units; on input they are the
/// warm start (an entry that is not finite, or whose magnitude divided by `epsilon` exceeds
/// the scaled-cost limit of [`SinkhornParams::check_problem`], starts from 0), on output the
/// potentials, so that for all three couplings the plan is
/// `P_ij = exp((f_i + g_j - C_ij) / epsilon)`. For balanced and unbalanced the last half-step
/// is the column one: a balanced plan's columns sum to `b` exactly (up to rounding) and its
/// rows to `a` within the reported error; a gibbs plan's rows sum to `a`, with `g = eps log b`.
/// A potential is `-inf` where its mass is zero (`log_a`, `log_b` may hold `-inf`; the scaling
/// solver also treats a mass below the type's smallest normal number as zero), finite
/// elsewhere. The inputs must pass [`SinkhornParams::check_problem`]; on error nothing is
/// written.
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
    check_len(scratch.len(), sinkhorn_scratch_len(n, p, params.solver))?;
    let inv_eps = T::ONE / params.epsilon;
    let limit = scaled_limit::<T>();
    for x in f.iter_mut().chain(g.iter_mut()) {
        let scaled = *x * inv_eps;
        // Also NaN and the infinities: the comparison is false.
        *x = if scaled.abs() <= limit {
            scaled
        } else {
            T::ZERO
        };
    }
    let stats = match params.solver {
        Solver::Log => {
            let (row, col) = split_mut(scratch, n);
            log::solve(cost, inv_eps, log_a, log_b, params, f, g, row, col)
        }
        Solver::Scaling => {
            let (kernel, rest) = split_mut(scratch, n * p);
            let (alpha, rest) = split_mut(rest, n);
            let (beta, rest) = split_mut(rest, p);
            let (b, col) = split_mut(rest, p);
            b.iter_mut().zip(log_b).for_each(|(b, &lb)| *b = lb.exp());
            let kernel = Kernel {
                matrix: kernel,
                alpha,
                beta,
                col,
            };
            let marginals = Marginals { log_a, b };
            scaling::solve(&cost, inv_eps, &marginals, params, f, g, kernel)
        }
    };
    for x in f.iter_mut().chain(g.iter_mut()) {
        *x *= params.epsilon;
    }
    Ok(stats)
}

/// The largest magnitude of a scaled cost `C / epsilon` or a scaled warm start the standalone
/// solver accepts: `1 / EPSILON`, where the rounding error of a value reaches 1.
fn scaled_limit<T: Real>() -> T {
    T::ONE / T::EPSILON
}

/// `ln sum_k exp(x_k)` of entries that are finite or `-inf`, one finite, shifted by the
/// largest.
pub(crate) fn log_total<T: Real>(x: &[T]) -> T {
    let max = max(x);
    max + x
        .iter()
        .fold(T::ZERO, |acc, &x_k| acc + (x_k - max).exp())
        .ln()
}

impl<T: Real> SinkhornParams<T> {
    /// Checks a problem as [`sinkhorn`] does before it solves, in this order: the sizes
    /// (`log_a` (n), `log_b` (p) non-empty, `cost` (n, p)), the parameters, then the values:
    ///
    /// - `NonFiniteInput`: a cost is not finite, or a marginal entry is NaN or `+inf`;
    /// - `AllWeightsZero`: in a marginal, no mass `exp(log m)` reaches `e * MIN_POSITIVE` of the
    ///   type (3.2e-38 in f32, 6.1e-308 in f64): every mass is `-inf` or underflows;
    /// - `NonFiniteInput`: a marginal's total mass exceeds `1 / sqrt(MIN_POSITIVE)` (9.2e18
    ///   in f32, 6.7e153 in f64). Marginals need not be normalised, but the square root of the
    ///   type's range must remain as headroom for the sums of masses the solvers form;
    /// - `NonFiniteCost`: a scaled cost `|C_ij| / epsilon` exceeds `1 / EPSILON` (8.4e6 in
    ///   f32, 4.5e15 in f64). Beyond it the cost's own rounding error exceeds `epsilon`, so the
    ///   plan `exp((f + g - C) / epsilon)` is not determined by the inputs.
    ///
    /// Within these bounds every potential, sum and mass the solvers form is finite.
    pub fn check_problem(&self, cost: &[T], log_a: &[T], log_b: &[T]) -> Result<(), Error> {
        let (n, p) = (log_a.len(), log_b.len());
        if n == 0 || p == 0 {
            return Err(Error::ZeroSize);
        }
        check_len(cost.len(), n.saturating_mul(p))?;
        self.validate()?;
        let marginals = [log_a, log_b];
        if !all_finite(cost)
            || marginals
                .iter()
                .any(|m| m.iter().any(|&x| is_nan_or_pos_inf(x)))
        {
            return Err(Error::NonFiniteInput);
        }
        let smallest_log_mass = T::from_f64(T::LN_MIN_POSITIVE + 1.0);
        if marginals.iter().any(|m| max(m) < smallest_log_mass) {
            return Err(Error::AllWeightsZero);
        }
        let largest_log_total = T::from_f64(-0.5 * T::LN_MIN_POSITIVE);
        if marginals.iter().any(|m| log_total(m) > largest_log_total) {
            return Err(Error::NonFiniteInput);
        }
        let limit = scaled_limit::<T>() * self.epsilon;
        if cost.iter().any(|c| c.abs() > limit) {
            return Err(Error::NonFiniteCost);
        }
        Ok(())
    }

    /// Checks epsilon, tolerance, the iteration cap and rho. `epsilon` must lie within the
    /// square root of the type's range, `[sqrt(MIN_POSITIVE), 1 / sqrt(MIN_POSITIVE)]` (1.1e-19
    /// to 9.2e18 in f32, 1.5e-154 to 6.7e153 in f64), so that `1 / epsilon` and the potentials
    /// scaled back by `epsilon` are finite.
    pub fn validate(&self) -> Result<(), Error> {
        let range = T::from_f64((-0.5 * T::LN_MIN_POSITIVE).exp());
        if !(self.epsilon >= T::ONE / range && self.epsilon <= range) {
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

    /// The exponent `lambda` of the column half-step: 1 for balanced, `rho / (1 + rho)` for
    /// unbalanced; `None` for gibbs (no column half-step).
    pub(crate) fn lambda(&self) -> Option<T> {
        match self.coupling {
            Coupling::Balanced => Some(T::ONE),
            Coupling::Unbalanced { rho } => Some(rho / (T::ONE + rho)),
            Coupling::Gibbs => None,
        }
    }
}

/// Couples the sampler's particles and proposals: the kernel formed from the points with the
/// scaling solver, or from the cost matrix written into `kernel.matrix` with the log solver.
/// On return `kernel.matrix` holds `K` and `kernel.beta` the column scalings, so that row `i`
/// of the plan is proportional to `K_ij beta_j` (the log solver leaves the plan itself and
/// `beta = 1`); `u`, `v` hold the scaled potentials. `log_b` (p) is overwritten by the weights
/// `b` themselves for the scaling solver.
#[allow(clippy::too_many_arguments)]
// Inlined into the step: one stack frame less on a microcontroller (80 bytes on a Cortex-M4).
#[inline(always)]
pub(crate) fn couple<T: Real>(
    points: &Points<'_, T>,
    inv_eps: T,
    log_a: &[T],
    log_b: &mut [T],
    params: &SinkhornParams<T>,
    u: &mut [T],
    v: &mut [T],
    kernel: Kernel<'_, T>,
) -> SinkhornStats<T> {
    match params.solver {
        Solver::Scaling => {
            log_b.iter_mut().for_each(|lb| *lb = lb.exp());
            let marginals = Marginals { log_a, b: log_b };
            scaling::solve(points, inv_eps, &marginals, params, u, v, kernel)
        }
        Solver::Log => {
            let Kernel {
                matrix,
                alpha,
                beta,
                col,
            } = kernel;
            points.fill_matrix(matrix);
            let stats = log::solve(matrix, inv_eps, log_a, log_b, params, u, v, alpha, col);
            log::materialise(matrix, inv_eps, u, v);
            beta.fill(T::ONE);
            stats
        }
    }
}
