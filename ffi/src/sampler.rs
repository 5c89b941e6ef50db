//! `etd_sampler_*`: an ETD sampler living entirely in caller memory.
//!
//! Layout of `mem`: up to `align_of(State) - 1` bytes of padding so that any `mem` alignment
//! works, the [`State`] header, then the kernel's workspace of `workspace_len` scalars. The
//! handle is the address of the header.

use crate::guard::{boundary, catch, disjoint, guarded, read_in, write_out, Array};
use crate::status::{etd_detail, etd_error, outcome, Failure};
use crate::{etd_config, etd_status};
use core::ffi::{c_int, c_void};
use core::mem::{align_of, size_of};
use entropic_transport::{
    workspace_len, Config, DefaultRng, Precondition, Real, Shape, StepStats, Target, Workspace,
};
use rand_core::SeedableRng;

/// An f64 sampler. Opaque: it lives inside the `mem` given to `etd_sampler_init_f64`, which
/// owns it; there is nothing to free.
pub struct etd_sampler_f64 {
    _opaque: [u8; 0],
}

/// An f32 sampler. Opaque: it lives inside the `mem` given to `etd_sampler_init_f32`, which
/// owns it; there is nothing to free.
pub struct etd_sampler_f32 {
    _opaque: [u8; 0],
}

/// Batch log-density (f64): write `log pi(x_k)` to `out[k]` for the `count` points
/// `x[k*dim .. (k+1)*dim]`, `k < count` (row-major). `-INFINITY` (zero density) is allowed,
/// NaN and `+INFINITY` are not. Return 0 on success; any other value aborts the step with
/// `ETD_ERR_CALLBACK`, and `etd_sampler_last_error_f64` returns the value in `callback_code`.
/// `x` and `out` are valid only during the call; `user` is passed through.
pub type etd_log_density_f64 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        x: *const f64,
        count: usize,
        dim: usize,
        out: *mut f64,
    ) -> c_int,
>;

/// Batch score (f64): write `grad log pi(x_k)` to `out[k*dim .. (k+1)*dim]` for the `count`
/// points of `x` (row-major). Every value must be finite. Return 0 on success; any other value
/// aborts the step with `ETD_ERR_CALLBACK`.
pub type etd_score_f64 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        x: *const f64,
        count: usize,
        dim: usize,
        out: *mut f64,
    ) -> c_int,
>;

/// Batch log-density (f32); as `etd_log_density_f64`, with `float`.
pub type etd_log_density_f32 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        x: *const f32,
        count: usize,
        dim: usize,
        out: *mut f32,
    ) -> c_int,
>;

/// Batch score (f32); as `etd_score_f64`, with `float`.
pub type etd_score_f32 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        x: *const f32,
        count: usize,
        dim: usize,
        out: *mut f32,
    ) -> c_int,
>;

/// What one step did (values widened to `double` for both APIs).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct etd_step_stats {
    /// Sinkhorn iterations used (1 for the gibbs coupling).
    pub sinkhorn_iterations: u32,
    /// 1 if Sinkhorn reached `tolerance` within `max_iterations`, else 0.
    pub converged: u32,
    /// Final L1 error of the marginal Sinkhorn did not enforce last.
    pub marginal_error: f64,
    /// Median pairwise cost `|x - y|^2 / 2` that the cost was divided by.
    pub cost_scale: f64,
    /// Effective sample size of the proposal weights, `1 / sum_j b_j^2`, in [1, N*M].
    pub weight_ess: f64,
    /// Mean effective sample size of the plan rows, in [1, N*M].
    pub coupling_ess: f64,
    /// Fraction of accepted mutation proposals; 0 when `mutation_steps` is 0.
    pub acceptance_rate: f64,
}

impl<T: Real> From<StepStats<T>> for etd_step_stats {
    fn from(s: StepStats<T>) -> Self {
        etd_step_stats {
            sinkhorn_iterations: s.sinkhorn.iterations,
            converged: u32::from(s.sinkhorn.converged),
            marginal_error: s.sinkhorn.marginal_error.to_f64(),
            cost_scale: s.cost_scale.to_f64(),
            weight_ess: s.weight_ess.to_f64(),
            coupling_ess: s.coupling_ess.to_f64(),
            acceptance_rate: s.acceptance_rate.to_f64(),
        }
    }
}

