//! A particle-filter update on a Cortex-M4F (QEMU `mps2-an386`), the second firmware
//! (`etd-filter`): the robot of the library's `robot` module (pose x, y, heading; unicycle
//! motion; range and bearing to three landmarks), N = 32 particles in f32, M = 1, with a
//! `static` `Etd<f32, 32, 32, 3>`. Each of the 40 updates pushes the particles through the noisy
//! motion model (the proposals), weighs the proposals by the measurement's log-likelihood and
//! moves the particles along the entropic transport plan to them (`Etd::transport`,
//! `Config::filter()`). It prints, per update, the instructions of the whole update and of each
//! part, the peak stack of the update, and the instructions of one `systematic_resample` on the
//! same proposals and weights for comparison; it exits with status 0 only if the final position
//! and heading errors are within the tolerances set by `tests/filter_seeds.rs`.
//!
//! Build and run (from this directory): `cargo run --release --bin etd-filter`.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod measure;

/// The firmware proper (only built for the embedded target).
#[cfg(target_os = "none")]
mod firmware {
    use crate::measure::{console, exit, say, ticks_and_stack, timed, Counter, PAINT_BYTES};
    use core::fmt::Write;
    use cortex_m_rt::entry;
    use entropic_transport::{
        systematic_resample, workspace_len, Config, DefaultRng, Etd, Shape, Update,
    };
    use etd_cortex_m4::robot::{
        check, errors, estimate, generators, initial_particles, log_likelihood, predict, Pose,
        World, D, LANDMARKS, N, P, STEPS, TOLERANCES,
    };
    use rand_core::SeedableRng;

    /// Seed of the run (the host test `tests/filter_seeds.rs` covers 500 others).
    const SEED: u64 = 2024;

    /// Running mean, minimum and maximum of a count.
    #[derive(Clone, Copy, Debug)]
    struct Stat {
        total: u64,
        min: u32,
        max: u32,
    }

    impl Stat {
        const fn new() -> Self {
            Stat {
                total: 0,
                min: u32::MAX,
                max: 0,
            }
        }

        fn add(&mut self, x: u32) {
            self.total += u64::from(x);
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }

        fn mean(&self) -> u64 {
            self.total / STEPS as u64
        }
    }

