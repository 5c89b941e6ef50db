//! `etd_sinkhorn_*`: the entropic OT solver alone, on a raw cost.
#![allow(clippy::too_many_arguments)]

use crate::guard::{boundary, guarded, write_out, Array};
use crate::sampler::Scalar;
use crate::status::{etd_detail, etd_error, outcome, Failure};
use crate::{etd_status, ETD_COUPLING_BALANCED, ETD_COUPLING_GIBBS, ETD_COUPLING_UNBALANCED};
use entropic_transport::{
    sinkhorn, sinkhorn_scratch_len, Coupling, SinkhornParams, SinkhornStats, Solver,
};

/// Scalars of scratch `etd_sinkhorn_f64` / `_f32` take from the stack (1 KiB in `double`):
/// they solve problems with `n + p` up to this, and return `ETD_ERR_NO_SUPPORT` for larger
/// ones. The library never allocates: pass scratch to `etd_sinkhorn_scratch_*` for any size.
pub const ETD_SINKHORN_STACK_SCRATCH: usize = 128;

/// What a Sinkhorn solve did.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct etd_sinkhorn_stats {
    /// Full iterations (an `f` and a `g` half-step each); 1 for the gibbs coupling.
    pub iterations: u32,
    /// 1 if `marginal_error <= tolerance` was reached, else 0 (always 1 for gibbs).
    pub converged: u32,
    /// L1 error of the marginal the solver did not enforce last: the row marginal for
    /// balanced and unbalanced, the column marginal for gibbs.
    pub marginal_error: f64,
}

impl<T: Scalar> From<SinkhornStats<T>> for etd_sinkhorn_stats {
    fn from(s: SinkhornStats<T>) -> Self {
        etd_sinkhorn_stats {
            iterations: s.iterations,
            converged: u32::from(s.converged),
            marginal_error: s.marginal_error.to_f64(),
        }
    }
}

/// `n + p` above `ETD_SINKHORN_STACK_SCRATCH` without caller scratch.
const STACK_TOO_SMALL: Failure = Failure::new(
    etd_status::ETD_ERR_NO_SUPPORT,
    etd_detail::ETD_DETAIL_STACK_SCRATCH_TOO_SMALL,
);

/// Caller scratch: `(pointer, length in scalars)`.
type Scratch<T> = (*mut T, usize);

/// The arguments of one solve, as the C caller passed them.
struct Call<T> {
    cost: *const T,
    n: usize,
    p: usize,
    log_a: *const T,
    log_b: *const T,
    /// `(epsilon, coupling, rho, max_iterations, tolerance)`.
    params: (T, u32, T, u32, T),
    f: *mut T,
    g: *mut T,
    /// `None`: stack scratch.
    scratch: Option<Scratch<T>>,
}

/// A call whose every argument passed the checks: slices over the caller's arrays.
struct Checked<'a, T> {
    cost: &'a [T],
    log_a: &'a [T],
    log_b: &'a [T],
    params: SinkhornParams<T>,
    f: &'a mut [T],
    g: &'a mut [T],
    /// `None`: stack scratch.
    scratch: Option<&'a mut [T]>,
}

