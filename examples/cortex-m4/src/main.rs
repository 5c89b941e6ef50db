//! ETD on a Cortex-M4F (QEMU `mps2-an386`): samples the three-mode mixture of the library
//! module with N = 32, M = 4, d = 2 in f32 from a `static` workspace, prints the per-step
//! statistics, the instructions each step took, the peak stack of a step and the final mean,
//! variance and mode shares, and exits with status 0 only if they match the truth.
//!
//! Build and run (from this directory): `cargo run --release` (QEMU is the runner).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod firmware;
#[cfg(target_os = "none")]
mod measure;
#[cfg(all(target_os = "none", feature = "profile"))]
mod profile;

/// On the host this binary only explains itself; the firmware needs the embedded target.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("etd-cortex-m4 is firmware: build it for thumbv7em-none-eabihf (see README)");
}
