//! Per-route request counters, so tests can assert how many calls a client made (retries,
//! cache hits). Every request is counted, including faulted ones; requests to unknown paths or
//! with unsupported methods count as `other`. Admin requests are not counted.

use crate::faults::Route;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Name of the counter for requests that matched no emulated route.
pub const OTHER: &str = "other";

#[derive(Debug, Default)]
pub struct Counters {
    routes: [AtomicU64; Route::ALL.len()],
    other: AtomicU64,
}

impl Counters {
    /// Counts one request of `route` (`None` = no route matched).
    pub fn increment(&self, route: Option<Route>) {
        self.slot(route).fetch_add(1, Ordering::SeqCst);
    }

    /// Requests counted for `route` (`None` = `other`) since the last reset.
    pub fn get(&self, route: Option<Route>) -> u64 {
        self.slot(route).load(Ordering::SeqCst)
    }

    /// All counters by name (every route plus `other`, zeros included).
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        let mut map: BTreeMap<String, u64> = Route::ALL.into_iter().map(|r| (r.as_str().to_owned(), self.get(Some(r)))).collect();
        map.insert(OTHER.to_owned(), self.get(None));
        map
    }

    pub fn reset(&self) {
        for c in &self.routes {
            c.store(0, Ordering::SeqCst);
        }
        self.other.store(0, Ordering::SeqCst);
    }

    fn slot(&self, route: Option<Route>) -> &AtomicU64 {
        // Route::index() is < Route::ALL.len() by construction; fall back to `other` regardless.
        route.and_then(|r| self.routes.get(r.index())).unwrap_or(&self.other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_resets_and_snapshots() {
        let c = Counters::default();
        c.increment(Some(Route::Jwks));
        c.increment(Some(Route::Jwks));
        c.increment(Some(Route::Machines));
        c.increment(None);
        assert_eq!(c.get(Some(Route::Jwks)), 2);
        assert_eq!(c.get(Some(Route::M2mCreate)), 0);
        let snap = c.snapshot();
        assert_eq!(snap.len(), Route::ALL.len() + 1);
        assert_eq!(snap["jwks"], 2);
        assert_eq!(snap["machines"], 1);
        assert_eq!(snap[OTHER], 1);
        c.reset();
        assert!(c.snapshot().values().all(|v| *v == 0));
    }
}