impl<T: Scalar> Call<T> {
    /// Every check of a solve (pointers, constants, parameters, sizes, alignment, overlaps,
    /// scratch, values), in that order; nothing is written.
    ///
    /// # Safety
    /// As `etd_sinkhorn_scratch_f64`.
    unsafe fn check<'a>(&self) -> Result<Checked<'a, T>, Failure> {
        check_null!(self.cost, self.log_a, self.log_b, self.f, self.g);
        let (n, p) = (self.n, self.p);
        let (epsilon, coupling, rho, max_iterations, tolerance) = self.params;
        let coupling = match coupling {
            ETD_COUPLING_BALANCED => Coupling::Balanced,
            ETD_COUPLING_UNBALANCED => Coupling::Unbalanced { rho },
            ETD_COUPLING_GIBBS => Coupling::Gibbs,
            _ => return Err(Failure::invalid(etd_detail::ETD_DETAIL_UNKNOWN_COUPLING)),
        };
        let params = SinkhornParams {
            epsilon,
            coupling,
            max_iterations,
            tolerance,
            solver: Solver::Log,
        };
        if n == 0 || p == 0 {
            return Err(Failure::invalid(etd_detail::ETD_DETAIL_ZERO_SIZE));
        }
        params.validate()?;
        let overflow = Failure::invalid(etd_detail::ETD_DETAIL_SIZE_OVERFLOW);
        let cost = Array::new(self.cost, n.checked_mul(p).ok_or(overflow)?)?;
        let log_a = Array::new(self.log_a, n)?;
        let log_b = Array::new(self.log_b, p)?;
        let f = Array::new(self.f.cast_const(), n)?;
        let g = Array::new(self.g.cast_const(), p)?;
        let inputs = [cost.bytes(), log_a.bytes(), log_b.bytes()];
        for x in inputs.iter().chain([&g.bytes()]) {
            f.disjoint_from(*x)?;
        }
        for x in &inputs {
            g.disjoint_from(*x)?;
        }
        let len = sinkhorn_scratch_len(n, p, Solver::Log);
        let scratch = match self.scratch {
            Some((ptr, scratch_len)) => {
                check_null!(ptr);
                if scratch_len < len {
                    return Err(Failure::new(
                        etd_status::ETD_ERR_BUFFER_TOO_SMALL,
                        etd_detail::ETD_DETAIL_MEMORY_TOO_SMALL,
                    ));
                }
                let scratch = Array::new(ptr.cast_const(), len)?;
                for x in inputs.iter().chain([&f.bytes(), &g.bytes()]) {
                    scratch.disjoint_from(*x)?;
                }
                Some(scratch)
            }
            None if len <= ETD_SINKHORN_STACK_SCRATCH => None,
            None => return Err(STACK_TOO_SMALL),
        };
        // SAFETY: checked arrays (non-null, aligned, the written ones disjoint from every
        // other); their lengths and initialisation are the caller's contract.
        let checked = unsafe {
            Checked {
                cost: cost.into_slice(),
                log_a: log_a.into_slice(),
                log_b: log_b.into_slice(),
                params,
                f: f.into_mut_slice(),
                g: g.into_mut_slice(),
                scratch: scratch.map(|s| s.into_mut_slice()),
            }
        };
        params.check_problem(checked.cost, checked.log_a, checked.log_b)?;
        Ok(checked)
    }
}

/// One solve behind the boundary: every check, then the kernel with the caller's scratch or
/// stack scratch. Nothing is written on error.
///
/// # Safety
/// As `etd_sinkhorn_f64` / `etd_sinkhorn_scratch_f64`.
unsafe fn solve<T: Scalar>(call: Call<T>, stats: *mut etd_sinkhorn_stats) -> i32 {
    boundary(|| {
        // SAFETY: forwarded contract.
        let Checked {
            cost,
            log_a,
            log_b,
            params,
            f,
            g,
            scratch,
        } = unsafe { call.check() }?;
        let len = sinkhorn_scratch_len(call.n, call.p, Solver::Log);
        let mut stack = [T::ZERO; ETD_SINKHORN_STACK_SCRATCH];
        let scratch = match scratch {
            Some(scratch) => scratch,
            // `check` has made sure that `len` fits.
            None => stack.get_mut(..len).ok_or(STACK_TOO_SMALL)?,
        };
        let result = sinkhorn(cost, log_a, log_b, &params, f, g, scratch)?;
        // SAFETY: `stats` is NULL or writable, by the caller's contract.
        unsafe { write_out(stats, result.into()) };
        Ok(())
    })
}

/// # Safety
/// As `etd_sinkhorn_check_f64`.
unsafe fn check<T: Scalar>(call: Call<T>, out: *mut etd_error) -> i32 {
    // SAFETY: forwarded contract.
    let error = outcome(guarded(|| unsafe { call.check() }.map(|_| ())));
    // SAFETY: `out` is NULL or writable, by the caller's contract.
    unsafe { write_out(out, error) };
    error.status
}

/// Scalars of scratch `etd_sinkhorn_scratch_f64` / `_f32` need for an `n x p` problem:
/// `n + p` (saturating).
#[no_mangle]
pub extern "C" fn etd_sinkhorn_scratch_len(n: usize, p: usize) -> usize {
    sinkhorn_scratch_len(n, p, Solver::Log)
}

