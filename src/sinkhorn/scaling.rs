//! The stabilised scaling-domain solver (Schmitzer 2019, "absorption").
//!
//! The plan is kept as `P_ij = alpha_i K_ij beta_j` with the kernel
//! `K_ij = exp(u_i + v_j - k C_ij)` formed from the scaled potentials `u`, `v` ([`form`]) and
//! the scalings `alpha` (n), `beta` (p) bounded to `[1/tau, tau]`. An iteration is one fused
//! sweep over `K`: for each row, `s_i = sum_j K_ij beta_j`, `alpha_i = a_i / s_i`, and the row
//! times `alpha_i` added to the column sums `c_j` while it is in cache; then
//! `beta_j = b_j / c_j` (balanced) or `(b_j / c_j)^lambda exp((lambda - 1) v_j)` (unbalanced).
//! Two multiply-adds per entry, no `exp`. A scaling that would leave `[1/tau, tau]` is clamped
//! and, after that iteration, every scaling is folded into the potentials (`u += ln alpha`,
//! `v += ln beta`) and the kernel formed again, so nothing overflows or underflows in `f32` or
//! `f64` at any `eps`.
//!
//! The last half-step is the column one, so the balanced plan's column marginal is exact; the
//! reported error, the L1 change of column mass that half-step made, bounds the row
//! marginal's L1 error from above.

use super::{SinkhornParams, SinkhornStats};
use crate::blocks::{for_blocks, max_partials, sum_partials, Partials, Rows, RowsRef};
use crate::cost::{half_sq_dist, half_sq_dists, half_sq_dists_with};
use crate::vector::{
    axpy, axpy4, dot, dot4, larger, max, row, rows, rows_mut, sum, vectorised, SPLIT_SUMS,
};
use crate::Real;

/// The buffers of the scaling solver.
pub(crate) struct Kernel<'a, T> {
    /// `K` (n, p); for the sampler also its normalised cost matrix with the log solver.
    pub(crate) matrix: &'a mut [T],
    /// Row scalings `alpha` (n).
    pub(crate) alpha: &'a mut [T],
    /// Column scalings `beta` (p).
    pub(crate) beta: &'a mut [T],
    /// Column sums `c_j = sum_i alpha_i K_ij` (p); the column maxima while forming `K`.
    pub(crate) col: &'a mut [T],
}

/// Where the solver reads the cost `C` (n, p): a stored matrix or two point sets.
pub(crate) trait CostRows<T> {
    /// Hands the exponents `base + v_j - k C_ij` of row `i`, `row_terms = (base, v, k)`, to
    /// `sink`, one per column `j` of `v` (p), each with the matching item of `out`: one loop, into which the caller's use of
    /// each exponent fuses.
    fn for_exponents<O, const FUSED: bool>(
        &self,
        i: usize,
        row_terms: (T, &[T], T),
        out: impl Iterator<Item = O>,
        sink: impl FnMut(O, T),
    );

    /// Writes the exponents `base + v_j - k C_ij` of row `i` into `out` (p), `v` (p).
    #[inline(always)]
    fn exponents<const FUSED: bool>(&self, i: usize, base: T, v: &[T], k: T, out: &mut [T]) {
        self.for_exponents::<_, FUSED>(i, (base, v, k), out.iter_mut(), |x, e| *x = e);
    }

    /// The exponent `base + v_j - k C_ij` of entry `entry = (i, j)` of `p` columns,
    /// `entry_terms = (base, v_j, k)`, rounded as [`CostRows::for_exponents`] rounds it.
    fn exponent<const FUSED: bool>(
        &self,
        entry: (usize, usize),
        p: usize,
        entry_terms: (T, T, T),
    ) -> T;
}

impl<T: Real> CostRows<T> for &[T] {
    #[inline(always)]
    fn for_exponents<O, const FUSED: bool>(
        &self,
        i: usize,
        (base, v, k): (T, &[T], T),
        out: impl Iterator<Item = O>,
        mut sink: impl FnMut(O, T),
    ) {
        let costs = row(self, i, v.len());
        for ((o, &c), &v_j) in out.zip(costs).zip(v) {
            sink(o, (-k).mul_add::<FUSED>(c, base + v_j));
        }
    }

    #[inline(always)]
    fn exponent<const FUSED: bool>(
        &self,
        (i, j): (usize, usize),
        p: usize,
        (base, v_j, k): (T, T, T),
    ) -> T {
        let c = row(self, i, p).get(j).copied().unwrap_or(T::ZERO);
        (-k).mul_add::<FUSED>(c, base + v_j)
    }
}

/// The sampler's normalised cost `C_ij = |x_i - y_j|^2 / (2 scale)`, computed from the points
/// whenever the kernel is formed (no cost matrix is stored).
pub(crate) struct Points<'a, T> {
    /// Particles `x` (n, d).
    pub(crate) particles: &'a [T],
    /// Proposals `y` (p, d).
    pub(crate) proposals: &'a [T],
    /// `d`.
    pub(crate) dim: usize,
    /// `1 / scale`, the inverse median cost.
    pub(crate) inv_scale: T,
}

