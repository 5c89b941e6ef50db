//! A branch-free `exp` for the kernel's hot loops, accurate to about two ulps.
//!
//! `libm`'s `exp` is correct but branchy, so a row of exponentials cannot be vectorised around
//! it. This one is the textbook construction: `x = n ln2 + r` with `|r| <= ln2 / 2` (Cody-Waite
//! split of `ln2`), a Taylor polynomial for `e^r`, and `2^n` assembled in the exponent bits. The
//! polynomial is evaluated by Estrin's scheme (terms paired with `r`, pairs combined with `r^2`,
//! `r^4`, `r^8`), whose dependency chain is logarithmic in the degree where Horner's rule is
//! linear, so a vector unit overlaps the work; with `FUSED` every step is a fused multiply-add.
//! It uses only compares, selects and arithmetic, so LLVM vectorises loops that call it.
//!
//! Results below the smallest normal number are flushed to exactly 0 (the kernel never needs
//! subnormal plan entries); `exp(-inf) = 0`, `exp(+inf) = +inf`, `exp(NaN) = NaN`. The unit
//! tests bound the error against `libm` over the whole range.

/// `a * b + c`, as one fused multiply-add when `FUSED` (only called with `FUSED` where the
/// CPU has the instruction: see [`crate::vector`]).
macro_rules! fma {
    ($t:ty) => {
        #[inline(always)]
        fn fma<const FUSED: bool>(a: $t, b: $t, c: $t) -> $t {
            #[cfg(feature = "std")]
            if FUSED {
                return a.mul_add(b, c);
            }
            a * b + c
        }
    };
}

/// `1/k!` for `k = 0, 1, ..., LEN - 1`.
const fn taylor<const LEN: usize>() -> [f64; LEN] {
    let mut c = [1.0; LEN];
    let mut k = 1;
    while k < LEN {
        c[k] = c[k - 1] / k as f64;
        k += 1;
    }
    c
}

/// `e^x` for `f64`, relative error below 5e-16 where the result is normal: Taylor degree 13
/// (truncation error below 2e-17 for `|r| <= ln2 / 2`).
pub mod f64_exp {
    fma!(f64);

    /// The Taylor coefficients `1/k!`, lowest degree first.
    const C: [f64; 14] = super::taylor();
    /// `ln 2` split so that `n * LN2_HI` is exact for `|n| < 2^11`.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    /// The rest of `ln 2`.
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    /// `e^-708` is just above the smallest normal `f64`.
    const LO: f64 = -708.0;
    /// `e^709` is just below the largest `f64`.
    const HI: f64 = 709.0;

    /// `e^x`.
    #[inline(always)]
    pub fn exp<const FUSED: bool>(x: f64) -> f64 {
        let y = scaled::<FUSED>(x.clamp(LO, HI)); // NaN stays NaN and propagates to the result
        if x < LO {
            0.0
        } else if x > HI {
            f64::INFINITY
        } else {
            y
        }
    }

    /// `e^x` for `x <= 709`, bit for bit as [`exp`]; above, the result is unspecified. For
    /// arguments that cannot overflow (the kernel's are shifted to at most half the exponent
    /// range), it spares [`exp`]'s clamp and overflow select.
    #[inline(always)]
    pub fn exp_up_to_max<const FUSED: bool>(x: f64) -> f64 {
        // Below LO the result is replaced by 0, so whatever `scaled` computes there is discarded.
        let y = scaled::<FUSED>(x);
        if x < LO {
            0.0
        } else {
            y
        }
    }

    /// `e^x` for `x` in `[LO, HI]`: `x = n ln2 + r`, the polynomial in `r`, times `2^n`.
    #[inline(always)]
    fn scaled<const FUSED: bool>(x: f64) -> f64 {
        // Adding 1.5 * 2^52 rounds to an integer held in the low mantissa bits.
        const SHIFT: f64 = 1.5 * (1u64 << 52) as f64;
        let t = fma::<FUSED>(x, core::f64::consts::LOG2_E, SHIFT);
        let n = t - SHIFT;
        let r = fma::<FUSED>(-n, LN2_LO, fma::<FUSED>(-n, LN2_HI, x));
        let (r2, r4) = (r * r, (r * r) * (r * r));
        let pair = |k: usize| fma::<FUSED>(C[k + 1], r, C[k]);
        let low = fma::<FUSED>(
            fma::<FUSED>(pair(6), r2, pair(4)),
            r4,
            fma::<FUSED>(pair(2), r2, pair(0)),
        );
        let high = fma::<FUSED>(
            pair(12),
            r4,
            fma::<FUSED>(pair(10), r2, pair(8)),
        );
        let p = fma::<FUSED>(high, r4 * r4, low);
        // The low bits of t hold n; shifted into the exponent field they give 2^n.
        let scale = f64::from_bits((t.to_bits() << 52).wrapping_add(1023 << 52));
        p * scale
    }
}

/// `e^x` for `f32`, relative error below 3e-7 where the result is normal: Taylor degree 7
/// (truncation error below 6e-9 for `|r| <= ln2 / 2`).
pub mod f32_exp {
    fma!(f32);

    /// The Taylor coefficients `1/k!`, lowest degree first.
    const C: [f32; 8] = {
        let wide: [f64; 8] = super::taylor();
        let mut c = [0.0f32; 8];
        let mut k = 0;
        while k < 8 {
            c[k] = wide[k] as f32;
            k += 1;
        }
        c
    };
    /// `ln 2` split so that `n * LN2_HI` is exact for `|n| < 2^8`.
    const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
    /// The rest of `ln 2`.
    const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
    /// `e^-87` is just above the smallest normal `f32`.
    const LO: f32 = -87.0;
    /// `e^88` is just below the largest `f32`.
    const HI: f32 = 88.0;

