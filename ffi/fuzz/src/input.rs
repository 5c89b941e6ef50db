//! Arbitrary bytes as a stream of choices: sizes, flags and numbers weighted towards edges.
//! An exhausted input reads as zeros, which choose the plainest option everywhere, so every
//! input ends.

/// The bytes still to be read.
pub struct Input<'a> {
    bytes: &'a [u8],
}

/// Numbers that sit on an edge of f32 or f64: signed zeros, the largest and smallest normal
/// values, subnormals of both types, values that overflow f32 only, the infinities and NaN.
const SPECIAL: [f64; 24] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.0,
    1e-3,
    1e3,
    1e6,
    -1e6,
    1e30,
    -1e30,
    1e39,
    1e300,
    -1e300,
    1e-300,
    f64::MAX,
    -f64::MAX,
    f64::MIN_POSITIVE,
    5e-324,
    1e-40,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

impl<'a> Input<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Input { bytes }
    }

    /// The next byte (0 once exhausted).
    pub fn byte(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((&b, rest)) => {
                self.bytes = rest;
                b
            }
            None => 0,
        }
    }

    pub fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// `true` with probability about `1 / n`.
    pub fn one_in(&mut self, n: u8) -> bool {
        self.byte() % n == n - 1
    }

    /// A value in `0..bound` (`bound` >= 1), from one byte below 256, else two.
    pub fn below(&mut self, bound: usize) -> usize {
        let raw = if bound <= 256 {
            usize::from(self.byte())
        } else {
            usize::from(u16::from_le_bytes([self.byte(), self.byte()]))
        };
        raw % bound
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | u64::from(self.u32()) << 32
    }

    /// A number as `f64`, or raw bits for the caller's type (`Err`): mostly small values and
    /// [`SPECIAL`] edges.
    pub fn number(&mut self) -> Result<f64, u64> {
        match self.byte() {
            tag @ 0..=95 => Ok((f64::from(tag) - 48.0) / 8.0),
            tag @ 96..=191 => Ok(SPECIAL[usize::from(tag) % SPECIAL.len()]),
            _ => Err(self.u64()),
        }
    }
}