impl<T: Real> CostRows<T> for Points<'_, T> {
    #[inline(always)]
    fn for_exponents<O, const FUSED: bool>(
        &self,
        i: usize,
        (base, v, k): (T, &[T], T),
        out: impl Iterator<Item = O>,
        mut sink: impl FnMut(O, T),
    ) {
        let factor = -k * self.inv_scale;
        let x = row(self.particles, i, self.dim);
        half_sq_dists_with(x, self.proposals, out.zip(v), |(o, &v_j), h| {
            sink(o, factor.mul_add::<FUSED>(h, base + v_j));
        });
    }

    #[inline(always)]
    fn exponent<const FUSED: bool>(
        &self,
        (i, j): (usize, usize),
        _: usize,
        (base, v_j, k): (T, T, T),
    ) -> T {
        let (x, y) = (
            row(self.particles, i, self.dim),
            row(self.proposals, j, self.dim),
        );
        (-k * self.inv_scale).mul_add::<FUSED>(half_sq_dist(x, y), base + v_j)
    }
}

impl<T: Real> Points<'_, T> {
    /// Writes the whole normalised cost matrix (n, p) (for the log solver).
    pub(crate) fn fill_matrix(&self, matrix: &mut [T]) {
        let p = self.proposals.len() / self.dim.max(1);
        for (x, row) in rows(self.particles, self.dim).zip(rows_mut(matrix, p)) {
            half_sq_dists(x, self.proposals, row);
            row.iter_mut().for_each(|c| *c *= self.inv_scale);
        }
    }
}

/// `ln tau`: scalings are kept in `[1/tau, tau]`, and a formed kernel's rows (and balanced
/// columns) have their largest entry in `[1/tau, 1]`. A quarter of the exponent range of the
/// type (21.8 for `f32`, 177 for `f64`), so `alpha K beta` and every sum of them stays far from
/// overflow, and an entry flushed to 0 when the kernel is formed stays below the type's
/// precision relative to its row until the next formation.
fn ln_tau<T: Real>() -> T {
    T::from_f64(-0.25 * T::LN_MIN_POSITIVE)
}

/// The bounds of a scaling update. A new scaling outside `[1/tau, tau]` is flagged, so that it
/// is folded into its potential before the next sweep, but its value is kept up to
/// `[1/tau^3, tau^3]`: one iteration can move a potential by `3 ln tau`, not just `ln tau`
/// (which matters from a cold start), and the sweep that computed it only ever saw scalings
/// within `[1/tau, tau]`, so every product and sum stays finite.
struct Bounds<T> {
    tau: T,
    inv_tau: T,
    reach: T,
    inv_reach: T,
}

impl<T: Real> Bounds<T> {
    fn new() -> Self {
        let ln_tau = ln_tau::<T>();
        let (tau, reach) = (ln_tau.exp(), (T::from_f64(3.0) * ln_tau).exp());
        Bounds {
            tau,
            inv_tau: T::ONE / tau,
            reach,
            inv_reach: T::ONE / reach,
        }
    }

    /// `x` limited to `[1/tau^3, tau^3]`; sets `flag` if `x` is outside `[1/tau, tau]`.
    #[inline(always)]
    fn bound(&self, x: T, flag: &mut bool) -> T {
        // `&`, not `&&`: no branch, so that the column step vectorises.
        let inside = (x >= self.inv_tau) & (x <= self.tau);
        *flag |= !inside;
        x.max(self.inv_reach).min(self.reach)
    }
}

/// What the half-steps need besides the buffers, computed once per solve (each costs an
/// `exp`, which a small problem's iteration would feel): the bounds of the scalings, and every
/// row's mass when the row marginal is uniform (the sampler's).
struct HalfSteps<T> {
    bounds: Bounds<T>,
    uniform_mass: Option<T>,
}

impl<T: Real> HalfSteps<T> {
    fn new(log_a: &[T]) -> Self {
        let uniform_mass = match log_a.first() {
            Some(&first) if log_a.iter().all(|&la| la == first) => Some(first.exp()),
            _ => None,
        };
        HalfSteps {
            bounds: Bounds::new(),
            uniform_mass,
        }
    }

    /// The mass `a_i` of a row with log-mass `log_a`.
    #[inline(always)]
    fn mass(&self, log_a: T) -> T {
        self.uniform_mass.unwrap_or_else(|| log_a.exp())
    }
}

/// The marginals of a solve: `log a` (n) and the linear `b` (p), `b_j = 0` for zero mass.
pub(crate) struct Marginals<'a, T> {
    /// `log a_i`; `-inf` is zero mass.
    pub(crate) log_a: &'a [T],
    /// `b_j`, not logarithmic.
    pub(crate) b: &'a [T],
}

