//! Exports only the test build of the addon has (`--features test-hooks`,
//! built by `scripts/test.sh`); the release addon that is packed and published
//! has none of them.

use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Proves in tests that a Rust panic becomes a JS error instead of aborting Node.
#[napi(catch_unwind, js_name = "__panicProbeSync")]
pub fn panic_probe_sync() -> Result<()> {
    // Deliberate: the test checks that catch_unwind turns it into a JS error.
    panic!("panic probe (sync)");
}

/// The async counterpart of [`panic_probe_sync`]: napi polls async work under catch_unwind.
#[napi(js_name = "__panicProbeAsync")]
pub async fn panic_probe_async() -> Result<()> {
    // Deliberate, as above: the test checks that the rejection is a JS error.
    panic!("panic probe (async)");
}

/// Freezes the process's clock (the core's `SystemClock`) at `ms` since the epoch, or
/// lets it run again with `null`, so that tests can step through JWKS TTLs, reuse windows
/// and claim boundaries (or step the clock back) together with a faked `Date.now` in JS.
#[napi(catch_unwind, js_name = "__freezeClock")]
pub fn freeze_clock(ms: Option<f64>) -> Result<()> {
    if ms.is_some_and(|ms| !ms.is_finite()) {
        return Err(Error::new(Status::InvalidArg, "ms must be a finite number of milliseconds, or null"));
    }
    clerk_m2m_core::test_clock::freeze(ms);
    Ok(())
}

/// Makes the next `n` offloaded verifications panic in their worker thread (`NativeOffload`),
/// to prove that such a panic becomes an error for that call alone.
#[napi(catch_unwind, js_name = "__panicNextOffloads")]
pub fn panic_next_offloads(n: u32) {
    clerk_m2m_core::test_panic::arm(n as usize);
}
