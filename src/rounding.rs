//! Stage 6 with [`Update::Rounded`]: the categorical draws of all
//! particles made jointly, by dependent rounding of the plan (Gandhi, Khuller, Parthasarathy and
//! Srinivasan 2006, "Dependent rounding and its applications to approximation algorithms",
//! J. ACM 53(3)).
//!
//! The row-normalised plan `x_ij = p_i(j)` (N, P) has rows summing to 1 and columns summing to
//! `c_j` (`N` times the column's share of the plan). An entry strictly between 0 and 1 is
//! fractional. Repeatedly, a walk along fractional entries, alternating between a row and a
//! column, closes into a cycle or reaches, at both ends, a column with a single fractional
//! entry (a maximal path); its entries move by `+delta, -delta, +delta, ...`, with `delta`
//! random of mean 0 and as large as keeps them in `[0, 1]`, so at least one becomes 0 or 1.
//! Each entry keeps its expectation, every row and every inner vertex of the walk keeps its
//! sum, and a column changes its sum only once a single fractional entry is left in it. When
//! none is left, every row holds one 1: particle `i` moves to proposal `j` with probability
//! `p_i(j)`, as with independent draws, and proposal `j` receives `floor(c_j)` or `ceil(c_j)`
//! particles, the counts of systematic resampling, where independent draws give it a count of
//! variance `sum_i p_i(j) (1 - p_i(j))`.
//!
//! Entries within `4 EPSILON` of 0 or 1 count as 0 or 1 (the rounding of a few
//! subtractions), and plan entries below `1e-3 / P` of their row are left out first. Each step
//! makes at least one entry 0 or 1, so there are at most `N P` steps, each on a walk of at most
//! `N + P` vertices. The walk and its bookkeeping live in the caller's scratch, with indices
//! stored as `T` (exact below `2^UNIFORM_BITS`).

use crate::rng::uniform;
use crate::vector::rows_mut;
use crate::Real;
use rand_core::Rng;

/// Scratch of the rounding: four buffers of at least `N` values and two of at least `P`.
pub(crate) struct Scratch<'a, T> {
    /// The rows of the walk, in order (N).
    pub(crate) walk_rows: &'a mut [T],
    /// Each row's position in the walk plus 1, 0 if not on it (N).
    pub(crate) row_place: &'a mut [T],
    /// Each row's scan start: its entries before it are 0 or 1 (N).
    pub(crate) row_scan: &'a mut [T],
    /// The columns of the walk, in order (P).
    pub(crate) walk_cols: &'a mut [T],
    /// Each column's position in the walk plus 1, 0 if not on it (P).
    pub(crate) col_place: &'a mut [T],
    /// Each column's scan start (P).
    pub(crate) col_scan: &'a mut [T],
}

/// The share of a row's mass the rounding may leave out: entries below `DROP / P` of their
/// row ([`normalise_rows`]).
const DROP: f64 = 1e-3;

/// How close to 0 or 1 an entry counts as 0 or 1: 4 `EPSILON`.
fn snap<T: Real>() -> T {
    T::from_f64(4.0) * T::EPSILON
}

/// `true` if `x` is strictly between 0 and 1, beyond [`snap`].
#[inline(always)]
fn fractional<T: Real>(x: T) -> bool {
    x > snap::<T>() && x < T::ONE - snap::<T>()
}

/// A row or a column of the plan: the vertices of the walk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Vertex {
    Row(usize),
    Col(usize),
}

/// The walk over the plan `x` (n, p) and its bookkeeping.
struct Walk<'a, T> {
    x: &'a mut [T],
    p: usize,
    scratch: Scratch<'a, T>,
    /// Vertices on the walk.
    len: usize,
    /// Whether the walk's first vertex is a row (rows and columns alternate).
    starts_with_row: bool,
    /// Whether the first vertex is a column with one fractional entry (so that the walk,
    /// should it end at another such column, is a maximal path).
    anchored: bool,
}

/// The value at `i` of `s`, 0 beyond its end.
#[inline(always)]
fn at<T: Real>(s: &[T], i: usize) -> T {
    s.get(i).copied().unwrap_or(T::ZERO)
}

/// Sets the value at `i` of `s` if it exists.
#[inline(always)]
fn set<T: Real>(s: &mut [T], i: usize, value: T) {
    if let Some(v) = s.get_mut(i) {
        *v = value;
    }
}

