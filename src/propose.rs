//! Stage 1, propose: `M` Gaussian proposals around each (optionally score-shifted) particle.

use crate::rng::fill_normal;
use crate::vector::{copy, rows, rows_mut};
use crate::Real;
use rand_core::Rng;

/// Smallest score norm divided by in the clip.
const CLIP_FLOOR: f64 = 1e-8;

/// Writes the proposal means and the proposal pool.
///
/// `m_i = x_i + alpha * clip(s_i, c)` (or `x_i` without scores), then
/// `y_{i,k} = m_i + sigma * xi` with `xi ~ N(0, I_d)`; proposal `i*M + k` belongs to particle `i`.
/// Shapes: `particles`, `scores`, `means` (N, d); `proposals` (N*M, d).
#[allow(clippy::too_many_arguments)]
pub fn propose<T: Real, R: Rng + ?Sized>(
    particles: &[T],
    scores: Option<&[T]>,
    dim: usize,
    alpha: T,
    score_clip: T,
    sigma: T,
    means: &mut [T],
    proposals: &mut [T],
    rng: &mut R,
) {
    copy(means, particles);
    if let Some(scores) = scores {
        for (m, s) in rows_mut(means, dim).zip(rows(scores, dim)) {
            let norm = s.iter().fold(T::ZERO, |acc, &s_k| acc + s_k * s_k).sqrt();
            let step = alpha * T::ONE.min(score_clip / norm.max(T::from_f64(CLIP_FLOOR)));
            for (m_k, &s_k) in m.iter_mut().zip(s) {
                *m_k += step * s_k;
            }
        }
    }
    fill_normal(rng, proposals);
    let per_particle = proposals.len() / means.len().max(1) * dim;
    for (pool, m) in rows_mut(proposals, per_particle).zip(rows(means, dim)) {
        for y in rows_mut(pool, dim) {
            for (y_k, &m_k) in y.iter_mut().zip(m) {
                *y_k = m_k + sigma * *y_k;
            }
        }
    }
}
