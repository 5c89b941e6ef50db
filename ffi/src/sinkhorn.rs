//! `etd_sinkhorn_*`: the entropic OT solver alone, on a raw cost.
#![allow(clippy::too_many_arguments)]

use crate::guard::{boundary, write_out, Array};
use crate::sampler::Scalar;
use crate::{etd_status, ETD_COUPLING_BALANCED, ETD_COUPLING_GIBBS, ETD_COUPLING_UNBALANCED};
use entropic_transport::{sinkhorn, sinkhorn_scratch_len, Coupling, SinkhornParams, SinkhornStats};

/// Scalars of scratch `etd_sinkhorn_f64` / `_f32` take from the stack: problems with
/// `n + p` up to this never touch the heap. Larger ones use the heap in hosted builds and
/// return `ETD_ERR_NO_SUPPORT` in `no_std` builds (use `etd_sinkhorn_scratch_*` there).
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

/// Caller scratch: `(pointer, length in scalars)`.
type Scratch<T> = (*mut T, usize);

/// One solve behind the boundary: checks every argument, then runs the kernel with `scratch`
/// (`None`: stack or heap scratch found here). Nothing is written on error.
///
/// # Safety
/// As `etd_sinkhorn_f64` / `etd_sinkhorn_scratch_f64`.
#[allow(clippy::too_many_arguments)]
unsafe fn solve<T: Scalar>(
    cost: *const T,
    n: usize,
    p: usize,
    log_a: *const T,
    log_b: *const T,
    params: (T, u32, T, u32, T),
    f: *mut T,
    g: *mut T,
    scratch: Option<Scratch<T>>,
    stats: *mut etd_sinkhorn_stats,
) -> i32 {
    boundary(|| {
        check_null!(cost, log_a, log_b, f, g);
        let invalid = etd_status::ETD_ERR_INVALID_ARGUMENT;
        let (epsilon, coupling, rho, max_iterations, tolerance) = params;
        let coupling = match coupling {
            ETD_COUPLING_BALANCED => Coupling::Balanced,
            ETD_COUPLING_UNBALANCED => Coupling::Unbalanced { rho },
            ETD_COUPLING_GIBBS => Coupling::Gibbs,
            _ => return Err(invalid),
        };
        let params = SinkhornParams {
            epsilon,
            coupling,
            max_iterations,
            tolerance,
        };
        if n == 0 || p == 0 {
            return Err(invalid);
        }
        params.validate()?;
        let cost = Array::new(cost, n.checked_mul(p).ok_or(invalid)?)?;
        let log_a = Array::new(log_a, n)?;
        let log_b = Array::new(log_b, p)?;
        let f = Array::new(f.cast_const(), n)?;
        let g = Array::new(g.cast_const(), p)?;
        let inputs = [cost.bytes(), log_a.bytes(), log_b.bytes()];
        for x in inputs.iter().chain([&g.bytes()]) {
            f.disjoint_from(*x)?;
        }
        for x in &inputs {
            g.disjoint_from(*x)?;
        }
        let len = sinkhorn_scratch_len(n, p);
        let scratch = match scratch {
            Some((ptr, scratch_len)) => {
                check_null!(ptr);
                if scratch_len < len {
                    return Err(etd_status::ETD_ERR_BUFFER_TOO_SMALL);
                }
                let scratch = Array::new(ptr.cast_const(), len)?;
                for x in inputs.iter().chain([&f.bytes(), &g.bytes()]) {
                    scratch.disjoint_from(*x)?;
                }
                Some(scratch)
            }
            None => None,
        };
        // SAFETY: checked arrays (non-null, aligned, the written ones disjoint from every
        // other); their lengths and initialisation are the caller's contract.
        let (cost, log_a, log_b, f, g) = unsafe {
            (
                cost.into_slice(),
                log_a.into_slice(),
                log_b.into_slice(),
                f.into_mut_slice(),
                g.into_mut_slice(),
            )
        };
        let mut run = |scratch: &mut [T]| sinkhorn(cost, log_a, log_b, &params, f, g, scratch);
        let result = match scratch {
            // SAFETY: checked above, and disjoint from every other argument.
            Some(scratch) => run(unsafe { scratch.into_mut_slice() }),
            None if len <= ETD_SINKHORN_STACK_SCRATCH => {
                run(&mut [T::ZERO; ETD_SINKHORN_STACK_SCRATCH][..len])
            }
            None => run(&mut heap_scratch(len)?),
        }?;
        // SAFETY: `stats` is NULL or writable, by the caller's contract.
        unsafe { write_out(stats, result.into()) };
        Ok(())
    })
}