/// A batch callback of either kind, for scalar `T`.
type Callback<T> = unsafe extern "C" fn(*mut c_void, *const T, usize, usize, *mut T) -> c_int;

/// The scalars the ABI is instantiated for, each with its opaque handle type.
pub(crate) trait Scalar: Real {
    /// `etd_sampler_f64` or `etd_sampler_f32`.
    type Handle;
    /// Tags a live sampler header of this scalar type.
    const MAGIC: u64;
}

impl Scalar for f64 {
    type Handle = etd_sampler_f64;
    const MAGIC: u64 = u64::from_le_bytes(*b"ETDf64\0\x01");
}

impl Scalar for f32 {
    type Handle = etd_sampler_f32;
    const MAGIC: u64 = u64::from_le_bytes(*b"ETDf32\0\x01");
}

/// The header at the start of a sampler's memory; the workspace follows at
/// [`workspace_offset`] bytes. `repr(C)` puts `magic` first for every `T`, so that
/// [`live_state`] can read it from any handle before trusting the rest.
#[repr(C)]
pub(crate) struct State<T> {
    magic: u64,
    pub(crate) shape: Shape,
    pub(crate) config: Config<T>,
    pub(crate) rng: DefaultRng,
    /// Scalars in the workspace.
    workspace_len: usize,
    /// The outcome of the last call on this sampler.
    last_error: etd_error,
}

/// Bytes from the header to the workspace (aligned for `T`).
const fn workspace_offset<T>() -> usize {
    size_of::<State<T>>().next_multiple_of(align_of::<T>())
}

/// Bytes of caller memory for `shape`, including the alignment slack; `None` on overflow.
fn sampler_size<T: Scalar>(shape: &Shape) -> Option<usize> {
    let len = workspace_len(shape)?;
    len.checked_mul(size_of::<T>())?
        .checked_add(workspace_offset::<T>())?
        .checked_add(align_of::<State<T>>() - 1)
        .filter(|&b| b <= isize::MAX as usize)
}

/// The kernel's view of the C callbacks.
struct Callbacks<T> {
    log_density: Callback<T>,
    score: Option<Callback<T>>,
    user: *mut c_void,
}

/// Calls one batch callback on `x` (count, dim) into `out`; non-zero return -> `Err(code)`.
fn call<T>(
    f: Callback<T>,
    user: *mut c_void,
    x: &[T],
    dim: usize,
    out: &mut [T],
) -> Result<(), i32> {
    // SAFETY: the pointers are valid for `x.len()` and `out.len()` values during the call; the
    // callback's side of the contract is the caller's.
    let count = x.len().checked_div(dim).unwrap_or(0);
    let code = unsafe { f(user, x.as_ptr(), count, dim, out.as_mut_ptr()) };
    match code {
        0 => Ok(()),
        // `c_int` is `i32` here, `i16` on some microcontrollers.
        #[allow(clippy::useless_conversion)]
        code => Err(i32::from(code)),
    }
}

impl<T: Real> Target<T> for Callbacks<T> {
    fn log_density(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        call(self.log_density, self.user, x, dim, out)
    }

    fn score(&mut self, x: &[T], dim: usize, out: &mut [T]) -> Result<(), i32> {
        match self.score {
            Some(f) => call(f, self.user, x, dim, out),
            None => Err(0),
        }
    }

    fn has_score(&self) -> bool {
        self.score.is_some()
    }
}

fn size<T: Scalar>(cfg: *const etd_config) -> usize {
    catch(|| {
        // SAFETY: `cfg` is NULL or readable, by the caller's contract.
        let cfg = unsafe { read_in(cfg) }.ok()?;
        let (shape, _) = cfg.to_kernel::<T>().ok()?;
        sampler_size::<T>(&shape)
    })
    .flatten()
    .unwrap_or(0)
}

