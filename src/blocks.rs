//! Rows in blocks, for the `parallel` feature. The matrix stages (the weights, forming the
//! kernel, the Sinkhorn sweeps, the update) cut their `N` rows into [`BLOCKS`] contiguous blocks
//! and give each block its own partial column vector; the partials are then combined in block
//! order. With `parallel` and at least [`PARALLEL_ROWS`] rows the blocks run on rayon's
//! threads, otherwise one after another; the result is the same either way, whatever the number
//! of threads. Without the feature there is one block, and nothing extra in memory.

/// Blocks the rows are cut into: 8 with the `parallel` feature, else 1.
pub(crate) const BLOCKS: usize = if cfg!(feature = "parallel") { 8 } else { 1 };

/// Rows from which the blocks run on several threads.
pub(crate) const PARALLEL_ROWS: usize = 256;

/// Caller data that can be cut at a block boundary into the part for the first `blocks`
/// blocks (`rows` rows) and the rest.
pub(crate) trait Split: Sized {
    /// The first `blocks` blocks (`rows` rows), and the rest.
    fn split(self, rows: usize, blocks: usize) -> (Self, Self);
}

/// A row-major slice with `width` values per row.
pub(crate) struct Rows<'a, T> {
    /// The values.
    pub(crate) data: &'a mut [T],
    /// Values per row.
    pub(crate) width: usize,
}

impl<T> Split for Rows<'_, T> {
    fn split(self, rows: usize, _blocks: usize) -> (Self, Self) {
        let (head, tail) = self
            .data
            .split_at_mut((rows * self.width).min(self.data.len()));
        (
            Rows {
                data: head,
                width: self.width,
            },
            Rows {
                data: tail,
                width: self.width,
            },
        )
    }
}

/// A read-only row-major slice with `width` values per row.
pub(crate) struct RowsRef<'a, T> {
    /// The values.
    pub(crate) data: &'a [T],
    /// Values per row.
    pub(crate) width: usize,
}

impl<T> Split for RowsRef<'_, T> {
    fn split(self, rows: usize, _blocks: usize) -> (Self, Self) {
        let (head, tail) = self.data.split_at((rows * self.width).min(self.data.len()));
        (
            RowsRef {
                data: head,
                width: self.width,
            },
            RowsRef {
                data: tail,
                width: self.width,
            },
        )
    }
}

/// The partial column vectors, one of `width` values per block.
pub(crate) struct Partials<'a, T> {
    /// `blocks * width` values.
    pub(crate) data: &'a mut [T],
    /// Values per partial.
    pub(crate) width: usize,
}

impl<'a, T> Partials<'a, T> {
    /// This block's partial: the first `width` values (empty if the memory is short, which a
    /// correctly sized workspace never is).
    pub(crate) fn first(self) -> &'a mut [T] {
        self.data.get_mut(..self.width).unwrap_or_default()
    }
}

impl<T> Split for Partials<'_, T> {
    fn split(self, _rows: usize, blocks: usize) -> (Self, Self) {
        let (head, tail) = self
            .data
            .split_at_mut((blocks * self.width).min(self.data.len()));
        (
            Partials {
                data: head,
                width: self.width,
            },
            Partials {
                data: tail,
                width: self.width,
            },
        )
    }
}

/// Implements [`Split`] for tuples of splittable parts.
macro_rules! split_tuple {
    ($($name:ident),+) => {
        impl<$($name: Split),+> Split for ($($name,)+) {
            #[allow(non_snake_case)]
            fn split(self, rows: usize, blocks: usize) -> (Self, Self) {
                let ($($name,)+) = self;
                $(let $name = $name.split(rows, blocks);)+
                (($($name.0,)+), ($($name.1,)+))
            }
        }
    };
}

split_tuple!(A, B);
split_tuple!(A, B, C);
split_tuple!(A, B, C, D);
split_tuple!(A, B, C, D, E);

/// The first row of block `b` of `total` rows: blocks differ by at most one row.
const fn first_row(b: usize, total: usize) -> usize {
    b * total / BLOCKS
}

/// Runs `leaf(first, rows, data)` on every block of `total` rows (its first row and its number
/// of rows, possibly 0),
/// in parallel when `total >= PARALLEL_ROWS` with the `parallel` feature, and combines the
/// leaves' results with `merge` in block order.
pub(crate) fn for_blocks<S, R>(
    total: usize,
    data: S,
    leaf: &(impl Fn(usize, usize, S) -> R + Sync),
    merge: &(impl Fn(R, R) -> R + Sync),
) -> R
where
    S: Split + Send,
    R: Send,
{
    if BLOCKS == 1 {
        // No recursion to instantiate: one frame less on a microcontroller's stack.
        return leaf(0, total, data);
    }
    blocks_in(0, BLOCKS, total, data, leaf, merge)
}

/// [`for_blocks`] over blocks `first..last`, whose rows `data` holds.
fn blocks_in<S, R>(
    first: usize,
    last: usize,
    total: usize,
    data: S,
    leaf: &(impl Fn(usize, usize, S) -> R + Sync),
    merge: &(impl Fn(R, R) -> R + Sync),
) -> R
where
    S: Split + Send,
    R: Send,
{
    let start = first_row(first, total);
    if last - first <= 1 {
        return leaf(start, first_row(last, total) - start, data);
    }
    let middle = (first + last) / 2;
    let rows = first_row(middle, total) - start;
    let (left, right) = data.split(rows, middle - first);
    let (a, b) = fork(
        total >= PARALLEL_ROWS,
        || blocks_in(first, middle, total, left, leaf, merge),
        || blocks_in(middle, last, total, right, leaf, merge),
    );
    merge(a, b)
}

/// `(a(), b())`, on two threads when `parallel` and the `parallel` feature is on.
#[inline(always)]
fn fork<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    #[cfg(feature = "parallel")]
    if parallel {
        return rayon::join(a, b);
    }
    let _ = parallel;
    (a(), b())
}

/// Adds the partials `1..` of `partials` (`BLOCKS` vectors of `width`) into the first, in block
/// order.
pub(crate) fn sum_partials<T: crate::Real>(partials: &mut [T], width: usize) {
    let (first, rest) = partials.split_at_mut(width.min(partials.len()));
    for partial in crate::vector::rows(rest, width) {
        first.iter_mut().zip(partial).for_each(|(s, &x)| *s += x);
    }
}

/// The elementwise maximum of the partials `1..` into the first.
pub(crate) fn max_partials<T: crate::Real>(partials: &mut [T], width: usize) {
    let (first, rest) = partials.split_at_mut(width.min(partials.len()));
    for partial in crate::vector::rows(rest, width) {
        first
            .iter_mut()
            .zip(partial)
            .for_each(|(s, &x)| *s = crate::vector::larger(*s, x));
    }
}
