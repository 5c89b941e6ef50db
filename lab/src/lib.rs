//! # etd-lab: the experiments of entropic-transport
//!
//! Everything that measures the kernel on a host and is not part of it: reference targets with
//! exact samplers or long-MALA references, Bayesian models on shipped data, Boltzmann targets,
//! the baselines (SVGD, ULA / SGLD, MALA), sample-quality metrics, the experiment runner behind
//! `cargo run --release -p etd-lab --bin paper`, its reports and plots, and the generator of
//! `docs/results.md`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`problem`] | [`problem::Problem`]: a target plus what the runner needs of it |
//! | [`targets`], [`bayes`], [`boltzmann`] | the targets |
//! | [`registry`] | the table of targets with their defaults and method lists |
//! | [`method`] | [`method::Method`]: ETD configurations and baselines |
//! | [`baselines`] | SVGD, ULA / SGLD, MALA, and ETD on the same interface |
//! | [`metrics`], [`evaluate`] | distances and moments; the score of a final ensemble |
//! | [`reference`] | reference samples and moments, long MALA runs |
//! | [`run`] | the loop over targets, methods and seeds |
//! | [`report`] | rows, curves, JSON and markdown |
//! | [`plot`] | PNG plots |
//! | [`results`] | `docs/results.md` from saved runs |

#![cfg_attr(target_os = "none", no_std)]

/// Declares the crate's modules; they need `std`, so a bare-metal build (a workspace-wide
/// `cargo build --target thumbv7em-none-eabihf`) leaves the crate empty.
macro_rules! host_modules {
    ($($name:ident),* $(,)?) => {$(
        #[cfg(not(target_os = "none"))]
        pub mod $name;
    )*};
}

host_modules! {
    baselines,
    bayes,
    boltzmann,
    evaluate,
    method,
    metrics,
    plot,
    problem,
    reference,
    registry,
    report,
    results,
    run,
    targets,
}