/// Solves on validated inputs: `costs` (n, p) with factor `k = 1 / eps`, the marginals, and
/// warm-start and result potentials `u` (n), `v` (p). On return `kernel.matrix` holds `K` and
/// `kernel.beta` the column scalings of the plan `alpha_i K_ij beta_j`, whose scalings are
/// also folded into `u`, `v` (`-inf` for zero mass).
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve<T: Real, C: CostRows<T> + Sync + ?Sized>(
    costs: &C,
    k: T,
    marginals: &Marginals<'_, T>,
    params: &SinkhornParams<T>,
    u: &mut [T],
    v: &mut [T],
    kernel: Kernel<'_, T>,
) -> SinkhornStats<T> {
    let Kernel {
        matrix,
        alpha,
        beta,
        col,
    } = kernel;
    let half_steps = HalfSteps::new(marginals.log_a);
    let lambda = params.lambda();
    let Some(lambda) = lambda else {
        // Gibbs: v = log b, one row half-step; the column masses are free.
        v.iter_mut()
            .zip(marginals.b)
            .for_each(|(v_j, &b)| *v_j = b.ln());
        form(costs, k, marginals, u, v, matrix, (col, alpha), false);
        set_active(beta, marginals.b);
        sweep(matrix, marginals.log_a, beta, alpha, col, &half_steps);
        let marginal_error = col
            .iter()
            .zip(marginals.b)
            .fold(T::ZERO, |acc, (&c, &b)| acc + (c - b).abs());
        fold_in(u, alpha);
        v.iter_mut()
            .zip(marginals.b)
            .for_each(|(v_j, &b)| *v_j = b.ln());
        return SinkhornStats {
            iterations: 1,
            converged: true,
            marginal_error,
            absorptions: 0,
        };
    };
    // Only the balanced coupling needs every column to carry mass.
    let balanced = lambda == T::ONE;
    form(costs, k, marginals, u, v, matrix, (col, alpha), balanced);
    set_active(beta, marginals.b);
    let (mut iterations, mut absorptions) = (0, 0);
    let (marginal_error, converged) = loop {
        iterations += 1;
        let clamped_rows = sweep(matrix, marginals.log_a, beta, alpha, col, &half_steps);
        let (error, clamped_columns) = vectorised!(FUSED => column_step::<T, FUSED>(
            col, marginals.b, v, lambda, beta, &half_steps.bounds
        ));
        let clamped = clamped_rows || clamped_columns;
        let converged = !clamped && error <= params.tolerance;
        let done = converged || iterations >= params.max_iterations;
        if clamped {
            // Also when done: the kernel must agree with the scalings handed on.
            fold_in_and_reset(u, alpha);
            fold_in_and_reset(v, beta);
            form(costs, k, marginals, u, v, matrix, (col, alpha), balanced);
            set_active(beta, marginals.b);
            set_active_rows(alpha, marginals.log_a, &half_steps);
            absorptions += 1;
        }
        if done {
            break (error, converged);
        }
    };
    fold_in(u, alpha);
    fold_in(v, beta);
    SinkhornStats {
        iterations,
        converged,
        marginal_error,
        absorptions,
    }
}

/// `beta_j = 1` where `b_j > 0`, else 0.
fn set_active<T: Real>(beta: &mut [T], b: &[T]) {
    for (beta_j, &b_j) in beta.iter_mut().zip(b) {
        *beta_j = if b_j > T::ZERO { T::ONE } else { T::ZERO };
    }
}

/// `alpha_i = 1` where row `i` has mass, else 0: the row scalings [`fold_in_and_reset`] leaves,
/// set again after [`form`] used them as scratch.
fn set_active_rows<T: Real>(alpha: &mut [T], log_a: &[T], half_steps: &HalfSteps<T>) {
    for (alpha_i, &la) in alpha.iter_mut().zip(log_a) {
        *alpha_i = if half_steps.mass(la) > T::ZERO {
            T::ONE
        } else {
            T::ZERO
        };
    }
}

/// `x_i += ln s_i` (`-inf` where `s_i = 0`): the scalings folded into their potentials.
fn fold_in<T: Real>(potentials: &mut [T], scalings: &[T]) {
    for (x, &s) in potentials.iter_mut().zip(scalings) {
        *x += s.ln();
    }
}

/// `x_i += ln s_i` and `s_i = 1` where `s_i > 0` (zero-mass entries keep their potential).
fn fold_in_and_reset<T: Real>(potentials: &mut [T], scalings: &mut [T]) {
    for (x, s) in potentials.iter_mut().zip(scalings.iter_mut()) {
        if *s > T::ZERO {
            *x += s.ln();
            *s = T::ONE;
        }
    }
}

