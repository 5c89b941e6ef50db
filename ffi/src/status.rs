//! Status codes, the finer detail codes, and the mapping from the kernel's [`Error`].

use core::ffi::c_char;
use entropic_transport::Error;

/// What a call did. Every `etd_*` function that can fail returns one of these as `int32_t`.
///
/// On any code other than `ETD_OK` nothing was written: particles, outputs, `*out` and stats
/// are exactly as they were. `etd_status_str` describes a code; which argument or check failed
/// is an `etd_detail` (see `etd_sampler_last_error_f64`, `etd_config_check_f64` and
/// `etd_sinkhorn_check_f64`).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum etd_status {
    /// Success.
    ETD_OK = 0,
    /// A required pointer argument is NULL.
    ETD_ERR_NULL_POINTER = 1,
    /// A size is zero or overflows, a configuration value is out of range, a constant is
    /// unknown, an array is misaligned for its element type, arrays overlap, or the sampler
    /// handle was not produced by the matching `etd_sampler_init_*`.
    ETD_ERR_INVALID_ARGUMENT = 2,
    /// Caller memory (`mem_len`, `scratch_len`) is smaller than required.
    ETD_ERR_BUFFER_TOO_SMALL = 3,
    /// A non-finite value: a particle or cost entry is NaN or infinite, a marginal is NaN or
    /// `+inf`, a callback wrote NaN (`+inf` for the log-density, any infinity for the score),
    /// the pairwise cost overflowed, or every weight is zero (every proposal has
    /// `log pi = -inf`, or every `log_a` / `log_b` entry is `-inf`), or the preconditioner's
    /// ensemble covariance overflowed.
    ETD_ERR_NON_FINITE = 4,
    /// A feature is not available: the score is needed (`use_score == 1`) but the score
    /// callback is NULL, or `etd_sinkhorn_*` without caller scratch got a problem too large
    /// for its stack scratch.
    ETD_ERR_NO_SUPPORT = 5,
    /// A callback returned non-zero; the step was abandoned (its code is in `etd_error`).
    ETD_ERR_CALLBACK = 6,
    /// The library panicked (a bug); the panic was caught at the boundary.
    ETD_ERR_PANIC = 7,
}