    /// `e^x`.
    #[inline(always)]
    pub fn exp<const FUSED: bool>(x: f32) -> f32 {
        let y = scaled::<FUSED>(x.clamp(LO, HI)); // NaN stays NaN and propagates to the result
        if x < LO {
            0.0
        } else if x > HI {
            f32::INFINITY
        } else {
            y
        }
    }

    /// `e^x` for `x <= 88`, bit for bit as [`exp`]; above, the result is unspecified. For
    /// arguments that cannot overflow (the kernel's are shifted to at most half the exponent
    /// range), it spares [`exp`]'s clamp and overflow select.
    #[inline(always)]
    pub fn exp_up_to_max<const FUSED: bool>(x: f32) -> f32 {
        // Below LO the result is replaced by 0, so whatever `scaled` computes there is discarded.
        let y = scaled::<FUSED>(x);
        if x < LO {
            0.0
        } else {
            y
        }
    }

    /// `e^x` for `x` in `[LO, HI]`: `x = n ln2 + r`, the polynomial in `r`, times `2^n`.
    #[inline(always)]
    fn scaled<const FUSED: bool>(x: f32) -> f32 {
        // Adding 1.5 * 2^23 rounds to an integer held in the low mantissa bits.
        const SHIFT: f32 = 1.5 * (1u32 << 23) as f32;
        let t = fma::<FUSED>(x, core::f32::consts::LOG2_E, SHIFT);
        let n = t - SHIFT;
        let r = fma::<FUSED>(-n, LN2_LO, fma::<FUSED>(-n, LN2_HI, x));
        let r2 = r * r;
        let pair = |k: usize| fma::<FUSED>(C[k + 1], r, C[k]);
        let low = fma::<FUSED>(pair(2), r2, pair(0));
        let high = fma::<FUSED>(pair(6), r2, pair(4));
        let p = fma::<FUSED>(high, r2 * r2, low);
        // The low bits of t hold n; shifted into the exponent field they give 2^n.
        let scale = f32::from_bits((t.to_bits() << 23).wrapping_add(127 << 23));
        p * scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp_f64(x: f64) -> f64 {
        f64_exp::exp::<false>(x)
    }

    fn exp_f32(x: f32) -> f32 {
        f32_exp::exp::<false>(x)
    }

    /// Largest relative error against libm over a dense sweep of [lo, hi].
    fn worst<F: Fn(f64) -> (f64, f64)>(lo: f64, hi: f64, f: F) -> f64 {
        let steps = 200_000;
        (0..=steps)
            .map(|i| {
                let x = lo + (hi - lo) * i as f64 / steps as f64;
                let (got, want) = f(x);
                ((got - want) / want).abs()
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn f64_matches_libm() {
        let err = worst(-707.0, 708.0, |x| (exp_f64(x), libm::exp(x)));
        assert!(err < 5e-16, "max relative error {err:e}");
        let fused = worst(-707.0, 708.0, |x| (f64_exp::exp::<true>(x), libm::exp(x)));
        assert!(fused < 5e-16, "fused: max relative error {fused:e}");
    }

    #[test]
    fn f32_matches_libm() {
        let fused: fn(f32) -> f32 = f32_exp::exp::<true>;
        for (name, f) in [("plain", exp_f32 as fn(f32) -> f32), ("fused", fused)] {
            let err = worst(-86.0, 87.0, |x| {
                let x = x as f32;
                (f(x) as f64, libm::exp(x as f64))
            });
            assert!(err < 3e-7, "{name}: max relative error {err:e}");
        }
    }

    /// `exp_up_to_max` is `exp` bit for bit wherever it is defined, underflow and NaN included.
    #[test]
    fn up_to_max_is_exp() {
        let steps = 100_000;
        for i in 0..=steps {
            let x = -1000.0 + 1709.0 * i as f64 / steps as f64;
            for fused in [false, true] {
                let (got, want) = match fused {
                    false => (f64_exp::exp_up_to_max::<false>(x), exp_f64(x)),
                    true => (f64_exp::exp_up_to_max::<true>(x), f64_exp::exp::<true>(x)),
                };
                assert_eq!(got.to_bits(), want.to_bits(), "f64 at {x}");
                let x = (x / 8.1) as f32; // -123 to 87.5
                let (got, want) = match fused {
                    false => (f32_exp::exp_up_to_max::<false>(x), exp_f32(x)),
                    true => (f32_exp::exp_up_to_max::<true>(x), f32_exp::exp::<true>(x)),
                };
                assert_eq!(got.to_bits(), want.to_bits(), "f32 at {x}");
            }
        }
        assert_eq!(f64_exp::exp_up_to_max::<false>(f64::NEG_INFINITY), 0.0);
        assert_eq!(f32_exp::exp_up_to_max::<false>(f32::NEG_INFINITY), 0.0);
        assert!(f64_exp::exp_up_to_max::<false>(f64::NAN).is_nan());
        assert!(f32_exp::exp_up_to_max::<false>(f32::NAN).is_nan());
    }

    #[test]
    fn special_values() {
        assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_f64(-1000.0), 0.0);
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(exp_f64(f64::INFINITY), f64::INFINITY);
        assert!(exp_f64(f64::NAN).is_nan());
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-100.0), 0.0);
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert!(exp_f32(f32::NAN).is_nan());
    }
}
