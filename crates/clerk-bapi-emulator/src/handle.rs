//! [`EmulatorHandle`]: what a test holds of a running emulator — its URL and secrets, control over
//! machines, keys, faults and the clock, the counters and request log, and shutdown.

use crate::app::App;
use crate::config::MachineConfig;
use crate::errors::EmulatorError;
use crate::faults::{FaultRule, Route};
use crate::keys::SigningKey;
use crate::reqlog::RecordedRequest;
use crate::state::admin::KeyInstall;
use crate::state::seeded::{ApiKeySeed, OAuthTokenSeed, SeededToken};
use crate::state::{InstanceInfo, KeyInfo, MachineInfo};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long shutdown waits for in-flight requests before killing connections, and again after.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// A running emulator. Dropping it stops the server too (without waiting); prefer
/// [`EmulatorHandle::shutdown`] to wait until the port is closed (and the state file written).
pub struct EmulatorHandle {
    app: App,
    addr: SocketAddr,
    server: Option<JoinHandle<()>>,
    writer: Option<JoinHandle<()>>,
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle").field("url", &self.app.url).finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    pub(crate) fn new(app: App, addr: SocketAddr, server: JoinHandle<()>, writer: JoinHandle<()>) -> EmulatorHandle {
        EmulatorHandle { app, addr, server: Some(server), writer: Some(writer) }
    }

    /// Base URL, `http://127.0.0.1:PORT` (pass as `apiUrl`).
    pub fn url(&self) -> &str {
        &self.app.url
    }

    /// The dashboard, `http://127.0.0.1:PORT/__emulator/ui`.
    pub fn dashboard_url(&self) -> String {
        self.app.dashboard_url()
    }

    /// The token a browser's state-changing admin requests must send in `X-Clerk-Emulator-Token`.
    pub fn admin_token(&self) -> &str {
        self.app.access.token()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Snapshots of every instance (secret keys, keys, machines).
    pub fn instances(&self) -> Vec<InstanceInfo> {
        self.app.state().infos()
    }

    pub fn instance(&self, index: usize) -> Option<InstanceInfo> {
        self.app.instance_info(index)
    }

    /// Secret key of instance 0 (there is always at least one instance).
    pub fn secret_key(&self) -> String {
        self.app.state().instances.first().map(|i| i.secret_key.clone()).unwrap_or_default()
    }

    /// Machine `name` of instance 0.
    pub fn machine(&self, name: &str) -> Option<MachineInfo> {
        self.machine_in(0, name)
    }

    /// Machine `name` of instance `index`.
    pub fn machine_in(&self, index: usize, name: &str) -> Option<MachineInfo> {
        let state = self.app.state();
        let inst = state.instances.get(index)?;
        inst.machine_by_name(name).map(|m| inst.machine_info(m))
    }

    /// Runs a state change and tells the dashboard and the state file.
    fn change<T>(&self, f: impl FnOnce(&mut crate::state::EmulatorState, i64) -> Result<T, EmulatorError>) -> Result<T, EmulatorError> {
        let now = self.app.clock.now_ms();
        let result = f(&mut self.app.state(), now);
        if result.is_ok() {
            self.app.changed();
        }
        result
    }

    /// Creates a machine at run time (scopes by machine name).
    pub fn create_machine(&self, index: usize, machine: MachineConfig) -> Result<MachineInfo, EmulatorError> {
        self.change(|s, now| s.create_named_machine(index, &machine, now))
    }

    pub fn seed_oauth_token(&self, index: usize, seed: OAuthTokenSeed) -> Result<SeededToken, EmulatorError> {
        self.change(|s, now| s.seed_oauth_token(index, seed, now))
    }

    pub fn seed_api_key(&self, index: usize, seed: ApiKeySeed) -> Result<SeededToken, EmulatorError> {
        self.change(|s, now| s.seed_api_key(index, seed, now))
    }

    /// Sets (replaces) the fault of `route`; pass a [`Fault`](crate::Fault) for "until cleared"
    /// or a [`FaultRule`] with `times` for the next N requests.
    pub fn set_fault(&self, route: Route, rule: impl Into<FaultRule>) -> Result<(), EmulatorError> {
        self.app.faults.set(route, rule.into()).map_err(EmulatorError::Rejected)?;
        self.app.changed();
        Ok(())
    }

    pub fn clear_fault(&self, route: Route) {
        self.app.faults.clear(route);
        self.app.changed();
    }

    pub fn clear_faults(&self) {
        self.app.faults.clear_all();
        self.app.changed();
    }

    pub fn faults(&self) -> BTreeMap<String, FaultRule> {
        self.app.faults.snapshot()
    }

    /// Requests per route name (plus `other`).
    pub fn counters(&self) -> BTreeMap<String, u64> {
        self.app.counters.snapshot()
    }

    pub fn count(&self, route: Route) -> u64 {
        self.app.counters.get(Some(route))
    }

    pub fn reset_counters(&self) {
        self.app.counters.reset();
    }

    /// Recent requests, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.app.log.snapshot()
    }

    pub fn clear_requests(&self) {
        self.app.log.clear();
    }

    /// Adds a new key with a random kid as the active signer; the old keys stay in JWKS until retired.
    pub async fn rotate_key(&self, index: usize) -> Result<KeyInfo, EmulatorError> {
        self.app.add_signing_key(index, None, false).await
    }

    /// Like [`rotate_key`](Self::rotate_key) with a chosen kid.
    pub async fn add_signing_key(&self, index: usize, kid: &str) -> Result<KeyInfo, EmulatorError> {
        self.app.add_signing_key(index, Some(kid.to_owned()), false).await
    }

    /// Installs an RSA private key you hold (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`
    /// PEM) under `kid` as the active signer; a live key with the same kid is replaced. Lets tests
    /// sign tokens themselves and have the emulator's JWKS serve the matching public key.
    pub fn import_signing_key(&self, index: usize, kid: &str, private_key_pem: &str) -> Result<KeyInfo, EmulatorError> {
        if kid.trim().is_empty() {
            return Err(EmulatorError::Rejected("kid must not be empty".into()));
        }
        let key = SigningKey::from_private_key_pem(kid, private_key_pem)?;
        self.change(|s, _| s.install_key(index, key, KeyInstall::Import, false))
    }

    /// Removes a key from JWKS and from signing (the newest remaining key signs).
    pub fn retire_key(&self, index: usize, kid: &str) -> Result<(), EmulatorError> {
        self.change(|s, _| s.retire_key(index, kid))
    }

    /// Shifts the emulator's "now" by `offset_ms` from the system clock.
    pub fn set_clock_offset_ms(&self, offset_ms: i64) {
        self.app.clock.set_offset_ms(offset_ms);
        self.app.changed();
    }

    /// Moves the emulator's "now" by `delta_ms`; returns the new offset.
    pub fn advance_clock_ms(&self, delta_ms: i64) -> i64 {
        let offset = self.app.clock.advance_ms(delta_ms);
        self.app.changed();
        offset
    }

    pub fn clock_offset_ms(&self) -> i64 {
        self.app.clock.offset_ms()
    }

    /// The emulator's current time (Unix ms).
    pub fn now_ms(&self) -> i64 {
        self.app.clock.now_ms()
    }

    pub fn set_reject_inactive_tokens(&self, index: usize, reject: bool) -> Result<(), EmulatorError> {
        self.change(|s, _| s.set_reject_inactive_tokens(index, reject))
    }

    pub fn sign_jwt(&self, index: usize, header: &Value, payload: &Value) -> Result<String, EmulatorError> {
        self.app.state().sign_jwt(index, header, payload)
    }

    /// Open client connections (to check that clients close or reuse them).
    pub fn live_connections(&self) -> usize {
        self.app.conns.live()
    }

    /// The start-up JSON document (`url`, `dashboardUrl`, `instances`, `machines`, camelCase).
    pub fn info_json(&self) -> Value {
        self.app.info_json()
    }

    /// Writes the `--state` file now (it is also written after every change and at shutdown).
    pub fn save_state(&self) -> Result<(), EmulatorError> {
        self.app.save_now()
    }

    /// Stops accepting, lets in-flight requests finish (hanging ones are released), kills what is
    /// left after a grace period, waits for the server task, and writes the state file a last time.
    pub async fn shutdown(mut self) {
        self.app.begin_shutdown();
        if let Some(mut task) = self.server.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await.is_err() {
                self.app.conns.kill_all();
                if tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await.is_err() {
                    task.abort();
                }
            }
        }
        if let Some(writer) = self.writer.take() {
            let _ = writer.await;
        }
        let app = self.app.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || app.save_now()).await.unwrap_or(Ok(())) {
            eprintln!("clerk-bapi-emulator: {e}");
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if self.server.take().is_some() {
            self.app.begin_shutdown();
            self.app.conns.kill_all();
            // Without a runtime to wait on, the last changes are written here, synchronously.
            if let Err(e) = self.app.save_now() {
                eprintln!("clerk-bapi-emulator: {e}");
            }
        }
    }
}
