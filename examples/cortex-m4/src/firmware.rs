//! The sampler firmware proper (only built for the embedded target).

use crate::measure::{console, exit, say, ticks_and_stack, Counter, PAINT_BYTES};
use core::fmt::Write;
use cortex_m_rt::entry;
use entropic_transport::{workspace_len, DefaultRng, Etd, Real, Shape};
use etd_cortex_m4::{
    check, errors, initial_particles, summarise, true_mean, true_variance, Mixture3, Scalar, D,
    ITERATIONS, M, N, P, TOLERANCES, WEIGHTS,
};
use rand_core::SeedableRng;

/// Seed of the run (the host test `tests/seeds.rs` covers 300 others).
const SEED: u64 = 2024;

#[entry]
fn main() -> ! {
    // `static mut` inside `#[entry]` becomes a `&'static mut`: the workspace lives in .bss.
    static mut SAMPLER: Etd<Scalar, N, P, D> = Etd::new();
    static mut PARTICLES: [[Scalar; D]; N] = [[Scalar::ZERO; D]; N];
    let sampler: &'static mut Etd<Scalar, N, P, D> = SAMPLER;
    let particles: &'static mut [[Scalar; D]; N] = PARTICLES;

    let mut out = console();
    let counter = Counter::start();

    let config = etd_cortex_m4::config();
    say!(
        out,
        "ETD on Cortex-M4F: f32, N = {N}, M = {M}, d = {D}, {ITERATIONS} iterations, seed {SEED}, {} math",
        if cfg!(feature = "fast-math") { "micromath fast" } else { "libm" }
    );
    say!(
        out,
        "config: alpha {}, epsilon {}, Sinkhorn tolerance {}, at most {} iterations",
        config.alpha,
        config.epsilon,
        config.tolerance,
        config.max_iterations
    );
    say!(
        out,
        "sampler workspace: {} bytes (workspace_len: {} bytes)",
        core::mem::size_of::<Etd<Scalar, N, P, D>>(),
        workspace_len(&Shape::new(N, M, D)).unwrap_or(0) * core::mem::size_of::<Scalar>()
    );

    counter.report(&mut out);

    let mut rng = DefaultRng::seed_from_u64(SEED);
    initial_particles(&mut rng, particles);
    let mut target = Mixture3;

    say!(
        out,
        "{:>4} {:>5} {:>4} {:>10} {:>9} {:>8} {:>8} {:>9} {:>6}",
        "iter",
        "sink",
        "conv",
        "marg.err",
        "cost med",
        "w ESS",
        "c ESS",
        "instr",
        "stack"
    );
    let (mut total_instr, mut max_instr, mut min_instr) = (0u64, 0u32, u32::MAX);
    let mut max_stack = 0usize;
    for it in 1..=ITERATIONS {
        let (result, elapsed, stack) =
            ticks_and_stack(|| sampler.step(&config, particles, &mut target, &mut rng));
        let instr = counter.instructions(elapsed);
        total_instr += u64::from(instr);
        max_instr = max_instr.max(instr);
        min_instr = min_instr.min(instr);
        max_stack = max_stack.max(stack);
        match result {
            Ok(s) => say!(
                out,
                "{it:>4} {:>5} {:>4} {:>10.2e} {:>9.3} {:>8.1} {:>8.2} {instr:>9} {stack:>6}",
                s.sinkhorn.iterations,
                if s.sinkhorn.converged { "yes" } else { "no" },
                s.sinkhorn.marginal_error.to_f64(),
                s.cost_scale,
                s.weight_ess,
                s.coupling_ess
            ),
            Err(e) => {
                say!(out, "step {it} failed: {e}");
                exit(false)
            }
        }
    }

    let mean_instr = total_instr / ITERATIONS as u64;
    say!(out, "");
    say!(
        out,
        "instructions per step: mean {mean_instr}, min {min_instr}, max {max_instr} (goal < 1 500 000)"
    );
    say!(
        out,
        "peak stack of one step: {max_stack} bytes (painted {PAINT_BYTES} bytes)"
    );

    let s = summarise(particles);
    let e = errors(&s);
    for i in 0..D {
        say!(
            out,
            "coordinate {i}: mean {:+.3} (truth {:+.3}), variance {:.3} (truth {:.3})",
            s.mean[i],
            true_mean(i),
            s.variance[i],
            true_variance(i)
        );
    }
    for (k, (share, weight)) in s.shares.iter().zip(&WEIGHTS).enumerate() {
        say!(out, "mode {k}: share {share:.3} (weight {weight:.3})");
    }
    say!(
        out,
        "worst errors: mean {:.3} (tol {}), |ln var ratio| {:.3} (tol {}), share {:.3} (tol {})",
        e.mean,
        TOLERANCES.mean,
        e.log_variance_ratio,
        TOLERANCES.log_variance_ratio,
        e.share,
        TOLERANCES.share
    );
    let checksum = particles.as_flattened().iter().fold(0u32, |h, x| {
        h.rotate_left(5) ^ (x.to_f64() as f32).to_bits()
    });
    say!(out, "particle checksum: {checksum:08x}");
    #[cfg(feature = "profile")]
    {
        static mut BUFFERS: crate::profile::Buffers = crate::profile::Buffers::new();
        // SAFETY: the only reference to BUFFERS, taken once in the never-returning main.
        let buffers = unsafe { &mut *core::ptr::addr_of_mut!(BUFFERS) };
        crate::profile::profile(
            &mut out,
            buffers,
            particles,
            &config,
            counter.per_tick,
            &mut rng,
        );
    }
    let pass = check(&s) && max_instr > 0;
    say!(out, "{}", if pass { "PASS" } else { "FAIL" });
    exit(pass)
}
