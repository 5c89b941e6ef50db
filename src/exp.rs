//! A branch-free `exp` for the kernel's hot loops, accurate to about one ulp.
//!
//! `libm`'s `exp` is correct but branchy, so a row of log-sum-exp cannot be vectorised around
//! it. This one is the textbook construction: `x = n ln2 + r` with `|r| <= ln2 / 2` (Cody-Waite
//! split of `ln2`), a Taylor polynomial for `e^r`, and `2^n` assembled in the exponent bits. It
//! uses only compares, selects and arithmetic, so LLVM vectorises loops that call it.
//!
//! Results below the smallest normal number are flushed to exactly 0 (the log-domain kernel
//! never needs subnormal plan entries); `exp(-inf) = 0`, `exp(+inf) = +inf`, `exp(NaN) = NaN`.
//! The unit tests bound the error against `libm` over the whole range.

/// Shift that rounds a `f64` to an integer in its low mantissa bits: 1.5 * 2^52.
const SHIFT_F64: f64 = 6_755_399_441_055_744.0;
/// Shift that rounds a `f32` to an integer in its low mantissa bits: 1.5 * 2^23.
const SHIFT_F32: f32 = 12_582_912.0;

/// `e^x` for `f64`; relative error below 4e-16 where the result is normal.
#[inline(always)]
pub fn exp_f64(x: f64) -> f64 {
    const LOG2E: f64 = core::f64::consts::LOG2_E;
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // ln2 with 32 trailing zero bits
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // ln2 - LN2_HI
    const LO: f64 = -708.0; // e^-708 is just above the smallest normal f64
    const HI: f64 = 709.0;
    let xc = x.clamp(LO, HI); // NaN stays NaN and propagates to the result
    let t = xc * LOG2E + SHIFT_F64;
    let n = t - SHIFT_F64;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    // Taylor series of e^r to degree 13: truncation error < 2e-17 for |r| <= ln2 / 2.
    let mut p = 1.0 / 6_227_020_800.0;
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // The low 12 bits of t's mantissa hold n; shifted into the exponent field they give 2^n.
    let scale = f64::from_bits((t.to_bits() << 52).wrapping_add(1023 << 52));
    let y = p * scale;
    if x < LO {
        0.0
    } else if x > HI {
        f64::INFINITY
    } else {
        y
    }
}

/// `e^x` for `f32`; relative error below 3e-7 where the result is normal.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = core::f32::consts::LOG2_E;
    const LN2_HI: f32 = f32::from_bits(0x3f31_7200); // ln2 with 12 trailing zero bits
    const LN2_LO: f32 = f32::from_bits(0x35bf_be8e); // ln2 - LN2_HI
    const LO: f32 = -87.0; // e^-87 is just above the smallest normal f32
    const HI: f32 = 88.0;
    let xc = x.clamp(LO, HI); // NaN stays NaN and propagates to the result
    let t = xc * LOG2E + SHIFT_F32;
    let n = t - SHIFT_F32;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    // Taylor series of e^r to degree 7: truncation error < 6e-9 for |r| <= ln2 / 2.
    let mut p = 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    let scale = f32::from_bits((t.to_bits() << 23).wrapping_add(127 << 23));
    let y = p * scale;
    if x < LO {
        0.0
    } else if x > HI {
        f32::INFINITY
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(err < 4e-16, "max relative error {err:e}");
    }

    #[test]
    fn f32_matches_libm() {
        let err = worst(-86.0, 87.0, |x| {
            let x = x as f32;
            (exp_f32(x) as f64, libm::exp(x as f64))
        });
        assert!(err < 3e-7, "max relative error {err:e}");
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
