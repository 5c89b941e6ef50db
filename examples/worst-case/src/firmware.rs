//! The firmware proper (only built for the embedded target).

use crate::measure::{console, exit, say, ticks_and_stack, Counter};
use core::fmt::Write;
use cortex_m_rt::entry;
use entropic_transport::rng::fill_normal;
use entropic_transport::{Config, DefaultRng, Etd, Mutation, Real, Solver, Steps, Target};
use rand_core::SeedableRng;

/// The firmware's shape: particles, proposals per particle, pool, dimension.
const N: usize = 32;
const M: usize = 4;
const P: usize = N * M;
const D: usize = 2;
/// Steps measured per scenario (the first from a cold start).
const STEPS: usize = 20;

/// A target of the worst-case scenarios (2-D, with a score).
#[derive(Clone, Copy)]
enum Landscape {
    /// The firmware's three equal isotropic Gaussians (standard deviation 0.7).
    Mixture,
    /// `log pi = 0`: every weight equal.
    Flat,
    /// `-1e6 |x - c|^2`: floored log-weights, all mass on the nearest proposal.
    Spike,
    /// NaN everywhere: the step fails at the first check.
    Nan,
    /// A callback that returns 7: the step fails at once.
    Failing,
}

const MEANS: [[f32; 2]; 3] = [[-2.0, -1.5], [2.5, -1.0], [0.0, 2.5]];
const SPIKE: [f32; 2] = [0.3, -0.2];

/// `|x - c|^2` in 2-D (no_std has no `powi`).
fn sq_dist(x: &[f32], c: &[f32; 2]) -> f32 {
    (x[0] - c[0]) * (x[0] - c[0]) + (x[1] - c[1]) * (x[1] - c[1])
}

/// `log sum_k exp(-|x - m_k|^2 / (2 0.49))` and its gradient.
fn mixture(x: &[f32]) -> (f32, [f32; 2]) {
    let exponents = MEANS.map(|m| -sq_dist(x, &m) / 0.98);
    let top = exponents.iter().fold(f32::NEG_INFINITY, |a, &e| a.max(e));
    let weights = exponents.map(|e| Real::exp(e - top));
    let total: f32 = weights.iter().sum();
    let mut score = [0.0; 2];
    for (w, m) in weights.iter().zip(&MEANS) {
        for k in 0..2 {
            score[k] += w / total * (m[k] - x[k]) / 0.49;
        }
    }
    (top + Real::ln(total), score)
}

impl Target<f32> for Landscape {
    fn log_density(&mut self, x: &[f32], dim: usize, out: &mut [f32]) -> Result<(), i32> {
        for (point, o) in x.chunks_exact(dim).zip(out.iter_mut()) {
            *o = match self {
                Landscape::Mixture => mixture(point).0,
                Landscape::Flat => 0.0,
                Landscape::Spike => -1e6 * sq_dist(point, &SPIKE),
                Landscape::Nan => f32::NAN,
                Landscape::Failing => return Err(7),
            };
        }
        Ok(())
    }

    fn score(&mut self, x: &[f32], dim: usize, out: &mut [f32]) -> Result<(), i32> {
        for (point, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
            let s = match self {
                Landscape::Mixture => mixture(point).1,
                Landscape::Flat => [0.0; 2],
                Landscape::Spike => [-2e6 * (point[0] - SPIKE[0]), -2e6 * (point[1] - SPIKE[1])],
                Landscape::Nan => [f32::NAN; 2],
                Landscape::Failing => return Err(7),
            };
            o.copy_from_slice(&s);
        }
        Ok(())
    }

    fn has_score(&self) -> bool {
        true
    }
}

/// The costliest step of a scenario.
#[derive(Default)]
struct Worst {
    instructions: u32,
    stack: usize,
    iterations: u32,
    absorptions: u32,
    failed: usize,
}

