//! The scalar trait: one kernel, generic over `f32` and `f64` (and, with the `fast-math`
//! feature, [`FastF32`]).

use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point scalar the kernel runs on: `f32`, `f64`, or `FastF32` (feature
/// `fast-math`). The trait is sealed: the kernel's accuracy and overflow arguments are made for
/// these types only.
///
/// `exp` is the crate's branch-free, vectorisable polynomial (within 5e-16 relative of `libm`
/// in `f64`, 3e-7 in `f32`); `ln` is `libm`'s, computed on a host (`std`) by a branch-free
/// copy that gives the same bits and vectorises; `sqrt` is correctly rounded. The kernel only
/// ever calls `exp` on non-positive arguments (max-shifted log-sum-exp), so an approximate
/// `exp` can never overflow it.
pub trait Real:
    sealed::Sealed
    + Copy
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
    + Send
    + Sync
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

    /// Nearest value of this type to `x`.
    fn from_f64(x: f64) -> Self;
    /// Widen to `f64`.
    fn to_f64(self) -> f64;
    /// `e^self`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
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

/// What the kernel needs of a scalar beyond [`Real`]; outside the crate it can be neither
/// named nor implemented, which seals [`Real`].
pub(crate) mod sealed {
    /// The kernel's internal scalar operations.
    pub trait Sealed: Sized {
        /// Random bits in a uniform draw: the stored mantissa width (23 for `f32`, 52 for
        /// `f64`), so that `(k + 1/2) / 2^bits` is exact and strictly inside (0, 1).
        const UNIFORM_BITS: u32;
        /// `(k + 1/2) / 2^UNIFORM_BITS` for `k < 2^UNIFORM_BITS`: exact, in this type's own
        /// arithmetic (no `f64` on an `f32`-only FPU).
        fn uniform_from_bits(k: u64) -> Self;
        /// `ln` of the smallest positive normal value (-87.3 for `f32`, -708.4 for `f64`): below
        /// it the crate's `exp` returns 0.
        const LN_MIN_POSITIVE: f64;
        /// `self * a + b`, one fused multiply-add when `FUSED` (callers only pass `true` where
        /// the running CPU has the instruction: see `vector::vectorised!`).
        fn mul_add<const FUSED: bool>(self, a: Self, b: Self) -> Self;
        /// `e^self` (the kernel's polynomial), its steps fused when `FUSED`, for arguments
        /// that cannot overflow (up to `ln MAX`, 88 for `f32`, 709 for `f64`; above, the
        /// result is unspecified): the kernel's exponents are max-shifted to at most 0, or at
        /// most half the exponent range.
        fn exp_with<const FUSED: bool>(self) -> Self;
        /// `(sin 2 pi t, cos 2 pi t)` for `t = self` in `[0, 1)`.
        fn sin_cos_turns(self) -> (Self, Self);
        /// The bit pattern, zero-extended: for non-negative values it orders as the values do.
        fn to_bits(self) -> u64;
        /// The value as an index: truncated, saturating at 0 and `usize::MAX` (exact for the
        /// whole numbers below `2^UNIFORM_BITS` that the kernel stores as scalars).
        fn to_index(self) -> usize;
    }
}

/// NaN or `+inf`: the values a log-density or log-weight may never take (`-inf` is zero mass).
#[inline(always)]
pub(crate) fn is_nan_or_pos_inf<T: Real>(x: T) -> bool {
    x.is_nan() || x == T::INFINITY
}

/// Implements [`Real`] and its sealed half for a primitive float type from the given functions.
macro_rules! primitive_real {
    ($t:ty, $bits:expr, $ln_min:expr, $exp:ident, ($ln:path, $libm_ln:path), $sqrt:path, $turns:path, $abs:path) => {
        impl sealed::Sealed for $t {
            const UNIFORM_BITS: u32 = $bits;
            const LN_MIN_POSITIVE: f64 = $ln_min;

            #[inline(always)]
            fn mul_add<const FUSED: bool>(self, a: Self, b: Self) -> Self {
                #[cfg(feature = "std")]
                if FUSED {
                    return <$t>::mul_add(self, a, b);
                }
                self * a + b
            }
            #[inline(always)]
            fn exp_with<const FUSED: bool>(self) -> Self {
                // The same bits either way. Hosts spare the overflow clamp and select; a
                // microcontroller keeps them (without, its weighing stage compiled to 23% more
                // instructions).
                if cfg!(feature = "std") {
                    crate::exp::$exp::exp_up_to_max::<FUSED>(self)
                } else {
                    crate::exp::$exp::exp::<FUSED>(self)
                }
            }

            #[inline(always)]
            fn uniform_from_bits(k: u64) -> Self {
                const SCALE: $t = 1.0 / (1u64 << $bits) as $t;
                (k as $t + 0.5) * SCALE
            }
            #[inline(always)]
            fn sin_cos_turns(self) -> (Self, Self) {
                $turns(self)
            }
            #[inline(always)]
            fn to_bits(self) -> u64 {
                <$t>::to_bits(self).into()
            }
            #[inline(always)]
            fn to_index(self) -> usize {
                self as usize
            }
        }

        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const INFINITY: Self = <$t>::INFINITY;
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            const EPSILON: Self = <$t>::EPSILON;

            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn exp(self) -> Self {
                crate::exp::$exp::exp::<false>(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                // Bit-identical: the branch-free one vectorises on a host; on a microcontroller,
                // with no vector unit, `libm`'s branches are cheaper and its code is shared.
                #[cfg(feature = "std")]
                return $ln(self);
                #[cfg(not(feature = "std"))]
                $libm_ln(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                // Both are correctly rounded; the standard library's is an instruction the
                // compiler can vectorise, `libm`'s an opaque one.
                #[cfg(feature = "std")]
                return <$t>::sqrt(self);
                #[cfg(not(feature = "std"))]
                $sqrt(self)
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

primitive_real!(
    f64,
    52,
    -708.396_418_532_264_1,
    f64_exp,
    (crate::ln::f64_ln::ln, libm::log),
    libm::sqrt,
    crate::turns::f64_sin_cos,
    libm::fabs
);

primitive_real!(
    f32,
    23,
    -87.336_544_750_553_1,
    f32_exp,
    (crate::ln::f32_ln::ln, libm::logf),
    libm::sqrtf,
    crate::turns::f32_sin_cos,
    libm::fabsf
);

#[cfg(feature = "fast-math")]
pub use fast::FastF32;

/// [`FastF32`]: `f32` with `micromath`'s approximate `exp` and `ln`.
#[cfg(feature = "fast-math")]
mod fast {
    use super::{sealed, Real};
    use core::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};
    use micromath::F32Ext;

    /// An `f32` whose `exp` and `ln` are `micromath`'s bit-trick approximations (feature
    /// `fast-math`): relative error about 2e-3 for `exp` on [-30, 0], absolute error about 6e-5
    /// for `ln` on [1e-7, 1e4]. Everything else is plain `f32`.
    ///
    /// It is a separate type, chosen explicitly per sampler (`Etd<FastF32, ..>`), so enabling
    /// the feature changes nothing for code that uses `f32`. Measured on a Cortex-M4F it is
    /// slower than the kernel's own polynomial `exp` (see `docs/embedded.md`); it exists for
    /// targets whose FPU lacks fused multiply-add or where code size matters more.
    #[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
    #[cfg_attr(feature = "defmt", derive(defmt::Format))]
    #[repr(transparent)]
    pub struct FastF32(pub f32);

    impl core::fmt::Display for FastF32 {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            core::fmt::Display::fmt(&self.0, f)
        }
    }

    /// The arithmetic operators of `f32`, lane for lane.
    macro_rules! forward_ops {
        ($($op:ident $method:ident $assign:ident $assign_method:ident),*) => {$(
            impl $op for FastF32 {
                type Output = Self;
                #[inline(always)]
                fn $method(self, rhs: Self) -> Self {
                    FastF32($op::$method(self.0, rhs.0))
                }
            }
            impl $assign for FastF32 {
                #[inline(always)]
                fn $assign_method(&mut self, rhs: Self) {
                    $assign::$assign_method(&mut self.0, rhs.0);
                }
            }
        )*};
    }

    forward_ops!(
        Add add AddAssign add_assign,
        Sub sub SubAssign sub_assign,
        Mul mul MulAssign mul_assign
    );

    impl Div for FastF32 {
        type Output = Self;
        #[inline(always)]
        fn div(self, rhs: Self) -> Self {
            FastF32(self.0 / rhs.0)
        }
    }

    impl Neg for FastF32 {
        type Output = Self;
        #[inline(always)]
        fn neg(self) -> Self {
            FastF32(-self.0)
        }
    }

    /// Below this `e^x` is under `f32`'s smallest normal and is returned as exactly 0.
    const EXP_FLOOR: f32 = -87.0;

    impl sealed::Sealed for FastF32 {
        const UNIFORM_BITS: u32 = <f32 as sealed::Sealed>::UNIFORM_BITS;
        const LN_MIN_POSITIVE: f64 = <f32 as sealed::Sealed>::LN_MIN_POSITIVE;

        #[inline(always)]
        fn mul_add<const FUSED: bool>(self, a: Self, b: Self) -> Self {
            FastF32(sealed::Sealed::mul_add::<FUSED>(self.0, a.0, b.0))
        }
        #[inline(always)]
        fn exp_with<const FUSED: bool>(self) -> Self {
            Real::exp(self)
        }

        #[inline(always)]
        fn uniform_from_bits(k: u64) -> Self {
            FastF32(f32::uniform_from_bits(k))
        }
        #[inline(always)]
        fn sin_cos_turns(self) -> (Self, Self) {
            let (sin, cos) = sealed::Sealed::sin_cos_turns(self.0);
            (FastF32(sin), FastF32(cos))
        }
        #[inline(always)]
        fn to_bits(self) -> u64 {
            sealed::Sealed::to_bits(self.0)
        }
        #[inline(always)]
        fn to_index(self) -> usize {
            sealed::Sealed::to_index(self.0)
        }
    }

    impl Real for FastF32 {
        const ZERO: Self = FastF32(0.0);
        const ONE: Self = FastF32(1.0);
        const INFINITY: Self = FastF32(f32::INFINITY);
        const NEG_INFINITY: Self = FastF32(f32::NEG_INFINITY);
        const EPSILON: Self = FastF32(f32::EPSILON);

        #[inline(always)]
        fn from_f64(x: f64) -> Self {
            FastF32(x as f32)
        }
        #[inline(always)]
        fn to_f64(self) -> f64 {
            self.0 as f64
        }
        /// Approximate `e^x`: exactly 0 below `-87`, never negative or NaN for finite input.
        #[inline(always)]
        fn exp(self) -> Self {
            let x = self.0;
            let y = F32Ext::exp(x.max(EXP_FLOOR)).max(0.0);
            FastF32(if x < EXP_FLOOR { 0.0 } else { y })
        }
        /// Approximate natural logarithm (`-inf` at 0, as the exact one). `micromath`'s `ln`
        /// is accurate above 1 but off by up to 0.12 below it, so `ln x = -ln(1/x)` there.
        #[inline(always)]
        fn ln(self) -> Self {
            let x = self.0;
            FastF32(if x == 0.0 {
                f32::NEG_INFINITY
            } else if x < 1.0 {
                -F32Ext::ln(1.0 / x)
            } else {
                F32Ext::ln(x)
            })
        }
        #[inline(always)]
        fn sqrt(self) -> Self {
            FastF32(Real::sqrt(self.0))
        }
        #[inline(always)]
        fn abs(self) -> Self {
            FastF32(Real::abs(self.0))
        }
        #[inline(always)]
        fn is_finite(self) -> bool {
            self.0.is_finite()
        }
        #[inline(always)]
        fn is_nan(self) -> bool {
            self.0.is_nan()
        }
    }
}
