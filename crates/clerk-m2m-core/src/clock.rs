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
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_millis() as f64,
            // A clock before 1970 is a broken host; negative time keeps the arithmetic total.
            Err(e) => -(e.duration().as_millis() as f64),
        }
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
