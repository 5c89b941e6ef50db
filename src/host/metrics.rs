//! Sample-quality metrics (f64, row-major point sets).

use std::vec::Vec;

/// Mean of `x` (n, d) per dimension (d).
pub fn mean(x: &[f64], dim: usize) -> Vec<f64> {
    let n = (x.len() / dim) as f64;
    let mut m = std::vec![0.0; dim];
    for p in x.chunks_exact(dim) {
        m.iter_mut().zip(p).for_each(|(a, b)| *a += b / n);
    }
    m
}

/// Per-dimension variance of `x` (n, d), normalised by n (d).
pub fn variance(x: &[f64], dim: usize) -> Vec<f64> {
    let m = mean(x, dim);
    let n = (x.len() / dim) as f64;
    let mut v = std::vec![0.0; dim];
    for p in x.chunks_exact(dim) {
        for ((a, b), c) in v.iter_mut().zip(p).zip(&m) {
            *a += (b - c) * (b - c) / n;
        }
    }
    v
}

/// Mean Euclidean distance over all pairs `(x_i, y_j)`, including `i == j` for `x == y`.
fn mean_distance(x: &[f64], y: &[f64], dim: usize) -> f64 {
    let mut total = 0.0;
    for a in x.chunks_exact(dim) {
        for b in y.chunks_exact(dim) {
            let sq: f64 = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
            total += sq.sqrt();
        }
    }
    total / ((x.len() / dim) * (y.len() / dim)) as f64
}

/// Energy distance, V-statistic: `2 E|X - Y| - E|X - X'| - E|Y - Y'|`, for (n, d) and (m, d).
pub fn energy_distance(x: &[f64], y: &[f64], dim: usize) -> f64 {
    2.0 * mean_distance(x, y, dim) - mean_distance(x, x, dim) - mean_distance(y, y, dim)
}
