//! Stage 6 with [`Update::Rounded`]: the categorical draws of all
//! particles made jointly, by dependent rounding of the plan (Gandhi, Khuller, Parthasarathy and
//! Srinivasan 2006, "Dependent rounding and its applications to approximation algorithms",
//! J. ACM 53(3)), with the counts of systematic resampling along a spatial order of the
//! proposals.
//!
//! The proposals are first put in k-d tree order (`spatial_order`): halves split at the
//! median of their widest coordinate, then quarters, down to single proposals, so that
//! neighbours in the order are neighbours in space. The row-normalised plan `x_ij = p_i(j)`
//! (N, P) is then a flow: one unit from each row (particle) into the columns (proposals),
//! column `j` passing its mass `c_j` to a prefix vertex `j`, and the prefix vertices in a
//! chain whose edge from `j` to `j + 1` carries the running count
//! `S_j = c_0 + ... + c_j` (`S_{P-1}`, the number of rows, leaves the chain). An edge is
//! fractional if its value is strictly between two whole numbers. Every vertex conserves flow,
//! so a vertex with one fractional edge has another: repeatedly, a walk along fractional edges
//! closes into a cycle, whose edges move by `+delta` along it and `-delta` against it, with
//! `delta` random of mean 0 and as large as keeps every edge between the whole numbers around
//! it, so at least one becomes whole. Each edge keeps its expectation and every vertex its
//! balance. When none is left fractional, every row holds one 1: particle `i` moves to
//! proposal `j` with probability `p_i(j)`, as with independent draws; proposal `j` receives
//! `floor(c_j)` or `ceil(c_j)` particles and the first `j + 1` proposals together
//! `floor(S_j)` or `ceil(S_j)`, the copy counts of systematic resampling along the order,
//! where independent draws give a count of variance `sum_i p_i(j) (1 - p_i(j))`.
//!
//! The walks come in two passes. The first follows the plan's entries alone: its cycles keep
//! every column's mass and are short while the plan is dense; an entry into a vertex with no
//! other fractional entry lies on no cycle and is set aside until the second pass, which
//! follows the whole flow, chain included, over the forest of entries that is left. In the
//! second pass a column whose count is whole is retired from the chain: its prefix vertex
//! only passes the running count on, so a run of retired columns between two breakpoints
//! (the columns whose counts are fractional) is one edge, which a walk crosses in one step
//! and a move updates in one value. With many proposals per particle most counts are soon
//! whole, and walks along the chain would otherwise grow with `P / N`.
//!
//! Only fractional parts are stored: the plan's entries, and `S_j` less its initial whole
//! part; `c_j` follows from `S_j - S_{j-1}`. Values within `64 EPSILON` of a whole number
//! count as whole (the rounding of the moves). Should rounding still leave a vertex with a
//! single fractional edge, the walk runs to another such vertex and moves that maximal path
//! instead, which keeps the expectations and shifts the two ends' balances by that rounding
//! (a prefix vertex, whose count is no stored value, has that edge made whole instead).
//! Plan entries below `1e-3 / P` of their row (or `128 EPSILON`, if more) are left out first.
//! Each move makes at least one edge whole and each setting aside takes one entry out of the
//! first pass, so there are at most `2 N P + 2 P` steps, each on a walk of at most `N + 2 P`
//! vertices. A hard budget of steps per pass guards against rounding error doing otherwise:
//! should it run out, the rows still fractional draw from their current values, which keeps
//! every entry's expectation. Nothing can loop for ever. The walk is stored as each vertex's
//! predecessor in the caller's scratch, with indices stored as `T` (exact below
//! `2^UNIFORM_BITS`).

use crate::rng::uniform;
use crate::vector::rows_mut;
use crate::Real;
use rand_core::Rng;

/// Scratch of the rounding: two buffers of at least `N` values and three of at least `P`.
pub(crate) struct Scratch<'a, T> {
    /// Each row's predecessor on the walk ([`Walk::prev`]) (N).
    pub(crate) row_prev: &'a mut [T],
    /// Each row's scan start: its entries before it are whole (N).
    pub(crate) row_scan: &'a mut [T],
    /// Each column's predecessor and its prefix vertex's, packed ([`Walk::prev`]) (P).
    pub(crate) col_prev: &'a mut [T],
    /// Each column's scan start (P).
    pub(crate) col_scan: &'a mut [T],
    /// The fractional part of each running count `S_j`, 0 for `j = P - 1`; in the second
    /// pass only at the chain's breakpoints ([`Walk::after`]) (P).
    pub(crate) running: &'a mut [T],
}

/// The share of a row's mass the rounding may leave out: entries below `DROP / P` of their
/// row ([`normalise_rows`]).
const DROP: f64 = 1e-3;