/// Forms `K_ij = exp(u_i + v_j - k C_ij)` in `matrix` (n, p), shifting the potentials where
/// needed so that every `exp` argument is at most 0 and the largest entry of every row (and,
/// with `shift_columns`, of every column) lies in `[1/tau, 1]`: every row then has mass to
/// scale, and with `shift_columns` (balanced) every column too; the other couplings let a
/// column carry no mass. Rows and columns of zero mass are zero; non-finite potentials start
/// from 0. `colmax` (p) and `shifts` (n) are scratch.
///
/// One pass over the matrix: each row's exponents, its shift and its exponentials while it is
/// in cache. The columns are checked on one entry each, in the row that [`owned`] gives it (for
/// the sampler a proposal's own particle, its largest entry or close); only if that leaves a
/// column possibly short are all columns' largest exponents taken ([`shift_short_columns`]).
/// Only if a column then falls short (rare after the first step) are the columns shifted and
/// the pass repeated; raising a column cannot lower a row, so once is enough.
#[allow(clippy::too_many_arguments)]
fn form<T: Real, C: CostRows<T> + Sync + ?Sized>(
    costs: &C,
    k: T,
    marginals: &Marginals<'_, T>,
    u: &mut [T],
    v: &mut [T],
    matrix: &mut [T],
    (colmax, shifts): (&mut [T], &mut [T]),
    shift_columns: bool,
) {
    let limit = -ln_tau::<T>();
    for x in u.iter_mut().chain(v.iter_mut()) {
        if !x.is_finite() {
            *x = T::ZERO;
        }
    }
    // Zero-mass columns get `v = -inf` for the duration, so their exponents are `-inf`.
    for (v_j, &b) in v.iter_mut().zip(marginals.b) {
        if b <= T::ZERO {
            *v_j = T::NEG_INFINITY;
        }
    }
    let (n, p) = (marginals.log_a.len(), v.len());
    for _ in 0..2 {
        let data = (
            Rows {
                data: &mut *matrix,
                width: p,
            },
            RowsRef {
                data: &*u,
                width: 1,
            },
            RowsRef {
                data: marginals.log_a,
                width: 1,
            },
            Rows {
                data: &mut *shifts,
                width: 1,
            },
            Partials {
                data: &mut *colmax,
                width: p,
            },
        );
        let v_ref = &*v;
        for_blocks(
            n,
            data,
            &|first, _, (m, u, log_a, shifts, part)| {
                let rows = FormRows { first, n, k, limit };
                let colmax = part.first();
                vectorised!(FUSED => rows.form::<C, FUSED>(
                    costs, log_a.data, u.data, v_ref, m.data, colmax, shifts.data
                ))
            },
            &|(), ()| (),
        );
        max_partials(colmax, p);
        let shifted = shift_columns
            && shift_short_columns((costs, k), marginals, (&*u, &*shifts), v, colmax, limit);
        for (u_i, &shift) in u.iter_mut().zip(shifts.iter()) {
            *u_i -= shift;
        }
        if !shifted {
            break;
        }
    }
    for (v_j, &b) in v.iter_mut().zip(marginals.b) {
        if b <= T::ZERO {
            *v_j = T::ZERO;
        }
    }
}

/// The columns of `p` that row `i` of `n` checks when the kernel is formed: the columns cut
/// into `n` contiguous runs, `ceil(i p / n) .. ceil((i + 1) p / n)` to row `i`, so each proposal
/// of a pool drawn `p / n` per particle goes to its own particle. Inlined, as everything the
/// vector pass calls must be ([`vectorised`]).
#[inline(always)]
fn owned(i: usize, n: usize, p: usize) -> core::ops::Range<usize> {
    let n = n.max(1);
    (i * p).div_ceil(n)..((i + 1) * p).div_ceil(n)
}

/// Raises the potential `v_j` of every balanced column `j` that falls short (its largest
/// exponent below `target + limit`, [`column_target`]) by what it lacks, and returns whether
/// one was. `colmax` (p) holds each column's exponent in the row that owns it, a lower bound of
/// its largest; only if that leaves a column possibly short are the largest exponents taken:
/// of those columns entry by entry if they are few, else of all columns in a pass over the rows
/// without `exp` ([`FEW_COLUMNS`]). The rows were formed from the potentials `u` less `shifts`
/// (n).
fn shift_short_columns<T: Real, C: CostRows<T> + ?Sized>(
    (costs, k): (&C, T),
    marginals: &Marginals<'_, T>,
    (u, shifts): (&[T], &[T]),
    v: &mut [T],
    colmax: &mut [T],
    limit: T,
) -> bool {
    let p = v.len();
    // The target of a column of largest exponent `m` and mass `b` if it falls short. One of
    // zero mass never does; `target <= 0`, so neither does one whose `m` reaches `limit`, a
    // test that spares the target's `ln`.
    let short = |m: T, b: T| {
        if b <= T::ZERO || m >= limit {
            return None;
        }
        let target = column_target(b, p, limit);
        (m < target + limit).then_some(target)
    };
    let candidates = colmax
        .iter()
        .zip(marginals.b)
        .filter(|&(&m, &b)| short(m, b).is_some())
        .count();
    if candidates == 0 {
        return false;
    }
    let rows = (marginals.log_a, u, shifts);
    if candidates <= p / FEW_COLUMNS {
        // A few columns: their entries one by one, scalar but nothing else.
        for (j, (m, (&v_j, &b))) in colmax.iter_mut().zip(v.iter().zip(marginals.b)).enumerate() {
            if short(*m, b).is_some() {
                let column = (j, p, v_j);
                *m = vectorised!(FUSED => column_max::<T, C, FUSED>(costs, k, rows, column, *m));
            }
        }
    } else {
        vectorised!(FUSED => column_maxima::<T, C, FUSED>(costs, k, rows, v, colmax));
    }
    let mut shifted = false;
    for ((&m, v_j), &b) in colmax.iter().zip(v.iter_mut()).zip(marginals.b) {
        if let Some(target) = short(m, b).filter(|_| m.is_finite()) {
            *v_j += target - m;
            shifted = true;
        }
    }
    shifted
}

