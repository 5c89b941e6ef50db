//! The `_f32` and `_f64` twins of the C ABI behind one trait, so each harness is written once.
#![allow(clippy::missing_safety_doc, clippy::too_many_arguments)]

use crate::input::Input;
use core::ffi::{c_int, c_void};
use etd::{etd_config, etd_error, etd_sinkhorn_stats, etd_step_stats};

/// A batch callback of either kind, for scalar `T`.
pub type Callback<T> = unsafe extern "C" fn(*mut c_void, *const T, usize, usize, *mut T) -> c_int;

/// A scalar type of the ABI and its entry points (each as documented in `include/etd.h`).
pub trait Scalar: Copy + core::fmt::Debug + 'static {
    type Sampler;
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    /// The value with these bits (the low 32 for f32).
    fn from_bits(bits: u64) -> Self;
    fn bits(self) -> u64;

    /// A number from the input.
    fn number(input: &mut Input<'_>) -> Self {
        input.number().map_or_else(Self::from_bits, Self::from_f64)
    }

    unsafe fn sinkhorn(
        cost: *const Self,
        n: usize,
        p: usize,
        log_a: *const Self,
        log_b: *const Self,
        params: (Self, u32, Self, u32, Self),
        f: *mut Self,
        g: *mut Self,
        stats: *mut etd_sinkhorn_stats,
    ) -> i32;
    unsafe fn sinkhorn_scratch(
        cost: *const Self,
        n: usize,
        p: usize,
        log_a: *const Self,
        log_b: *const Self,
        params: (Self, u32, Self, u32, Self),
        f: *mut Self,
        g: *mut Self,
        scratch: (*mut Self, usize),
        stats: *mut etd_sinkhorn_stats,
    ) -> i32;
    unsafe fn sinkhorn_check(
        cost: *const Self,
        n: usize,
        p: usize,
        log_a: *const Self,
        log_b: *const Self,
        params: (Self, u32, Self, u32, Self),
        f: *mut Self,
        g: *mut Self,
        scratch: (*mut Self, usize),
        out: *mut etd_error,
    ) -> i32;
    unsafe fn size(cfg: *const etd_config) -> usize;
    unsafe fn init(
        mem: *mut c_void,
        mem_len: usize,
        cfg: *const etd_config,
        seed: u64,
        out: *mut *mut Self::Sampler,
    ) -> i32;
    unsafe fn step(
        s: *mut Self::Sampler,
        particles: *mut Self,
        log_density: Option<Callback<Self>>,
        score: Option<Callback<Self>>,
        user: *mut c_void,
        stats: *mut etd_step_stats,
    ) -> i32;
    unsafe fn transport(
        s: *mut Self::Sampler,
        particles: *mut Self,
        proposals: *const Self,
        count: usize,
        log_weights: *const Self,
        stats: *mut etd_step_stats,
    ) -> i32;
    unsafe fn resample(
        s: *mut Self::Sampler,
        particles: *mut Self,
        proposals: *const Self,
        count: usize,
        log_weights: *const Self,
    ) -> i32;
    unsafe fn ess(log_weights: *const Self, count: usize, out: *mut f64) -> i32;
    unsafe fn set_precondition(s: *mut Self::Sampler, rate: f64) -> i32;
    unsafe fn last_error(s: *const Self::Sampler, out: *mut etd_error) -> i32;
}

