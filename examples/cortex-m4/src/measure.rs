//! The harness both firmwares share (only built for the embedded target): the semihosting
//! console and exit status, the instruction counter (SysTick under `-icount shift=0`,
//! calibrated at boot), stack painting, and the fault and panic handlers.

use core::arch::asm;
use core::fmt::Write;
use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::{exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hio};

/// Bytes of stack painted below the caller's frame before each measured call.
pub const PAINT_BYTES: usize = 32 * 1024;
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
pub(crate) use say;

/// The semihosting console, or exit with status 1 if there is none.
pub fn console() -> Out {
    match hio::hstdout() {
        Ok(out) => out,
        Err(()) => exit(false),
    }
}

/// The calibrated instruction counter.
#[derive(Clone, Copy, Debug)]
pub struct Counter {
    /// Ticks of an empty window (the fixed cost of reading the counter twice).
    pub empty: u32,
    /// Ticks of the calibration loop, less `empty`.
    pub loop_ticks: u32,
    /// Instructions per SysTick tick.
    pub per_tick: f32,
}

impl Counter {
    /// Starts SysTick from the processor clock (exit 1 if the peripherals were taken) and
    /// calibrates it: ticks for a loop of exactly `2 * CALIBRATION_LOOPS + 1` instructions,
    /// less the fixed cost of reading the counter, measured by an empty window.
    pub fn start() -> Self {
        let Some(mut core) = cortex_m::Peripherals::take() else {
            exit(false)
        };
        core.SYST.set_clock_source(SystClkSource::Core);
        core.SYST.set_reload(RELOAD);
        core.SYST.clear_current();
        core.SYST.enable_counter();
        let empty = ticks(|| ());
        let loop_ticks = ticks(|| spin(CALIBRATION_LOOPS)).saturating_sub(empty);
        Counter {
            empty,
            loop_ticks,
            per_tick: (2 * CALIBRATION_LOOPS + 1) as f32 / loop_ticks as f32,
        }
    }

    /// Prints the calibration.
    pub fn report(&self, out: &mut Out) {
        say!(
            out,
            "calibration: {} instructions in {} SysTick ticks -> {:.3} instructions/tick (empty window {} ticks)",
            2 * CALIBRATION_LOOPS + 1,
            self.loop_ticks,
            self.per_tick,
            self.empty
        );
    }

    /// The instructions of a window that read `ticks` (the empty window's cost removed).
    pub fn instructions(&self, ticks: u32) -> u32 {
        (ticks.saturating_sub(self.empty) as f32 * self.per_tick) as u32
    }
}

/// Ends the QEMU session with status 0 (`success`) or 1.
pub fn exit(success: bool) -> ! {
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
pub fn timed<R>(f: impl FnOnce() -> R) -> (R, u32) {
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
