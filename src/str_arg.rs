//! The string argument of the detection functions, read without making a `String`.
//!
//! napi-rs converts a `String` argument with two calls into Node (the UTF-8
//! length, then the copy) and a heap allocation: ~0.45 µs of an ~850-character
//! token's `isM2MJwt`, more than the detection itself. Here the argument is
//! copied by one call into a buffer on the stack (~0.2 µs, call included).
//! UTF-8 rather than Latin-1 (~0.04 µs cheaper): Node's Latin-1 copy keeps only
//! the low byte of each UTF-16 unit, so `ŭt_…` (U+016D) would read as `mt_…`;
//! the UTF-8 copy is exact. UTF-16 measured the same as UTF-8 and needs a
//! narrowing pass.

use napi::bindgen_prelude::FromNapiValue;
use napi::{sys, Error, Result, Status};
use std::mem::MaybeUninit;

/// Bytes read: the detection ceiling, plus room for the terminating NUL and a
/// last character that did not fit.
const INLINE: usize = clerk_m2m_core::DEFAULT_MAX_TOKEN_BYTES + 8;

// A copy can only be cut past the ceiling (see `with_utf8_head`).
const _: () = assert!(INLINE - 5 > clerk_m2m_core::DEFAULT_MAX_TOKEN_BYTES);

/// A JS string argument, held as the value itself until [`StrArg::with_utf8_head`] reads it.
pub struct StrArg {
    env: sys::napi_env,
    value: sys::napi_value,
}

impl FromNapiValue for StrArg {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        Ok(StrArg { env, value })
    }
}

impl StrArg {
    /// Calls `f` with the string's UTF-8 (a lone surrogate becomes U+FFFD) when it
    /// is at most the detection ceiling long, and otherwise with a head of it that
    /// is still longer than the ceiling. The detectors cannot tell the two apart:
    /// each rejects anything over the ceiling as a JWT and reads at most four
    /// bytes (a prefix) of the rest, so a megabyte string costs a 16 KiB copy.
    /// A non-string argument is a `StringExpected` error.
    #[inline]
    pub fn with_utf8_head<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
        let mut buf = [MaybeUninit::<u8>::uninit(); INLINE];
        Ok(f(self.read_head(&mut buf)?))
    }

    /// Calls `f` with the whole string's UTF-8: from the stack when it fits (every
    /// string under the ceiling), else through an ordinary `String` (`isJwtFormat`
    /// has no ceiling, so it must see all of a long string).
    #[inline]
    pub fn with_utf8<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
        let mut buf = [MaybeUninit::<u8>::uninit(); INLINE];
        let head = self.read_head(&mut buf)?;
        if head.len() + 4 < INLINE - 1 {
            return Ok(f(head));
        }
        // SAFETY: `env` and `value` come from the current call's arguments.
        let whole = unsafe { <String as FromNapiValue>::from_napi_value(self.env, self.value) }?;
        Ok(f(whole.as_bytes()))
    }

    /// Copies up to INLINE - 1 bytes of the string's UTF-8 into `buf`. Node never
    /// writes part of a character, so a copy that was cut has more than INLINE - 5
    /// bytes, and one with fewer is the whole string.
    #[inline]
    fn read_head<'b>(&self, buf: &'b mut [MaybeUninit<u8>; INLINE]) -> Result<&'b [u8]> {
        let mut len = 0usize;
        // SAFETY: `env` and `value` come from the current call's arguments; the buffer is
        // INLINE bytes long, and Node writes at most INLINE - 1 of them plus a NUL.
        let status = unsafe { sys::napi_get_value_string_utf8(self.env, self.value, buf.as_mut_ptr().cast(), INLINE, &mut len) };
        if status != sys::Status::napi_ok {
            return Err(Error::new(Status::StringExpected, "Expected a string argument"));
        }
        // SAFETY: Node initialised the first `len` bytes (len < INLINE).
        Ok(unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), len.min(INLINE - 1)) })
    }
}