/// Which argument or check made a call fail: a finer reason under each `etd_status`.
/// `etd_detail_str` describes one. Values are never renumbered; new ones may be added.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum etd_detail {
    /// No failure (the call succeeded).
    ETD_DETAIL_NONE = 0,
    /// A required pointer is NULL (status `ETD_ERR_NULL_POINTER`).
    ETD_DETAIL_NULL_POINTER = 1,
    /// An array is not aligned for its element type.
    ETD_DETAIL_MISALIGNED = 2,
    /// An array the library writes overlaps another argument.
    ETD_DETAIL_OVERLAP = 3,
    /// A size or an array's byte length overflows.
    ETD_DETAIL_SIZE_OVERFLOW = 4,
    /// The handle is not a live sampler of this scalar type.
    ETD_DETAIL_NOT_A_SAMPLER = 5,
    /// `coupling` is not one of the `ETD_COUPLING_*` constants.
    ETD_DETAIL_UNKNOWN_COUPLING = 6,
    /// `update` is not one of the `ETD_UPDATE_*` constants.
    ETD_DETAIL_UNKNOWN_UPDATE = 7,
    /// `use_score` is neither 0 nor 1.
    ETD_DETAIL_INVALID_USE_SCORE = 8,
    /// `mem_len` or `scratch_len` is smaller than required (status `ETD_ERR_BUFFER_TOO_SMALL`).
    ETD_DETAIL_MEMORY_TOO_SMALL = 9,
    /// `n + p` exceeds `ETD_SINKHORN_STACK_SCRATCH` and no scratch was given (status
    /// `ETD_ERR_NO_SUPPORT`).
    ETD_DETAIL_STACK_SCRATCH_TOO_SMALL = 10,
    /// `count` proposals given to `etd_sampler_transport_*` is 0 or above the sampler's pool
    /// `n_particles * proposals_per_particle`.
    ETD_DETAIL_PROPOSAL_COUNT = 11,
    /// A size (`n_particles`, `proposals_per_particle`, `dim`, `n`, `p`) is zero.
    ETD_DETAIL_ZERO_SIZE = 20,
    /// `max_iterations` is 0.
    ETD_DETAIL_INVALID_MAX_ITERATIONS = 21,
    /// `epsilon` is NaN or outside `[sqrt(MIN_POSITIVE), 1 / sqrt(MIN_POSITIVE)]` of the type
    /// (1.1e-19 to 9.2e18 for `float`, 1.5e-154 to 6.7e153 for `double`).
    ETD_DETAIL_INVALID_EPSILON = 22,
    /// `tolerance` is not finite and > 0.
    ETD_DETAIL_INVALID_TOLERANCE = 23,
    /// `alpha` is not finite and >= 0.
    ETD_DETAIL_INVALID_ALPHA = 24,
    /// `sigma` is not finite and > 0 (after 0 selects `sqrt(2 alpha)`).
    ETD_DETAIL_INVALID_SIGMA = 25,
    /// `score_clip` is not finite and > 0.
    ETD_DETAIL_INVALID_SCORE_CLIP = 26,
    /// `rho` of the unbalanced coupling is not finite and > 0.
    ETD_DETAIL_INVALID_RHO = 27,
    /// `damping` is outside (0, 1].
    ETD_DETAIL_INVALID_DAMPING = 28,
    /// `mutation_step_size` is not finite and > 0 while `mutation_steps > 0`.
    ETD_DETAIL_INVALID_MUTATION_STEP_SIZE = 29,
    /// The preconditioner's `rate` is outside 0 and (0, 1].
    ETD_DETAIL_INVALID_PRECONDITION_RATE = 30,
    /// A particle coordinate is NaN or infinite (status `ETD_ERR_NON_FINITE` for the rest of
    /// this group).
    ETD_DETAIL_NON_FINITE_PARTICLES = 40,
    /// A cost of `etd_sinkhorn_*` is not finite, a marginal entry NaN or `+inf`, or a
    /// marginal's total mass above `1 / sqrt(MIN_POSITIVE)` of the type; or a proposal
    /// coordinate of `etd_sampler_transport_*` / `etd_sampler_resample_*` is not finite, or a
    /// log-weight NaN or `+inf`.
    ETD_DETAIL_NON_FINITE_INPUT = 41,
    /// The pairwise cost overflowed (particles or proposals too far apart for the type), or a
    /// cost of `etd_sinkhorn_*` exceeds `epsilon / EPSILON` of the type in magnitude (its own
    /// rounding would exceed `epsilon`).
    ETD_DETAIL_NON_FINITE_COST = 42,
    /// The preconditioner's ensemble covariance overflowed or could not be factored.
    ETD_DETAIL_NON_FINITE_COVARIANCE = 43,
    /// The log-density callback wrote NaN or `+inf`.
    ETD_DETAIL_NON_FINITE_DENSITY = 44,
    /// The score callback wrote NaN or an infinity.
    ETD_DETAIL_NON_FINITE_SCORE = 45,
    /// Every weight is zero: every proposal has `log pi = -inf`, or every mass of an
    /// `etd_sinkhorn_*` marginal is `-inf` or below `e * MIN_POSITIVE` of the type.
    ETD_DETAIL_ALL_WEIGHTS_ZERO = 46,
    /// The score is needed but the score callback is NULL (status `ETD_ERR_NO_SUPPORT`).
    ETD_DETAIL_NO_SCORE = 50,
    /// A callback returned non-zero; `etd_error.callback_code` holds its value (status
    /// `ETD_ERR_CALLBACK`).
    ETD_DETAIL_CALLBACK_FAILED = 60,
    /// The library panicked (status `ETD_ERR_PANIC`).
    ETD_DETAIL_PANIC = 70,
    /// A kernel error this version of the C ABI does not name.
    ETD_DETAIL_OTHER = 99,
}

/// Why the last call failed: its status, the finer detail, and the callback's own non-zero
/// return value when the detail is `ETD_DETAIL_CALLBACK_FAILED` (0 otherwise).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct etd_error {
    /// An `etd_status` value; `ETD_OK` after a successful call.
    pub status: i32,
    /// An `etd_detail` value; `ETD_DETAIL_NONE` after a successful call.
    pub detail: i32,
    /// The callback's return value when it failed, else 0.
    pub callback_code: i32,
}

impl etd_error {
    /// A successful call.
    pub(crate) const OK: etd_error = etd_error {
        status: etd_status::ETD_OK as i32,
        detail: etd_detail::ETD_DETAIL_NONE as i32,
        callback_code: 0,
    };
}

