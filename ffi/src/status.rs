//! Status codes and the mapping from the kernel's [`Error`].

use entropic_transport::Error;

/// What a call did. Every `etd_*` function that can fail returns one of these as `int32_t`.
///
/// On any code other than `ETD_OK` nothing was written: particles, outputs, `*out` and stats
/// are exactly as they were.
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
    /// callback is NULL, or `etd_sinkhorn_*` cannot obtain scratch memory in this build.
    ETD_ERR_NO_SUPPORT = 5,
    /// A callback returned non-zero; the step was abandoned.
    ETD_ERR_CALLBACK = 6,
    /// The library panicked (a bug); the panic was caught at the boundary.
    ETD_ERR_PANIC = 7,
}

impl From<Error> for etd_status {
    fn from(error: Error) -> Self {
        match error {
            // Only caller memory can be short at the ABI: every other slice is built from the
            // configuration, so a length error means `mem_len` / `scratch_len`.
            Error::ParticlesLength { .. } | Error::BufferLength { .. } => {
                etd_status::ETD_ERR_BUFFER_TOO_SMALL
            }
            Error::NonFiniteParticles
            | Error::NonFiniteInput
            | Error::NonFiniteCost
            | Error::NonFiniteCovariance
            | Error::NonFiniteDensity
            | Error::NonFiniteScore
            | Error::AllWeightsZero => etd_status::ETD_ERR_NON_FINITE,
            Error::NoScore => etd_status::ETD_ERR_NO_SUPPORT,
            Error::Target(_) => etd_status::ETD_ERR_CALLBACK,
            // ZeroSize and every Invalid* parameter (and any future variant).
            _ => etd_status::ETD_ERR_INVALID_ARGUMENT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_error_maps_to_its_code() {
        use etd_status::*;
        let cases = [
            (Error::ZeroSize, ETD_ERR_INVALID_ARGUMENT),
            (Error::InvalidEpsilon, ETD_ERR_INVALID_ARGUMENT),
            (Error::InvalidRho, ETD_ERR_INVALID_ARGUMENT),
            (
                Error::BufferLength {
                    expected: 2,
                    found: 1,
                },
                ETD_ERR_BUFFER_TOO_SMALL,
            ),
            (Error::NonFiniteDensity, ETD_ERR_NON_FINITE),
            (Error::NonFiniteCovariance, ETD_ERR_NON_FINITE),
            (Error::InvalidPreconditionRate, ETD_ERR_INVALID_ARGUMENT),
            (Error::AllWeightsZero, ETD_ERR_NON_FINITE),
            (Error::NoScore, ETD_ERR_NO_SUPPORT),
            (Error::Target(-3), ETD_ERR_CALLBACK),
        ];
        for (error, status) in cases {
            assert_eq!(etd_status::from(error), status, "{error:?}");
        }
    }
}
