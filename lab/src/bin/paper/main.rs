//! The comparison runner: ETD configurations against SVGD, ULA / SGLD and MALA on the targets of
//! `etd_lab::registry::TARGETS`, with a markdown table, a JSON file and PNG plots.
//!
//! ```text
//! cargo run --release -p etd-lab --bin paper -- [--target NAME[,NAME..]] [--methods LIST]
//!     [--seeds K] [--iterations N] [--proposals M] [--mutation-step H] [--quick] [--out DIR]
//! cargo run --release -p etd-lab --bin paper -- --results DIR[,DIR..] [--docs DOCS]
//!     # DOCS/results.md (default DOCS: the repository's docs/)
//! cargo run --release -p etd-lab --bin paper -- --make-reference        # lab/data/reference/
//! cargo run --release -p etd-lab --bin paper -- --check-reference
//! ```
//!
//! A run writes `DIR/results.json`, `DIR/results.md`, `DIR/scatter-TARGET.png` for 2-D targets,
//! `DIR/curve-TARGET.png` (metric against iterations) and `DIR/cost-TARGET.png` (against wall
//! time and target evaluations) (default `DIR = target/paper`), rewriting them after each target
//! so a long run leaves usable partial results. `--quick` runs a small subset in about half a
//! minute (the test `lab/tests/paper_quick.rs` runs the same code in-process). `--results`
//! builds `docs/results.md` (and copies its plots into `docs/`) from earlier runs' directories,
//! the first run's rows taking precedence; `--docs DOCS` writes them to `DOCS` instead. `--make-reference` regenerates
//! `lab/data/reference/` (long MALA runs); `--check-reference` checks the BLR reference with
//! preconditioned MALA from other starts.
//!
//! The runner needs `std`; built for a bare-metal target (a workspace-wide
//! `cargo build --target thumbv7em-none-eabihf`) this binary is empty.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(not(target_os = "none"))]
mod runner;

#[cfg(not(target_os = "none"))]
fn main() -> std::process::ExitCode {
    runner::main()
}

/// Never called: the bare-metal build has no entry point.
#[cfg(target_os = "none")]
#[panic_handler]
fn halt(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
