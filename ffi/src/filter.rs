//! `etd_sampler_transport_*`, `etd_sampler_resample_*`, `etd_weight_ess_*`: the particle-filter
//! entries over a sampler's memory (see `docs/filter.md`).

use crate::guard::{boundary, write_out, Array};
use crate::sampler::{attach, etd_step_stats, on_sampler, Scalar, State};
use crate::status::{etd_detail, Failure};
use crate::{etd_sampler_f32, etd_sampler_f64};
use entropic_transport::{systematic_resample, weight_ess};

/// The proposals `(count, dim)` and log-weights `(count)` of a call as checked arrays.
fn inputs<T: Scalar>(
    proposals: *const T,
    log_weights: *const T,
    count: usize,
    dim: usize,
) -> Result<(Array<T>, Array<T>), Failure> {
    check_null!(proposals, log_weights);
    let len = count
        .checked_mul(dim)
        .ok_or(Failure::invalid(etd_detail::ETD_DETAIL_SIZE_OVERFLOW))?;
    Ok((Array::new(proposals, len)?, Array::new(log_weights, count)?))
}

/// # Safety
/// As `etd_sampler_transport_f64`.
unsafe fn transport<T: Scalar>(
    sampler: *mut T::Handle,
    particles: *mut T,
    proposals: *const T,
    count: usize,
    log_weights: *const T,
    stats: *mut etd_step_stats,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe {
        on_sampler::<T>(sampler, |state: &mut State<T>, words| {
            check_null!(particles);
            let (y, w) = inputs(proposals, log_weights, count, state.shape.dim)?;
            let inputs = [y.bytes(), w.bytes()];
            let (mut workspace, particles) = attach(state, words, particles, &inputs)?;
            // SAFETY: checked arrays the caller does not write during the call.
            let (y, w) = (y.into_slice(), w.into_slice());
            let result = workspace.transport(&state.config, particles, y, w, &mut state.rng)?;
            // SAFETY: `stats` is NULL or writable, by the caller's contract.
            write_out(stats, result.into());
            Ok(())
        })
    }
}

/// # Safety
/// As `etd_sampler_resample_f64`.
unsafe fn resample<T: Scalar>(
    sampler: *mut T::Handle,
    particles: *mut T,
    proposals: *const T,
    count: usize,
    log_weights: *const T,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe {
        on_sampler::<T>(sampler, |state: &mut State<T>, words| {
            check_null!(particles);
            let (y, w) = inputs(proposals, log_weights, count, state.shape.dim)?;
            let (_, particles) = attach(state, words, particles, &[y.bytes(), w.bytes()])?;
            // SAFETY: checked arrays the caller does not write during the call.
            let (y, w) = (y.into_slice(), w.into_slice());
            systematic_resample(particles, y, w, state.shape.dim, &mut state.rng)?;
            Ok(())
        })
    }
}

/// # Safety
/// As `etd_weight_ess_f64`.
unsafe fn effective_sample_size<T: Scalar>(
    log_weights: *const T,
    count: usize,
    out: *mut f64,
) -> i32 {
    boundary(|| {
        check_null!(out);
        let w = Array::new(log_weights, count)?;
        // SAFETY: a checked array the caller does not write during the call.
        let ess = weight_ess(unsafe { w.into_slice() })?;
        // SAFETY: `out` is non-null and writable, by the caller's contract.
        unsafe { write_out(out, ess.to_f64()) };
        Ok(())
    })
}