/// The base of row `i`'s exponents: its potential `u_i`, or `-inf` for a row of zero mass
/// (`log a_i = -inf`), whose kernel row is then 0.
#[inline(always)]
fn row_base<T: Real>(log_a: T, u: T) -> T {
    if log_a == T::NEG_INFINITY {
        T::NEG_INFINITY
    } else {
        u
    }
}

/// Up to one column in this many has its largest exponent taken entry by entry
/// ([`column_max`]); more, and all columns' are taken in one vectorised pass over the rows
/// ([`column_maxima`]). The entry-by-entry loop is scalar, about as many times slower per entry.
const FEW_COLUMNS: usize = 8;

/// `max(m, max_i (e_ij - shift_i))` for column `column = (j, p, v_j)` of `p`, from the
/// exponents `e_ij` of the rows as they were formed: from `u_i` (`-inf` for a row of zero
/// mass) less `shifts_i`. Shapes: `log_a`, `u`, `shifts` (n).
#[inline(always)]
fn column_max<T: Real, C: CostRows<T> + ?Sized, const FUSED: bool>(
    costs: &C,
    k: T,
    (log_a, u, shifts): (&[T], &[T], &[T]),
    (j, p, v_j): (usize, usize, T),
    m: T,
) -> T {
    let rows = log_a.iter().zip(u).zip(shifts).enumerate();
    rows.fold(m, |max, (i, ((&la, &u_i), &shift))| {
        let base = row_base(la, u_i);
        larger(
            max,
            costs.exponent::<FUSED>((i, j), p, (base, v_j, k)) - shift,
        )
    })
}

/// `colmax_j = max(colmax_j, max_i (e_ij - shift_i))` over the exponents `e_ij` of the rows as
/// they were formed: from `u_i` (`-inf` for a row of zero mass) less `shifts_i`. Shapes:
/// `log_a`, `u`, `shifts` (n), `v`, `colmax` (p).
#[inline(always)]
fn column_maxima<T: Real, C: CostRows<T> + ?Sized, const FUSED: bool>(
    costs: &C,
    k: T,
    (log_a, u, shifts): (&[T], &[T], &[T]),
    v: &[T],
    colmax: &mut [T],
) {
    for (i, ((&la, &u_i), &shift)) in log_a.iter().zip(u).zip(shifts).enumerate() {
        let base = row_base(la, u_i);
        costs.for_exponents::<_, FUSED>(i, (base, v, k), colmax.iter_mut(), |m, e| {
            *m = larger(*m, e - shift);
        });
    }
}

/// The largest exponent a balanced column of mass `b` (of `p`) is given when it falls short:
/// `ln(b p)`, its mass relative to a uniform column, within `[2 limit, 0]`. A light column
/// keeps a light kernel column, so a small scaling folded into its potential stays folded in
/// rather than being shifted back up at the next formation (which would make the solver
/// absorb at every iteration without progress).
fn column_target<T: Real>(b: T, p: usize, limit: T) -> T {
    (b * T::from_usize(p)).ln().max(limit + limit).min(T::ZERO)
}

/// A block of rows of [`form`]: its first row, of `n`, the cost factor `k`, and `limit`, the
/// lowest row maximum that needs no shift.
struct FormRows<T> {
    first: usize,
    n: usize,
    k: T,
    limit: T,
}

impl<T: Real> FormRows<T> {
    /// For every row of the block: the exponents `u_i + v_j - k C_ij`, the row shift (its
    /// largest exponent, when that leaves `[limit, 0]`) into `shifts`, the shifted exponents of
    /// the columns the row owns ([`owned`]) into `colmax` (p, the rest `-inf`), and the shifted
    /// exponents' exponentials into the row. Shapes: `log_a`, `u`, `shifts` (rows), `matrix`
    /// (rows, p).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn form<C: CostRows<T> + Sync + ?Sized, const FUSED: bool>(
        &self,
        costs: &C,
        log_a: &[T],
        u: &[T],
        v: &[T],
        matrix: &mut [T],
        colmax: &mut [T],
        shifts: &mut [T],
    ) {
        let p = v.len();
        colmax.fill(T::NEG_INFINITY);
        let rows = rows_mut(matrix, p)
            .zip(shifts.iter_mut())
            .zip(u.iter().zip(log_a));
        for (i, ((row, shift_i), (&u_i, &la))) in rows.enumerate() {
            let base = row_base(la, u_i);
            costs.exponents::<FUSED>(self.first + i, base, v, self.k, row);
            let max = max(row);
            let shift = if max.is_finite() && (max > T::ZERO || max < self.limit) {
                max
            } else {
                T::ZERO
            };
            *shift_i = shift;
            let owned = owned(self.first + i, self.n, p);
            let (from, to) = (row.get(owned.clone()), colmax.get_mut(owned));
            if let (Some(from), Some(to)) = (from, to) {
                for (m, &x) in to.iter_mut().zip(from) {
                    *m = x - shift;
                }
            }
            // A row in range is not shifted: `x - 0` is `x`, so its pass spares the subtraction.
            if shift == T::ZERO {
                for x in row.iter_mut() {
                    *x = x.exp_with::<FUSED>();
                }
            } else {
                for x in row.iter_mut() {
                    *x = (*x - shift).exp_with::<FUSED>();
                }
            }
        }
    }
}