/// # Safety
/// As `etd_sampler_init_f64`.
unsafe fn init<T: Scalar>(
    mem: *mut c_void,
    mem_len: usize,
    cfg: *const etd_config,
    seed: u64,
    out: *mut *mut T::Handle,
) -> i32 {
    boundary(|| {
        check_null!(mem, cfg, out);
        // SAFETY: non-null and readable by the caller's contract.
        let (shape, config) = unsafe { read_in(cfg) }?.to_kernel::<T>()?;
        let overflow = Failure::invalid(etd_detail::ETD_DETAIL_SIZE_OVERFLOW);
        let needed = sampler_size::<T>(&shape).ok_or(overflow)?;
        if mem_len < needed {
            return Err(Failure::new(
                etd_status::ETD_ERR_BUFFER_TOO_SMALL,
                etd_detail::ETD_DETAIL_MEMORY_TOO_SMALL,
            ));
        }
        let len = workspace_len(&shape).ok_or(overflow)?;
        let pad = (mem as *mut u8).align_offset(align_of::<State<T>>());
        if pad >= align_of::<State<T>>() {
            return Err(Failure::invalid(etd_detail::ETD_DETAIL_MISALIGNED));
        }
        // SAFETY: `mem` holds `mem_len >= needed` writable bytes (caller's contract), and
        // `needed` covers the padding, the header and the workspace.
        unsafe {
            let base = (mem as *mut u8).add(pad);
            let words = base.add(workspace_offset::<T>()).cast::<T>();
            // Zero bits are 0.0: the workspace is initialised before it becomes a slice.
            core::ptr::write_bytes(words, 0, len);
            let workspace = core::slice::from_raw_parts_mut(words, len);
            Workspace::new(shape, workspace)?;
            base.cast::<State<T>>().write(State {
                magic: T::MAGIC,
                shape,
                config,
                rng: DefaultRng::seed_from_u64(seed),
                workspace_len: len,
                last_error: etd_error::OK,
            });
            out.write_unaligned(base.cast());
        }
        Ok(())
    })
}

/// Runs `body` on the live sampler behind `sampler`, given its header and the address of its
/// workspace, and records its outcome in the sampler (a NULL or foreign handle has nowhere to
/// record it).
///
/// # Safety
/// `sampler` is NULL or a handle of scalar `T` (see [`live_state`]).
pub(crate) unsafe fn on_sampler<T: Scalar>(
    sampler: *mut T::Handle,
    body: impl FnOnce(&mut State<T>, *mut T) -> Result<(), Failure>,
) -> i32 {
    boundary(|| {
        check_null!(sampler);
        // SAFETY: non-null; a handle by the caller's contract.
        let state = unsafe { live_state::<T>(sampler) }?;
        // The workspace address comes from the handle, whose provenance covers the caller's
        // whole memory; one derived from the header reference would cover the header alone
        // (and only for reading), and writing the workspace through it is undefined behaviour.
        // SAFETY: the workspace follows the header inside the caller's memory (see `init`).
        let words = unsafe {
            sampler
                .cast::<u8>()
                .add(workspace_offset::<T>())
                .cast::<T>()
        };
        let result = guarded(|| body(&mut *state, words));
        state.last_error = outcome(result);
        result
    })
}

/// # Safety
/// As `etd_sampler_step_f64`.
unsafe fn step<T: Scalar>(
    sampler: *mut T::Handle,
    particles: *mut T,
    log_density: Option<Callback<T>>,
    score: Option<Callback<T>>,
    user: *mut c_void,
    stats: *mut etd_step_stats,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe {
        on_sampler::<T>(sampler, |state, words| {
            check_null!(particles);
            let log_density = log_density.ok_or(Failure::NULL)?;
            let (mut workspace, particles) = attach(state, words, particles, &[])?;
            let mut target = Callbacks {
                log_density,
                score,
                user,
            };
            let result = workspace.step(&state.config, particles, &mut target, &mut state.rng)?;
            // SAFETY: `stats` is NULL or writable, by the caller's contract.
            write_out(stats, result.into());
            Ok(())
        })
    }
}