/// How close to a whole number a fractional part counts as whole: 64 `EPSILON`, beyond the
/// rounding a value gathers over the moves of one rounding.
fn snap<T: Real>() -> T {
    T::from_f64(64.0) * T::EPSILON
}

/// `true` if the fractional part `f` is strictly between 0 and 1, beyond [`snap`].
#[inline(always)]
fn fractional<T: Real>(f: T) -> bool {
    f > snap::<T>() && f < T::ONE - snap::<T>()
}

/// `f` snapped to 0 or 1 if within [`snap`] of either.
fn snapped<T: Real>(f: T) -> T {
    if f <= snap() {
        T::ZERO
    } else if f >= T::ONE - snap() {
        T::ONE
    } else {
        f
    }
}

/// A vertex of the flow.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Vertex {
    /// A particle: one unit in.
    Row(usize),
    /// A proposal.
    Col(usize),
    /// The `j`-th vertex of the chain, which the running count `S_j` leaves.
    Prefix(usize),
}

/// An edge of the flow, pointing from a row to a column, from a column to its prefix vertex,
/// and along the chain.
#[derive(Clone, Copy)]
enum Edge {
    /// The plan entry at this index of `x`.
    Plan(usize),
    /// A column's count `c_j`.
    Count(usize),
    /// The running count `S_j`, from prefix vertex `j` to the next breakpoint ([`Walk::after`]).
    Running(usize),
}

/// The walk over the flow of the plan `x` (n, p) and its bookkeeping.
struct Walk<'a, T> {
    x: &'a mut [T],
    n: usize,
    p: usize,
    scratch: Scratch<'a, T>,
    /// Whether the walk may leave a column for its prefix vertex (the second pass).
    chain: bool,
    /// The first and last vertex, and how many the walk has (0: none).
    root: Vertex,
    last: Vertex,
    len: usize,
    /// Whether the first vertex has a single fractional edge (so that the walk, should it end
    /// at another such vertex, is a maximal path).
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

/// Swaps the values at `a` and `b` of `s` if both exist.
#[inline(always)]
fn swap<T>(s: &mut [T], a: usize, b: usize) {
    if a < s.len() && b < s.len() {
        s.swap(a, b);
    }
}

