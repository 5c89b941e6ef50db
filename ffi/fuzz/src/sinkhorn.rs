//! `etd_sinkhorn_*`, `etd_sinkhorn_scratch_*` and `etd_sinkhorn_check_*` on arbitrary sizes
//! (zero, beyond the stack scratch, overflowing), parameters (any coupling constant, NaN,
//! infinities), values, scratch lengths, and pointers: NULL, misaligned, or overlapping another
//! array. Checked on every call:
//!
//! - the status is one the ABI documents, never `ETD_ERR_PANIC`, and `etd_sinkhorn_check_*`
//!   predicts it;
//! - a failing call writes nothing anywhere (the whole caller memory and `*stats` are
//!   bit-identical);
//! - a successful call had no overlapping outputs, left its inputs alone, and wrote finite
//!   potentials (`-inf` only for zero mass) and finite, consistent statistics.

use crate::abi::Scalar;
use crate::input::Input;
use core::mem::size_of;
use etd::{etd_error, etd_sinkhorn_stats, etd_status, ETD_COUPLING_GIBBS};

/// Statuses a correct library returns: `ETD_OK` to `ETD_ERR_CALLBACK`.
pub const STATUSES: core::ops::RangeInclusive<i32> =
    etd_status::ETD_OK as i32..=etd_status::ETD_ERR_CALLBACK as i32;

/// Caller memory: 8-aligned words, handed out as arrays at any byte offset and read back
/// through the same raw pointer.
pub struct Arena {
    words: Vec<u64>,
}

impl Arena {
    pub fn new(bytes: usize) -> Self {
        Arena {
            words: vec![0; bytes.div_ceil(8) + 1],
        }
    }

    fn len(&self) -> usize {
        self.words.len() * 8
    }

    /// The address of byte `offset` (within the arena).
    pub fn at(&mut self, offset: usize) -> *mut u8 {
        assert!(offset <= self.len());
        // SAFETY: in bounds (asserted).
        unsafe { self.words.as_mut_ptr().cast::<u8>().add(offset) }
    }

    /// Every byte, to compare before and after a call.
    pub fn snapshot(&mut self) -> Vec<u8> {
        let len = self.len();
        let base = self.at(0);
        // SAFETY: the arena's own `len` initialised bytes.
        unsafe { core::slice::from_raw_parts(base, len) }.to_vec()
    }
}

/// One array of a call: byte offset into the arena and length in values (`None`: NULL).
#[derive(Clone, Copy, Debug)]
struct Slot {
    offset: Option<usize>,
    len: usize,
}

impl Slot {
    fn ptr<T>(self, arena: &mut Arena) -> *mut T {
        self.offset
            .map_or(core::ptr::null_mut(), |o| arena.at(o).cast())
    }

    /// Byte range, empty for NULL.
    fn bytes<T>(self) -> core::ops::Range<usize> {
        let start = self.offset.unwrap_or(0);
        start..start + self.offset.map_or(0, |_| self.len * size_of::<T>())
    }

    fn overlaps<T>(self, other: Slot) -> bool {
        let (a, b) = (self.bytes::<T>(), other.bytes::<T>());
        a.start < b.end && b.start < a.end
    }
}

pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    if input.flag() {
        solve::<f32>(&mut input);
    } else {
        solve::<f64>(&mut input);
    }
}

/// `n`, `p`: small, sometimes zero, sometimes beyond the stack scratch, sometimes so large that
/// their byte length overflows (then no array is allocated at that size).
fn sizes(input: &mut Input<'_>) -> (usize, usize, bool) {
    if input.one_in(32) {
        return (usize::MAX / (1 + input.below(8)), 1 + input.below(8), true);
    }
    let n = input.below(13);
    let p = if input.one_in(8) {
        100 + input.below(60)
    } else {
        input.below(25)
    };
    (n, p, false)
}