/// The workspace at `words` of the live sampler `state` and the caller's `particles` (N, d) as
/// slices, once the particles are checked (non-null, aligned) and found disjoint from the
/// sampler's memory, its header and the byte ranges of the call's read-only `inputs`; each
/// input is checked disjoint from the memory and the header too.
///
/// # Safety
/// `state` is a live sampler's header and `words` its workspace, from [`on_sampler`];
/// `particles` is NULL or holds N * d initialised values, and the inputs are arrays the caller
/// does not write during the call.
pub(crate) unsafe fn attach<'a, T: Scalar>(
    state: &State<T>,
    words: *mut T,
    particles: *mut T,
    inputs: &[(usize, usize)],
) -> Result<(Workspace<'a, T>, &'a mut [T]), Failure> {
    let shape = state.shape;
    let memory = Array::new(words, state.workspace_len)?;
    let particles = Array::new(particles, shape.n_particles * shape.dim)?;
    let header = state as *const State<T> as usize;
    let header = (header, header + size_of::<State<T>>());
    particles.disjoint_from(memory.bytes())?;
    particles.disjoint_from(header)?;
    for &input in inputs {
        particles.disjoint_from(input)?;
        memory.disjoint_from(input)?;
        disjoint(input, header)?;
    }
    // SAFETY: both arrays were checked (non-null, aligned, disjoint from each other and from
    // every input); their contents are initialised (the workspace by `init`, the particles by
    // the caller).
    let (memory, particles) = unsafe { (memory.into_mut_slice(), particles.into_mut_slice()) };
    Ok((Workspace::from_memory(shape, memory)?, particles))
}

/// The header behind a non-null handle of scalar `T`, once it is aligned and carries `T`'s magic
/// number (`ETD_ERR_INVALID_ARGUMENT` otherwise).
///
/// # Safety
/// `sampler` is non-null and points to readable memory of at least a header's size, as every
/// handle from `init` does; the magic number rejects most other pointers before any other field
/// is trusted.
unsafe fn live_state<'a, T: Scalar>(sampler: *mut T::Handle) -> Result<&'a mut State<T>, Failure> {
    let not_a_sampler = Failure::invalid(etd_detail::ETD_DETAIL_NOT_A_SAMPLER);
    let state = sampler.cast::<State<T>>();
    if !state.is_aligned() {
        return Err(not_a_sampler);
    }
    // The magic number alone, through the pointer: a reference to the whole header would
    // already claim that the memory holds a `State<T>` (a handle of the other scalar type has
    // padding where this type has fields).
    // SAFETY: aligned, readable (caller's contract), and `magic` is the first field (`repr(C)`).
    if unsafe { state.cast::<u64>().read() } != T::MAGIC {
        return Err(not_a_sampler);
    }
    // SAFETY: a live header of this type, initialised by `init` (caller's contract).
    Ok(unsafe { &mut *state })
}

/// # Safety
/// As `etd_sampler_set_precondition_f64`.
unsafe fn set_precondition<T: Scalar>(sampler: *mut T::Handle, rate: f64) -> i32 {
    // SAFETY: forwarded contract.
    unsafe {
        on_sampler::<T>(sampler, |state, _| {
            // 0 (or -0) turns it off; anything else must be a valid rate after rounding to `T`.
            let precondition = if rate == 0.0 {
                Precondition::Off
            } else {
                Precondition::Ensemble {
                    rate: T::from_f64(rate),
                }
            };
            let config = Config {
                precondition,
                ..state.config
            };
            config.validate()?;
            state.config = config;
            Ok(())
        })
    }
}

/// # Safety
/// As `etd_sampler_last_error_f64`.
unsafe fn last_error<T: Scalar>(sampler: *const T::Handle, out: *mut etd_error) -> i32 {
    boundary(|| {
        check_null!(sampler, out);
        // SAFETY: non-null; a handle by the caller's contract (only read here).
        let state = unsafe { live_state::<T>(sampler.cast_mut()) }?;
        // SAFETY: `out` is non-null and writable, by the caller's contract.
        unsafe { write_out(out, state.last_error) };
        Ok(())
    })
}

/// # Safety
/// As `etd_config_check_f64`.
unsafe fn config_check<T: Scalar>(cfg: *const etd_config, out: *mut etd_error) -> i32 {
    let result = guarded(|| {
        // SAFETY: `cfg` is NULL or readable, by the caller's contract.
        let (shape, _) = unsafe { read_in(cfg) }?.to_kernel::<T>()?;
        sampler_size::<T>(&shape)
            .map(|_| ())
            .ok_or(Failure::invalid(etd_detail::ETD_DETAIL_SIZE_OVERFLOW))
    });
    let error = outcome(result);
    // SAFETY: `out` is NULL or writable, by the caller's contract.
    unsafe { write_out(out, error) };
    error.status
}