/// Moves the particles along the entropic transport plan to caller-made proposals: the
/// resampling step of a particle filter, in which every particle moves (to one proposal drawn
/// from its plan row, or the row's weighted mean with `ETD_UPDATE_BARYCENTRIC`) instead of a
/// few being copied and the rest dropped.
///
/// Runs the cost, normalisation, coupling and update of a step on `particles` and the `count`
/// points `proposals` weighted by `exp(log_weights)`, reusing the sampler's memory, warm start
/// and generator. Typical proposals: the particles pushed through the motion model, with the
/// measurement log-likelihood as log-weights (an ensemble-transform filter); or any other draws
/// with their importance-corrected log-weights. The weights are used as given (`-INFINITY` is a
/// weight of 0). `epsilon`, `coupling`, `max_iterations`, `tolerance`, `update` and `damping` of
/// the configuration apply (`etd_config_filter` sets them for this call); preconditioning and
/// mutation do not. The work is bounded by `max_iterations` Sinkhorn sweeps over the
/// `n_particles x count` kernel, whatever the input.
///
/// @param[in,out] s            Sampler from `etd_sampler_init_f64`.
/// @param[in,out] particles    `n_particles * dim` values, row-major; written only on success.
/// @param[in]     proposals    `count * dim` values, row-major, finite.
/// @param[in]     count        1 to `n_particles * proposals_per_particle`.
/// @param[in]     log_weights  `count` unnormalised log-weights: finite or `-INFINITY`, at
///                             least one finite.
/// @param[out]    stats        What the call did (`weight_ess` of the given weights,
///                             `acceptance_rate` 0); may be NULL.
/// @return `ETD_OK`; `ETD_ERR_NULL_POINTER`; `ETD_ERR_INVALID_ARGUMENT` (not a live f64
///         sampler, `count` out of range, misaligned or overlapping arrays); `ETD_ERR_NON_FINITE`
///         (a particle or proposal coordinate, or a log-weight NaN or `+inf`, every weight 0,
///         the cost overflowed); `ETD_ERR_PANIC`. On error the particles are untouched and
///         `etd_sampler_last_error_f64` says why.
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_transport_f64(
    s: *mut etd_sampler_f64,
    particles: *mut f64,
    proposals: *const f64,
    count: usize,
    log_weights: *const f64,
    stats: *mut etd_step_stats,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { transport::<f64>(s, particles, proposals, count, log_weights, stats) }
}

/// As `etd_sampler_transport_f64`, with `float` particles, proposals and log-weights.
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_transport_f32(
    s: *mut etd_sampler_f32,
    particles: *mut f32,
    proposals: *const f32,
    count: usize,
    log_weights: *const f32,
    stats: *mut etd_step_stats,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { transport::<f32>(s, particles, proposals, count, log_weights, stats) }
}

/// Systematic resampling, the classical fallback, with the calling convention of
/// `etd_sampler_transport_f64`: overwrites the `n_particles` particles with copies of the
/// proposals, proposal `j` copied the floor or the ceiling of `n_particles * w_j / sum w`
/// times, using one uniform from the sampler's generator. Work `O(n_particles * dim + count)`;
/// the sampler's memory is not used. Any `count >= 1` is accepted.
///
/// @param[in,out] s            Sampler from `etd_sampler_init_f64` (its shape and generator).
/// @param[out]    particles    `n_particles * dim` values; written only on success.
/// @param[in]     proposals    `count * dim` values, row-major, finite.
/// @param[in]     count        At least 1.
/// @param[in]     log_weights  `count` unnormalised log-weights, as for transport.
/// @return As `etd_sampler_transport_f64`; on error the particles are untouched.
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_resample_f64(
    s: *mut etd_sampler_f64,
    particles: *mut f64,
    proposals: *const f64,
    count: usize,
    log_weights: *const f64,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { resample::<f64>(s, particles, proposals, count, log_weights) }
}

/// As `etd_sampler_resample_f64`, with `float` values.
#[no_mangle]
pub unsafe extern "C" fn etd_sampler_resample_f32(
    s: *mut etd_sampler_f32,
    particles: *mut f32,
    proposals: *const f32,
    count: usize,
    log_weights: *const f32,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { resample::<f32>(s, particles, proposals, count, log_weights) }
}

/// The effective sample size `(sum w)^2 / sum w^2` of `count` unnormalised log-weights, in
/// `[1, count]`, computed shifted by the largest so any finite values work. A filter transports
/// (or resamples) when it falls below a threshold, often `n_particles / 2`.
///
/// @param[in]  log_weights  `count` values: finite or `-INFINITY`, at least one finite.
/// @param[in]  count        At least 1.
/// @param[out] ess          Written on success.
/// @return `ETD_OK`, `ETD_ERR_NULL_POINTER`, `ETD_ERR_INVALID_ARGUMENT` (`count` 0, misaligned),
///         `ETD_ERR_NON_FINITE` (a NaN or `+inf` weight, or every weight 0) or `ETD_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn etd_weight_ess_f64(
    log_weights: *const f64,
    count: usize,
    ess: *mut f64,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { effective_sample_size::<f64>(log_weights, count, ess) }
}

/// As `etd_weight_ess_f64`, with `float` log-weights (the result is widened to `double`).
#[no_mangle]
pub unsafe extern "C" fn etd_weight_ess_f32(
    log_weights: *const f32,
    count: usize,
    ess: *mut f64,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { effective_sample_size::<f32>(log_weights, count, ess) }
}