fn solve<T: Scalar>(input: &mut Input<'_>) {
    let (n, p, absurd) = sizes(input);
    let coupling = if input.one_in(8) {
        input.u32()
    } else {
        input.below(3) as u32
    };
    let params = (
        T::number(input),
        coupling,
        T::number(input),
        input.below(65) as u32,
        T::number(input),
    );
    let needed = n.saturating_add(p);
    let scratch_len = match input.below(3) {
        0 => needed,
        1 => input.below(needed.min(1 << 16) + 1),
        _ => needed.saturating_add(input.below(8)),
    };
    // cost, log_a, log_b, f, g, scratch: lengths as declared, allocated at most 4096 values.
    let lens = [n.saturating_mul(p), n, p, n, p, scratch_len];
    let allocated = |len: usize| if absurd { len.min(4) } else { len.min(4096) };
    let width = size_of::<T>();
    let mut slots = [Slot {
        offset: None,
        len: 0,
    }; 6];
    let mut end = 0;
    for (k, slot) in slots.iter_mut().enumerate() {
        let misaligned = if input.one_in(16) {
            1 + input.below(width - 1)
        } else {
            0
        };
        *slot = Slot {
            offset: (!input.one_in(24)).then_some(end + misaligned),
            len: lens[k],
        };
        end += (allocated(lens[k]) * width).next_multiple_of(8) + 8;
    }
    // Sometimes an output (f, g or scratch) placed over another array.
    if input.one_in(8) {
        let (out, over) = (3 + input.below(3), input.below(6));
        if let Some(o) = slots[over].offset {
            slots[out].offset = Some(o + width * input.below(2));
        }
    }
    // Room after the last array for one placed over another and longer than it.
    let longest = lens
        .iter()
        .map(|&len| allocated(len) * width)
        .max()
        .unwrap_or(0);
    let mut arena = Arena::new(end + longest);
    for (slot, &len) in slots.iter().zip(&lens).take(5) {
        let ptr = slot.ptr::<T>(&mut arena);
        for k in 0..allocated(len) {
            if !ptr.is_null() {
                // SAFETY: inside the arena; any alignment.
                unsafe { ptr.add(k).write_unaligned(T::number(input)) };
            }
        }
    }
    let stack = input.flag();
    let [cost, log_a, log_b, f, g, scratch] = slots;
    let args = (
        cost.ptr::<T>(&mut arena).cast_const(),
        log_a.ptr::<T>(&mut arena).cast_const(),
        log_b.ptr::<T>(&mut arena).cast_const(),
        f.ptr::<T>(&mut arena),
        g.ptr::<T>(&mut arena),
        scratch.ptr::<T>(&mut arena),
    );
    let before = arena.snapshot();
    let sentinel = etd_sinkhorn_stats {
        iterations: 0xDEAD,
        converged: 0xBEEF,
        marginal_error: -7.5,
    };
    let mut stats = sentinel;
    // SAFETY: every non-NULL pointer is inside the arena with its declared length allocated,
    // except sizes whose byte length overflows, which the library rejects before any access.
    let status = unsafe {
        if stack {
            T::sinkhorn(
                args.0, n, p, args.1, args.2, params, args.3, args.4, &mut stats,
            )
        } else {
            T::sinkhorn_scratch(
                args.0,
                n,
                p,
                args.1,
                args.2,
                params,
                args.3,
                args.4,
                (args.5, scratch_len),
                &mut stats,
            )
        }
    };
    assert!(STATUSES.contains(&status), "status {status}");
    // The check with the same arguments: NULL scratch means the stack variant.
    if stack || !args.5.is_null() {
        let scratch_arg = if stack {
            (core::ptr::null_mut(), 0)
        } else {
            (args.5, scratch_len)
        };
        let mut error = etd_error {
            status: -1,
            detail: -1,
            callback_code: -1,
        };
        // SAFETY: as the solve.
        let checked = unsafe {
            T::sinkhorn_check(
                args.0,
                n,
                p,
                args.1,
                args.2,
                params,
                args.3,
                args.4,
                scratch_arg,
                &mut error,
            )
        };
        assert_eq!(checked, status, "check and solve disagree");
        assert_eq!(error.status, status);
    }
    if status != etd_status::ETD_OK as i32 {
        assert!(
            arena.snapshot() == before,
            "a failing call wrote to caller memory"
        );
        assert_eq!(stats, sentinel, "a failing call wrote the statistics");
        return;
    }
    assert!(!absurd, "an overflowing size was accepted");
    // Outputs f, g (3, 4) and, unless on the stack, scratch (5) overlap nothing passed; of the
    // scratch the call uses the first `n + p` values only.
    slots[5].len = needed;
    let passed = if stack { 5 } else { 6 };
    for out in 3..passed {
        for other in (0..passed).filter(|&k| k != out) {
            assert!(
                !slots[out].overlaps::<T>(slots[other]),
                "array {out} overlapped array {other}"
            );
        }
    }
    let after = arena.snapshot();
    for input_slot in [cost, log_a, log_b] {
        let range = input_slot.bytes::<T>();
        assert!(after[range.clone()] == before[range], "an input changed");
    }
    for (potentials, len) in [(args.3, n), (args.4, p)] {
        for k in 0..len {
            // SAFETY: written by the successful call, inside the arena.
            let x = unsafe { potentials.add(k).read() }.to_f64();
            assert!(x.is_finite() || x == f64::NEG_INFINITY, "potential {x}");
        }
    }
    let (_, coupling, _, max_iterations, tolerance) = params;
    assert!(
        (1..=max_iterations).contains(&stats.iterations),
        "{stats:?}"
    );
    assert!(stats.converged <= 1, "{stats:?}");
    assert!(
        stats.marginal_error.is_finite() && stats.marginal_error >= 0.0,
        "{stats:?}"
    );
    if stats.converged == 1 && coupling != ETD_COUPLING_GIBBS {
        assert!(stats.marginal_error <= tolerance.to_f64(), "{stats:?}");
    }
}