/// Bytes of caller memory a sampler with this configuration needs, including slack for any
/// alignment of `mem`; 0 if `cfg` is NULL or invalid (see `etd_config`) or the size overflows.
///
/// @param[in] cfg  Configuration; read only during the call.
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_size_f64(cfg: *const etd_config) -> usize {
    size::<f64>(cfg)
}

/// Creates an f64 sampler inside `mem` (no heap). The memory is laid out and zeroed, the
/// configuration is validated and copied in, and the generator is seeded with `seed`.
///
/// `mem` may have any alignment. It is owned by the sampler until the caller stops using the
/// handle; there is nothing to free, and `etd_sampler_init_f64` may be called again on the same
/// memory to start over. Do not copy or move the memory of a live sampler.
///
/// @param[in]  mem      Caller memory of `mem_len` bytes.
/// @param[in]  mem_len  At least `etd_sampler_size_f64(cfg)`, else `ETD_ERR_BUFFER_TOO_SMALL`.
/// @param[in]  cfg      Configuration; copied, so it may be freed after the call.
/// @param[in]  seed     Seed of the sampler's random generator (PCG32): same seed, same run.
/// @param[out] out      The handle (an address inside `mem`), written only on success.
/// @return `ETD_OK`, `ETD_ERR_NULL_POINTER`, `ETD_ERR_INVALID_ARGUMENT` (invalid `cfg`: which
///         field, `etd_config_check_f64` says) or `ETD_ERR_BUFFER_TOO_SMALL`.
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_init_f64(
    mem: *mut c_void,
    mem_len: usize,
    cfg: *const etd_config,
    seed: u64,
    out: *mut *mut etd_sampler_f64,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { init::<f64>(mem, mem_len, cfg, seed, out) }
}

/// One ETD iteration: propose, weigh, cost, couple, update (and mutate) the `n_particles x dim`
/// particles in place.
///
/// The callbacks run synchronously on the calling thread, only during this call. With
/// `use_score == 0` the proposals need only `log_density`; a non-NULL `score` is then still
/// used by the mutation (MALA instead of random-walk MH).
///
/// On any error the particles are left exactly as they were and `*stats` is not written; the
/// sampler stays usable (its generator and warm-start potentials may have advanced), and
/// `etd_sampler_last_error_f64` says which check failed (and a callback's own return value).
///
/// @param[in,out] s            Sampler from `etd_sampler_init_f64`; one call at a time per sampler.
/// @param[in,out] particles    `n_particles * dim` values, row-major; must not overlap `mem`.
/// @param[in]     log_density  Batch log-density; required.
/// @param[in]     score        Batch score; NULL allowed when `use_score == 0`
///                             (`ETD_ERR_NO_SUPPORT` if NULL while `use_score == 1`).
/// @param[in]     user         Passed unchanged to the callbacks; may be NULL.
/// @param[out]    stats        Diagnostics, written only on success; may be NULL.
/// @return `ETD_OK`, `ETD_ERR_NULL_POINTER`, `ETD_ERR_INVALID_ARGUMENT` (not a live f64
///         sampler, misaligned or overlapping particles), `ETD_ERR_NON_FINITE` (a particle is
///         not finite, a callback wrote NaN or `+inf`, every proposal has zero density, the
///         preconditioner's covariance overflowed),
///         `ETD_ERR_NO_SUPPORT`, `ETD_ERR_CALLBACK` or `ETD_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_step_f64(
    s: *mut etd_sampler_f64,
    particles: *mut f64,
    log_density: etd_log_density_f64,
    score: etd_score_f64,
    user: *mut c_void,
    stats: *mut etd_step_stats,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { step::<f64>(s, particles, log_density, score, user, stats) }
}