impl<T: Real> Walk<'_, T> {
    /// A vertex's number: rows, then columns, then prefix vertices.
    fn id(&self, v: Vertex) -> usize {
        match v {
            Vertex::Row(i) => i,
            Vertex::Col(j) => self.n + j,
            Vertex::Prefix(j) => self.n + self.p + j,
        }
    }

    /// The vertex of number `id`.
    fn vertex(&self, id: usize) -> Vertex {
        match id.checked_sub(self.n) {
            None => Vertex::Row(id),
            Some(j) if j < self.p => Vertex::Col(j),
            Some(j) => Vertex::Prefix(j - self.p),
        }
    }

    /// The vertex before `v` on the walk (`v` itself for the first), `None` if `v` is not on
    /// it. Rows and columns store the predecessor's number plus 1 (0: none); a column's slot
    /// holds that times 8 plus its prefix vertex's code: 0 none, 1 itself (the walk's first
    /// vertex), 2 its column, 3 the prefix vertex before it on the chain, 4 the one after it.
    fn prev(&self, v: Vertex) -> Option<Vertex> {
        let slot = |s: &[T], k: usize| at(s, k).to_index();
        let id = match v {
            Vertex::Row(i) => slot(self.scratch.row_prev, i),
            Vertex::Col(j) => slot(self.scratch.col_prev, j) >> 3,
            Vertex::Prefix(j) => {
                return match slot(self.scratch.col_prev, j) & 7 {
                    1 => Some(v),
                    2 => Some(Vertex::Col(j)),
                    3 => self.before(j).map(Vertex::Prefix),
                    4 => self.after(j).map(Vertex::Prefix),
                    _ => None,
                }
            }
        };
        id.checked_sub(1).map(|id| self.vertex(id))
    }

    /// Records `prev` as the vertex before `v` ([`Walk::prev`]).
    fn set_prev(&mut self, v: Vertex, prev: Option<Vertex>) {
        let id = prev.map_or(0, |w| self.id(w) + 1);
        let (buffer, k, value) = match v {
            Vertex::Row(i) => (&mut *self.scratch.row_prev, i, id),
            Vertex::Col(j) => {
                let code = at(self.scratch.col_prev, j).to_index() & 7;
                (&mut *self.scratch.col_prev, j, id << 3 | code)
            }
            Vertex::Prefix(j) => {
                let code = match prev {
                    None => 0,
                    Some(w) if w == v => 1,
                    Some(Vertex::Col(_)) => 2,
                    Some(Vertex::Prefix(m)) if m < j => 3,
                    Some(_) => 4,
                };
                let slot = at(self.scratch.col_prev, j).to_index();
                (&mut *self.scratch.col_prev, j, slot & !7 | code)
            }
        };
        set(buffer, k, T::from_usize(value));
    }

    /// Appends `w`, a neighbour of the last vertex.
    fn push(&mut self, w: Vertex) {
        self.set_prev(w, Some(self.last));
        self.last = w;
        self.len += 1;
    }

    /// Removes vertices from the end until `v` is the last (all of them if `v` is not on the
    /// walk).
    fn truncate_to(&mut self, v: Vertex) {
        while self.len > 0 && self.last != v {
            let prev = self.prev(self.last);
            self.set_prev(self.last, None);
            self.len -= 1;
            self.last = prev.unwrap_or(self.root);
        }
    }

    /// Removes every vertex.
    fn clear(&mut self) {
        self.truncate_to(self.root);
        if self.len > 0 {
            self.set_prev(self.root, None);
            self.len = 0;
        }
    }

    /// Starts a new walk at `v`.
    fn restart(&mut self, v: Vertex, anchored: bool) {
        self.clear();
        self.set_prev(v, Some(v));
        (self.root, self.last, self.len, self.anchored) = (v, v, 1, anchored);
    }

    /// The edge between neighbours `a` and `b`, and whether it points from `a` to `b`.
    fn edge(&self, a: Vertex, b: Vertex) -> Option<(Edge, bool)> {
        let plan = |i: usize, j: usize| Edge::Plan(i.saturating_mul(self.p).saturating_add(j));
        let along = |j: usize, k: usize| self.after(j) == Some(k);
        match (a, b) {
            (Vertex::Row(i), Vertex::Col(j)) => Some((plan(i, j), true)),
            (Vertex::Col(j), Vertex::Row(i)) => Some((plan(i, j), false)),
            (Vertex::Col(j), Vertex::Prefix(k)) if j == k => Some((Edge::Count(j), true)),
            (Vertex::Prefix(k), Vertex::Col(j)) if j == k => Some((Edge::Count(j), false)),
            (Vertex::Prefix(j), Vertex::Prefix(k)) if along(j, k) => Some((Edge::Running(j), true)),
            (Vertex::Prefix(j), Vertex::Prefix(k)) if along(k, j) => Some((Edge::Running(k), false)),
            _ => None,
        }
    }

    /// The fractional part of the running count `S_j` of a breakpoint: 0 (whole) beyond the
    /// chain.
    fn running(&self, j: usize) -> T {
        if j.saturating_add(1) < self.p {
            at(self.scratch.running, j)
        } else {
            T::ZERO
        }
    }

    /// The fractional part of `S_{j-1}`: that of the breakpoint before `j`, 0 before the first.
    fn running_before(&self, j: usize) -> T {
        self.before(j).map_or(T::ZERO, |b| self.running(b))
    }

    /// The breakpoint after the breakpoint `j` on the chain, `None` after the last.
    ///
    /// In the second pass the chain's vertices are its breakpoints: the columns whose count
    /// is fractional, or was until they were retired ([`Walk::retire`]). Between two of them
    /// lies a run of retired columns, whose counts are whole, so that their running counts
    /// equal the first breakpoint's up to whole numbers and the run is one edge. A
    /// breakpoint's slot of `running` holds its running count (`>= 0`), a retired column's
    /// is negative: `-1`, except that a run of two or more holds at its first slot the
    /// breakpoint after it and at its last the one before ([`run_end`]), so that either is
    /// found in one step.
    fn after(&self, j: usize) -> Option<usize> {
        let k = j.checked_add(1).filter(|&k| k < self.p)?;
        let far = match at(self.scratch.running, k) {
            r if r >= T::ZERO => k,
            r if r == -T::ONE => k + 1,
            r => run_end(r)?,
        };
        (far < self.p).then_some(far)
    }

    /// The breakpoint before the breakpoint `j` on the chain, `None` before the first
    /// ([`Walk::after`]).
    fn before(&self, j: usize) -> Option<usize> {
        let k = j.checked_sub(1)?;
        match at(self.scratch.running, k) {
            r if r >= T::ZERO => Some(k),
            r if r == -T::ONE => k.checked_sub(1),
            r => run_end(r),
        }
    }

    /// Retires the breakpoint `m`, whose count is whole and which is not on the walk: the runs
    /// on either side become one ([`Walk::after`]).
    fn retire(&mut self, m: usize) {
        let (before, after) = (self.before(m), self.after(m));
        let first = before.map_or(0, |b| b + 1);
        let last = after.map_or(self.p.saturating_sub(1), |k| k - 1);
        set(self.scratch.running, m, -T::ONE);
        if first < last {
            set(self.scratch.running, first, run_slot(after));
            set(self.scratch.running, last, run_slot(before));
        }
    }

    /// Retires the breakpoints next to the prefix vertex `j` on the chain while their counts
    /// are whole and they are not on the walk, so that a walk along the chain steps over
    /// them. Each column is retired at most once.
    fn retire_around(&mut self, j: usize) {
        let whole = |w: &Self, m: usize| {
            !fractional(w.frac(Edge::Count(m))) && w.prev(Vertex::Prefix(m)).is_none()
        };
        while let Some(m) = self.before(j).filter(|&m| whole(self, m)) {
            self.retire(m);
        }
        while let Some(m) = self.after(j).filter(|&m| whole(self, m)) {
            self.retire(m);
        }
    }

    /// The fractional part of an edge's value.
    fn frac(&self, e: Edge) -> T {
        match e {
            Edge::Plan(k) => at(self.x, k),
            Edge::Running(j) => self.running(j),
            // A retired column's count is whole.
            Edge::Count(j) if at(self.scratch.running, j) < T::ZERO => T::ZERO,
            Edge::Count(j) => count(self.running(j), self.running_before(j)),
        }
    }

    /// `w` if the edge from `v` to it is fractional and `w` is not `not`.
    fn neighbour(&self, v: Vertex, w: Vertex, not: Option<Vertex>) -> Option<Vertex> {
        let (e, _) = self.edge(v, w)?;
        (Some(w) != not && fractional(self.frac(e))).then_some(w)
    }

    /// A vertex joined to `v` by a fractional edge, other than `not`: for a column, its prefix
    /// vertex last (cycles through the plan alone are shorter); for a prefix vertex, its column
    /// first.
    fn next(&mut self, v: Vertex, not: Option<Vertex>) -> Option<Vertex> {
        match v {
            Vertex::Row(_) => self.scan(v, not),
            Vertex::Col(j) => self
                .scan(v, not)
                .or_else(|| self.chain.then(|| self.neighbour(v, Vertex::Prefix(j), not))?),
            Vertex::Prefix(j) => {
                self.retire_around(j);
                [
                    Some(Vertex::Col(j)),
                    self.before(j).map(Vertex::Prefix),
                    self.after(j).map(Vertex::Prefix),
                ]
                .into_iter()
                .flatten()
                .find_map(|w| self.neighbour(v, w, not))
            }
        }
    }

    /// A column (for a row) or row (for a column) joined to `v` by a fractional plan entry,
    /// other than `not`. The scan start of `v` first moves past the entries that are already
    /// whole (they stay so). Not inlined: one copy for its callers keeps the firmware's flash
    /// down.
    #[inline(never)]
    fn scan(&mut self, v: Vertex, not: Option<Vertex>) -> Option<Vertex> {
        let (p, rows) = (self.p, self.n);
        let (scan, slot, len, stride, base) = match v {
            Vertex::Row(i) => (&mut *self.scratch.row_scan, i, p, 1, i.saturating_mul(p)),
            Vertex::Col(j) => (&mut *self.scratch.col_scan, j, rows, p, j),
            Vertex::Prefix(_) => return None,
        };
        let value = |k: usize| at(self.x, base.saturating_add(k.saturating_mul(stride)));
        let mut k = at(scan, slot).to_index();
        while k < len && !fractional(value(k)) {
            k += 1;
        }
        set(scan, slot, T::from_usize(k));
        let neighbour = |k: usize| match v {
            Vertex::Row(_) => Vertex::Col(k),
            _ => Vertex::Row(k),
        };
        (k..len)
            .filter(|&k| fractional(value(k)))
            .map(neighbour)
            .find(|&w| Some(w) != not)
    }

    /// Calls `f` with each edge of the walk from `from` to the end (and the closing edge from
    /// the end back to `from` if `cycle`, first), with the vertex it leaves along the walk and
    /// whether it points that way.
    fn for_each_edge(&mut self, from: Vertex, cycle: bool, mut f: impl FnMut(&mut Self, Vertex, Edge, bool)) {
        let last = self.last;
        if cycle {
            if let Some((e, forward)) = self.edge(last, from) {
                f(self, last, e, forward);
            }
        }
        let mut v = last;
        while v != from {
            let Some(before) = self.prev(v).filter(|&b| b != v) else {
                return;
            };
            if let Some((e, forward)) = self.edge(before, v) {
                f(self, before, e, forward);
            }
            v = before;
        }
    }

    /// Rounds until no row has a fractional edge left (in the first pass: none left on a
    /// cycle of the plan's entries), or a budget of steps beyond what exact arithmetic needs
    /// runs out (a guard against rounding error: the rows left fractional draw, [`chosen`]).
    /// Not inlined: one copy for both passes keeps the firmware's flash down.
    #[inline(never)]
    fn round<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let mut first_row = 0;
        let (n, p) = (self.n, self.p);
        // Steps: pushes between two moves (at most a walk), times moves (each makes an edge
        // whole or sets one aside) and restarts.
        let moves = (2 * n).saturating_mul(p).saturating_add(6 * p + 2 * n + 1);
        let mut budget = moves.saturating_mul(n + 2 * p + 1);
        loop {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                return;
            }
            if self.len == 0 {
                while first_row < self.n && self.next(Vertex::Row(first_row), None).is_none() {
                    first_row += 1;
                }
                if first_row == self.n {
                    return;
                }
                self.restart(Vertex::Row(first_row), false);
            }
            let last = self.last;
            let before = self.prev(last).filter(|&b| b != last);
            let next = self.next(last, before);
            if let (Some(Vertex::Prefix(_)), Vertex::Prefix(m), Some(Vertex::Prefix(_))) =
                (next, last, before)
            {
                // A prefix vertex whose count a move made whole only passes the chain on: it
                // leaves the walk and is retired, so that no walk steps on it again.
                if !fractional(self.frac(Edge::Count(m))) {
                    self.truncate_to(before.unwrap_or(last));
                    self.retire(m);
                }
            }
            match (next, before) {
                (Some(w), _) if self.prev(w).is_some() => self.shift(w, true, rng),
                (Some(w), _) => self.push(w),
                // A single vertex without fractional edges.
                (None, None) => self.clear(),
                // The first pass: the entry into a dead end is on no cycle; set it aside.
                (None, Some(before)) if !self.chain => {
                    if let Some((Edge::Plan(k), _)) = self.edge(before, last) {
                        set(self.x, k, -at(self.x, k));
                    }
                    self.truncate_to(before);
                }
                // A prefix vertex has 0, 2 or 3 fractional edges, 1 only by rounding.
                (None, Some(before)) if matches!(last, Vertex::Prefix(_)) => {
                    self.settle(before, last);
                    self.truncate_to(before);
                }
                // A maximal path (left by rounding in the second pass).
                (None, _) if self.anchored => self.shift(self.root, false, rng),
                // An end that is not anchored: walk again from it, to the other end.
                (None, _) => self.restart(last, true),
            }
        }
    }

    /// Makes the edge from `a` to the prefix vertex `b`, its only fractional edge, whole: a
    /// running count goes to the nearer whole number; a count, whose running counts on
    /// either side are then fractional and within [`snap`] of each other (mod 1), by moving
    /// the one after it onto the one before.
    fn settle(&mut self, a: Vertex, b: Vertex) {
        match self.edge(a, b) {
            Some((Edge::Running(k), _)) => {
                let whole = if at(self.scratch.running, k) < T::from_f64(0.5) {
                    T::ZERO
                } else {
                    T::ONE
                };
                set(self.scratch.running, k, whole);
            }
            Some((Edge::Count(j), _)) if j + 1 < self.p => {
                let before = self.running_before(j);
                set(self.scratch.running, j, before);
            }
            _ => {}
        }
    }

    /// Moves the edges of the walk from `from` on (with the closing edge back to `from` if
    /// `cycle`) by `+delta` where they point along the walk and `-delta` where against, then
    /// cuts the walk before its first edge that became whole.
    fn shift<R: Rng + ?Sized>(&mut self, from: Vertex, cycle: bool, rng: &mut R) {
        // For `delta` up and down: the room to move, and the vertex before the first edge of
        // the walk whose room is within twice `snap` of it (the edges the move makes whole,
        // and perhaps a few more). Edges come last to first: the latest candidate is kept.
        // When the room shrinks past a candidate, the edge that shrank it is a later one.
        let last = self.last;
        let slack = snap::<T>() + snap::<T>();
        let (mut up, mut down) = ((T::INFINITY, None), (T::INFINITY, None));
        self.for_each_edge(from, cycle, |w, before, e, forward| {
            let f = w.frac(e);
            let rooms = if forward { (T::ONE - f, f) } else { (f, T::ONE - f) };
            for ((room, cut), new) in [(&mut up, rooms.0), (&mut down, rooms.1)] {
                if new <= *room + slack && before != last {
                    *cut = Some(before);
                }
                *room = room.min(new);
            }
        });
        // Up by `up` with probability down / (up + down): the mean move is 0.
        let ((delta, cut), _) = if uniform::<T, R>(rng) * (up.0 + down.0) < down.0 {
            (up, down)
        } else {
            ((-down.0, down.1), up)
        };
        // A count moves with the running count next to it on the walk.
        self.for_each_edge(from, cycle, |w, _, e, forward| {
            let step = if forward { delta } else { -delta };
            let value = match e {
                Edge::Plan(k) => w.x.get_mut(k),
                Edge::Running(j) => w.scratch.running.get_mut(j),
                Edge::Count(_) => None,
            };
            if let Some(value) = value {
                *value = snapped(*value + step);
            }
        });
        if let Some(v) = cut {
            self.truncate_to(v);
        }
    }
}

