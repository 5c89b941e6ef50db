//! # etd: the C ABI of entropic-transport
//!
//! Thin `extern "C"` wrappers over the [`entropic_transport`] kernel; no maths lives here.
//! The header `include/etd.h` is generated from this crate by cbindgen (see
//! `ffi/tests/header.rs`) and committed.
//!
//! | module | C symbols |
//! |---|---|
//! | `status` | `etd_status`, `etd_detail`, `etd_error`, `etd_status_str`, `etd_detail_str`, and the mapping from the kernel's `Error` |
//! | `config` | `etd_config`, `etd_config_default`, `etd_config_filter`, the coupling and update constants |
//! | `sampler` | `etd_sampler_{size,init,step,set_precondition,last_error}_{f64,f32}` over caller memory, `etd_config_check_{f64,f32}` |
//! | `filter` | `etd_sampler_{transport,resample}_{f64,f32}`, `etd_weight_ess_{f64,f32}`: the particle-filter entries |
//! | `sinkhorn` | `etd_sinkhorn_{f64,f32}`, `etd_sinkhorn_scratch_{f64,f32}`, `etd_sinkhorn_check_{f64,f32}` |
//! | `guard` | (internal) null checks, slice checks and the panic boundary |
//!
//! Every `_f64` / `_f32` pair is a one-line call into one generic implementation.
//!
//! ## Builds
//!
//! - Hosted (default feature `std`): a panic is caught at the boundary and returned as
//!   `ETD_ERR_PANIC`; it never unwinds into C. The library never allocates in either build.
//! - Bare metal (`--no-default-features --target thumbv7em-none-eabihf`): `#![no_std]`, no heap,
//!   and a panic handler that halts in a loop (it never unwinds). Only `libetd.a` is produced
//!   there: rustc drops `cdylib` for targets without dynamic linking.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]
// The safety contract of each `extern "C"` function is its C documentation (which pointers may
// be NULL, how many values each holds), written for C readers in `include/etd.h`.
#![allow(clippy::missing_safety_doc)]
// `@param[in]` / `@param[out]` are Doxygen markers for the C header, not rustdoc links.
#![allow(rustdoc::broken_intra_doc_links)]

#[macro_use]
mod guard;
mod config;
mod filter;
mod sampler;
mod sinkhorn;
mod status;

pub use config::{
    etd_config, etd_config_default, etd_config_filter, ETD_COUPLING_BALANCED, ETD_COUPLING_GIBBS,
    ETD_COUPLING_UNBALANCED, ETD_UPDATE_BARYCENTRIC, ETD_UPDATE_CATEGORICAL, ETD_UPDATE_ROUNDED,
};
pub use filter::{
    etd_sampler_resample_f32, etd_sampler_resample_f64, etd_sampler_transport_f32,
    etd_sampler_transport_f64, etd_weight_ess_f32, etd_weight_ess_f64,
};
pub use sampler::{
    etd_config_check_f32, etd_config_check_f64, etd_log_density_f32, etd_log_density_f64,
    etd_sampler_f32, etd_sampler_f64, etd_sampler_init_f32, etd_sampler_init_f64,
    etd_sampler_last_error_f32, etd_sampler_last_error_f64, etd_sampler_set_precondition_f32,
    etd_sampler_set_precondition_f64, etd_sampler_size_f32, etd_sampler_size_f64,
    etd_sampler_step_f32, etd_sampler_step_f64, etd_score_f32, etd_score_f64, etd_step_stats,
};
pub use sinkhorn::{
    etd_sinkhorn_check_f32, etd_sinkhorn_check_f64, etd_sinkhorn_f32, etd_sinkhorn_f64,
    etd_sinkhorn_scratch_f32, etd_sinkhorn_scratch_f64, etd_sinkhorn_scratch_len,
    etd_sinkhorn_stats, ETD_SINKHORN_STACK_SCRATCH,
};
pub use status::{etd_detail, etd_detail_str, etd_error, etd_status, etd_status_str};

/// Major version of the library this header belongs to.
pub const ETD_VERSION_MAJOR: u32 = 0u32;
/// Minor version of the library this header belongs to.
pub const ETD_VERSION_MINOR: u32 = 1u32;
/// Patch version of the library this header belongs to.
pub const ETD_VERSION_PATCH: u32 = 0u32;

/// The library version as a NUL-terminated string, `"MAJOR.MINOR.PATCH"`.
///
/// The string is static: do not free it. Compare it with the `ETD_VERSION_*` macros to check
/// that the header and the linked library match.
#[no_mangle]
pub extern "C" fn etd_version() -> *const core::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Bare-metal panic handler: halts in a loop. A panic never unwinds into C firmware.
///
/// Built with `--cfg etd_no_panic` (the check `.ci/no-panic`), it calls a function defined
/// nowhere instead, so that linking the library fails if any panic is reachable from the ABI.
#[cfg(all(not(feature = "std"), target_os = "none"))]
#[panic_handler]
fn halt(_: &core::panic::PanicInfo<'_>) -> ! {
    #[cfg(etd_no_panic)]
    {
        extern "C" {
            fn etd_panic_is_reachable() -> !;
        }
        // SAFETY: never called: the link fails while a call to it survives optimisation.
        unsafe { etd_panic_is_reachable() }
    }
    #[cfg(not(etd_no_panic))]
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_constants_match_the_package() {
        let text = concat!(env!("CARGO_PKG_VERSION"), "\0");
        // SAFETY: etd_version returns a static NUL-terminated string.
        let c = unsafe { core::ffi::CStr::from_ptr(super::etd_version()) };
        assert_eq!(c.to_bytes_with_nul(), text.as_bytes());
        let parts = [
            super::ETD_VERSION_MAJOR,
            super::ETD_VERSION_MINOR,
            super::ETD_VERSION_PATCH,
        ];
        let expected = [
            env!("CARGO_PKG_VERSION_MAJOR"),
            env!("CARGO_PKG_VERSION_MINOR"),
            env!("CARGO_PKG_VERSION_PATCH"),
        ]
        .map(|s| s.parse::<u32>().unwrap());
        assert_eq!(parts, expected);
    }
}