    #[entry]
    fn main() -> ! {
        // `static mut` inside `#[entry]` becomes a `&'static mut`: all of these live in .bss.
        static mut SAMPLER: Etd<f32, N, P, D> = Etd::new();
        static mut PARTICLES: [Pose; N] = [[0.0; D]; N];
        static mut PROPOSALS: [Pose; P] = [[0.0; D]; P];
        static mut LOG_WEIGHTS: [f32; P] = [0.0; P];
        // Only the comparison's output: the filter never reads it.
        static mut RESAMPLED: [Pose; N] = [[0.0; D]; N];
        let sampler: &'static mut Etd<f32, N, P, D> = SAMPLER;
        let particles: &'static mut [Pose; N] = PARTICLES;
        let proposals: &'static mut [Pose; P] = PROPOSALS;
        let log_weights: &'static mut [f32; P] = LOG_WEIGHTS;
        let resampled: &'static mut [Pose; N] = RESAMPLED;

        let mut out = console();
        let config = Config::<f32> {
            update: if cfg!(feature = "rounded") {
                Update::Rounded
            } else {
                Update::Categorical
            },
            ..Config::filter()
        };
        say!(
            out,
            "ETD particle filter on Cortex-M4F: f32, N = {N}, M = {}, d = {D} (x, y, heading), {} landmarks, {STEPS} updates, seed {SEED}",
            P / N,
            LANDMARKS.len()
        );
        say!(
            out,
            "config: Config::filter(): epsilon {}, Sinkhorn tolerance {}, at most {} iterations, weight truncation {}, update {:?}",
            config.epsilon,
            config.tolerance,
            config.max_iterations,
            if config.truncate_weights { "on" } else { "off" },
            config.update
        );
        say!(
            out,
            "sampler workspace: {} bytes (workspace_len: {} bytes)",
            core::mem::size_of::<Etd<f32, N, P, D>>(),
            workspace_len(&Shape::new(N, P / N, D)).unwrap_or(0) * core::mem::size_of::<f32>()
        );
        let counter = Counter::start();
        counter.report(&mut out);

        let (world_rng, mut rng) = generators(SEED);
        // The comparison draws from its own generator, so it leaves the filter's run unchanged.
        let mut resample_rng = DefaultRng::seed_from_u64(!SEED);
        let mut world = World::new(world_rng);
        initial_particles(&mut rng, particles);

        say!(
            out,
            "{:>4} {:>4} {:>4} {:>3} {:>6} {:>6} {:>7} {:>7} {:>8} {:>7} {:>7} {:>9} {:>8} {:>5}",
            "upd",
            "sink",
            "conv",
            "abs",
            "w ESS",
            "c ESS",
            "pos err",
            "hd err",
            "update",
            "motion",
            "likeli",
            "transport",
            "resample",
            "stack"
        );
        let (mut update, mut transport, mut resample) = (Stat::new(), Stat::new(), Stat::new());
        let (mut motion, mut likelihood) = (Stat::new(), Stat::new());
        let (mut max_stack, mut max_resample_stack) = (0usize, 0usize);
        let (mut sweeps, mut absorptions, mut converged) = (0u32, 0u32, 0usize);
        for step in 1..=STEPS {
            // The world moves and measures (not part of the filter's work).
            let z = world.step();
            let ((result, t_motion, t_likelihood, t_transport), t_update, stack) =
                ticks_and_stack(|| {
                    let ((), t_motion) = timed(|| predict(&particles[..], proposals, &mut rng));
                    let ((), t_likelihood) =
                        timed(|| log_likelihood(&proposals[..], &z, log_weights));
                    let (result, t_transport) = timed(|| {
                        sampler.transport(
                            &config,
                            particles,
                            &proposals[..],
                            &log_weights[..],
                            &mut rng,
                        )
                    });
                    (result, t_motion, t_likelihood, t_transport)
                });
            // The comparison: classical resampling of the same weighted proposals.
            let (resampled_ok, t_resample, resample_stack) = ticks_and_stack(|| {
                systematic_resample(
                    resampled.as_flattened_mut(),
                    proposals.as_flattened(),
                    &log_weights[..],
                    D,
                    &mut resample_rng,
                )
            });
            let instr = counter.instructions(t_update);
            update.add(instr);
            motion.add(counter.instructions(t_motion));
            likelihood.add(counter.instructions(t_likelihood));
            transport.add(counter.instructions(t_transport));
            resample.add(counter.instructions(t_resample));
            max_stack = max_stack.max(stack);
            max_resample_stack = max_resample_stack.max(resample_stack);
            if let Err(e) = resampled_ok {
                say!(out, "update {step}: systematic_resample failed: {e}");
                exit(false)
            }
            let e = errors(&estimate(&particles[..]), &world.pose);
            match result {
                Ok(s) => {
                    sweeps += s.sinkhorn.iterations;
                    absorptions += s.sinkhorn.absorptions;
                    converged += usize::from(s.sinkhorn.converged);
                    say!(
                        out,
                        "{step:>4} {:>4} {:>4} {:>3} {:>6.1} {:>6.2} {:>7.3} {:>7.3} {instr:>8} {:>7} {:>7} {:>9} {:>8} {stack:>5}",
                        s.sinkhorn.iterations,
                        if s.sinkhorn.converged { "yes" } else { "no" },
                        s.sinkhorn.absorptions,
                        s.weight_ess,
                        s.coupling_ess,
                        e.position,
                        e.heading,
                        counter.instructions(t_motion),
                        counter.instructions(t_likelihood),
                        counter.instructions(t_transport),
                        counter.instructions(t_resample)
                    )
                }
                Err(e) => {
                    say!(out, "update {step} failed: {e}");
                    exit(false)
                }
            }
        }

        say!(out, "");
        say!(
            out,
            "instructions per update: mean {}, min {}, max {} (motion model + likelihood + transport)",
            update.mean(),
            update.min,
            update.max
        );
        say!(
            out,
            "  motion model (2 normal draws and an f32 sin/cos per particle): mean {}, min {}, max {}",
            motion.mean(),
            motion.min,
            motion.max
        );
        say!(
            out,
            "  log-likelihood ({} range-bearing pairs): mean {}, min {}, max {}",
            N * LANDMARKS.len(),
            likelihood.mean(),
            likelihood.min,
            likelihood.max
        );
        say!(
            out,
            "  transport alone: mean {}, min {}, max {}; Sinkhorn sweeps mean {:.1}, absorptions mean {:.1}, converged {converged} of {STEPS}",
            transport.mean(),
            transport.min,
            transport.max,
            sweeps as f32 / STEPS as f32,
            absorptions as f32 / STEPS as f32
        );
        say!(
            out,
            "systematic_resample of the same proposals (comparison): mean {}, min {}, max {}; peak stack {max_resample_stack} bytes",
            resample.mean(),
            resample.min,
            resample.max
        );
        say!(
            out,
            "peak stack of one update: {max_stack} bytes (painted {PAINT_BYTES} bytes)"
        );
        let estimate = estimate(&particles[..]);
        let e = errors(&estimate, &world.pose);
        say!(
            out,
            "final pose: estimate ({:.3}, {:.3}, {:.3}), truth ({:.3}, {:.3}, {:.3})",
            estimate[0],
            estimate[1],
            estimate[2],
            world.pose[0],
            world.pose[1],
            world.pose[2]
        );
        say!(
            out,
            "final errors: position {:.3} (tol {}), heading {:.3} rad (tol {})",
            e.position,
            TOLERANCES.position,
            e.heading,
            TOLERANCES.heading
        );
        let pass = check(&e) && update.max > 0;
        say!(out, "{}", if pass { "PASS" } else { "FAIL" });
        exit(pass)
    }
}

/// On the host this binary only explains itself; the firmware needs the embedded target.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("etd-filter is firmware: build it for thumbv7em-none-eabihf (see README)");
}