/// Whether the walk's indices and packed predecessors for `n` rows and `p` columns are exact
/// in `T`.
pub(crate) fn fits<T: Real>(n: usize, p: usize) -> bool {
    let packed = n
        .saturating_add(p.saturating_mul(2))
        .saturating_add(1)
        .saturating_mul(8);
    (packed as u64) < 1u64 << T::UNIFORM_BITS
}

/// Rounds the row-normalised plan `x` (n, p) in place until every row holds one 1 (rows of
/// zeros stay so), with the running counts along the column order. Requires [`fits`].
///
/// Two passes: the first walks the plan's entries alone, so its cycles keep every column's
/// mass and are short; an entry found on no cycle is set aside (negated) until the second,
/// which walks the whole flow, chain included, over what is left, a forest of entries.
pub(crate) fn round<T: Real, R: Rng + ?Sized>(
    x: &mut [T],
    p: usize,
    scratch: Scratch<'_, T>,
    rng: &mut R,
) {
    let n = x.len() / p.max(1);
    running_counts(x, p, scratch.running);
    let mut walk = Walk {
        x,
        n,
        p,
        scratch,
        chain: false,
        root: Vertex::Row(0),
        last: Vertex::Row(0),
        len: 0,
        anchored: false,
    };
    for chain in [false, true] {
        walk.chain = chain;
        for buffer in [
            &mut *walk.scratch.row_prev,
            &mut *walk.scratch.row_scan,
            &mut *walk.scratch.col_prev,
            &mut *walk.scratch.col_scan,
        ] {
            buffer.fill(T::ZERO);
        }
        if chain {
            // The entries the first pass set aside (negated) come back.
            walk.x.iter_mut().for_each(|v| *v = v.abs());
            breakpoints(walk.scratch.running);
        }
        walk.round(rng);
    }
}

