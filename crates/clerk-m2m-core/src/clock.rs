//! Time source, injectable so every claim rule can be tested at its boundaries.
//!
//! The reference reads `Date.now()` separately in each check; so do we (one
//! `now_ms()` call per check), which only matters for a moving clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, as `Date.now()`.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> f64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> f64 {
        let now = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_millis() as f64,
            // A clock before 1970 is a broken host; negative time keeps the arithmetic total.
            Err(e) => -(e.duration().as_millis() as f64),
        };
        #[cfg(feature = "test-hooks")]
        if let Some(frozen) = test_clock::frozen() {
            return frozen;
        }
        now
    }
}

/// A fixed instant, for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub f64);

impl Clock for FixedClock {
    fn now_ms(&self) -> f64 {
        self.0
    }
}

/// A frozen time for [`SystemClock`], so that tests of the addon can set the time of
/// the whole process (JWKS TTL, reuse windows, claim boundaries, a clock stepped back)
/// to the same instant as a faked `Date.now` in JavaScript, without waiting.
/// Compiled only with the `test-hooks` feature: the release addon cannot move its clock.
#[cfg(feature = "test-hooks")]
pub mod test_clock {
    use std::sync::atomic::{AtomicU64, Ordering};

    /// The frozen time's bits; NaN's bits = not frozen.
    static FROZEN_MS: AtomicU64 = AtomicU64::new(f64::NAN.to_bits());

    /// Every later [`super::SystemClock`] reading returns `ms`; `None` (or a NaN) unfreezes it.
    pub fn freeze(ms: Option<f64>) {
        FROZEN_MS.store(ms.unwrap_or(f64::NAN).to_bits(), Ordering::Relaxed);
    }

    pub fn frozen() -> Option<f64> {
        let ms = f64::from_bits(FROZEN_MS.load(Ordering::Relaxed));
        (!ms.is_nan()).then_some(ms)
    }
}
