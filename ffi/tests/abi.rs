//! The C ABI called from Rust at small sizes: every entry point, its error paths, misaligned
//! and overlapping arrays, and sampler memory at every byte alignment. Written to run under
//! Miri (`cargo +nightly miri test -p etd-ffi --test abi`, part of `.ci/run`), which then
//! checks that the `unsafe` code behind the ABI (`ffi/src/guard.rs`, `sampler.rs`,
//! `filter.rs`, `sinkhorn.rs`) stays within each pointer's bounds, alignment and aliasing
//! rules, and that no uninitialised memory is read.

use core::ffi::{c_int, c_void};
use core::mem::{size_of, MaybeUninit};
use core::ptr::{null, null_mut};
use etd::*;

const N: u32 = 4;
const M: u32 = 2;
const D: u32 = 2;

fn status(s: etd_status) -> i32 {
    s as i32
}

/// A standard normal in `D` dimensions; `user` is NULL or points to an `i32` the callback
/// returns instead of computing (a failure code), or, if it is 1000, NaN written to `out[0]`.
unsafe extern "C" fn log_density(
    user: *mut c_void,
    x: *const f64,
    count: usize,
    dim: usize,
    out: *mut f64,
) -> c_int {
    let mode = if user.is_null() {
        0
    } else {
        unsafe { *user.cast::<i32>() }
    };
    if mode != 0 && mode != 1000 {
        return mode;
    }
    // SAFETY: the library passes `count * dim` points and room for `count` values.
    let (x, out) = unsafe {
        (
            core::slice::from_raw_parts(x, count * dim),
            core::slice::from_raw_parts_mut(out, count),
        )
    };
    for (o, point) in out.iter_mut().zip(x.chunks_exact(dim)) {
        *o = -0.5 * point.iter().map(|v| v * v).sum::<f64>();
    }
    if mode == 1000 {
        out[0] = f64::NAN;
    }
    0
}

unsafe extern "C" fn score(
    _user: *mut c_void,
    x: *const f64,
    count: usize,
    dim: usize,
    out: *mut f64,
) -> c_int {
    // SAFETY: `count * dim` values each way.
    let (x, out) = unsafe {
        (
            core::slice::from_raw_parts(x, count * dim),
            core::slice::from_raw_parts_mut(out, count * dim),
        )
    };
    out.iter_mut().zip(x).for_each(|(o, v)| *o = -v);
    0
}

unsafe extern "C" fn log_density_f32(
    _user: *mut c_void,
    x: *const f32,
    count: usize,
    dim: usize,
    out: *mut f32,
) -> c_int {
    // SAFETY: as `log_density`.
    let (x, out) = unsafe {
        (
            core::slice::from_raw_parts(x, count * dim),
            core::slice::from_raw_parts_mut(out, count),
        )
    };
    for (o, point) in out.iter_mut().zip(x.chunks_exact(dim)) {
        *o = -0.5 * point.iter().map(|v| v * v).sum::<f32>();
    }
    0
}

/// A small configuration (score-free unless `use_score`).
fn config(use_score: bool) -> etd_config {
    let mut cfg = MaybeUninit::uninit();
    // SAFETY: etd_config_default writes the whole struct.
    unsafe {
        etd_config_default(cfg.as_mut_ptr(), N, M, D);
        let mut cfg: etd_config = cfg.assume_init();
        cfg.use_score = u32::from(use_score);
        cfg.mutation_steps = 1;
        cfg
    }
}

/// A byte buffer with room for `len` bytes at any offset below 16.
struct Memory {
    words: Vec<u64>,
}

impl Memory {
    fn new(len: usize) -> Self {
        Memory {
            words: vec![0; len / 8 + 3],
        }
    }

    /// The address `offset` bytes in (at most `len + 16`).
    fn at(&mut self, offset: usize) -> *mut c_void {
        assert!(offset <= self.words.len() * 8);
        // SAFETY: in bounds (asserted).
        unsafe { self.words.as_mut_ptr().cast::<u8>().add(offset).cast() }
    }
}

fn particles() -> Vec<f64> {
    (0..N * D).map(|k| f64::from(k) * 0.5 - 2.0).collect()
}