/// Writes the fractional parts of the running counts `S_j = sum_{m <= j} sum_i x_im` of `x`
/// (n, p) into `running` (summed in `f64`), 0 for the last.
fn running_counts<T: Real>(x: &[T], p: usize, running: &mut [T]) {
    let mut total = 0.0;
    for (j, r) in running.iter_mut().enumerate().take(p) {
        let column: f64 = x.iter().skip(j).step_by(p.max(1)).map(|v| v.to_f64()).sum();
        total += column;
        let whole = j + 1 == p;
        *r = if whole { T::ZERO } else { snapped(T::from_f64(total - libm::floor(total))) };
    }
}

/// The fractional part of a count `S_j - S_{j-1}` from those of the running counts.
fn count<T: Real>(s: T, before: T) -> T {
    match (fractional(s), fractional(before)) {
        (false, false) => T::ZERO,
        (true, false) => s,
        (false, true) => T::ONE - before,
        (true, true) if s >= before => s - before,
        (true, true) => T::ONE + s - before,
    }
}

/// Turns the running counts `running` (P) of [`running_counts`] into the second pass's chain
/// ([`Walk::after`]): columns whose count `S_j - S_{j-1}` is whole are retired.
fn breakpoints<T: Real>(running: &mut [T]) {
    let p = running.len();
    let mut before = T::ZERO; // S_{j-1}
    let mut run = None; // the first retired column of the current run
    for j in 0..=p {
        let whole = j < p && {
            let s = at(running, j);
            let c = count(s, before);
            before = s;
            !fractional(c)
        };
        if whole {
            set(running, j, -T::ONE);
            run = run.or(Some(j));
        } else if let Some(first) = run.take() {
            // The run first..j ends; its breakpoints are first - 1 and j (if they exist).
            let last = j - 1;
            if first < last {
                set(running, first, run_slot((j < p).then_some(j)));
                set(running, last, run_slot(first.checked_sub(1)));
            }
        }
    }
}