/// The row half-step fused with the column sums: for every row, `alpha_i = a_i / (K beta)_i`
/// (clamped to `[1/tau, tau]`), then `c += alpha_i K_i`, by blocks of rows into `partials`
/// (blocks, p), summed into its first `p` values. Returns whether a scaling was clamped.
fn sweep<T: Real>(
    matrix: &[T],
    log_a: &[T],
    beta: &[T],
    alpha: &mut [T],
    partials: &mut [T],
    half_steps: &HalfSteps<T>,
) -> bool {
    let p = beta.len();
    let data = (
        RowsRef {
            data: matrix,
            width: p,
        },
        RowsRef {
            data: log_a,
            width: 1,
        },
        Rows {
            data: alpha,
            width: 1,
        },
        Partials {
            data: &mut *partials,
            width: p,
        },
    );
    let clamped = for_blocks(
        log_a.len(),
        data,
        &|_, _, (m, log_a, alpha, part)| {
            let col = part.first();
            vectorised!(FUSED => sweep_rows::<T, FUSED>(
                m.data, log_a.data, beta, alpha.data, col, half_steps
            ))
        },
        &|a, b| a || b,
    );
    sum_partials(partials, p);
    clamped
}

/// [`sweep`] over one block of rows into its column sums `col` (p). Rows go four at a time:
/// their four scalings from their dot products reduced side by side ([`dot4`]), then one pass
/// adding the four rows into `col` ([`axpy4`]); both round as row after row does, and `col` is
/// loaded and stored a quarter as often.
#[inline(always)]
fn sweep_rows<T: Real, const FUSED: bool>(
    matrix: &[T],
    log_a: &[T],
    beta: &[T],
    alpha: &mut [T],
    col: &mut [T],
    half_steps: &HalfSteps<T>,
) -> bool {
    let bounds = &half_steps.bounds;
    let mut clamped = false;
    col.fill(T::ZERO);
    let mut all = rows(matrix, beta.len());
    let mut done = 0;
    for (alpha4, la4) in alpha.chunks_exact_mut(4).zip(log_a.chunks_exact(4)) {
        let mut next = || all.next().unwrap_or_default();
        let x = [next(), next(), next(), next()];
        let sums = dot4::<T, FUSED>(x, beta);
        let mut a = [T::ZERO; 4];
        for ((a_i, &la), s) in a.iter_mut().zip(la4).zip(sums) {
            *a_i = row_scaling(half_steps.mass(la), s, bounds, &mut clamped);
        }
        alpha4
            .iter_mut()
            .zip(a)
            .for_each(|(alpha_i, a_i)| *alpha_i = a_i);
        axpy4::<T, FUSED>(col, a, x);
        done += 4;
    }
    for ((row, alpha_i), &la) in all
        .zip(alpha.iter_mut().skip(done))
        .zip(log_a.iter().skip(done))
    {
        let s = dot::<T, FUSED>(row, beta);
        *alpha_i = row_scaling(half_steps.mass(la), s, bounds, &mut clamped);
        axpy::<T, FUSED>(col, *alpha_i, row);
    }
    clamped
}

/// The row half-step for one row of mass `a` and sum `s = (K beta)_i`: `alpha_i = a / s` (0 for
/// zero mass), bounded; sets `clamped` if it left `[1/tau, tau]`.
#[inline(always)]
fn row_scaling<T: Real>(a: T, s: T, bounds: &Bounds<T>, clamped: &mut bool) -> T {
    if a == T::ZERO {
        T::ZERO
    } else {
        bounds.bound(a / s, clamped)
    }
}