/// Implements [`Scalar`] for `$t` (bits `$bits`, handle `$sampler`) with these `etd_*`
/// functions, in the order of the trait.
macro_rules! scalar {
    ($t:ty, $bits:ty, $sampler:ty, [$sinkhorn:ident, $scratch:ident, $check:ident, $size:ident,
        $init:ident, $step:ident, $transport:ident, $resample:ident, $ess:ident,
        $precondition:ident, $last_error:ident $(,)?]) => {
        impl Scalar for $t {
            type Sampler = $sampler;
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            fn to_f64(self) -> f64 {
                self.into()
            }
            fn from_bits(bits: u64) -> Self {
                <$t>::from_bits(bits as $bits)
            }
            fn bits(self) -> u64 {
                self.to_bits().into()
            }
            unsafe fn sinkhorn(
                cost: *const Self,
                n: usize,
                p: usize,
                log_a: *const Self,
                log_b: *const Self,
                (eps, coupling, rho, iterations, tolerance): (Self, u32, Self, u32, Self),
                f: *mut Self,
                g: *mut Self,
                stats: *mut etd_sinkhorn_stats,
            ) -> i32 {
                etd::$sinkhorn(
                    cost, n, p, log_a, log_b, eps, coupling, rho, iterations, tolerance, f, g,
                    stats,
                )
            }
            unsafe fn sinkhorn_scratch(
                cost: *const Self,
                n: usize,
                p: usize,
                log_a: *const Self,
                log_b: *const Self,
                (eps, coupling, rho, iterations, tolerance): (Self, u32, Self, u32, Self),
                f: *mut Self,
                g: *mut Self,
                (scratch, len): (*mut Self, usize),
                stats: *mut etd_sinkhorn_stats,
            ) -> i32 {
                etd::$scratch(
                    cost, n, p, log_a, log_b, eps, coupling, rho, iterations, tolerance, f, g,
                    scratch, len, stats,
                )
            }
            unsafe fn sinkhorn_check(
                cost: *const Self,
                n: usize,
                p: usize,
                log_a: *const Self,
                log_b: *const Self,
                (eps, coupling, rho, iterations, tolerance): (Self, u32, Self, u32, Self),
                f: *mut Self,
                g: *mut Self,
                (scratch, len): (*mut Self, usize),
                out: *mut etd_error,
            ) -> i32 {
                etd::$check(
                    cost, n, p, log_a, log_b, eps, coupling, rho, iterations, tolerance, f, g,
                    scratch, len, out,
                )
            }
            unsafe fn size(cfg: *const etd_config) -> usize {
                etd::$size(cfg)
            }
            unsafe fn init(
                mem: *mut c_void,
                mem_len: usize,
                cfg: *const etd_config,
                seed: u64,
                out: *mut *mut Self::Sampler,
            ) -> i32 {
                etd::$init(mem, mem_len, cfg, seed, out)
            }
            unsafe fn step(
                s: *mut Self::Sampler,
                particles: *mut Self,
                log_density: Option<Callback<Self>>,
                score: Option<Callback<Self>>,
                user: *mut c_void,
                stats: *mut etd_step_stats,
            ) -> i32 {
                etd::$step(s, particles, log_density, score, user, stats)
            }
            unsafe fn transport(
                s: *mut Self::Sampler,
                particles: *mut Self,
                proposals: *const Self,
                count: usize,
                log_weights: *const Self,
                stats: *mut etd_step_stats,
            ) -> i32 {
                etd::$transport(s, particles, proposals, count, log_weights, stats)
            }
            unsafe fn resample(
                s: *mut Self::Sampler,
                particles: *mut Self,
                proposals: *const Self,
                count: usize,
                log_weights: *const Self,
            ) -> i32 {
                etd::$resample(s, particles, proposals, count, log_weights)
            }
            unsafe fn ess(log_weights: *const Self, count: usize, out: *mut f64) -> i32 {
                etd::$ess(log_weights, count, out)
            }
            unsafe fn set_precondition(s: *mut Self::Sampler, rate: f64) -> i32 {
                etd::$precondition(s, rate)
            }
            unsafe fn last_error(s: *const Self::Sampler, out: *mut etd_error) -> i32 {
                etd::$last_error(s, out)
            }
        }
    };
}

scalar!(
    f64,
    u64,
    etd::etd_sampler_f64,
    [
        etd_sinkhorn_f64,
        etd_sinkhorn_scratch_f64,
        etd_sinkhorn_check_f64,
        etd_sampler_size_f64,
        etd_sampler_init_f64,
        etd_sampler_step_f64,
        etd_sampler_transport_f64,
        etd_sampler_resample_f64,
        etd_weight_ess_f64,
        etd_sampler_set_precondition_f64,
        etd_sampler_last_error_f64,
    ]
);

scalar!(
    f32,
    u32,
    etd::etd_sampler_f32,
    [
        etd_sinkhorn_f32,
        etd_sinkhorn_scratch_f32,
        etd_sinkhorn_check_f32,
        etd_sampler_size_f32,
        etd_sampler_init_f32,
        etd_sampler_step_f32,
        etd_sampler_transport_f32,
        etd_sampler_resample_f32,
        etd_weight_ess_f32,
        etd_sampler_set_precondition_f32,
        etd_sampler_last_error_f32,
    ]
);