impl<T: Real> Walk<'_, T> {
    /// The vertex at position `k` of the walk.
    fn vertex(&self, k: usize) -> Vertex {
        let s = &self.scratch;
        if (k % 2 == 0) == self.starts_with_row {
            Vertex::Row(at(s.walk_rows, k / 2).to_index())
        } else {
            Vertex::Col(at(s.walk_cols, k / 2).to_index())
        }
    }

    /// The position of `v` on the walk.
    fn place(&self, v: Vertex) -> Option<usize> {
        let place = match v {
            Vertex::Row(i) => at(self.scratch.row_place, i),
            Vertex::Col(j) => at(self.scratch.col_place, j),
        };
        (place > T::ZERO).then(|| place.to_index().saturating_sub(1))
    }

    fn set_place(&mut self, v: Vertex, place: T) {
        match v {
            Vertex::Row(i) => set(self.scratch.row_place, i, place),
            Vertex::Col(j) => set(self.scratch.col_place, j, place),
        }
    }

    /// Appends `v`, which must be of the other kind than the last vertex.
    fn push(&mut self, v: Vertex) {
        let k = self.len;
        match v {
            Vertex::Row(i) => set(self.scratch.walk_rows, k / 2, T::from_usize(i)),
            Vertex::Col(j) => set(self.scratch.walk_cols, k / 2, T::from_usize(j)),
        }
        self.set_place(v, T::from_usize(k + 1));
        self.len += 1;
    }

    /// Keeps the first `len` vertices.
    fn truncate(&mut self, len: usize) {
        while self.len > len {
            self.len -= 1;
            let v = self.vertex(self.len);
            self.set_place(v, T::ZERO);
        }
    }

    /// Starts a new walk at `v`.
    fn restart(&mut self, v: Vertex, anchored: bool) {
        self.truncate(0);
        self.starts_with_row = matches!(v, Vertex::Row(_));
        self.anchored = anchored;
        self.push(v);
    }

    /// The plan index of the entry between two neighbouring vertices.
    fn entry(&self, a: Vertex, b: Vertex) -> usize {
        match (a, b) {
            (Vertex::Row(i), Vertex::Col(j)) | (Vertex::Col(j), Vertex::Row(i)) => {
                i.saturating_mul(self.p).saturating_add(j)
            }
            _ => usize::MAX, // never built: neighbours alternate
        }
    }

    /// A vertex joined to `v` by a fractional entry, other than `not`. The scan start of `v`
    /// first moves past the entries that are already 0 or 1 (they stay so). Not inlined: one
    /// copy for its three callers keeps the firmware's flash down.
    #[inline(never)]
    fn next(&mut self, v: Vertex, not: Option<Vertex>) -> Option<Vertex> {
        let (p, rows) = (self.p, self.x.len() / self.p.max(1));
        let (scan, slot, len, stride, base) = match v {
            Vertex::Row(i) => (&mut *self.scratch.row_scan, i, p, 1, i.saturating_mul(p)),
            Vertex::Col(j) => (&mut *self.scratch.col_scan, j, rows, p, j),
        };
        let value = |k: usize| at(self.x, base.saturating_add(k.saturating_mul(stride)));
        let mut k = at(scan, slot).to_index();
        while k < len && !fractional(value(k)) {
            k += 1;
        }
        set(scan, slot, T::from_usize(k));
        let neighbour = |k: usize| match v {
            Vertex::Row(_) => Vertex::Col(k),
            Vertex::Col(_) => Vertex::Row(k),
        };
        (k..len)
            .filter(|&k| fractional(value(k)))
            .map(neighbour)
            .find(|&w| Some(w) != not)
    }

    /// Moves the entries of the walk from position `from` on (with the closing entry back to
    /// `from` if `cycle`) by `+delta, -delta, ...`, then cuts the walk before its first entry
    /// that became 0 or 1.
    fn shift<R: Rng + ?Sized>(&mut self, from: usize, cycle: bool, rng: &mut R) {
        let last = self.len.saturating_sub(1);
        let edges = from..last + usize::from(cycle);
        let entry = |w: &Self, k: usize| {
            let next = if k + 1 < w.len { k + 1 } else { from };
            w.entry(w.vertex(k), w.vertex(next))
        };
        // Room to move up (`up`) and down (`down`) for the entries of sign +.
        let (mut up, mut down) = (T::INFINITY, T::INFINITY);
        for k in edges.clone() {
            let x = at(self.x, entry(self, k));
            let (room_up, room_down) = if (k - from) % 2 == 0 {
                (T::ONE - x, x)
            } else {
                (x, T::ONE - x)
            };
            up = up.min(room_up);
            down = down.min(room_down);
        }
        // Up by `up` with probability down / (up + down): the mean move is 0.
        let delta = if uniform::<T, R>(rng) * (up + down) < down {
            up
        } else {
            -down
        };
        let mut cut = None;
        for k in edges {
            let i = entry(self, k);
            let step = if (k - from) % 2 == 0 { delta } else { -delta };
            let x = at(self.x, i) + step;
            let x = if x <= snap() {
                T::ZERO
            } else if x >= T::ONE - snap() {
                T::ONE
            } else {
                x
            };
            set(self.x, i, x);
            if !fractional(x) && cut.is_none() && k < last {
                cut = Some(k + 1);
            }
        }
        if let Some(len) = cut {
            self.truncate(len);
        }
    }
}

