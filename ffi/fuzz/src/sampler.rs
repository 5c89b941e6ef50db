//! A sampler's life through the C ABI: `etd_sampler_size_*` and `etd_sampler_init_*` with
//! arbitrary `etd_config` fields, memory lengths and alignments (the memory at any byte offset
//! of a larger buffer), then a sequence of `etd_sampler_step_*`, `etd_sampler_transport_*`,
//! `etd_sampler_resample_*`, `etd_sampler_set_precondition_*` and `etd_weight_ess_*` calls on
//! arbitrary particles, proposals and log-weights (sometimes overlapping the particles or the
//! sampler's memory), with callbacks that write NaN, infinities, huge or subnormal values,
//! fail with a code, or write only some of their outputs. Checked on every call:
//!
//! - the status is one the ABI documents, never `ETD_ERR_PANIC`, and
//!   `etd_sampler_last_error_*` reports it;
//! - `etd_sampler_init_*` succeeds only with a configuration `etd_sampler_size_*` accepts and
//!   at least that much memory, and writes `*out` only on success;
//! - on failure the particles are bit-identical and `*stats`, `*ess` are not written;
//! - on success every particle is finite and the statistics are finite and in range; a
//!   resampled particle is a copy of a proposal of positive weight; the callbacks only ever
//!   see `count >= 1` points of the sampler's dimension.

use crate::abi::{Callback, Scalar};
use crate::input::Input;
use crate::sinkhorn::{Arena, STATUSES};
use core::ffi::{c_int, c_void};
use etd::{etd_config, etd_config_default, etd_error, etd_status, etd_step_stats};

const OK: i32 = etd_status::ETD_OK as i32;

pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    if input.flag() {
        life::<f32>(&mut input);
    } else {
        life::<f64>(&mut input);
    }
}

/// A configuration: the defaults for a small shape, then any field replaced by an arbitrary
/// value (sizes up to 16 x 4 x 4, or anything).
fn config(input: &mut Input<'_>) -> etd_config {
    let shape = [input.below(17), input.below(5), input.below(5)].map(|x| x as u32);
    let mut cfg = core::mem::MaybeUninit::<etd_config>::uninit();
    // SAFETY: etd_config_default writes the whole config.
    let mut cfg = unsafe {
        etd_config_default(cfg.as_mut_ptr(), shape[0], shape[1], shape[2]);
        cfg.assume_init()
    };
    while input.one_in(2) {
        let number = input.number().unwrap_or_else(f64::from_bits);
        let small = input.below(5) as u32;
        match input.below(16) {
            0 => cfg.max_iterations = small * 8,
            1 => cfg.epsilon = number,
            2 => cfg.tolerance = number,
            3 => cfg.alpha = number,
            4 => cfg.sigma = number,
            5 => cfg.score_clip = number,
            6 => cfg.rho = number,
            7 => cfg.damping = number,
            8 => cfg.coupling = small,
            9 => cfg.update = small,
            10 => cfg.use_score = small,
            11 => cfg.mutation_steps = small,
            12 => cfg.mutation_step_size = number,
            13 => cfg.n_particles = input.u32(),
            14 => cfg.proposals_per_particle = input.u32(),
            _ => cfg.dim = input.u32(),
        }
    }
    cfg
}

/// What a callback does on one call, read from the input it shares with the harness.
struct Script<'a, 'b> {
    input: &'a mut Input<'b>,
    dim: usize,
}

/// A batch callback: checks its arguments, then reads its behaviour from the script: mostly a
/// standard normal's log-density (`score`: its score), otherwise arbitrary values, a failure
/// code, or only the first outputs written.
unsafe extern "C" fn callback<T: Scalar, const SCORE: bool>(
    user: *mut c_void,
    x: *const T,
    count: usize,
    dim: usize,
    out: *mut T,
) -> c_int {
    // SAFETY: `user` is the `Script` of the running call (see `Life::step`).
    let script = unsafe { &mut *user.cast::<Script<'_, '_>>() };
    assert!(!x.is_null() && !out.is_null() && count >= 1 && dim == script.dim);
    let outputs = if SCORE { count * dim } else { count };
    // SAFETY: the library passes `count * dim` points and room for `outputs` values.
    let (x, out) = unsafe {
        (
            core::slice::from_raw_parts(x, count * dim),
            core::slice::from_raw_parts_mut(out, outputs),
        )
    };
    let input = &mut *script.input;
    let written = match input.below(8) {
        5 => return input.u32() as c_int | 1,
        6 => input.below(outputs),
        7 => 0,
        _ => outputs,
    };
    let arbitrary = input.below(8) == 4;
    for (k, o) in out.iter_mut().enumerate().take(written) {
        *o = if arbitrary {
            T::number(input)
        } else if SCORE {
            T::from_f64(-x[k].to_f64())
        } else {
            let point = &x[k * dim..][..dim];
            T::from_f64(-0.5 * point.iter().map(|v| v.to_f64().powi(2)).sum::<f64>())
        };
    }
    0
}