/// An f64 sampler in `memory` at byte `offset`.
fn sampler(memory: &mut Memory, offset: usize, cfg: &etd_config) -> *mut etd_sampler_f64 {
    let mut s = null_mut();
    // SAFETY: valid config; the memory holds `etd_sampler_size_f64` bytes at `offset`.
    unsafe {
        let len = etd_sampler_size_f64(cfg);
        assert_eq!(
            etd_sampler_init_f64(memory.at(offset), len, cfg, 7, &mut s),
            status(etd_status::ETD_OK)
        );
    }
    s
}

fn last_error(s: *const etd_sampler_f64) -> etd_error {
    let mut error = MaybeUninit::uninit();
    // SAFETY: a live sampler and a valid out pointer.
    unsafe {
        assert_eq!(etd_sampler_last_error_f64(s, error.as_mut_ptr()), 0);
        error.assume_init()
    }
}

#[test]
fn a_sampler_lives_in_memory_at_every_alignment() {
    let cfg = config(true);
    // SAFETY: valid config.
    let len = unsafe { etd_sampler_size_f64(&cfg) };
    for offset in 0..8 {
        let mut memory = Memory::new(len);
        let s = sampler(&mut memory, offset, &cfg);
        let mut x = particles();
        let mut stats = etd_step_stats::default();
        for _ in 0..2 {
            // SAFETY: a live sampler, N * D particles, callbacks that honour the contract.
            let code = unsafe {
                etd_sampler_step_f64(
                    s,
                    x.as_mut_ptr(),
                    Some(log_density),
                    Some(score),
                    null_mut(),
                    &mut stats,
                )
            };
            assert_eq!(code, status(etd_status::ETD_OK), "offset {offset}");
        }
        assert!(x.iter().all(|v| v.is_finite()));
        assert!(stats.sinkhorn_iterations >= 1 && stats.weight_ess >= 1.0);
        assert_eq!(
            last_error(s),
            etd_error {
                status: 0,
                detail: 0,
                callback_code: 0
            }
        );
    }
}

#[test]
fn transport_resample_and_ess() {
    let cfg = config(false);
    // SAFETY: valid config.
    let len = unsafe { etd_sampler_size_f64(&cfg) };
    let mut memory = Memory::new(len);
    let s = sampler(&mut memory, 3, &cfg);
    let mut x = particles();
    let proposals: Vec<f64> = (0..6 * D).map(|k| f64::from(k) * 0.25).collect();
    let log_weights = [0.0, -1.0, f64::NEG_INFINITY, -0.5, -2.0, 0.5];
    let mut stats = etd_step_stats::default();
    // SAFETY: a live sampler; 6 proposals of D values and 6 log-weights.
    unsafe {
        let code = etd_sampler_transport_f64(
            s,
            x.as_mut_ptr(),
            proposals.as_ptr(),
            6,
            log_weights.as_ptr(),
            &mut stats,
        );
        assert_eq!(code, status(etd_status::ETD_OK));
        let code = etd_sampler_resample_f64(
            s,
            x.as_mut_ptr(),
            proposals.as_ptr(),
            6,
            log_weights.as_ptr(),
        );
        assert_eq!(code, status(etd_status::ETD_OK));
    }
    for particle in x.chunks_exact(D as usize) {
        let j = proposals
            .chunks_exact(D as usize)
            .position(|y| y == particle)
            .expect("a resampled particle is a proposal");
        assert_ne!(j, 2, "the proposal of weight 0 was drawn");
    }
    let mut ess = 0.0;
    // SAFETY: 6 readable values and a valid out pointer.
    unsafe {
        assert_eq!(etd_weight_ess_f64(log_weights.as_ptr(), 6, &mut ess), 0);
    }
    assert!((1.0..=6.0).contains(&ess));
}

#[test]
fn an_f32_sampler_steps_and_transports() {
    let cfg = config(false);
    let mut s = null_mut();
    // SAFETY: valid config and memory of the size asked for.
    unsafe {
        let len = etd_sampler_size_f32(&cfg);
        let mut memory = Memory::new(len);
        assert_eq!(etd_sampler_init_f32(memory.at(1), len, &cfg, 1, &mut s), 0);
        let mut x: Vec<f32> = particles().iter().map(|&v| v as f32).collect();
        let code = etd_sampler_step_f32(
            s,
            x.as_mut_ptr(),
            Some(log_density_f32),
            None,
            null_mut(),
            null_mut(),
        );
        assert_eq!(code, 0);
        let proposals = [0.5f32; 2 * D as usize];
        let code = etd_sampler_transport_f32(
            s,
            x.as_mut_ptr(),
            proposals.as_ptr(),
            2,
            [0.0f32, 0.0].as_ptr(),
            null_mut(),
        );
        assert_eq!(code, 0);
        assert!(x.iter().all(|&v| v == 0.5));
    }
}

