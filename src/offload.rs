//! `NativeOffload`: a lane into the core's offload pool (`clerk_m2m_core::Lane`) for one JS
//! realm. Workers call `onReady` (a weak threadsafe function: it never keeps the process
//! alive; `lib/offload.js` does while work is pending) when answers are ready; JS then
//! `drain()`s them all in one crossing. When to offload is `lib/offload.js`'s policy.

use crate::convert::{mode, NativeOffloadStats};
use crate::verifier::NativeVerifier;
use clerk_m2m_core::{Delivered, Lane, LANE_MAX};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;

/// What `drain()` hands JS for a token that needs the network (call `verifyRemote`).
const NEEDS_NETWORK: &str = "";
/// What `drain()` hands JS for a verification that panicked in its worker (a bug).
const PANICKED: &str = "!";

#[napi]
pub struct NativeOffload {
    lane: Lane,
}

#[napi]
impl NativeOffload {
    #[napi(constructor, catch_unwind)]
    pub fn new(on_ready: Function<(), ()>) -> Result<Self> {
        let wake = on_ready.build_threadsafe_function::<()>().weak::<true>().callee_handled::<false>().build()?;
        // Closing (the realm is going away): nothing is left to tell.
        let lane = Lane::new(move || {
            let _ = wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
        });
        Ok(NativeOffload { lane })
    }

    /// Queues `token` for a worker thread; `false` when the lane is full (verify it here instead).
    #[napi(catch_unwind)]
    pub fn submit(&self, verifier: &NativeVerifier, token: String, m2m_only: bool) -> bool {
        self.lane.submit(verifier.core(), token, mode(m2m_only))
    }

    /// Wakes idle worker threads for what was submitted (once per batch of submissions).
    #[napi(catch_unwind)]
    pub fn start(&self) {
        self.lane.start();
    }

    /// The answers ready, in submission order: an outcome's wire string, `""` for a token that
    /// needs the network, `"!"` for a verification that panicked.
    #[napi(catch_unwind)]
    pub fn drain(&self) -> Vec<String> {
        self.lane
            .drain()
            .into_iter()
            .map(|d| match d {
                Delivered::Answer(wire) => wire,
                Delivered::NeedsNetwork => NEEDS_NETWORK.to_owned(),
                Delivered::Panicked => PANICKED.to_owned(),
            })
            .collect()
    }

    #[napi(catch_unwind)]
    pub fn stats(&self) -> NativeOffloadStats {
        NativeOffloadStats::new(self.lane.stats(), LANE_MAX)
    }
}