/// A live sampler and the memory it lives in.
struct Life<T: Scalar> {
    /// The memory the sampler lives in, kept alive with it.
    _memory: Arena,
    sampler: *mut T::Sampler,
    cfg: etd_config,
}

fn life<T: Scalar>(input: &mut Input<'_>) {
    let cfg = config(input);
    // SAFETY: a valid config.
    let size = unsafe { T::size(&cfg) };
    let mem_len = if size == 0 || input.one_in(8) {
        input.below(1 << 16)
    } else {
        size
    };
    if mem_len > 1 << 22 {
        return; // a valid configuration too large to fuzz quickly
    }
    let offset = input.below(16);
    let mut arena = Arena::new(mem_len + offset);
    let mem = arena.at(offset).cast::<c_void>();
    let sentinel = 0x5A5A_usize as *mut T::Sampler;
    let mut sampler = sentinel;
    let seed = input.u64();
    // SAFETY: `mem` holds `mem_len` bytes of the arena.
    let status = unsafe { T::init(mem, mem_len, &cfg, seed, &mut sampler) };
    assert!(STATUSES.contains(&status), "init: status {status}");
    if status != OK {
        assert_eq!(sampler, sentinel, "init wrote *out on failure");
        return;
    }
    assert!(
        size != 0 && mem_len >= size,
        "init accepted {mem_len} bytes, size {size}"
    );
    let mut life = Life::<T> {
        _memory: arena,
        sampler,
        cfg,
    };
    let (n, d) = (cfg.n_particles as usize, cfg.dim as usize);
    let mut particles: Vec<T> = (0..n * d).map(|_| T::number(input)).collect();
    for _ in 0..1 + input.below(6) {
        match input.below(6) {
            0 | 1 => life.step(input, &mut particles),
            2 => life.transport(input, &mut particles, false),
            3 => life.transport(input, &mut particles, true),
            4 => life.precondition(input),
            _ => ess::<T>(input),
        }
    }
}

impl<T: Scalar> Life<T> {
    /// Asserts that `status` is documented and is what `etd_sampler_last_error_*` reports.
    fn check_status(&self, status: i32) {
        assert!(STATUSES.contains(&status), "status {status}");
        let mut error = etd_error {
            status: -1,
            detail: -1,
            callback_code: -1,
        };
        // SAFETY: a live sampler and a valid `out`.
        assert_eq!(unsafe { T::last_error(self.sampler, &mut error) }, OK);
        assert_eq!(error.status, status, "last_error disagrees: {error:?}");
    }

    fn step(&mut self, input: &mut Input<'_>, particles: &mut [T]) {
        let mut script = Script {
            input,
            dim: self.cfg.dim as usize,
        };
        let with_score = script.input.below(4) != 0;
        let log_density: Option<Callback<T>> =
            (!script.input.one_in(32)).then_some(callback::<T, false>);
        let score: Option<Callback<T>> = with_score.then_some(callback::<T, true>);
        let (before, mut stats) = (bits(particles), sentinel_stats());
        let user = (&mut script as *mut Script<'_, '_>).cast::<c_void>();
        // SAFETY: a live sampler, `n * d` particles, and a script alive for the call.
        let status = unsafe {
            T::step(
                self.sampler,
                particles.as_mut_ptr(),
                log_density,
                score,
                user,
                &mut stats,
            )
        };
        self.check_status(status);
        check_outcome(status, particles, &before, &stats);
    }