/// Scalars of scratch `etd_sinkhorn_scratch_f64` / `_f32` need for an `n x p` problem:
/// `n + p` (saturating).
#[no_mangle]
pub extern "C" fn etd_sinkhorn_scratch_len(n: usize, p: usize) -> usize {
    sinkhorn_scratch_len(n, p)
}

/// Entropic optimal transport between `a = exp(log_a)` (n) and `b = exp(log_b)` (p) on a raw
/// (not normalised) cost, in the log domain. For all three couplings the plan is
/// `P_ij = exp((f_i + g_j - C_ij) / epsilon)`; for the gibbs coupling `g_j = epsilon * log_b_j`
/// and `f` normalises the rows.
///
/// Scratch comes from the stack when `n + p <= ETD_SINKHORN_STACK_SCRATCH`, else from the heap
/// (hosted builds) or not at all (`ETD_ERR_NO_SUPPORT` without `std`): use
/// `etd_sinkhorn_scratch_f64` to pass your own. Reentrant: no global state.
///
/// @param[in]     cost            `n * p` values, row-major; finite.
/// @param[in]     n, p            Problem size; both >= 1.
/// @param[in]     log_a, log_b    Log-marginals (n and p values); NaN and `+inf` are rejected,
///                                `-inf` is zero mass, each needs one finite entry. They need
///                                not be normalised.
/// @param[in]     epsilon         Regulariser in cost units; finite and > 0.
/// @param[in]     coupling        One of `ETD_COUPLING_*`.
/// @param[in]     rho             Soft-marginal strength; finite and > 0, read only when
///                                `coupling == ETD_COUPLING_UNBALANCED`.
/// @param[in]     max_iterations  Iteration cap; >= 1.
/// @param[in]     tolerance       Stop when the marginal error is below this; finite and > 0.
/// @param[in,out] f, g            Potentials (n and p values, cost units); the input is the
///                                warm start (zeros: cold; non-finite entries start from 0),
///                                the output the solution. Written only on success; must not
///                                overlap any other array.
/// @param[out]    stats           Written only on success; may be NULL.
/// @return `ETD_OK`, `ETD_ERR_NULL_POINTER`, `ETD_ERR_INVALID_ARGUMENT`, `ETD_ERR_NON_FINITE`,
///         `ETD_ERR_NO_SUPPORT` or `ETD_ERR_PANIC`.
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
    // SAFETY: forwarded contract.
    unsafe { solve(cost, n, p, log_a, log_b, params, f, g, None, stats) }
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
    let scratch = Some((scratch, scratch_len));
    // SAFETY: forwarded contract.
    unsafe { solve(cost, n, p, log_a, log_b, params, f, g, scratch, stats) }
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
    // SAFETY: forwarded contract.
    unsafe { solve(cost, n, p, log_a, log_b, params, f, g, None, stats) }
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
    let scratch = Some((scratch, scratch_len));
    // SAFETY: forwarded contract.
    unsafe { solve(cost, n, p, log_a, log_b, params, f, g, scratch, stats) }
}

/// `len` scalars from the heap (hosted builds).
#[cfg(feature = "std")]
fn heap_scratch<T: Scalar>(len: usize) -> Result<std::vec::Vec<T>, etd_status> {
    let mut v = std::vec::Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| etd_status::ETD_ERR_NO_SUPPORT)?;
    v.resize(len, T::ZERO);
    Ok(v)
}

/// No heap without `std`.
#[cfg(not(feature = "std"))]
fn heap_scratch<T: Scalar>(_len: usize) -> Result<[T; 0], etd_status> {
    Err(etd_status::ETD_ERR_NO_SUPPORT)
}