/// Runs one step with `user` selecting the callback's behaviour; asserts its status and detail
/// and that neither the particles nor the statistics changed.
fn failing_step(
    s: *mut etd_sampler_f64,
    x: *mut f64,
    user: *mut c_void,
    expected: (etd_status, etd_detail),
) {
    let before: Vec<f64> = particles();
    let sentinel = etd_step_stats {
        sinkhorn_iterations: 99,
        ..Default::default()
    };
    let mut stats = sentinel;
    // SAFETY: a live sampler (or the caller's deliberate NULL), N * D values at `x` or NULL.
    let code = unsafe { etd_sampler_step_f64(s, x, Some(log_density), None, user, &mut stats) };
    assert_eq!(code, status(expected.0));
    if !s.is_null() && !x.is_null() && code != status(etd_status::ETD_ERR_INVALID_ARGUMENT) {
        // SAFETY: N * D values.
        let after = unsafe { core::slice::from_raw_parts(x, (N * D) as usize) };
        assert_eq!(after, &before[..]);
        assert_eq!(last_error(s).detail, expected.1 as i32);
    }
    assert_eq!(stats, sentinel);
}

#[test]
fn errors_write_nothing_and_say_why() {
    use etd_detail::*;
    use etd_status::*;
    let cfg = config(false);
    // SAFETY: valid config.
    let len = unsafe { etd_sampler_size_f64(&cfg) };
    let mut memory = Memory::new(len);
    let s = sampler(&mut memory, 0, &cfg);
    let mut x = particles();
    let mut fail = 17i32;
    failing_step(
        s,
        x.as_mut_ptr(),
        (&mut fail as *mut i32).cast(),
        (ETD_ERR_CALLBACK, ETD_DETAIL_CALLBACK_FAILED),
    );
    assert_eq!(last_error(s).callback_code, 17);
    let mut nan = 1000i32;
    failing_step(
        s,
        x.as_mut_ptr(),
        (&mut nan as *mut i32).cast(),
        (ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_DENSITY),
    );
    failing_step(
        s,
        null_mut(),
        null_mut(),
        (ETD_ERR_NULL_POINTER, ETD_DETAIL_NULL_POINTER),
    );
    failing_step(
        null_mut(),
        x.as_mut_ptr(),
        null_mut(),
        (ETD_ERR_NULL_POINTER, ETD_DETAIL_NONE),
    );

    // Misaligned particles: a valid byte range at an odd address.
    let mut bytes = vec![0u64; (N * D) as usize + 1];
    let odd = bytes
        .as_mut_ptr()
        .cast::<u8>()
        .wrapping_add(1)
        .cast::<f64>();
    failing_step(
        s,
        odd,
        null_mut(),
        (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_MISALIGNED),
    );
    assert_eq!(last_error(s).detail, ETD_DETAIL_MISALIGNED as i32);

    // Particles inside the sampler's own memory.
    let inside = memory.at(len - 8 * (N * D) as usize).cast::<u8>();
    let aligned = inside.wrapping_add(inside.align_offset(8)).cast::<f64>();
    failing_step(
        s,
        aligned,
        null_mut(),
        (ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_OVERLAP),
    );
    assert_eq!(last_error(s).detail, ETD_DETAIL_OVERLAP as i32);

    // Proposals that are the particles, and a count outside 1..=N*M.
    let w = [0.0f64; (N * M) as usize + 1];
    // SAFETY: a live sampler; the arrays hold what `count` says, or are rejected unread.
    unsafe {
        let code =
            etd_sampler_transport_f64(s, x.as_mut_ptr(), x.as_ptr(), 1, w.as_ptr(), null_mut());
        assert_eq!(code, status(ETD_ERR_INVALID_ARGUMENT));
        assert_eq!(last_error(s).detail, ETD_DETAIL_OVERLAP as i32);
        let y = vec![0.0f64; ((N * M + 1) * D) as usize];
        for count in [0, (N * M + 1) as usize] {
            let code = etd_sampler_transport_f64(
                s,
                x.as_mut_ptr(),
                y.as_ptr(),
                count,
                w.as_ptr(),
                null_mut(),
            );
            assert_eq!(code, status(ETD_ERR_INVALID_ARGUMENT));
            assert_eq!(last_error(s).detail, ETD_DETAIL_PROPOSAL_COUNT as i32);
        }
    }
    assert_eq!(x, particles());
}

