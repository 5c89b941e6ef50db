//! The boundary every `extern "C"` body sits behind: null checks, slice checks, the panic
//! boundary, and the "outputs only on success" writers.

use crate::status::{etd_detail, outcome, Failure};
use core::mem::{align_of, size_of};

/// Returns `ETD_ERR_NULL_POINTER` from the enclosing `Result` function if any pointer is NULL.
macro_rules! check_null {
    ($($ptr:expr),+ $(,)?) => {
        if false $(|| $ptr.is_null())+ {
            return Err($crate::status::Failure::NULL);
        }
    };
}

/// Runs `body` behind the panic boundary and returns its status as `int32_t`.
///
/// With `std`, a panic is caught and becomes `ETD_ERR_PANIC`; without it the panic handler
/// halts, so nothing ever unwinds into the caller.
pub(crate) fn boundary(body: impl FnOnce() -> Result<(), Failure>) -> i32 {
    outcome(guarded(body)).status
}

/// `body()` behind the panic boundary, a panic becoming [`Failure::PANIC`].
pub(crate) fn guarded(body: impl FnOnce() -> Result<(), Failure>) -> Result<(), Failure> {
    catch(body).unwrap_or(Err(Failure::PANIC))
}

/// `Some(body())`, or `None` if it panicked.
pub(crate) fn catch<R>(body: impl FnOnce() -> R) -> Option<R> {
    #[cfg(feature = "std")]
    {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).ok()
    }
    #[cfg(not(feature = "std"))]
    {
        Some(body())
    }
}

/// A caller array of `len` values of `T`, as a byte range, after the checks every array
/// argument gets: not NULL, aligned for `T`, and `len * size_of::<T>()` addressable.
#[derive(Clone, Copy)]
pub(crate) struct Array<T> {
    ptr: *mut T,
    len: usize,
}

impl<T> Array<T> {
    /// Checks `ptr` (NULL -> `ETD_ERR_NULL_POINTER`, misaligned or too long ->
    /// `ETD_ERR_INVALID_ARGUMENT`).
    pub(crate) fn new(ptr: *const T, len: usize) -> Result<Self, Failure> {
        check_null!(ptr);
        let overflow = Failure::invalid(etd_detail::ETD_DETAIL_SIZE_OVERFLOW);
        let bytes = len
            .checked_mul(size_of::<T>())
            .filter(|&b| b <= isize::MAX as usize)
            .ok_or(overflow)?;
        let addr = ptr as usize;
        if addr % align_of::<T>() != 0 {
            return Err(Failure::invalid(etd_detail::ETD_DETAIL_MISALIGNED));
        }
        if addr.checked_add(bytes).is_none() {
            return Err(overflow);
        }
        Ok(Array {
            ptr: ptr.cast_mut(),
            len,
        })
    }

    /// Byte range `[start, end)`, for [`Array::disjoint_from`].
    pub(crate) fn bytes(&self) -> (usize, usize) {
        let start = self.ptr as usize;
        (start, start + self.len * size_of::<T>())
    }

    /// `ETD_ERR_INVALID_ARGUMENT` if this array shares a byte with `other`.
    pub(crate) fn disjoint_from(&self, other: (usize, usize)) -> Result<(), Failure> {
        disjoint(self.bytes(), other)
    }

    /// The array as a shared slice.
    ///
    /// # Safety
    /// The caller's contract: `len` initialised values, not written through another pointer
    /// while the slice lives.
    pub(crate) unsafe fn into_slice<'a>(self) -> &'a [T] {
        // SAFETY: non-null, aligned and in range (checked in `new`); the rest is the caller's.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The array as an exclusive slice.
    ///
    /// # Safety
    /// The caller's contract: `len` initialised values, not accessed through another pointer
    /// while the slice lives (overlaps between arguments are rejected by the callers).
    pub(crate) unsafe fn into_mut_slice<'a>(self) -> &'a mut [T] {
        // SAFETY: as `into_slice`, plus exclusivity from the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

/// `ETD_ERR_INVALID_ARGUMENT` if the byte ranges `[start, end)` share a byte.
pub(crate) fn disjoint(a: (usize, usize), b: (usize, usize)) -> Result<(), Failure> {
    if a.0 < b.1 && b.0 < a.1 {
        return Err(Failure::invalid(etd_detail::ETD_DETAIL_OVERLAP));
    }
    Ok(())
}

/// Reads a caller struct at any alignment; NULL -> `ETD_ERR_NULL_POINTER`.
///
/// # Safety
/// `ptr` is NULL or points to a readable `T`.
pub(crate) unsafe fn read_in<T: Copy>(ptr: *const T) -> Result<T, Failure> {
    check_null!(ptr);
    // SAFETY: non-null and readable by the caller's contract; any alignment is fine.
    Ok(unsafe { ptr.read_unaligned() })
}

/// Writes an optional output at any alignment; a NULL `ptr` means "not wanted".
///
/// # Safety
/// `ptr` is NULL or points to writable memory for a `T`.
pub(crate) unsafe fn write_out<T>(ptr: *mut T, value: T) {
    if !ptr.is_null() {
        // SAFETY: non-null and writable by the caller's contract; any alignment is fine.
        unsafe { ptr.write_unaligned(value) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etd_status;

    #[test]
    fn a_panic_becomes_etd_err_panic() {
        let status = boundary(|| panic!("deliberate test panic"));
        assert_eq!(status, etd_status::ETD_ERR_PANIC as i32);
        assert_eq!(boundary(|| Ok(())), 0);
        let callback = Failure::new(
            etd_status::ETD_ERR_CALLBACK,
            etd_detail::ETD_DETAIL_CALLBACK_FAILED,
        );
        assert_eq!(
            boundary(|| Err(callback)),
            etd_status::ETD_ERR_CALLBACK as i32
        );
    }

    #[test]
    fn arrays_are_checked() {
        let data = [0.0f64; 4];
        assert_eq!(
            Array::new(core::ptr::null::<f64>(), 1).err(),
            Some(Failure::NULL)
        );
        let misaligned = (data.as_ptr() as usize + 1) as *const f64;
        assert_eq!(
            Array::new(misaligned, 1).err(),
            Some(Failure::invalid(etd_detail::ETD_DETAIL_MISALIGNED))
        );
        assert_eq!(
            Array::new(data.as_ptr(), usize::MAX / 4).err(),
            Some(Failure::invalid(etd_detail::ETD_DETAIL_SIZE_OVERFLOW))
        );
        let a = Array::new(data.as_ptr(), 2).unwrap();
        let b = Array::new(data[1..].as_ptr(), 2).unwrap();
        let c = Array::new(data[2..].as_ptr(), 2).unwrap();
        assert!(a.disjoint_from(b.bytes()).is_err());
        assert!(a.disjoint_from(c.bytes()).is_ok());
    }
}
