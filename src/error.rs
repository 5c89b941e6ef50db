//! The one error type of the kernel. Every variant leaves the caller's particles untouched.

use core::fmt;

/// Why a call failed. On any error the caller's particles are exactly as they were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// A size is zero: particles, proposals per particle, dimension or Sinkhorn problem.
    ZeroSize,
    /// `max_iterations` is 0.
    InvalidMaxIterations,
    /// `epsilon` lies outside `[sqrt(MIN_POSITIVE), 1 / sqrt(MIN_POSITIVE)]` of the type
    /// (1.1e-19 to 9.2e18 in f32), or is NaN.
    InvalidEpsilon,
    /// `tolerance` is not finite and > 0.
    InvalidTolerance,
    /// `alpha` is not finite and >= 0.
    InvalidAlpha,
    /// `sigma` is not finite and > 0 (after the default `sqrt(2 alpha)` is applied).
    InvalidSigma,
    /// `score_clip` is not finite and > 0.
    InvalidScoreClip,
    /// `rho` of the unbalanced coupling is not finite and > 0.
    InvalidRho,
    /// `damping` is outside (0, 1].
    InvalidDamping,
    /// The mutation step size is not finite and > 0 while mutation steps are requested.
    InvalidMutationStepSize,
    /// The preconditioner's `rate` is outside (0, 1].
    InvalidPreconditionRate,
    /// The particle slice does not hold `n_particles * dim` values.
    ParticlesLength {
        /// Required length.
        expected: usize,
        /// Given length.
        found: usize,
    },
    /// Transport was given no proposals, or more than the workspace's pool `N * M`.
    ProposalCount {
        /// The largest count the workspace holds.
        max: usize,
        /// Given count.
        found: usize,
    },
    /// A workspace, scratch, potential or marginal slice has the wrong length.
    BufferLength {
        /// Required length.
        expected: usize,
        /// Given length.
        found: usize,
    },
    /// A particle coordinate is NaN or infinite.
    NonFiniteParticles,
    /// A cost of the standalone Sinkhorn is not finite, a marginal entry is NaN or `+inf`, or
    /// a marginal's total mass exceeds `1 / sqrt(MIN_POSITIVE)`; or a proposal coordinate given
    /// to transport or resampling is not finite, or a log-weight is NaN or `+inf`.
    NonFiniteInput,
    /// The pairwise cost overflowed (particles or proposals too far apart for the type), or a
    /// cost of the standalone Sinkhorn exceeds `epsilon / EPSILON` in magnitude.
    NonFiniteCost,
    /// The preconditioner's ensemble covariance overflowed or could not be factored.
    NonFiniteCovariance,
    /// The log-density returned NaN or `+inf` (`-inf` is allowed: zero density).
    NonFiniteDensity,
    /// The score returned NaN or an infinity.
    NonFiniteScore,
    /// Every proposal has zero density (`log pi = -inf`), so there is nothing to transport to;
    /// or every mass of a standalone Sinkhorn marginal is `-inf` or below `e * MIN_POSITIVE`.
    AllWeightsZero,
    /// The score was requested (`use_score`, or MALA mutation) but the target has none.
    NoScore,
    /// The target's callback reported a failure with this code.
    Target(i32),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ZeroSize => f.write_str("a size is zero"),
            Error::InvalidMaxIterations => f.write_str("max_iterations must be at least 1"),
            Error::InvalidEpsilon => {
                f.write_str("epsilon must lie within the square root of the type's range")
            }
            Error::InvalidTolerance => f.write_str("tolerance must be finite and > 0"),
            Error::InvalidAlpha => f.write_str("alpha must be finite and >= 0"),
            Error::InvalidSigma => f.write_str("sigma must be finite and > 0"),
            Error::InvalidScoreClip => f.write_str("score_clip must be finite and > 0"),
            Error::InvalidRho => f.write_str("rho must be finite and > 0"),
            Error::InvalidDamping => f.write_str("damping must lie in (0, 1]"),
            Error::InvalidMutationStepSize => {
                f.write_str("mutation step size must be finite and > 0")
            }
            Error::InvalidPreconditionRate => f.write_str("precondition rate must lie in (0, 1]"),
            Error::ParticlesLength { expected, found } => {
                write!(f, "particles hold {found} values, expected {expected}")
            }
            Error::ProposalCount { max, found } => {
                write!(f, "{found} proposals given, expected 1 to {max}")
            }
            Error::BufferLength { expected, found } => {
                write!(f, "buffer holds {found} values, expected {expected}")
            }
            Error::NonFiniteParticles => f.write_str("a particle coordinate is not finite"),
            Error::NonFiniteInput => f.write_str("an input is NaN or +inf"),
            Error::NonFiniteCost => f.write_str("the pairwise cost overflowed"),
            Error::NonFiniteCovariance => {
                f.write_str("the ensemble covariance overflowed or could not be factored")
            }
            Error::NonFiniteDensity => f.write_str("the log-density returned NaN or +inf"),
            Error::NonFiniteScore => f.write_str("the score returned a non-finite value"),
            Error::AllWeightsZero => f.write_str("every proposal has zero density"),
            Error::NoScore => f.write_str("the score was requested but the target has none"),
            Error::Target(code) => write!(f, "the target failed with code {code}"),
        }
    }
}

impl core::error::Error for Error {}

/// `Err(BufferLength)` unless `found == expected`.
#[inline]
pub(crate) fn check_len(found: usize, expected: usize) -> Result<(), Error> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::BufferLength { expected, found })
    }
}