/// The column half-step from the column sums, the first `p` values of `col`: the new `beta`
/// (clamped to `[1/tau, tau]`) and the L1 change of column mass `sum_j c_j |beta_new -
/// beta_old|`. Returns the change and whether a scaling was clamped. An unbalanced column whose
/// kernel column underflowed (`c_j = 0`) carries no mass whatever its scaling, and keeps it.
///
/// With vector units ([`SPLIT_SUMS`]) the terms replace the column sums in one pass and are
/// added in a second, in [`LANES`](crate::vector::LANES) accumulators ([`sum`]): a sum
/// carried through the pass would chain every column to the previous one's addition and keep
/// the balanced pass from vectorising. Without, they are added in column order as they are
/// computed. The change only decides when to stop, so the order only matters where it lands
/// within rounding of the tolerance.
#[inline(always)]
fn column_step<T: Real, const FUSED: bool>(
    col: &mut [T],
    b: &[T],
    v: &[T],
    lambda: T,
    beta: &mut [T],
    bounds: &Bounds<T>,
) -> (T, bool) {
    let col = col.get_mut(..b.len()).unwrap_or_default();
    let (mut change, mut clamped) = (T::ZERO, false);
    let mut record = |c: &mut T, term: T| {
        if SPLIT_SUMS {
            *c = term;
        } else {
            change += term;
        }
    };
    if lambda == T::ONE {
        // Balanced: branch-free, so it vectorises; zero mass gives `beta = 0`.
        for ((beta_j, c), &b_j) in beta.iter_mut().zip(col.iter_mut()).zip(b) {
            let mut out = false;
            let bounded = bounds.bound(b_j / *c, &mut out);
            let new = if b_j > T::ZERO { bounded } else { T::ZERO };
            clamped |= (b_j > T::ZERO) & out;
            record(c, *c * (new - *beta_j).abs());
            *beta_j = new;
        }
    } else {
        for ((beta_j, c), (&b_j, &v_j)) in beta.iter_mut().zip(col.iter_mut()).zip(b.iter().zip(v))
        {
            let new = if b_j <= T::ZERO {
                T::ZERO
            } else if *c == T::ZERO {
                *beta_j
            } else {
                let x = (lambda * (b_j / *c).ln() + (lambda - T::ONE) * v_j).exp();
                bounds.bound(x, &mut clamped)
            };
            record(c, *c * (new - *beta_j).abs());
            *beta_j = new;
        }
    }
    if SPLIT_SUMS {
        change = sum(col);
    }
    (change, clamped)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::real::sealed::Sealed;
    use crate::rng::{uniform, DefaultRng};
    use rand_core::SeedableRng;

    /// The sweep row after row: each row's scaling, then the row added into `col`.
    fn reference(matrix: &[f64], log_a: &[f64], beta: &[f64], alpha: &mut [f64], col: &mut [f64]) {
        let bounds = Bounds::new();
        let mut clamped = false;
        col.fill(0.0);
        for ((row, alpha_i), &la) in rows(matrix, beta.len()).zip(alpha.iter_mut()).zip(log_a) {
            let s = dot::<f64, false>(row, beta);
            *alpha_i = row_scaling(Real::exp(la), s, &bounds, &mut clamped);
            axpy::<f64, false>(col, *alpha_i, row);
        }
    }

    #[test]
    fn four_rows_at_a_time_round_as_row_after_row() {
        let mut rng = DefaultRng::seed_from_u64(3);
        let p = 37;
        for n in 1..=9 {
            let mut draw = |len: usize| {
                (0..len)
                    .map(|_| uniform::<f64, _>(&mut rng))
                    .collect::<std::vec::Vec<_>>()
            };
            let (matrix, beta) = (draw(n * p), draw(p));
            for uniform_rows in [true, false] {
                // Non-uniform rows include one of zero mass.
                let log_a: std::vec::Vec<f64> = (0..n)
                    .map(|i| match (uniform_rows, i) {
                        (true, _) => -(n as f64).ln(),
                        (false, 1) => f64::NEG_INFINITY,
                        (false, _) => -1.0 - i as f64 / 7.0,
                    })
                    .collect();
                let (mut alpha, mut col) = (std::vec![0.0; n], std::vec![0.0; p]);
                let (mut want_alpha, mut want_col) = (std::vec![0.0; n], std::vec![0.0; p]);
                let half_steps = HalfSteps::new(&log_a);
                sweep_rows::<f64, false>(&matrix, &log_a, &beta, &mut alpha, &mut col, &half_steps);
                reference(&matrix, &log_a, &beta, &mut want_alpha, &mut want_col);
                assert_eq!(alpha, want_alpha, "n = {n}");
                assert_eq!(col, want_col, "n = {n}");
            }
        }
    }

    /// [`form`] checking every entry of every column: the rows shifted in place, then the
    /// columns shifted from their largest exponents, the pass repeated once if one was.
    fn reference_form<C: CostRows<f64> + ?Sized, const FUSED: bool>(
        costs: &C,
        k: f64,
        (log_a, b): (&[f64], &[f64]),
        u: &mut [f64],
        v: &mut [f64],
        matrix: &mut [f64],
    ) {
        let (limit, p) = (-ln_tau::<f64>(), v.len());
        for x in u.iter_mut().chain(v.iter_mut()) {
            if !x.is_finite() {
                *x = 0.0;
            }
        }
        for (v_j, &b) in v.iter_mut().zip(b) {
            if b <= 0.0 {
                *v_j = f64::NEG_INFINITY;
            }
        }
        for _ in 0..2 {
            let mut colmax = std::vec![f64::NEG_INFINITY; p];
            for (i, (row, u_i)) in rows_mut(matrix, p).zip(u.iter_mut()).enumerate() {
                let base = if log_a[i] == f64::NEG_INFINITY {
                    f64::NEG_INFINITY
                } else {
                    *u_i
                };
                costs.exponents::<FUSED>(i, base, v, k, row);
                let max = max(row);
                let shift = if max.is_finite() && (max > 0.0 || max < limit) {
                    max
                } else {
                    0.0
                };
                *u_i -= shift;
                for (x, m) in row.iter_mut().zip(colmax.iter_mut()) {
                    *m = larger(*m, *x - shift);
                    *x = (*x - shift).exp_with::<FUSED>();
                }
            }
            let mut shifted = false;
            for ((&m, v_j), &b) in colmax.iter().zip(v.iter_mut()).zip(b) {
                let target = column_target(b, p, limit);
                if m.is_finite() && m < target + limit {
                    *v_j += target - m;
                    shifted = true;
                }
            }
            if !shifted {
                break;
            }
        }
        for (v_j, &b) in v.iter_mut().zip(b) {
            if b <= 0.0 {
                *v_j = 0.0;
            }
        }
    }

    /// Checking each column on the entry of the row that owns it, and every entry only when
    /// that leaves a column possibly short (a few columns one by one, many in a pass), forms
    /// the same kernel and potentials, bit for bit, as checking every entry in the pass that
    /// forms the rows: from cold, warm and a few light columns' potentials, with costs and
    /// epsilons that leave many columns short, zero-mass rows and columns, and the sampler's
    /// cost from points.
    #[test]
    fn owned_entry_column_check_forms_as_checking_every_entry() {
        let mut rng = DefaultRng::seed_from_u64(5);
        let mut draw = |len: usize, scale: f64| {
            (0..len)
                .map(|_| scale * (2.0 * uniform::<f64, _>(&mut rng) - 1.0))
                .collect::<std::vec::Vec<_>>()
        };
        let mut cases = 0;
        for (n, p) in [(1, 1), (3, 5), (7, 13), (10, 40), (13, 7), (4, 4), (6, 96)] {
            for k in [0.5, 30.0, 3e3, 3e5] {
                for start in ["cold", "warm", "light"] {
                    let costs: std::vec::Vec<f64> =
                        draw(n * p, 1.0).iter().map(|c| c.abs()).collect();
                    let (particles, proposals) = (draw(2 * n, 3.0), draw(2 * p, 3.0));
                    let points = Points {
                        particles: &particles,
                        proposals: &proposals,
                        dim: 2,
                        inv_scale: 0.7,
                    };
                    let log_a: std::vec::Vec<f64> = (0..n)
                        .map(|i| {
                            if i == 2 {
                                f64::NEG_INFINITY
                            } else {
                                -(n as f64).ln()
                            }
                        })
                        .collect();
                    let b: std::vec::Vec<f64> = (0..p)
                        .map(|j| if j % 5 == 3 { 0.0 } else { 1.0 / p as f64 })
                        .collect();
                    // Warm: random potentials; light: a few columns far below the others.
                    let (u0, v0) = match start {
                        "warm" => (draw(n, 400.0), draw(p, 400.0)),
                        "light" => {
                            let light = |j: usize| if j % 31 == 1 { -1e3 } else { 0.0 };
                            (std::vec![0.0; n], (0..p).map(light).collect())
                        }
                        _ => (std::vec![0.0; n], std::vec![0.0; p]),
                    };
                    for use_points in [false, true] {
                        let run = |reference: bool| {
                            let (mut u, mut v) = (u0.clone(), v0.clone());
                            let mut matrix = std::vec![0.0; n * p];
                            let (mut colmax, mut shifts) =
                                (std::vec![0.0; p * crate::blocks::BLOCKS], std::vec![0.0; n]);
                            let marginals = Marginals {
                                log_a: &log_a,
                                b: &b,
                            };
                            let costs_ref: &[f64] = &costs;
                            match (reference, use_points) {
                                (false, false) => form(
                                    &costs_ref,
                                    k,
                                    &marginals,
                                    &mut u,
                                    &mut v,
                                    &mut matrix,
                                    (&mut colmax, &mut shifts),
                                    true,
                                ),
                                (false, true) => form(
                                    &points,
                                    k,
                                    &marginals,
                                    &mut u,
                                    &mut v,
                                    &mut matrix,
                                    (&mut colmax, &mut shifts),
                                    true,
                                ),
                                (true, false) => {
                                    vectorised!(FUSED => reference_form::<_, FUSED>(&costs_ref, k, (&log_a, &b), &mut u, &mut v, &mut matrix))
                                }
                                (true, true) => {
                                    vectorised!(FUSED => reference_form::<_, FUSED>(&points, k, (&log_a, &b), &mut u, &mut v, &mut matrix))
                                }
                            }
                            (u, v, matrix)
                        };
                        let (got, want) = (run(false), run(true));
                        let bits =
                            |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<std::vec::Vec<_>>();
                        let case =
                            std::format!("n {n} p {p} k {k} start {start} points {use_points}");
                        assert_eq!(bits(&got.0), bits(&want.0), "u, {case}");
                        assert_eq!(bits(&got.1), bits(&want.1), "v, {case}");
                        assert_eq!(bits(&got.2), bits(&want.2), "kernel, {case}");
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 168);
    }
}
