//! Stage 7, mutate (optional, ETD-SMC): `pi`-invariant Metropolis-Hastings steps per particle.

use crate::rng::{fill_normal, uniform};
use crate::target::{eval_log_density, eval_score};
use crate::{Error, Mutation, Real, Target};
use rand_core::Rng;

/// Caller memory of [`mutate`]. Shapes: `proposal`, `score`, `score_proposal` (N, d);
/// `log_pi`, `log_pi_proposal` (N). Contents on entry are ignored.
pub struct MutationBuffers<'a, T> {
    /// Proposed points.
    pub proposal: &'a mut [T],
    /// Score at the current points (MALA only).
    pub score: &'a mut [T],
    /// Score at the proposed points (MALA only).
    pub score_proposal: &'a mut [T],
    /// `log pi` at the current points.
    pub log_pi: &'a mut [T],
    /// `log pi` at the proposed points.
    pub log_pi_proposal: &'a mut [T],
}

/// Runs `mutation.steps` MH steps on every particle in `x` (N, d) and returns the acceptance rate.
///
/// MALA when the target has a score: `y = x + h s(x) + sqrt(2h) xi`, with the matching
/// Langevin proposal densities in the acceptance ratio; random-walk MH otherwise:
/// `y = x + sqrt(2h) xi`. A proposal with `log pi = -inf` is always rejected.
pub fn mutate<T: Real, G: Target<T> + ?Sized, R: Rng + ?Sized>(
    x: &mut [T],
    dim: usize,
    mutation: &Mutation<T>,
    target: &mut G,
    buffers: MutationBuffers<'_, T>,
    rng: &mut R,
) -> Result<T, Error> {
    let MutationBuffers {
        proposal,
        score,
        score_proposal,
        log_pi,
        log_pi_proposal,
    } = buffers;
    let h = mutation.step_size;
    let noise = (T::from_f64(2.0) * h).sqrt();
    let langevin = target.has_score();
    eval_log_density(target, x, dim, log_pi)?;
    if langevin {
        eval_score(target, x, dim, score)?;
    } else {
        score.fill(T::ZERO);
        score_proposal.fill(T::ZERO);
    }
    let mut accepted = 0usize;
    for _ in 0..mutation.steps {
        fill_normal(rng, proposal);
        for ((y, x_i), s) in proposal
            .chunks_exact_mut(dim)
            .zip(x.chunks_exact(dim))
            .zip(score.chunks_exact(dim))
        {
            for ((y_k, &x_k), &s_k) in y.iter_mut().zip(x_i).zip(s) {
                *y_k = x_k + h * s_k + noise * *y_k;
            }
        }
        eval_log_density(target, proposal, dim, log_pi_proposal)?;
        if langevin {
            eval_score(target, proposal, dim, score_proposal)?;
        }
        let particles = x
            .chunks_exact_mut(dim)
            .zip(proposal.chunks_exact(dim))
            .zip(
                score
                    .chunks_exact_mut(dim)
                    .zip(score_proposal.chunks_exact(dim)),
            )
            .zip(log_pi.iter_mut().zip(log_pi_proposal.iter()));
        for (((x_i, y), (s_x, s_y)), (lp_x, &lp_y)) in particles {
            // MH ratio pi(y) q(x | y) / (pi(x) q(y | x)) with log q(b | a) = -|b - a - h s(a)|^2 / (4h);
            // the q terms cancel exactly for random walk (s = 0): the proposal is symmetric.
            let log_ratio = lp_y - *lp_x + transition(x_i, y, s_y, h) - transition(y, x_i, s_x, h);
            if uniform::<T, R>(rng).ln() < log_ratio {
                x_i.copy_from_slice(y);
                s_x.copy_from_slice(s_y);
                *lp_x = lp_y;
                accepted += 1;
            }
        }
    }
    let proposals = x.len() / dim * mutation.steps as usize;
    Ok(T::from_usize(accepted) / T::from_usize(proposals.max(1)))
}

/// `log q(to | from)` of the Langevin proposal, up to its constant: `-|to - from - h s|^2 / (4h)`.
#[inline]
fn transition<T: Real>(to: &[T], from: &[T], score_from: &[T], h: T) -> T {
    let sq = to
        .iter()
        .zip(from)
        .zip(score_from)
        .fold(T::ZERO, |acc, ((&t, &f), &s)| {
            let r = t - f - h * s;
            acc + r * r
        });
    -sq / (T::from_f64(4.0) * h)
}