#[test]
fn handles_are_checked() {
    let cfg = config(false);
    let mut zeros = vec![0u64; 64];
    let mut x = particles();
    let mut error = MaybeUninit::<etd_error>::uninit();
    // SAFETY: the handles point to readable memory of a header's size or more.
    unsafe {
        let foreign = zeros.as_mut_ptr().cast::<etd_sampler_f64>();
        let code = etd_sampler_last_error_f64(foreign, error.as_mut_ptr());
        assert_eq!(code, status(etd_status::ETD_ERR_INVALID_ARGUMENT));
        // An f32 sampler given to an f64 function.
        let len = etd_sampler_size_f32(&cfg);
        let mut memory = Memory::new(len);
        let mut s = null_mut();
        assert_eq!(etd_sampler_init_f32(memory.at(0), len, &cfg, 1, &mut s), 0);
        let code = etd_sampler_step_f64(
            s.cast(),
            x.as_mut_ptr(),
            Some(log_density),
            None,
            null_mut(),
            null_mut(),
        );
        assert_eq!(code, status(etd_status::ETD_ERR_INVALID_ARGUMENT));
        // Too little memory, and a configuration the size function refuses.
        let mut out = null_mut();
        let code = etd_sampler_init_f64(memory.at(0), 64, &cfg, 1, &mut out);
        assert_eq!(code, status(etd_status::ETD_ERR_BUFFER_TOO_SMALL));
        assert!(out.is_null());
        let bad = etd_config {
            epsilon: f64::NAN,
            ..cfg
        };
        assert_eq!(etd_sampler_size_f64(&bad), 0);
        assert_eq!(etd_config_check_f64(&bad, error.as_mut_ptr()), 2);
        assert_eq!(
            error.assume_init().detail,
            etd_detail::ETD_DETAIL_INVALID_EPSILON as i32
        );
        assert_eq!(etd_sampler_size_f64(null()), 0);
    }
    assert_eq!(x, particles());
}

/// A 3 x 4 problem: (cost, log_a, log_b).
fn problem() -> ([f64; 12], [f64; 3], [f64; 4]) {
    let cost = core::array::from_fn(|k| ((k * 7) % 5) as f64 * 0.3);
    (cost, [-(3f64.ln()); 3], [-(4f64.ln()); 4])
}

#[test]
fn sinkhorn_on_the_stack_and_in_scratch_agree() {
    let (cost, log_a, log_b) = problem();
    for coupling in [
        ETD_COUPLING_BALANCED,
        ETD_COUPLING_UNBALANCED,
        ETD_COUPLING_GIBBS,
    ] {
        let (mut f, mut g) = ([0.0; 3], [0.0; 4]);
        let (mut f2, mut g2) = ([0.0; 3], [0.0; 4]);
        let mut scratch = [0.0; 7];
        let (mut stats, mut stats2) = Default::default();
        // SAFETY: arrays of the sizes the call reads and writes.
        unsafe {
            let code = etd_sinkhorn_f64(
                cost.as_ptr(),
                3,
                4,
                log_a.as_ptr(),
                log_b.as_ptr(),
                0.5,
                coupling,
                1.0,
                50,
                1e-9,
                f.as_mut_ptr(),
                g.as_mut_ptr(),
                &mut stats,
            );
            assert_eq!(code, 0);
            assert_eq!(etd_sinkhorn_scratch_len(3, 4), 7);
            let code = etd_sinkhorn_scratch_f64(
                cost.as_ptr(),
                3,
                4,
                log_a.as_ptr(),
                log_b.as_ptr(),
                0.5,
                coupling,
                1.0,
                50,
                1e-9,
                f2.as_mut_ptr(),
                g2.as_mut_ptr(),
                scratch.as_mut_ptr(),
                7,
                &mut stats2,
            );
            assert_eq!(code, 0);
        }
        assert_eq!((f, g, stats), (f2, g2, stats2));
        assert!(f.iter().chain(&g).all(|v| v.is_finite()));
    }
    // f32, stack.
    let cost32 = cost.map(|c| c as f32);
    let (la, lb) = (log_a.map(|v| v as f32), log_b.map(|v| v as f32));
    let (mut f, mut g) = ([0.0f32; 3], [0.0f32; 4]);
    // SAFETY: as above.
    let code = unsafe {
        etd_sinkhorn_f32(
            cost32.as_ptr(),
            3,
            4,
            la.as_ptr(),
            lb.as_ptr(),
            0.5,
            ETD_COUPLING_BALANCED,
            1.0,
            50,
            1e-5,
            f.as_mut_ptr(),
            g.as_mut_ptr(),
            null_mut(),
        )
    };
    assert_eq!(code, 0);
}