/// Entropic optimal transport between `a = exp(log_a)` (n) and `b = exp(log_b)` (p) on a raw
/// (not normalised) cost, with the kernel's log-domain solver (the sampler's default scaling
/// solver needs `n * p` more scratch; this call's scratch contract is `n + p`). For all three couplings the plan is
/// `P_ij = exp((f_i + g_j - C_ij) / epsilon)`; for the gibbs coupling `g_j = epsilon * log_b_j`
/// and `f` normalises the rows.
///
/// Scratch comes from the stack (`ETD_SINKHORN_STACK_SCRATCH` values): larger problems
/// (`n + p` above it) return `ETD_ERR_NO_SUPPORT`; pass your own scratch to
/// `etd_sinkhorn_scratch_f64` for them. The library never allocates. Reentrant: no global
/// state. `etd_sinkhorn_check_f64` explains a failure (which argument or check).
///
/// @param[in]     cost            `n * p` values, row-major; finite, at most `epsilon / EPSILON`
///                                in magnitude (`ETD_DETAIL_NON_FINITE_COST` beyond: the
///                                cost's own rounding would exceed `epsilon`).
/// @param[in]     n, p            Problem size; both >= 1.
/// @param[in]     log_a, log_b    Log-marginals (n and p values); NaN and `+inf` are rejected,
///                                `-inf` is zero mass. They need not be normalised, but each
///                                needs a mass of at least `e * MIN_POSITIVE` and a total mass
///                                of at most `1 / sqrt(MIN_POSITIVE)` of the type.
/// @param[in]     epsilon         Regulariser in cost units; within
///                                `[sqrt(MIN_POSITIVE), 1 / sqrt(MIN_POSITIVE)]` of the type.
/// @param[in]     coupling        One of `ETD_COUPLING_*`.
/// @param[in]     rho             Soft-marginal strength; finite and > 0, read only when
///                                `coupling == ETD_COUPLING_UNBALANCED`.
/// @param[in]     max_iterations  Iteration cap; >= 1.
/// @param[in]     tolerance       Stop when the marginal error is below this; finite and > 0.
/// @param[in,out] f, g            Potentials (n and p values, cost units); the input is the
///                                warm start (zeros: cold; an entry that is not finite or
///                                above `epsilon / EPSILON` in magnitude starts from 0),
///                                the output the solution. Written only on success; must not
///                                overlap any other array.
/// @param[out]    stats           Written only on success; may be NULL.
/// @return `ETD_OK`, `ETD_ERR_NULL_POINTER`, `ETD_ERR_INVALID_ARGUMENT`, `ETD_ERR_NON_FINITE`,
///         `ETD_ERR_NO_SUPPORT` (`n + p > ETD_SINKHORN_STACK_SCRATCH`) or `ETD_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn etd_sinkhorn_f64(
    cost: *const f64,
    n: usize,
    p: usize,
    log_a: *const f64,
    log_b: *const f64,
    epsilon: f64,
    coupling: u32,
    rho: f64,
    max_iterations: u32,
    tolerance: f64,
    f: *mut f64,
    g: *mut f64,
    stats: *mut etd_sinkhorn_stats,
) -> i32 {
    let params = (epsilon, coupling, rho, max_iterations, tolerance);
    let call = Call {
        cost,
        n,
        p,
        log_a,
        log_b,
        params,
        f,
        g,
        scratch: None,
    };
    // SAFETY: forwarded contract.
    unsafe { solve(call, stats) }
}

/// As `etd_sinkhorn_f64`, with caller scratch: never touches the heap or a large stack frame.
///
/// @param[out] scratch      At least `etd_sinkhorn_scratch_len(n, p)` values; contents on
///                          entry are ignored and garbage on return. Must not overlap any
///                          other array.
/// @param[in]  scratch_len  Its length in values, else `ETD_ERR_BUFFER_TOO_SMALL`.
#[no_mangle]
pub unsafe extern "C" fn etd_sinkhorn_scratch_f64(
    cost: *const f64,
    n: usize,
    p: usize,
    log_a: *const f64,
    log_b: *const f64,
    epsilon: f64,
    coupling: u32,
    rho: f64,
    max_iterations: u32,
    tolerance: f64,
    f: *mut f64,
    g: *mut f64,
    scratch: *mut f64,
    scratch_len: usize,
    stats: *mut etd_sinkhorn_stats,
) -> i32 {
    let params = (epsilon, coupling, rho, max_iterations, tolerance);
    let call = Call {
        cost,
        n,
        p,
        log_a,
        log_b,
        params,
        f,
        g,
        scratch: Some((scratch, scratch_len)),
    };
    // SAFETY: forwarded contract.
    unsafe { solve(call, stats) }
}

