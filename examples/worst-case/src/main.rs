//! The worst case of one ETD step on a Cortex-M4F (QEMU `mps2-an386`, `-icount shift=0`): the
//! firmware's shape (N = 32, M = 4, d = 2, f32) from a `static` sampler, under adversarial
//! targets (flat, a spike of extreme dynamic range, NaN, a failing callback) and
//! configurations (a tolerance never reached, a tiny `epsilon` that absorbs at every
//! iteration, the log solver, ten MH steps). Prints the instructions and peak stack of the
//! costliest step of each scenario, checks that no step exceeds its Sinkhorn iteration cap,
//! and exits with status 0 only if every check holds. Run: `examples/worst-case/run.sh`.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod firmware;
/// The console, instruction counter, stack painting and handlers of the sampler's firmware.
#[cfg(target_os = "none")]
#[path = "../../cortex-m4/src/measure.rs"]
mod measure;

/// On the host this binary only explains itself; the firmware needs the embedded target.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("etd-worst-case is firmware: run examples/worst-case/run.sh");
}