/// The slot of `running` at an end of a run of retired columns that holds the breakpoint
/// `end` on its other side (`None`: the chain's end), `-3 - index` (or `-2`).
fn run_slot<T: Real>(end: Option<usize>) -> T {
    -T::from_usize(end.map_or(2, |k| k + 3))
}

/// The breakpoint held by an end of a run ([`run_slot`]).
fn run_end<T: Real>(slot: T) -> Option<usize> {
    (-slot).to_index().checked_sub(3)
}

/// Puts the proposals (p, d) in k-d tree order and the columns of the plan `x` (n, p) with
/// them: the proposals are sorted along their widest coordinate, then each half along its own
/// widest, and so on down to single proposals, so that a run of neighbours in the order is a
/// box of neighbours in space. `order` (at least p) is scratch. Sorting is by heapsort:
/// `O(p log^2 p)` comparisons; moving the columns, at most `p` swaps of `n + d` values.
pub(crate) fn spatial_order<T: Real>(
    x: &mut [T],
    proposals: &mut [T],
    dim: usize,
    order: &mut [T],
) {
    let dim = dim.max(1);
    let p = proposals.len() / dim;
    let Some(order) = order.get_mut(..p) else {
        return;
    };
    for (k, o) in order.iter_mut().enumerate() {
        *o = T::from_usize(k);
    }
    let bound = |s: usize, parts: usize| (s as u64 * p as u64 / parts as u64) as usize;
    let mut parts = 1;
    while parts < p {
        for s in 0..parts {
            if let Some(part) = order.get_mut(bound(s, parts)..bound(s + 1, parts)) {
                let axis = widest(part, proposals, dim);
                sort(part, |k| {
                    at(proposals, k.saturating_mul(dim).saturating_add(axis))
                });
            }
        }
        parts *= 2;
    }
    permute(x, proposals, dim, order);
}