/// A failure inside the library: status, detail and callback code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Failure(pub(crate) etd_error);

impl Failure {
    /// A failure with no callback code.
    pub(crate) const fn new(status: etd_status, detail: etd_detail) -> Self {
        Failure(etd_error {
            status: status as i32,
            detail: detail as i32,
            callback_code: 0,
        })
    }

    /// `ETD_ERR_NULL_POINTER`.
    pub(crate) const NULL: Failure = Failure::new(
        etd_status::ETD_ERR_NULL_POINTER,
        etd_detail::ETD_DETAIL_NULL_POINTER,
    );
    /// `ETD_ERR_PANIC`.
    pub(crate) const PANIC: Failure =
        Failure::new(etd_status::ETD_ERR_PANIC, etd_detail::ETD_DETAIL_PANIC);

    /// `ETD_ERR_INVALID_ARGUMENT` with `detail`.
    pub(crate) const fn invalid(detail: etd_detail) -> Self {
        Failure::new(etd_status::ETD_ERR_INVALID_ARGUMENT, detail)
    }
}

/// The outcome of a call as an `etd_error` (`ETD_OK` on success).
pub(crate) fn outcome(result: Result<(), Failure>) -> etd_error {
    match result {
        Ok(()) => etd_error::OK,
        Err(Failure(error)) => error,
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        use etd_detail::*;
        use etd_status::*;
        let (status, detail) = match error {
            // Only caller memory can be short at the ABI: every other slice is built from the
            // configuration, so a length error means `mem_len` / `scratch_len`.
            Error::ParticlesLength { .. } | Error::BufferLength { .. } => {
                (ETD_ERR_BUFFER_TOO_SMALL, ETD_DETAIL_MEMORY_TOO_SMALL)
            }
            Error::ZeroSize => (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_ZERO_SIZE),
            Error::ProposalCount { .. } => (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_PROPOSAL_COUNT),
            Error::InvalidMaxIterations => {
                (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_INVALID_MAX_ITERATIONS)
            }
            Error::InvalidEpsilon => (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_INVALID_EPSILON),
            Error::InvalidTolerance => (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_INVALID_TOLERANCE),
            Error::InvalidAlpha => (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_INVALID_ALPHA),
            Error::InvalidSigma => (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_INVALID_SIGMA),
            Error::InvalidScoreClip => (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_INVALID_SCORE_CLIP),
            Error::InvalidRho => (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_INVALID_RHO),
            Error::InvalidDamping => (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_INVALID_DAMPING),
            Error::InvalidMutationStepSize => (
                ETD_ERR_INVALID_ARGUMENT,
                ETD_DETAIL_INVALID_MUTATION_STEP_SIZE,
            ),
            Error::InvalidPreconditionRate => (
                ETD_ERR_INVALID_ARGUMENT,
                ETD_DETAIL_INVALID_PRECONDITION_RATE,
            ),
            Error::NonFiniteParticles => (ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_PARTICLES),
            Error::NonFiniteInput => (ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_INPUT),
            Error::NonFiniteCost => (ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_COST),
            Error::NonFiniteCovariance => (ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_COVARIANCE),
            Error::NonFiniteDensity => (ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_DENSITY),
            Error::NonFiniteScore => (ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_SCORE),
            Error::AllWeightsZero => (ETD_ERR_NON_FINITE, ETD_DETAIL_ALL_WEIGHTS_ZERO),
            Error::NoScore => (ETD_ERR_NO_SUPPORT, ETD_DETAIL_NO_SCORE),
            Error::Target(code) => {
                return Failure(etd_error {
                    status: ETD_ERR_CALLBACK as i32,
                    detail: ETD_DETAIL_CALLBACK_FAILED as i32,
                    callback_code: code,
                })
            }
            _ => (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_OTHER),
        };
        Failure::new(status, detail)
    }
}

