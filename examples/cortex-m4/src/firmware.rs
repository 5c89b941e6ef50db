//! The firmware proper (only built for the embedded target).

use core::arch::asm;
use core::fmt::Write;
use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hio};
use entropic_transport::{workspace_len, DefaultRng, Etd, Real, Shape};
use etd_cortex_m4::{
    check, errors, initial_particles, summarise, true_mean, true_variance, Mixture3, Scalar, D,
    ITERATIONS, M, N, P, TOLERANCES, WEIGHTS,
};
use rand_core::SeedableRng;

/// Seed of the run (the host test `tests/seeds.rs` covers 300 others).
const SEED: u64 = 2024;
/// Bytes of stack painted below the caller's frame before each step.
const PAINT_BYTES: usize = 32 * 1024;
/// The paint pattern.
const PAINT: u32 = 0xDEAD_BEEF;
/// SysTick reload: the full 24 bits.
const RELOAD: u32 = 0x00FF_FFFF;
/// Iterations of the two-instruction calibration loop.
const CALIBRATION_LOOPS: u32 = 1_000_000;

/// The semihosting console.
pub type Out = hio::HostStream;

/// Writes to the semihosting console; output errors are ignored (nothing to report them to).
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{ let _ = writeln!($out, $($arg)*); }};
}

#[entry]
fn main() -> ! {
    // `static mut` inside `#[entry]` becomes a `&'static mut`: the workspace lives in .bss.
    static mut SAMPLER: Etd<Scalar, N, P, D> = Etd::new();
    static mut PARTICLES: [[Scalar; D]; N] = [[Scalar::ZERO; D]; N];
    let sampler: &'static mut Etd<Scalar, N, P, D> = SAMPLER;
    let particles: &'static mut [[Scalar; D]; N] = PARTICLES;

    let mut out: Out = match hio::hstdout() {
        Ok(out) => out,
        Err(()) => exit(false),
    };
    let Some(mut core) = cortex_m::Peripherals::take() else {
        exit(false)
    };
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(RELOAD);
    core.SYST.clear_current();
    core.SYST.enable_counter();

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

    // Calibrate: SysTick ticks for a loop of exactly 2 * CALIBRATION_LOOPS + 1 instructions
    // (plus the fixed cost of reading the counter, measured by an empty window).
    let empty = ticks(|| ());
    let loop_ticks = ticks(|| spin(CALIBRATION_LOOPS)).saturating_sub(empty);
    let instructions_per_tick = (2 * CALIBRATION_LOOPS + 1) as f32 / loop_ticks as f32;
    say!(
        out,
        "calibration: {} instructions in {loop_ticks} SysTick ticks -> {instructions_per_tick:.3} instructions/tick (empty window {empty} ticks)",
        2 * CALIBRATION_LOOPS + 1
    );

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
        let instr = (elapsed.saturating_sub(empty) as f32 * instructions_per_tick) as u32;
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
            instructions_per_tick,
            &mut rng,
        );
    }
    let pass = check(&s) && max_instr > 0;
    say!(out, "{}", if pass { "PASS" } else { "FAIL" });
    exit(pass)
}

/// Ends the QEMU session with status 0 (`success`) or 1.
fn exit(success: bool) -> ! {
    debug::exit(if success {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    // Only reached without a semihosting host (real hardware without a debugger).
    loop {
        cortex_m::asm::bkpt();
    }
}

/// `f()` and the SysTick ticks elapsed while it ran (SysTick counts down from [`RELOAD`]).
#[inline(always)]
fn timed<R>(f: impl FnOnce() -> R) -> (R, u32) {
    let start = SYST::get_current();
    let result = f();
    let end = SYST::get_current();
    (result, start.wrapping_sub(end) & RELOAD)
}

/// SysTick ticks elapsed while `f` runs.
#[inline(always)]
pub fn ticks(f: impl FnOnce()) -> u32 {
    timed(f).1
}

/// `f()`, the [`ticks`] it took, and the bytes of stack it used below the caller's frame
/// (the stack is painted first, then searched for the lowest word `f` wrote).
#[inline(always)]
pub fn ticks_and_stack<R>(f: impl FnOnce() -> R) -> (R, u32, usize) {
    let sp = cortex_m::register::msp::read() as usize;
    let bottom = sp - PAINT_BYTES;
    paint(bottom, sp - 64);
    let (result, t) = timed(f);
    (result, t, sp - lowest_touched(bottom, sp - 64))
}

/// Exactly `2 * n + 1` instructions (`n` >= 1): a `subs`/`bne` pair per round, plus the `mov`.
#[inline(always)]
fn spin(n: u32) {
    // SAFETY: register-only arithmetic and a local branch; no memory, no stack.
    unsafe {
        asm!(
            "mov {0}, {1}",
            "2:",
            "subs {0}, {0}, #1",
            "bne 2b",
            out(reg) _,
            in(reg) n,
            options(nomem, nostack),
        );
    }
}

/// Fills the words in `[bottom, top)` with [`PAINT`].
#[inline(always)]
fn paint(bottom: usize, top: usize) {
    let mut a = bottom;
    while a < top {
        // SAFETY: the range lies between the end of .bss and the live stack frame (4 MiB of
        // RAM, a few tens of KiB used); nothing lives there while we paint.
        unsafe { core::ptr::write_volatile(a as *mut u32, PAINT) };
        a += 4;
    }
}

/// The lowest address in `[bottom, top)` whose word no longer holds [`PAINT`] (`top` if none).
#[inline(always)]
fn lowest_touched(bottom: usize, top: usize) -> usize {
    let mut a = bottom;
    // SAFETY: same range as `paint`, read only.
    while a < top && unsafe { core::ptr::read_volatile(a as *const u32) } == PAINT {
        a += 4;
    }
    a
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    if let Ok(mut out) = hio::hstdout() {
        say!(out, "HardFault: {frame:?}");
    }
    exit(false)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    if let Ok(mut out) = hio::hstdout() {
        say!(out, "panic: {info}");
    }
    exit(false)
}
