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

/// Defines one branch-free `exp` for a float type and its same-width bit type.
macro_rules! branch_free_exp {
    (
        $(#[$doc:meta])*
        fn $name:ident($t:ty, $bits:ty) {
            mantissa: $mantissa:expr, bias: $bias:expr,
            ln2: ($ln2_hi:expr, $ln2_lo:expr), range: ($lo:expr, $hi:expr),
            taylor: $taylor:expr,
        }
    ) => {
        $(#[$doc])*
        #[inline(always)]
        pub fn $name(x: $t) -> $t {
            const LOG2E: $t = core::f64::consts::LOG2_E as $t;
            // Adding 1.5 * 2^mantissa rounds to an integer held in the low mantissa bits.
            const SHIFT: $t = 1.5 * (1u64 << $mantissa) as $t;
            let xc = x.clamp($lo, $hi); // NaN stays NaN and propagates to the result
            let t = xc * LOG2E + SHIFT;
            let n = t - SHIFT;
            let r = (xc - n * $ln2_hi) - n * $ln2_lo;
            // Horner over the Taylor coefficients 1/k!, highest degree first.
            let p = $taylor.iter().fold(0.0, |p, &c| p * r + c);
            // The low bits of t hold n; shifted into the exponent field they give 2^n.
            let scale = <$t>::from_bits((t.to_bits() << $mantissa).wrapping_add($bias << $mantissa));
            let y = p * scale;
            if x < $lo {
                0.0
            } else if x > $hi {
                <$t>::INFINITY
            } else {
                y
            }
        }
    };
}

/// `1/k!` for `k = degree, ..., 1, 0`.
const fn taylor<const LEN: usize>() -> [f64; LEN] {
    let mut c = [1.0; LEN];
    let mut k = 1;
    while k < LEN {
        c[LEN - 1 - k] = c[LEN - k] / k as f64;
        k += 1;
    }
    c
}

/// Taylor coefficients of degree 13: truncation error < 2e-17 for `|r| <= ln2 / 2`.
const TAYLOR_F64: [f64; 14] = taylor();

/// Taylor coefficients of degree 7: truncation error < 6e-9 for `|r| <= ln2 / 2`.
const TAYLOR_F32: [f32; 8] = {
    let wide: [f64; 8] = taylor();
    let mut c = [0.0f32; 8];
    let mut k = 0;
    while k < 8 {
        c[k] = wide[k] as f32;
        k += 1;
    }
    c
};

branch_free_exp! {
    /// `e^x` for `f64`; relative error below 4e-16 where the result is normal.
    fn exp_f64(f64, u64) {
        mantissa: 52, bias: 1023,
        // ln2 split so that n * LN2_HI is exact for |n| < 2^11.
        ln2: (f64::from_bits(0x3fe6_2e42_fee0_0000), f64::from_bits(0x3dea_39ef_3579_3c76)),
        range: (-708.0, 709.0), // e^-708 is just above the smallest normal f64
        taylor: TAYLOR_F64,
    }
}

branch_free_exp! {
    /// `e^x` for `f32`; relative error below 3e-7 where the result is normal.
    fn exp_f32(f32, u32) {
        mantissa: 23, bias: 127,
        // ln2 split so that n * LN2_HI is exact for |n| < 2^8.
        ln2: (f32::from_bits(0x3f31_7200), f32::from_bits(0x35bf_be8e)),
        range: (-87.0, 88.0), // e^-87 is just above the smallest normal f32
        taylor: TAYLOR_F32,
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