/// A static, NUL-terminated description of an `etd_status` value (`"unknown status"` for
/// values that are none). Never NULL; do not free it.
#[no_mangle]
pub extern "C" fn etd_status_str(status: i32) -> *const c_char {
    use etd_status::*;
    let text: &'static str = match status {
        s if s == ETD_OK as i32 => "success\0",
        s if s == ETD_ERR_NULL_POINTER as i32 => "a required pointer is NULL\0",
        s if s == ETD_ERR_INVALID_ARGUMENT as i32 => {
            "an argument or configuration value is invalid\0"
        }
        s if s == ETD_ERR_BUFFER_TOO_SMALL as i32 => "caller memory is smaller than required\0",
        s if s == ETD_ERR_NON_FINITE as i32 => {
            "a value is NaN or infinite, or every weight is zero\0"
        }
        s if s == ETD_ERR_NO_SUPPORT as i32 => {
            "not available: no score callback, or no scratch for this size\0"
        }
        s if s == ETD_ERR_CALLBACK as i32 => "a callback returned non-zero\0",
        s if s == ETD_ERR_PANIC as i32 => "the library panicked (a bug)\0",
        _ => "unknown status\0",
    };
    text.as_ptr().cast()
}

/// A static, NUL-terminated description of an `etd_detail` value (`"unknown detail"` for values
/// that are none). Never NULL; do not free it.
#[no_mangle]
pub extern "C" fn etd_detail_str(detail: i32) -> *const c_char {
    use etd_detail::*;
    const ALL: [(etd_detail, &str); 33] = [
        (ETD_DETAIL_NONE, "no failure\0"),
        (ETD_DETAIL_NULL_POINTER, "a required pointer is NULL\0"),
        (
            ETD_DETAIL_MISALIGNED,
            "an array is misaligned for its element type\0",
        ),
        (
            ETD_DETAIL_OVERLAP,
            "an output array overlaps another argument\0",
        ),
        (
            ETD_DETAIL_SIZE_OVERFLOW,
            "a size or byte length overflows\0",
        ),
        (
            ETD_DETAIL_NOT_A_SAMPLER,
            "the handle is not a live sampler of this type\0",
        ),
        (
            ETD_DETAIL_UNKNOWN_COUPLING,
            "coupling is not an ETD_COUPLING_* constant\0",
        ),
        (
            ETD_DETAIL_UNKNOWN_UPDATE,
            "update is not an ETD_UPDATE_* constant\0",
        ),
        (
            ETD_DETAIL_INVALID_USE_SCORE,
            "use_score is neither 0 nor 1\0",
        ),
        (
            ETD_DETAIL_MEMORY_TOO_SMALL,
            "mem_len or scratch_len is smaller than required\0",
        ),
        (
            ETD_DETAIL_STACK_SCRATCH_TOO_SMALL,
            "n + p exceeds ETD_SINKHORN_STACK_SCRATCH: pass scratch\0",
        ),
        (
            ETD_DETAIL_PROPOSAL_COUNT,
            "count is 0 or above n_particles * proposals_per_particle\0",
        ),
        (ETD_DETAIL_ZERO_SIZE, "a size is zero\0"),
        (ETD_DETAIL_INVALID_MAX_ITERATIONS, "max_iterations is 0\0"),
        (
            ETD_DETAIL_INVALID_EPSILON,
            "epsilon is outside the square root of the type's range\0",
        ),
        (
            ETD_DETAIL_INVALID_TOLERANCE,
            "tolerance is not finite and > 0\0",
        ),
        (ETD_DETAIL_INVALID_ALPHA, "alpha is not finite and >= 0\0"),
        (ETD_DETAIL_INVALID_SIGMA, "sigma is not finite and > 0\0"),
        (
            ETD_DETAIL_INVALID_SCORE_CLIP,
            "score_clip is not finite and > 0\0",
        ),
        (ETD_DETAIL_INVALID_RHO, "rho is not finite and > 0\0"),
        (ETD_DETAIL_INVALID_DAMPING, "damping is outside (0, 1]\0"),
        (
            ETD_DETAIL_INVALID_MUTATION_STEP_SIZE,
            "mutation_step_size is not finite and > 0\0",
        ),
        (
            ETD_DETAIL_INVALID_PRECONDITION_RATE,
            "the precondition rate is outside 0 and (0, 1]\0",
        ),
        (
            ETD_DETAIL_NON_FINITE_PARTICLES,
            "a particle coordinate is NaN or infinite\0",
        ),
        (
            ETD_DETAIL_NON_FINITE_INPUT,
            "a cost, marginal, proposal or log-weight is NaN or +inf\0",
        ),
        (ETD_DETAIL_NON_FINITE_COST, "the pairwise cost overflowed\0"),
        (
            ETD_DETAIL_NON_FINITE_COVARIANCE,
            "the ensemble covariance overflowed\0",
        ),
        (
            ETD_DETAIL_NON_FINITE_DENSITY,
            "the log-density returned NaN or +inf\0",
        ),
        (
            ETD_DETAIL_NON_FINITE_SCORE,
            "the score returned NaN or an infinity\0",
        ),
        (ETD_DETAIL_ALL_WEIGHTS_ZERO, "every weight is zero\0"),
        (
            ETD_DETAIL_NO_SCORE,
            "the score is needed but its callback is NULL\0",
        ),
        (
            ETD_DETAIL_CALLBACK_FAILED,
            "a callback returned non-zero (see callback_code)\0",
        ),
        (ETD_DETAIL_PANIC, "the library panicked (a bug)\0"),
    ];
    let text = ALL.iter().find(|(d, _)| *d as i32 == detail).map_or(
        if detail == ETD_DETAIL_OTHER as i32 {
            "a kernel error without a name in this version\0"
        } else {
            "unknown detail\0"
        },
        |(_, text)| text,
    );
    text.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::CStr;

    #[test]
    fn every_kernel_error_maps_to_its_code() {
        use etd_detail::*;
        use etd_status::*;
        let cases = [
            (
                Error::ZeroSize,
                ETD_ERR_INVALID_ARGUMENT,
                ETD_DETAIL_ZERO_SIZE,
            ),
            (
                Error::InvalidEpsilon,
                ETD_ERR_INVALID_ARGUMENT,
                ETD_DETAIL_INVALID_EPSILON,
            ),
            (
                Error::InvalidRho,
                ETD_ERR_INVALID_ARGUMENT,
                ETD_DETAIL_INVALID_RHO,
            ),
            (
                Error::BufferLength {
                    expected: 2,
                    found: 1,
                },
                ETD_ERR_BUFFER_TOO_SMALL,
                ETD_DETAIL_MEMORY_TOO_SMALL,
            ),
            (
                Error::ProposalCount { max: 4, found: 5 },
                ETD_ERR_INVALID_ARGUMENT,
                ETD_DETAIL_PROPOSAL_COUNT,
            ),
            (
                Error::NonFiniteDensity,
                ETD_ERR_NON_FINITE,
                ETD_DETAIL_NON_FINITE_DENSITY,
            ),
            (
                Error::NonFiniteCovariance,
                ETD_ERR_NON_FINITE,
                ETD_DETAIL_NON_FINITE_COVARIANCE,
            ),
            (
                Error::InvalidPreconditionRate,
                ETD_ERR_INVALID_ARGUMENT,
                ETD_DETAIL_INVALID_PRECONDITION_RATE,
            ),
            (
                Error::AllWeightsZero,
                ETD_ERR_NON_FINITE,
                ETD_DETAIL_ALL_WEIGHTS_ZERO,
            ),
            (Error::NoScore, ETD_ERR_NO_SUPPORT, ETD_DETAIL_NO_SCORE),
        ];
        for (error, status, detail) in cases {
            assert_eq!(
                Failure::from(error),
                Failure::new(status, detail),
                "{error:?}"
            );
        }
        let callback = Failure::from(Error::Target(-3)).0;
        assert_eq!(callback.status, ETD_ERR_CALLBACK as i32);
        assert_eq!(callback.detail, ETD_DETAIL_CALLBACK_FAILED as i32);
        assert_eq!(callback.callback_code, -3);
    }

    #[test]
    fn every_code_has_a_distinct_description() {
        let text = |p: *const c_char| {
            // SAFETY: both functions return static NUL-terminated strings.
            unsafe { CStr::from_ptr(p) }.to_str().unwrap()
        };
        let statuses: Vec<&str> = (0..8).map(|s| text(etd_status_str(s))).collect();
        assert!(statuses.iter().all(|s| !s.contains("unknown")));
        assert_eq!(text(etd_status_str(8)), "unknown status");
        assert_eq!(text(etd_status_str(-1)), "unknown status");
        let known: Vec<&str> = (0..100)
            .map(|d| text(etd_detail_str(d)))
            .filter(|s| *s != "unknown detail")
            .collect();
        assert_eq!(known.len(), 34);
        let mut sorted = known.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), known.len(), "two details share a description");
    }
}