/// The coordinate along which the proposals (p, d) listed in `part` spread widest.
fn widest<T: Real>(part: &[T], proposals: &[T], dim: usize) -> usize {
    let spread = |axis: usize| {
        let (lo, hi) = part.iter().fold((T::INFINITY, -T::INFINITY), |(lo, hi), &k| {
            let c = at(proposals, k.to_index().saturating_mul(dim).saturating_add(axis));
            (lo.min(c), hi.max(c))
        });
        hi - lo
    };
    (1..dim).fold(0, |best, axis| {
        if spread(axis) > spread(best) {
            axis
        } else {
            best
        }
    })
}

/// Sorts the indices `s` by `key` (heapsort: no recursion, `O(len log len)` at worst).
fn sort<T: Real>(s: &mut [T], key: impl Fn(usize) -> T) {
    let less = |s: &[T], a: usize, b: usize| key(at(s, a).to_index()) < key(at(s, b).to_index());
    let sift = |s: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(s, child, child + 1) {
            child += 1;
        }
        if !less(s, root, child) {
            return;
        }
        swap(s, root, child);
        root = child;
    };
    let len = s.len();
    for root in (0..len / 2).rev() {
        sift(s, root, len);
    }
    for end in (1..len).rev() {
        swap(s, 0, end);
        sift(s, 0, end);
    }
}

/// Moves proposal `order[k]` (with its plan column) to position `k`, by swaps along the
/// cycles of the permutation; marks `order` on the way (adds `p`).
fn permute<T: Real>(x: &mut [T], proposals: &mut [T], dim: usize, order: &mut [T]) {
    let p = order.len();
    for start in 0..p {
        let mut k = start;
        while at(order, k).to_index() < p {
            let source = at(order, k).to_index();
            set(order, k, T::from_usize(source + p));
            if source == start {
                break;
            }
            for row in rows_mut(x, p) {
                swap(row, k, source);
            }
            for axis in 0..dim {
                swap(proposals, k * dim + axis, source * dim + axis);
            }
            k = source;
        }
    }
}