#[entry]
fn main() -> ! {
    // `static mut` inside `#[entry]` becomes a `&'static mut`: the workspace lives in .bss.
    static mut SAMPLER: Etd<f32, N, P, D> = Etd::new();
    let sampler: &'static mut Etd<f32, N, P, D> = SAMPLER;
    let mut out = console();
    let counter = Counter::start();
    counter.report(&mut out);

    let firmware = Config::default();
    // `tolerance` MIN_POSITIVE is never met: every solve runs to `max_iterations`.
    let never = Config {
        tolerance: f32::MIN_POSITIVE,
        ..firmware
    };
    let scenarios = [
        ("mixture, firmware config", Landscape::Mixture, firmware),
        ("flat, firmware config", Landscape::Flat, firmware),
        ("spike, firmware config", Landscape::Spike, firmware),
        ("mixture, tolerance never met", Landscape::Mixture, never),
        ("flat, tolerance never met", Landscape::Flat, never),
        ("spike, tolerance never met", Landscape::Spike, never),
        (
            "mixture, never met, eps 1e-3",
            Landscape::Mixture,
            Config {
                epsilon: 1e-3,
                ..never
            },
        ),
        (
            "spike, never met, eps 1e-3",
            Landscape::Spike,
            Config {
                epsilon: 1e-3,
                ..never
            },
        ),
        (
            "mixture, never met, log solver",
            Landscape::Mixture,
            Config {
                solver: Solver::Log,
                ..never
            },
        ),
        (
            "mixture, 10 MH steps",
            Landscape::Mixture,
            Config {
                mutation: Mutation {
                    steps: Steps::Fixed(10),
                    step_size: 0.3,
                },
                ..firmware
            },
        ),
        ("NaN log-density", Landscape::Nan, firmware),
        ("failing callback", Landscape::Failing, firmware),
    ];
    say!(
        out,
        "worst case of one step: f32, N = {N}, M = {M}, d = {D}, {STEPS} steps per scenario"
    );
    say!(
        out,
        "{:<32} {:>12} {:>7} {:>6} {:>6} {:>7}",
        "scenario",
        "instructions",
        "stack",
        "iters",
        "absorb",
        "failed"
    );
    let mut pass = true;
    let mut overall = Worst::default();
    for (name, landscape, config) in scenarios {
        let mut workspace = sampler.workspace();
        workspace.reset_potentials();
        workspace.reset_preconditioner();
        let mut rng = DefaultRng::seed_from_u64(2024);
        let mut particles = [[0.0f32; D]; N];
        fill_normal(&mut rng, particles.as_flattened_mut());
        particles
            .as_flattened_mut()
            .iter_mut()
            .for_each(|x| *x *= 3.0);
        let mut target = landscape;
        let mut worst = Worst::default();
        for _ in 0..STEPS {
            let (result, ticks, stack) =
                ticks_and_stack(|| sampler.step(&config, &mut particles, &mut target, &mut rng));
            let instructions = counter.instructions(ticks);
            worst.instructions = worst.instructions.max(instructions);
            worst.stack = worst.stack.max(stack);
            match result {
                Ok(stats) => {
                    let s = stats.sinkhorn;
                    pass &= s.iterations <= config.max_iterations && s.absorptions <= s.iterations;
                    worst.iterations = worst.iterations.max(s.iterations);
                    worst.absorptions = worst.absorptions.max(s.absorptions);
                }
                Err(_) => worst.failed += 1,
            }
        }
        say!(
            out,
            "{:<32} {:>12} {:>7} {:>6} {:>6} {:>7}",
            name,
            worst.instructions,
            worst.stack,
            worst.iterations,
            worst.absorptions,
            worst.failed
        );
        overall.instructions = overall.instructions.max(worst.instructions);
        overall.stack = overall.stack.max(worst.stack);
    }
    say!(
        out,
        "worst step: {} instructions, {} bytes of stack",
        overall.instructions,
        overall.stack
    );
    say!(
        out,
        "{}",
        if pass {
            "PASS"
        } else {
            "FAIL: an iteration cap was exceeded"
        }
    );
    exit(pass)
}