/// As `etd_sinkhorn_f64`, in `float`.
#[no_mangle]
pub unsafe extern "C" fn etd_sinkhorn_f32(
    cost: *const f32,
    n: usize,
    p: usize,
    log_a: *const f32,
    log_b: *const f32,
    epsilon: f32,
    coupling: u32,
    rho: f32,
    max_iterations: u32,
    tolerance: f32,
    f: *mut f32,
    g: *mut f32,
    stats: *mut etd_sinkhorn_stats,
) -> i32 {
    let params = (epsilon, coupling, rho, max_iterations, tolerance);
    let call = Call {
        cost,
        n,
        p,
        log_a,
        log_b,
        params,
        f,
        g,
        scratch: None,
    };
    // SAFETY: forwarded contract.
    unsafe { solve(call, stats) }
}

/// As `etd_sinkhorn_scratch_f64`, in `float`.
#[no_mangle]
pub unsafe extern "C" fn etd_sinkhorn_scratch_f32(
    cost: *const f32,
    n: usize,
    p: usize,
    log_a: *const f32,
    log_b: *const f32,
    epsilon: f32,
    coupling: u32,
    rho: f32,
    max_iterations: u32,
    tolerance: f32,
    f: *mut f32,
    g: *mut f32,
    scratch: *mut f32,
    scratch_len: usize,
    stats: *mut etd_sinkhorn_stats,
) -> i32 {
    let params = (epsilon, coupling, rho, max_iterations, tolerance);
    let call = Call {
        cost,
        n,
        p,
        log_a,
        log_b,
        params,
        f,
        g,
        scratch: Some((scratch, scratch_len)),
    };
    // SAFETY: forwarded contract.
    unsafe { solve(call, stats) }
}

/// Runs every check `etd_sinkhorn_scratch_f64` runs (or, with `scratch` NULL, every check of
/// `etd_sinkhorn_f64`) on the same arguments without solving, and says which failed. Nothing
/// but `*out` is written.
///
/// @param[out] out  The outcome: status, `etd_detail` (`ETD_OK` / `ETD_DETAIL_NONE` when a
///                  solve would start); may be NULL.
/// @return The status the solve would return before it starts iterating.
#[no_mangle]
pub unsafe extern "C" fn etd_sinkhorn_check_f64(
    cost: *const f64,
    n: usize,
    p: usize,
    log_a: *const f64,
    log_b: *const f64,
    epsilon: f64,
    coupling: u32,
    rho: f64,
    max_iterations: u32,
    tolerance: f64,
    f: *mut f64,
    g: *mut f64,
    scratch: *mut f64,
    scratch_len: usize,
    out: *mut etd_error,
) -> i32 {
    let call = Call {
        cost,
        n,
        p,
        log_a,
        log_b,
        params: (epsilon, coupling, rho, max_iterations, tolerance),
        f,
        g,
        scratch: (!scratch.is_null()).then_some((scratch, scratch_len)),
    };
    // SAFETY: forwarded contract.
    unsafe { check(call, out) }
}

/// As `etd_sinkhorn_check_f64`, in `float`.
#[no_mangle]
pub unsafe extern "C" fn etd_sinkhorn_check_f32(
    cost: *const f32,
    n: usize,
    p: usize,
    log_a: *const f32,
    log_b: *const f32,
    epsilon: f32,
    coupling: u32,
    rho: f32,
    max_iterations: u32,
    tolerance: f32,
    f: *mut f32,
    g: *mut f32,
    scratch: *mut f32,
    scratch_len: usize,
    out: *mut etd_error,
) -> i32 {
    let call = Call {
        cost,
        n,
        p,
        log_a,
        log_b,
        params: (epsilon, coupling, rho, max_iterations, tolerance),
        f,
        g,
        scratch: (!scratch.is_null()).then_some((scratch, scratch_len)),
    };
    // SAFETY: forwarded contract.
    unsafe { check(call, out) }
}