/// The row-normalised plan `x_ij = k_ij beta_j / sum_j k_ij beta_j` written over `kernel`
/// (n, p), without its negligible entries: those below `1e-3 / p` of their row's total (or
/// twice [`snap`], if more: in `f32` beyond `p = 65`) become 0 and the rest is normalised
/// again. That moves at most 0.1% of a row's mass (`p * 128 EPSILON` beyond that size; the
/// plan itself honours its marginals only to the Sinkhorn tolerance), leaves fewer entries to
/// round, and none the rounding would take for whole. A row without a finite positive total becomes zeros.
pub(crate) fn normalise_rows<T: Real>(kernel: &mut [T], beta: &[T]) {
    let floor = (T::from_f64(DROP) / T::from_usize(beta.len())).max(snap::<T>() + snap::<T>());
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

/// The proposal chosen by a row (p) of the plan after [`round`]: the index of its 1, `None`
/// for a row of zeros. A row [`round`] left fractional (its step budget ran out, which only
/// rounding error could cause) draws from its current values with one uniform, which keeps
/// each entry's expectation.
pub(crate) fn chosen<T: Real, R: Rng + ?Sized>(row: &[T], rng: &mut R) -> Option<usize> {
    if !row.iter().any(|&x| fractional(x)) {
        return row.iter().position(|&x| x > T::from_f64(0.5));
    }
    let target = uniform::<T, R>(rng) * row.iter().fold(T::ZERO, |total, &x| total + x);
    let mut cumulative = T::ZERO;
    row.iter()
        .position(|&x| {
            cumulative += x;
            x > T::ZERO && cumulative >= target
        })
        .or_else(|| row.iter().rposition(|&x| x > T::ZERO))
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
        let (mut a, mut b) = (std::vec![0.0; n], std::vec![0.0; n]);
        let (mut c, mut d, mut e) = (std::vec![0.0; p], std::vec![0.0; p], std::vec![0.0; p]);
        let scratch = Scratch {
            row_prev: &mut a,
            row_scan: &mut b,
            col_prev: &mut c,
            col_scan: &mut d,
            running: &mut e,
        };
        round(&mut x, p, scratch, rng);
        x
    }

    /// Every row gets one proposal; every column, and every run of the first columns, the
    /// floor or ceiling of its mass.
    #[test]
    fn every_row_gets_one_proposal_and_every_column_and_prefix_its_rounded_mass() {
        let mut rng = crate::DefaultRng::seed_from_u64(1);
        // The last two have long runs of columns retired from the chain.
        for (n, p) in [(1, 1), (1, 5), (5, 1), (7, 13), (30, 30), (20, 100), (64, 9), (3, 400), (2, 1500)] {
            for seed in 0..20 {
                let x = plan(n, p, seed);
                let column = |x: &[f64], j: usize| (0..n).map(|i| x[i * p + j]).sum::<f64>();
                let r = rounded(x.clone(), p, &mut rng);
                for row in r.chunks_exact(p) {
                    assert!(row.iter().all(|&v| v == 0.0 || v == 1.0), "{row:?}");
                    assert_eq!(row.iter().sum::<f64>(), 1.0);
                }
                let within = |count: f64, mass: f64| {
                    count >= (mass - 1e-9).floor() && count <= (mass + 1e-9).ceil()
                };
                let (mut prefix_mass, mut prefix_count) = (0.0, 0.0);
                for j in 0..p {
                    let (mass, count) = (column(&x, j), column(&r, j));
                    (prefix_mass, prefix_count) = (prefix_mass + mass, prefix_count + count);
                    assert!(within(count, mass), "({n}, {p}) column {j}: {count} for {mass}");
                    assert!(
                        within(prefix_count, prefix_mass),
                        "({n}, {p}) first {j} columns: {prefix_count} for {prefix_mass}"
                    );
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
        assert_eq!(chosen(&r[..3], &mut rng), None);
        assert!(matches!(chosen(&r[3..], &mut rng), Some(0 | 2)));
    }

    /// The k-d order: the first half of the proposals lies below the second along the widest
    /// coordinate, each half likewise along its own, and the plan's columns move with them.
    #[test]
    fn spatial_order_splits_at_medians_and_moves_the_columns() {
        let mut rng = crate::DefaultRng::seed_from_u64(4);
        let (n, p, dim) = (3, 37, 2);
        // Spread 10 times wider in y than in x: the first split is along y.
        let mut proposals: Vec<f64> = (0..p * dim)
            .map(|k| uniform::<f64, _>(&mut rng) * if k % 2 == 1 { 10.0 } else { 1.0 })
            .collect();
        // Each column of the plan holds its proposal's coordinates, to follow them.
        let mut x: Vec<f64> = (0..n * p).map(|k| proposals[(k % p) * dim + (k / p) % dim]).collect();
        let before = proposals.clone();
        let mut order = std::vec![0.0; p];
        spatial_order(&mut x, &mut proposals, dim, &mut order);
        for (k, y) in proposals.chunks_exact(dim).enumerate() {
            assert!(before.chunks_exact(dim).any(|b| b == y), "proposal {k} is new");
            for i in 0..n {
                assert_eq!(x[i * p + k], y[i % dim], "column {k} did not move with its proposal");
            }
        }
        let half = p / 2;
        let ys = |r: core::ops::Range<usize>| r.map(|k| proposals[k * dim + 1]).collect::<Vec<_>>();
        let (low, high) = (ys(0..half), ys(half..p));
        assert!(low.iter().all(|&a| high.iter().all(|&b| a <= b)), "{low:?} {high:?}");
        for part in [0..half, half..p] {
            let quarter = (part.start + part.end) / 2;
            let axis = if part.len() < 2 { 0 } else { widest_of(&proposals[part.start * dim..part.end * dim], dim) };
            let c = |k: usize| proposals[k * dim + axis];
            assert!((part.start..quarter).all(|a| (quarter..part.end).all(|b| c(a) <= c(b))));
        }
    }

    /// The coordinate along which the points (k, d) spread widest.
    fn widest_of(points: &[f64], dim: usize) -> usize {
        let spread = |axis: usize| {
            let c = points.iter().skip(axis).step_by(dim);
            c.clone().fold(f64::MIN, |a, &b| a.max(b)) - c.fold(f64::MAX, |a, &b| a.min(b))
        };
        if spread(1) > spread(0) { 1 } else { 0 }
    }

    /// A rounded row gives its 1; a row left fractional draws from its values.
    #[test]
    fn a_row_left_fractional_draws_from_its_values() {
        let mut rng = crate::DefaultRng::seed_from_u64(5);
        assert_eq!(chosen(&[0.0, 1.0, 0.0], &mut rng), Some(1));
        let reps = 4000;
        let hits = (0..reps)
            .filter(|_| chosen(&[0.25, 0.0, 0.75], &mut rng) == Some(0))
            .count() as f64;
        let sd = (reps as f64 * 0.25 * 0.75).sqrt();
        assert!((hits - 0.25 * reps as f64).abs() < 5.0 * sd, "{hits} of {reps}");
    }
}
