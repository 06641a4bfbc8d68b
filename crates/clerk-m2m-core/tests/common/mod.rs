//! Shared helpers for the network integration tests (emulator on 127.0.0.1, real sockets).
//!
//! Every test runs on ONE shared multi-thread runtime: the core's HTTP client is
//! process-wide and pools connections, and a pooled connection belongs to the
//! runtime that opened it, so per-test runtimes would leave dead connections behind.
#![allow(dead_code)]

use clerk_bapi_emulator::{Emulator, EmulatorHandle, InstanceConfig};
use clerk_m2m_core::bapi::BapiConfig;
use clerk_m2m_core::Clock;
use clerk_m2m_core::Secret;
use std::future::Future;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use url::Url;

static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap());

/// Runs a test body on the shared runtime.
pub fn run<F: Future>(f: F) -> F::Output {
    RUNTIME.block_on(f)
}

/// How late a call may end after its deadline (scheduling on a loaded 2-core box).
pub const MARGIN: Duration = Duration::from_millis(500);

/// One instance with the default machines (trpc, webhook → trpc, worker → trpc).
pub async fn emulator() -> EmulatorHandle {
    Emulator::builder().start().await.unwrap()
}

pub async fn emulator_with(instances: Vec<InstanceConfig>) -> EmulatorHandle {
    let mut b = Emulator::builder();
    for i in instances {
        b = b.instance(i);
    }
    b.start().await.unwrap()
}

/// Config for instance 0 with its secret key and the given deadline.
pub fn config(emu: &EmulatorHandle, timeout_ms: u64) -> BapiConfig {
    let mut c = BapiConfig::new(Url::parse(emu.url()).unwrap());
    c.secret_key = Some(Secret::new(emu.secret_key()));
    c.timeout = Duration::from_millis(timeout_ms);
    c
}

/// A URL on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Asserts that an operation that started at `start` ended within `timeout_ms` + [`MARGIN`].
pub fn assert_bounded(start: Instant, timeout_ms: u64, what: &str) {
    let elapsed = start.elapsed();
    assert!(elapsed <= Duration::from_millis(timeout_ms) + MARGIN, "{what}: took {elapsed:?}, deadline {timeout_ms} ms");
}

/// A clock tests move by hand.
pub struct TestClock(Mutex<f64>);

impl TestClock {
    pub fn new(now_ms: f64) -> Self {
        TestClock(Mutex::new(now_ms))
    }

    pub fn advance(&self, ms: f64) {
        *self.0.lock().unwrap() += ms;
    }

    pub fn set(&self, ms: f64) {
        *self.0.lock().unwrap() = ms;
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> f64 {
        *self.0.lock().unwrap()
    }
}