    /// A transport (or, with `resample`, a systematic resampling) to arbitrary proposals,
    /// sometimes overlapping the particles or the sampler's memory.
    fn transport(&mut self, input: &mut Input<'_>, particles: &mut [T], resample: bool) {
        let d = self.cfg.dim as usize;
        let pool = self.cfg.n_particles as usize * self.cfg.proposals_per_particle as usize;
        let count = input.below(pool + 3);
        let mut proposals: Vec<T> = (0..count * d).map(|_| T::number(input)).collect();
        let mut log_weights: Vec<T> = (0..count).map(|_| T::number(input)).collect();
        let (mut proposals_ptr, weights_ptr) = (
            proposals.as_mut_ptr().cast_const(),
            log_weights.as_mut_ptr(),
        );
        match input.below(16) {
            0 => proposals_ptr = particles.as_ptr(),
            1 => proposals_ptr = self.sampler.cast_const().cast(),
            _ => {}
        }
        let (before, mut stats) = (bits(particles), sentinel_stats());
        // SAFETY: a live sampler; `count * d` proposals and `count` log-weights, or proposals
        // over the particles or the sampler's header, which the library rejects unread.
        let status = unsafe {
            if resample {
                T::resample(
                    self.sampler,
                    particles.as_mut_ptr(),
                    proposals_ptr,
                    count,
                    weights_ptr,
                )
            } else {
                T::transport(
                    self.sampler,
                    particles.as_mut_ptr(),
                    proposals_ptr,
                    count,
                    weights_ptr,
                    &mut stats,
                )
            }
        };
        self.check_status(status);
        if resample {
            check_outcome(status, particles, &before, &sentinel_stats());
            if status == OK {
                for x in particles.chunks_exact(d) {
                    let copied = proposals
                        .chunks_exact(d)
                        .zip(&log_weights)
                        .any(|(y, w)| bits(y) == bits(x) && w.to_f64() > f64::NEG_INFINITY);
                    assert!(
                        copied,
                        "a resampled particle is no proposal of positive weight"
                    );
                }
            }
        } else {
            check_outcome(status, particles, &before, &stats);
        }
    }

    fn precondition(&mut self, input: &mut Input<'_>) {
        let rate = input.number().unwrap_or_else(f64::from_bits);
        // SAFETY: a live sampler.
        let status = unsafe { T::set_precondition(self.sampler, rate) };
        self.check_status(status);
    }
}

/// `etd_weight_ess_*` on arbitrary log-weights: in `[1, count]` on success, else not written.
fn ess<T: Scalar>(input: &mut Input<'_>) {
    let weights: Vec<T> = (0..input.below(40)).map(|_| T::number(input)).collect();
    let mut ess = -1.0;
    // SAFETY: `weights.len()` readable values.
    let status = unsafe { T::ess(weights.as_ptr(), weights.len(), &mut ess) };
    assert!(STATUSES.contains(&status), "status {status}");
    if status == OK {
        assert!(
            (1.0..=weights.len() as f64 * (1.0 + 1e-6)).contains(&ess),
            "ESS {ess} of {}",
            weights.len()
        );
    } else {
        assert_eq!(ess, -1.0, "ESS written on failure");
    }
}

fn bits<T: Scalar>(x: &[T]) -> Vec<u64> {
    x.iter().map(|v| v.bits()).collect()
}

fn sentinel_stats() -> etd_step_stats {
    etd_step_stats {
        sinkhorn_iterations: 0xDEAD,
        converged: 0xBEEF,
        marginal_error: -7.5,
        cost_scale: -7.5,
        weight_ess: -7.5,
        coupling_ess: -7.5,
        acceptance_rate: -7.5,
    }
}

/// Failure: particles bit-identical and statistics not written. Success: finite particles and
/// finite statistics (when written) within their ranges.
fn check_outcome<T: Scalar>(status: i32, particles: &[T], before: &[u64], stats: &etd_step_stats) {
    if status != OK {
        assert!(bits(particles) == before, "particles changed on failure");
        assert_eq!(*stats, sentinel_stats(), "statistics written on failure");
        return;
    }
    assert!(
        particles.iter().all(|x| x.to_f64().is_finite()),
        "a non-finite particle after success"
    );
    if *stats != sentinel_stats() {
        let values = [
            stats.marginal_error,
            stats.cost_scale,
            stats.weight_ess,
            stats.coupling_ess,
            stats.acceptance_rate,
        ];
        assert!(values.iter().all(|v| v.is_finite()), "{stats:?}");
        assert!((0.0..=1.0).contains(&stats.acceptance_rate), "{stats:?}");
        assert!(
            stats.weight_ess >= 0.999 && stats.coupling_ess >= 0.999,
            "{stats:?}"
        );
    }
}