/// Whether the walk's indices and positions for `n` rows and `p` columns are exact in `T`.
pub(crate) fn fits<T: Real>(n: usize, p: usize) -> bool {
    (n.saturating_add(p) as u64) < 1u64 << T::UNIFORM_BITS
}

/// Rounds the row-normalised plan `x` (n, p) in place until every row holds one 1 (rows of
/// zeros stay so). Requires [`fits`].
pub(crate) fn round<T: Real, R: Rng + ?Sized>(
    x: &mut [T],
    p: usize,
    scratch: Scratch<'_, T>,
    rng: &mut R,
) {
    let n = x.len() / p.max(1);
    for buffer in [
        &mut *scratch.row_place,
        &mut *scratch.row_scan,
        &mut *scratch.col_place,
        &mut *scratch.col_scan,
    ] {
        buffer.fill(T::ZERO);
    }
    let mut walk = Walk {
        x,
        p,
        scratch,
        len: 0,
        starts_with_row: true,
        anchored: false,
    };
    let mut first_row = 0;
    loop {
        if walk.len == 0 {
            while first_row < n && walk.next(Vertex::Row(first_row), None).is_none() {
                first_row += 1;
            }
            if first_row == n {
                return;
            }
            walk.restart(Vertex::Row(first_row), false);
        }
        let last = walk.vertex(walk.len - 1);
        let before = walk.len.checked_sub(2).map(|k| walk.vertex(k));
        match walk.next(last, before) {
            Some(w) => match walk.place(w) {
                Some(from) => walk.shift(from, true, rng),
                None => walk.push(w),
            },
            // A single vertex without fractional entries, or a maximal path.
            None if walk.len == 1 => walk.truncate(0),
            None if walk.anchored => walk.shift(0, false, rng),
            // An end that is not anchored: walk again from it, to the other end.
            None => walk.restart(last, true),
        }
    }
}

/// The row-normalised plan `x_ij = k_ij beta_j / sum_j k_ij beta_j` written over `kernel`
/// (n, p), without its negligible entries: those below `1e-3 / p` of their row's total become
/// 0 and the rest is normalised again. That moves at most 0.1% of a row's mass (the plan
/// itself honours its marginals only to the Sinkhorn tolerance) and leaves fewer entries to
/// round. A row without a finite positive total becomes zeros.
pub(crate) fn normalise_rows<T: Real>(kernel: &mut [T], beta: &[T]) {
    let floor = T::from_f64(DROP) / T::from_usize(beta.len());
    for row in rows_mut(kernel, beta.len()) {
        let mut total = T::ZERO;
        for (k, &b) in row.iter_mut().zip(beta) {
            *k *= b;
            total += *k;
        }
        let inv = T::ONE / total;
        if !(inv > T::ZERO && inv.is_finite()) {
            row.fill(T::ZERO);
            continue;
        }
        let mut kept = T::ZERO;
        for w in row.iter_mut() {
            *w = if *w * inv >= floor { *w } else { T::ZERO };
            kept += *w;
        }
        let inv = T::ONE / kept;
        row.iter_mut().for_each(|w| *w *= inv);
    }
}