/// Turns preconditioning by the ensemble's own covariance on (`rate` in (0, 1]; 0.1 after
/// `etd_sampler_init_f64`) or off (`rate` 0). While on, every stage of a step runs in
/// coordinates whitened by a running average of the ensemble covariance, in which each step's
/// covariance has weight `rate` (0.1 averages over about ten steps); `alpha`, `sigma` and
/// `mutation_step_size` are then in whitened units. From `dim = 3` on keep `mutation_steps > 0`
/// with it: the transport step alone loses spread in high dimension, and whitening then shrinks
/// the proposals with the ensemble (see `docs/algorithm.md`). The running average persists in
/// `mem` between steps.
///
/// @param[in,out] s     Sampler from `etd_sampler_init_f64`.
/// @param[in]     rate  0 (off) or a weight in (0, 1].
/// @return `ETD_OK`, `ETD_ERR_NULL_POINTER` or `ETD_ERR_INVALID_ARGUMENT` (not a live f64
///         sampler, or `rate` outside 0 and (0, 1]); on error nothing changes.
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_set_precondition_f64(
    s: *mut etd_sampler_f64,
    rate: f64,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { set_precondition::<f64>(s, rate) }
}

/// As `etd_sampler_set_precondition_f64`, for an f32 sampler (`rate` is rounded to `float`).
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_set_precondition_f32(
    s: *mut etd_sampler_f32,
    rate: f64,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { set_precondition::<f32>(s, rate) }
}

/// As `etd_sampler_size_f64`, for an f32 sampler.
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_size_f32(cfg: *const etd_config) -> usize {
    size::<f32>(cfg)
}

/// As `etd_sampler_init_f64`, for an f32 sampler (the configuration is rounded to `float`).
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_init_f32(
    mem: *mut c_void,
    mem_len: usize,
    cfg: *const etd_config,
    seed: u64,
    out: *mut *mut etd_sampler_f32,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { init::<f32>(mem, mem_len, cfg, seed, out) }
}

/// As `etd_sampler_step_f64`, with `float` particles and callbacks.
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_step_f32(
    s: *mut etd_sampler_f32,
    particles: *mut f32,
    log_density: etd_log_density_f32,
    score: etd_score_f32,
    user: *mut c_void,
    stats: *mut etd_step_stats,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { step::<f32>(s, particles, log_density, score, user, stats) }
}

/// Why the last call on sampler `s` failed: its status, the finer `etd_detail`, and a callback's
/// own non-zero return value (`ETD_OK` / `ETD_DETAIL_NONE` / 0 after a successful call). Every
/// call that takes a live `s` records its outcome; calls rejected before `s` is known to be a
/// sampler (NULL or foreign handle) record nothing.
///
/// @param[in]  s    Sampler from `etd_sampler_init_f64`.
/// @param[out] out  Written on success.
/// @return `ETD_OK`, `ETD_ERR_NULL_POINTER` or `ETD_ERR_INVALID_ARGUMENT` (not a live f64
///         sampler).
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_last_error_f64(
    s: *const etd_sampler_f64,
    out: *mut etd_error,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { last_error::<f64>(s, out) }
}

/// As `etd_sampler_last_error_f64`, for an f32 sampler.
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_last_error_f32(
    s: *const etd_sampler_f32,
    out: *mut etd_error,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { last_error::<f32>(s, out) }
}

/// Checks a configuration as `etd_sampler_size_f64` and `etd_sampler_init_f64` do and says
/// which field, if any, is invalid: returns the status `etd_sampler_init_f64` would return for
/// it with large enough memory, and writes the full `etd_error` to `*out`.
///
/// @param[in]  cfg  Configuration; NULL gives `ETD_ERR_NULL_POINTER`.
/// @param[out] out  The outcome (`ETD_OK` / `ETD_DETAIL_NONE` for a valid configuration); may be
///                  NULL.
/// @return `ETD_OK`, `ETD_ERR_NULL_POINTER` or `ETD_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn etd_config_check_f64(cfg: *const etd_config, out: *mut etd_error) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { config_check::<f64>(cfg, out) }
}

/// As `etd_config_check_f64`, for an f32 sampler (values are rounded to `float` first).
#[no_mangle]
pub unsafe extern "C" fn etd_config_check_f32(cfg: *const etd_config, out: *mut etd_error) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { config_check::<f32>(cfg, out) }
}
