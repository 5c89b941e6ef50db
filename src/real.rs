//! The scalar trait: one kernel, generic over `f32` and `f64`.

use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point scalar the kernel runs on (`f32` or `f64`).
///
/// `exp` is the crate's branch-free, vectorisable [`crate::exp`] (about one ulp); the other
/// functions come from `libm`. With the `fast-math` feature, `f32` uses
/// `micromath`'s approximate `exp` and `ln` instead; the kernel only ever calls `exp` on
/// non-positive arguments (max-shifted log-sum-exp), and the fast `exp` clamps its argument so
/// a coarse approximation can never produce a negative or non-finite value.
pub trait Real:
    Copy
    + PartialOrd
    + Debug
    + Display
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + 'static
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Positive infinity.
    const INFINITY: Self;
    /// Negative infinity: the log of a zero weight.
    const NEG_INFINITY: Self;
    /// Machine epsilon: the gap between 1 and the next value of the type.
    const EPSILON: Self;
    /// Random bits in a uniform draw: the stored mantissa width (23 for `f32`, 52 for `f64`),
    /// so that `(k + 1/2) / 2^bits` is exact and strictly inside (0, 1).
    const UNIFORM_BITS: u32;

    /// Nearest value of this type to `x`.
    fn from_f64(x: f64) -> Self;
    /// `(k + 1/2) / 2^UNIFORM_BITS` for `k < 2^UNIFORM_BITS`: exact, in this type's own
    /// arithmetic (no `f64` on an `f32`-only FPU).
    fn uniform_from_bits(k: u64) -> Self;
    /// Widen to `f64`.
    fn to_f64(self) -> f64;
    /// `e^self`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Cosine (radians).
    fn cos(self) -> Self;
    /// Sine (radians).
    fn sin(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// `true` unless NaN or infinite.
    fn is_finite(self) -> bool;
    /// `true` for NaN.
    fn is_nan(self) -> bool;

    /// The larger of two values (NaN-ignoring, as `f64::max`).
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        if self >= other || other.is_nan() {
            self
        } else {
            other
        }
    }

    /// The smaller of two values (NaN-ignoring, as `f64::min`).
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        if self <= other || other.is_nan() {
            self
        } else {
            other
        }
    }

    /// `n` as this type (exact for counts below 2^24).
    #[inline(always)]
    fn from_usize(n: usize) -> Self {
        Self::from_f64(n as f64)
    }
}

/// NaN or `+inf`: the values a log-density or log-weight may never take (`-inf` is zero mass).
#[inline(always)]
pub(crate) fn is_nan_or_pos_inf<T: Real>(x: T) -> bool {
    x.is_nan() || x == T::INFINITY
}

macro_rules! libm_real {
    ($t:ty, $bits:expr, $exp:path, $ln:path, $sqrt:path, $cos:path, $sin:path, $abs:path) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const INFINITY: Self = <$t>::INFINITY;
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            const EPSILON: Self = <$t>::EPSILON;
            const UNIFORM_BITS: u32 = $bits;

            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn uniform_from_bits(k: u64) -> Self {
                const SCALE: $t = 1.0 / (1u64 << $bits) as $t;
                (k as $t + 0.5) * SCALE
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                $ln(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                $sqrt(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                $cos(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                $sin(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $abs(self)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
        }
    };
}

libm_real!(
    f64,
    52,
    crate::exp::exp_f64,
    libm::log,
    libm::sqrt,
    libm::cos,
    libm::sin,
    libm::fabs
);

#[cfg(not(feature = "fast-math"))]
libm_real!(
    f32,
    23,
    crate::exp::exp_f32,
    libm::logf,
    libm::sqrtf,
    libm::cosf,
    libm::sinf,
    libm::fabsf
);

#[cfg(feature = "fast-math")]
libm_real!(
    f32,
    23,
    fast::exp,
    fast::ln,
    libm::sqrtf,
    libm::cosf,
    libm::sinf,
    libm::fabsf
);

/// `micromath`'s approximations, made safe for the log-domain kernel.
#[cfg(feature = "fast-math")]
mod fast {
    use micromath::F32Ext;

    /// Below this `e^x` is under `f32`'s smallest normal and is returned as exactly 0.
    const EXP_FLOOR: f32 = -87.0;

    /// Approximate `e^x`; exactly 0 below [`EXP_FLOOR`], never negative or NaN for finite input.
    #[inline(always)]
    pub fn exp(x: f32) -> f32 {
        let y = F32Ext::exp(x.max(EXP_FLOOR)).max(0.0);
        if x < EXP_FLOOR {
            0.0
        } else {
            y
        }
    }

    /// Approximate natural logarithm (`-inf` at 0, as the exact one).
    #[inline(always)]
    pub fn ln(x: f32) -> f32 {
        if x == 0.0 {
            f32::NEG_INFINITY
        } else {
            F32Ext::ln(x)
        }
    }
}
