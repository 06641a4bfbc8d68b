//! The emulator's notion of "now": the system clock plus an adjustable offset, so expiry tests can
//! move time forward (or back) without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// System time in Unix milliseconds plus a signed offset.
#[derive(Debug, Default)]
pub struct EmulatorClock {
    offset_ms: AtomicI64,
}

impl EmulatorClock {
    /// Current emulator time in Unix milliseconds (saturating, never panics).
    pub fn now_ms(&self) -> i64 {
        system_now_ms().saturating_add(self.offset_ms())
    }

    /// Current offset from the system clock in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }

    /// Replaces the offset.
    pub fn set_offset_ms(&self, offset_ms: i64) {
        self.offset_ms.store(offset_ms, Ordering::SeqCst);
    }

    /// Adds to the offset (saturating) and returns the new offset.
    pub fn advance_ms(&self, delta_ms: i64) -> i64 {
        let mut current = self.offset_ms();
        loop {
            let next = current.saturating_add(delta_ms);
            match self.offset_ms.compare_exchange(current, next, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return next,
                Err(actual) => current = actual,
            }
        }
    }
}

/// System time in Unix ms; a clock before 1970 reads as 0 rather than panicking.
fn system_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_shifts_now() {
        let clock = EmulatorClock::default();
        let before = clock.now_ms();
        clock.set_offset_ms(3_600_000);
        let shifted = clock.now_ms();
        assert!(shifted - before >= 3_600_000);
        assert!(shifted - before < 3_600_000 + 5_000);
        assert_eq!(clock.offset_ms(), 3_600_000);
    }

    #[test]
    fn advance_accumulates_and_saturates() {
        let clock = EmulatorClock::default();
        assert_eq!(clock.advance_ms(10), 10);
        assert_eq!(clock.advance_ms(-25), -15);
        clock.set_offset_ms(i64::MAX - 1);
        assert_eq!(clock.advance_ms(10), i64::MAX);
        // now_ms saturates instead of overflowing.
        assert_eq!(clock.now_ms(), i64::MAX);
        clock.set_offset_ms(i64::MIN);
        assert!(clock.now_ms() < 0);
    }
}
