//! A branch-free natural logarithm that returns exactly what `libm`'s does.
//!
//! `libm`'s `log` and `logf` (fdlibm's construction) branch on their argument's class, so a
//! loop around them cannot be vectorised. This is the same computation with the branches
//! turned into selects: `x = 2^k m` with `m` in `[sqrt(1/2), sqrt(2))` (from the bit pattern;
//! a subnormal `x` is first scaled by `2^54`, or `2^25` in `f32`), `f = m - 1`,
//! `s = f / (2 + f)`, and `ln(1 + f)` from `libm`'s polynomial in `s^2`, every operation in
//! `libm`'s order. Plain multiplications and additions, never fused, so the result is `libm`'s
//! bit for bit on any machine, vectorised or not; the unit tests check it on every class of
//! argument. `ln(0) = -inf`, `ln(x < 0) = NaN`, `ln(+inf) = +inf`, `ln(NaN) = NaN`.

/// `ln x` for `f64`, bit-identical to `libm::log`.
pub mod f64_ln {
    /// `ln 2` split so that `k * LN2_HI` is exact for every exponent `k`.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    /// The rest of `ln 2`.
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    /// `libm`'s coefficients of `(ln(1 + s) - ln(1 - s)) / s` in powers of `s^2`.
    const LG: [f64; 7] = [
        f64::from_bits(0x3fe5_5555_5555_5593),
        f64::from_bits(0x3fd9_9999_9997_fa04),
        f64::from_bits(0x3fd2_4924_9422_9359),
        f64::from_bits(0x3fcc_71c5_1d8e_78af),
        f64::from_bits(0x3fc7_4664_96cb_03de),
        f64::from_bits(0x3fc3_9a09_d078_c69f),
        f64::from_bits(0x3fc2_f112_df3e_5244),
    ];
    /// The high word of `sqrt(1/2)`: mantissas from it up are taken for `[sqrt(1/2), 1)`.
    const SQRT_HALF_HIGH: u64 = 0x3fe6_a09e;

    /// `ln x`.
    #[inline(always)]
    pub fn ln(x: f64) -> f64 {
        let subnormal = x < f64::MIN_POSITIVE;
        let scaled = if subnormal { x * f64::from_bits(0x4350_0000_0000_0000) } else { x };
        // Move the high word's mantissa boundary from 1 to sqrt(1/2): the exponent field then
        // holds k + 1023, and the mantissa with the exponent of sqrt(1/2) is m.
        let bits = scaled.to_bits().wrapping_add((0x3ff0_0000 - SQRT_HALF_HIGH) << 32);
        let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) + (SQRT_HALF_HIGH << 32));
        // k as an f64 without an integer conversion: 2^52 + field is exact.
        let field = f64::from_bits(0x4330_0000_0000_0000 | (bits >> 52));
        let dk = field - (4_503_599_627_370_496.0 + 1023.0)
            - if subnormal { 54.0 } else { 0.0 };
        let f = m - 1.0;
        let hfsq = 0.5 * f * f;
        let s = f / (2.0 + f);
        let z = s * s;
        let w = z * z;
        let t1 = w * (LG[1] + w * (LG[3] + w * LG[5]));
        let t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
        let r = t2 + t1;
        let y = s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI;
        if x > 0.0 && x < f64::INFINITY {
            y
        } else if x == 0.0 {
            f64::NEG_INFINITY
        } else if x == f64::INFINITY {
            x
        } else {
            f64::NAN
        }
    }
}

/// `ln x` for `f32`, bit-identical to `libm::logf`.
pub mod f32_ln {
    /// `ln 2` split so that `k * LN2_HI` is exact for every exponent `k`.
    const LN2_HI: f32 = f32::from_bits(0x3f31_7180);
    /// The rest of `ln 2`.
    const LN2_LO: f32 = f32::from_bits(0x3717_f7d1);
    /// `libm`'s coefficients of `(ln(1 + s) - ln(1 - s)) / s` in powers of `s^2`.
    const LG: [f32; 4] = [
        f32::from_bits(0x3f2a_aaaa),
        f32::from_bits(0x3ecc_ce13),
        f32::from_bits(0x3e91_e9ee),
        f32::from_bits(0x3e78_9e26),
    ];
    /// The bits of `sqrt(1/2)`: mantissas from it up are taken for `[sqrt(1/2), 1)`.
    const SQRT_HALF: u32 = 0x3f35_04f3;

    /// `ln x`.
    #[inline(always)]
    pub fn ln(x: f32) -> f32 {
        let subnormal = x < f32::MIN_POSITIVE;
        let scaled = if subnormal { x * f32::from_bits(0x4c00_0000) } else { x };
        let bits = scaled.to_bits().wrapping_add(0x3f80_0000 - SQRT_HALF);
        let m = f32::from_bits((bits & 0x007f_ffff) + SQRT_HALF);
        // k as an f32 without an integer conversion: 2^23 + field is exact.
        let field = f32::from_bits(0x4b00_0000 | (bits >> 23));
        let dk = field - (8_388_608.0 + 127.0) - if subnormal { 25.0 } else { 0.0 };
        let f = m - 1.0;
        let s = f / (2.0 + f);
        let z = s * s;
        let w = z * z;
        let t1 = w * (LG[1] + w * LG[3]);
        let t2 = z * (LG[0] + w * LG[2]);
        let r = t2 + t1;
        let hfsq = 0.5 * f * f;
        let y = s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI;
        if x > 0.0 && x < f32::INFINITY {
            y
        } else if x == 0.0 {
            f32::NEG_INFINITY
        } else if x == f32::INFINITY {
            x
        } else {
            f32::NAN
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit patterns that cover every class: zeros, subnormals, normals across the exponent
    /// range and near the reduction's boundaries, infinities, NaN and negatives.
    fn f64_cases() -> impl Iterator<Item = f64> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let random = (0..400_000).map(move |_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            f64::from_bits(state >> 1)
        });
        let around = [1.0, core::f64::consts::FRAC_1_SQRT_2, 2.0, f64::MIN_POSITIVE]
            .into_iter()
            .flat_map(|c: f64| (0..2000u64).flat_map(move |k| [c.to_bits() + k, c.to_bits() - k]))
            .map(f64::from_bits);
        let special = [0.0, -0.0, 5e-324, f64::MAX, f64::INFINITY, -1.0, f64::NEG_INFINITY];
        random.chain(around).chain(special).chain([f64::NAN])
    }

    #[test]
    fn f64_is_libm_bit_for_bit() {
        for x in f64_cases() {
            let (got, want) = (f64_ln::ln(x), libm::log(x));
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "ln({x:e}) = {got:e}, libm {want:e}"
            );
        }
    }

    #[test]
    fn f32_is_libm_bit_for_bit() {
        let special = [0.0, -0.0, 1e-45, f32::MAX, f32::INFINITY, -1.0, f32::NEG_INFINITY];
        // Every positive f32 in steps of 997 ulps, and the special values.
        let positive = (0..0x7f80_0000u32).step_by(997).map(f32::from_bits);
        for x in positive.chain(special).chain([f32::NAN]) {
            let (got, want) = (f32_ln::ln(x), libm::logf(x));
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "ln({x:e}) = {got:e}, libm {want:e}"
            );
        }
    }
}
