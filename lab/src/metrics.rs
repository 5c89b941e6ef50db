//! Sample-quality metrics (f64, row-major point sets).

/// Mean of `x` (n, d) per dimension (d).
pub fn mean(x: &[f64], dim: usize) -> Vec<f64> {
    let n = (x.len() / dim) as f64;
    let mut m = vec![0.0; dim];
    for p in x.chunks_exact(dim) {
        m.iter_mut().zip(p).for_each(|(a, b)| *a += b / n);
    }
    m
}

/// Per-dimension variance of `x` (n, d), normalised by n (d).
pub fn variance(x: &[f64], dim: usize) -> Vec<f64> {
    let m = mean(x, dim);
    let n = (x.len() / dim) as f64;
    let mut v = vec![0.0; dim];
    for p in x.chunks_exact(dim) {
        for ((a, b), c) in v.iter_mut().zip(p).zip(&m) {
            *a += (b - c) * (b - c) / n;
        }
    }
    v
}

/// Euclidean distance `|a - b|` of two points of the same length.
pub fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(p, q)| (p - q) * (p - q))
        .sum::<f64>()
        .sqrt()
}

/// Mean Euclidean distance over all pairs `(x_i, y_j)`, including `i == j` for `x == y`.
fn mean_distance(x: &[f64], y: &[f64], dim: usize) -> f64 {
    let mut total = 0.0;
    for a in x.chunks_exact(dim) {
        for b in y.chunks_exact(dim) {
            total += distance(a, b);
        }
    }
    total / ((x.len() / dim) * (y.len() / dim)) as f64
}

/// Energy distance, V-statistic: `2 E|X - Y| - E|X - X'| - E|Y - Y'|`, for (n, d) and (m, d).
pub fn energy_distance(x: &[f64], y: &[f64], dim: usize) -> f64 {
    2.0 * mean_distance(x, y, dim) - mean_distance(x, x, dim) - mean_distance(y, y, dim)
}

/// Mean pairwise Euclidean distance within `y` (m, d): the self term `E|Y - Y'|` of the energy
/// distance, to compute once for a fixed reference sample.
pub fn self_term(y: &[f64], dim: usize) -> f64 {
    mean_distance(y, y, dim)
}

/// [`energy_distance`] with the reference self term `E|Y - Y'|` precomputed by [`self_term`].
pub fn energy_distance_to(x: &[f64], y: &[f64], dim: usize, y_self: f64) -> f64 {
    2.0 * mean_distance(x, y, dim) - mean_distance(x, x, dim) - y_self
}

/// Sliced Wasserstein-2 distance between `x` (n, d) and `y` (m, d): the root mean, over
/// `projections` directions drawn uniformly on the sphere from `seed`, of the exact squared
/// 1-D Wasserstein-2 distance between the projected empirical measures (quantile functions
/// merged, so n and m may differ).
pub fn sliced_w2(x: &[f64], y: &[f64], dim: usize, projections: usize, seed: u64) -> f64 {
    use rand_core::SeedableRng;
    let mut rng = entropic_transport::DefaultRng::seed_from_u64(seed);
    let mut direction = vec![0.0; dim];
    let mut total = 0.0;
    for _ in 0..projections {
        entropic_transport::rng::fill_normal(&mut rng, &mut direction);
        let norm = direction.iter().map(|v| v * v).sum::<f64>().sqrt();
        direction.iter_mut().for_each(|v| *v /= norm);
        let project = |points: &[f64]| -> Vec<f64> {
            let mut p: Vec<f64> = points
                .chunks_exact(dim)
                .map(|q| q.iter().zip(&direction).map(|(a, b)| a * b).sum())
                .collect();
            p.sort_by(f64::total_cmp);
            p
        };
        total += w2_squared_1d(&project(x), &project(y));
    }
    (total / projections as f64).sqrt()
}

/// Exact squared W2 between two sorted 1-D empirical measures with uniform weights:
/// `int_0^1 (F^-1(u) - G^-1(u))^2 du`, over the merged breakpoints of both quantile functions.
fn w2_squared_1d(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut u, mut total) = (0, 0, 0.0, 0.0);
    while i < a.len() && j < b.len() {
        let next = ((i + 1) as f64 / na).min((j + 1) as f64 / nb);
        total += (next - u) * (a[i] - b[j]) * (a[i] - b[j]);
        u = next;
        if (i + 1) as f64 / na <= next {
            i += 1;
        }
        if (j + 1) as f64 / nb <= next {
            j += 1;
        }
    }
    total
}

/// Median of `values` (mean of the two middle values for an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Mode coverage and balance of an ensemble: how many of the modes hold at least one point,
/// and the total-variation distance `0.5 * sum_k |share_k - weight_k|` between the ensemble's
/// mode shares and the true mode weights. `labels` are the points' mode indices.
pub fn mode_coverage(labels: &[usize], weights: &[f64]) -> (usize, f64) {
    let mut counts = vec![0usize; weights.len()];
    labels.iter().for_each(|&k| counts[k] += 1);
    let n = labels.len().max(1) as f64;
    let covered = counts.iter().filter(|&&c| c > 0).count();
    let tv = 0.5
        * counts
            .iter()
            .zip(weights)
            .map(|(&c, w)| (c as f64 / n - w).abs())
            .sum::<f64>();
    (covered, tv)
}