#[test]
fn sinkhorn_rejects_bad_arrays_before_touching_them() {
    use etd_detail::*;
    let (cost, log_a, log_b) = problem();
    let mut buffer = [0.0f64; 16];
    let mut scratch = [0.0f64; 7];
    let base = buffer.as_mut_ptr();
    let odd = base.cast::<u8>().wrapping_add(4).cast::<f64>();
    // (f, g, scratch, scratch_len, expected detail)
    let cases: [(*mut f64, *mut f64, *mut f64, usize, etd_detail); 5] = [
        (
            odd,
            base.wrapping_add(8),
            scratch.as_mut_ptr(),
            7,
            ETD_DETAIL_MISALIGNED,
        ),
        (
            base,
            base.wrapping_add(2),
            scratch.as_mut_ptr(),
            7,
            ETD_DETAIL_OVERLAP,
        ),
        (
            base,
            base.wrapping_add(8),
            base.wrapping_add(10),
            7,
            ETD_DETAIL_OVERLAP,
        ),
        (
            base,
            base.wrapping_add(8),
            scratch.as_mut_ptr(),
            6,
            ETD_DETAIL_MEMORY_TOO_SMALL,
        ),
        (
            base,
            base.wrapping_add(8),
            null_mut(),
            7,
            ETD_DETAIL_NULL_POINTER,
        ),
    ];
    for (f, g, s, len, detail) in cases {
        let before = buffer;
        let mut error = MaybeUninit::<etd_error>::uninit();
        // SAFETY: every pointer is inside `buffer` or `scratch` (or NULL); the library rejects
        // the call before reading or writing any of them.
        unsafe {
            let code = etd_sinkhorn_scratch_f64(
                cost.as_ptr(),
                3,
                4,
                log_a.as_ptr(),
                log_b.as_ptr(),
                0.5,
                ETD_COUPLING_BALANCED,
                1.0,
                10,
                1e-6,
                f,
                g,
                s,
                len,
                null_mut(),
            );
            assert_ne!(code, 0);
            etd_sinkhorn_check_f64(
                cost.as_ptr(),
                3,
                4,
                log_a.as_ptr(),
                log_b.as_ptr(),
                0.5,
                ETD_COUPLING_BALANCED,
                1.0,
                10,
                1e-6,
                f,
                g,
                s,
                len,
                error.as_mut_ptr(),
            );
            if !s.is_null() {
                assert_eq!(error.assume_init().detail, detail as i32);
            }
        }
        assert_eq!(buffer.map(f64::to_bits), before.map(f64::to_bits));
    }
    // The stack scratch holds n + p <= ETD_SINKHORN_STACK_SCRATCH values.
    let big = vec![0.0f64; 2 * 127];
    let (mut f, mut g) = ([0.0; 2], vec![0.0; 127]);
    // SAFETY: 2 x 127 costs and matching marginals and potentials.
    let code = unsafe {
        etd_sinkhorn_f64(
            big.as_ptr(),
            2,
            127,
            [0.0; 2].as_ptr(),
            vec![0.0; 127].as_ptr(),
            1.0,
            ETD_COUPLING_BALANCED,
            1.0,
            5,
            1e-3,
            f.as_mut_ptr(),
            g.as_mut_ptr(),
            null_mut(),
        )
    };
    assert_eq!(code, status(etd_status::ETD_ERR_NO_SUPPORT));
    assert_eq!(size_of::<etd_sinkhorn_stats>(), 16);
}