/// The proposal chosen by a rounded row (n, p): the index of its 1, `None` for a row of zeros.
pub(crate) fn chosen<T: Real>(row: &[T]) -> Option<usize> {
    row.iter().position(|&x| x > T::from_f64(0.5))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use rand_core::SeedableRng;
    use std::vec::Vec;

    /// A random row-normalised plan (n, p) with entries spread over six orders of magnitude.
    fn plan(n: usize, p: usize, seed: u64) -> Vec<f64> {
        let mut rng = crate::DefaultRng::seed_from_u64(seed);
        let mut x: Vec<f64> = (0..n * p)
            .map(|_| (-14.0 * uniform::<f64, _>(&mut rng)).exp())
            .collect();
        for row in x.chunks_exact_mut(p) {
            let total: f64 = row.iter().sum();
            row.iter_mut().for_each(|v| *v /= total);
        }
        x
    }

    /// Rounds `x` (n, p) with its own scratch.
    fn rounded(mut x: Vec<f64>, p: usize, rng: &mut crate::DefaultRng) -> Vec<f64> {
        let n = x.len() / p;
        let (mut a, mut b, mut c) = (std::vec![0.0; n], std::vec![0.0; n], std::vec![0.0; n]);
        let (mut d, mut e, mut f) = (std::vec![0.0; p], std::vec![0.0; p], std::vec![0.0; p]);
        let scratch = Scratch {
            walk_rows: &mut a,
            row_place: &mut b,
            row_scan: &mut c,
            walk_cols: &mut d,
            col_place: &mut e,
            col_scan: &mut f,
        };
        round(&mut x, p, scratch, rng);
        x
    }

    #[test]
    fn every_row_gets_one_proposal_and_every_column_its_rounded_mass() {
        let mut rng = crate::DefaultRng::seed_from_u64(1);
        for (n, p) in [(1, 1), (1, 5), (5, 1), (7, 13), (30, 30), (20, 100), (64, 9)] {
            for seed in 0..20 {
                let x = plan(n, p, seed);
                let column = |j: usize| (0..n).map(|i| x[i * p + j]).sum();
                let columns: Vec<f64> = (0..p).map(column).collect();
                let r = rounded(x, p, &mut rng);
                for row in r.chunks_exact(p) {
                    assert!(row.iter().all(|&v| v == 0.0 || v == 1.0), "{row:?}");
                    assert_eq!(row.iter().sum::<f64>(), 1.0);
                }
                for (j, &c) in columns.iter().enumerate() {
                    let count: f64 = (0..n).map(|i| r[i * p + j]).sum();
                    let (lo, hi) = ((c - 1e-9).floor(), (c + 1e-9).ceil());
                    assert!(count >= lo && count <= hi, "({n}, {p}) column {j}: {count} for {c}");
                }
            }
        }
    }

    /// Each row's draw has the law of its plan row: frequencies over 4000 roundings of one plan
    /// within 5 binomial standard deviations of the plan's entries.
    #[test]
    fn each_row_is_drawn_from_its_plan_row() {
        let (n, p, reps) = (6, 8, 4000);
        let x = plan(n, p, 7);
        let mut rng = crate::DefaultRng::seed_from_u64(2);
        let mut counts = std::vec![0.0; n * p];
        for _ in 0..reps {
            let r = rounded(x.clone(), p, &mut rng);
            counts.iter_mut().zip(&r).for_each(|(c, v)| *c += v);
        }
        for (k, (&c, &q)) in counts.iter().zip(&x).enumerate() {
            let sd = (reps as f64 * q * (1.0 - q)).sqrt().max(1.0);
            assert!((c - reps as f64 * q).abs() < 5.0 * sd, "entry {k}: {c} against {q}");
        }
    }

    #[test]
    fn rows_of_zeros_stay_and_normalising_drops_negligible_entries() {
        let (p, beta) = (3, [1.0, 2.0, 1.0]);
        let mut kernel = std::vec![0.0, 0.0, 0.0, 1.0, 1e-4, 3.0];
        normalise_rows(&mut kernel, &beta);
        assert_eq!(&kernel[..3], &[0.0; 3]);
        assert_eq!(&kernel[3..], &[0.25, 0.0, 0.75]);
        let mut rng = crate::DefaultRng::seed_from_u64(3);
        let r = rounded(kernel, p, &mut rng);
        assert_eq!(chosen(&r[..3]), None);
        assert!(matches!(chosen(&r[3..]), Some(0 | 2)));
    }
}
