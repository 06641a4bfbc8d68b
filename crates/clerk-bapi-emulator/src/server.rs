//! Starting, controlling and stopping an emulator: the [`Emulator`] builder, the
//! [`EmulatorHandle`] tests hold, and the shared state the HTTP routes and the admin API use.

use crate::clock::EmulatorClock;
use crate::config::{create_configured_machines, validate, InstanceConfig, MachineConfig};
use crate::conn::{ConnHandle, ConnRegistry, EmulatorListener};
use crate::counters::Counters;
use crate::faults::{FaultRule, FaultTable, Route};
use crate::ids;
use crate::keys::{KeyError, SigningKey};
use crate::reqlog::{RecordedRequest, RequestLog};
use crate::seed::Seed;
use crate::state::seeded::{ApiKeySeed, OAuthTokenSeed, SeededToken};
use crate::state::{EmulatorState, Instance, InstanceInfo, KeyInfo, Limits, MachineInfo};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Most instances one emulator will host.
pub const MAX_INSTANCES: usize = 64;
/// Default size of the recent-requests log.
pub const DEFAULT_REQUEST_LOG_CAPACITY: usize = 200;
/// How long shutdown waits for in-flight requests before killing connections, and again after.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Everything that can go wrong starting or controlling an emulator. Never contains a secret.
#[derive(Debug)]
pub enum EmulatorError {
    /// The builder configuration is inconsistent (message says what).
    InvalidConfig(String),
    /// Binding the listening socket failed.
    Bind(std::io::Error),
    /// RSA key generation or encoding failed.
    Key(KeyError),
    /// No instance with that index.
    UnknownInstance(usize),
    /// The operation was refused (duplicate kid, unknown kid, bad seed, bad fault…).
    Rejected(String),
}

impl fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmulatorError::InvalidConfig(m) => write!(f, "invalid emulator configuration: {m}"),
            EmulatorError::Bind(e) => write!(f, "could not bind 127.0.0.1: {e}"),
            EmulatorError::Key(e) => write!(f, "{e}"),
            EmulatorError::UnknownInstance(i) => write!(f, "no instance with index {i}"),
            EmulatorError::Rejected(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for EmulatorError {}

impl From<KeyError> for EmulatorError {
    fn from(e: KeyError) -> EmulatorError {
        EmulatorError::Key(e)
    }
}

/// Entry point: `Emulator::builder().start().await`.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder { port: 0, instances: Vec::new(), limits: Limits::default(), request_log_capacity: DEFAULT_REQUEST_LOG_CAPACITY, seed: None }
    }
}

/// Configures instances, port and capacities. With no instance configured, one instance with
/// the default machines (`trpc`, `webhook`, `worker`) is created.
#[derive(Debug)]
pub struct EmulatorBuilder {
    port: u16,
    instances: Vec<InstanceConfig>,
    limits: Limits,
    request_log_capacity: usize,
    seed: Option<Seed>,
}

impl EmulatorBuilder {
    /// Port on 127.0.0.1 (0 = any free port, the default).
    pub fn port(mut self, port: u16) -> EmulatorBuilder {
        self.port = port;
        self
    }

    pub fn instance(mut self, instance: InstanceConfig) -> EmulatorBuilder {
        self.instances.push(instance);
        self
    }

    pub fn limits(mut self, limits: Limits) -> EmulatorBuilder {
        self.limits = limits;
        self
    }

    pub fn request_log_capacity(mut self, capacity: usize) -> EmulatorBuilder {
        self.request_log_capacity = capacity;
        self
    }

    /// Derives instance ids, secret keys, signing keys and machine identities from `seed`, so
    /// they are the same at every start with that seed. Explicit ids,
    /// secret keys and kids in an [`InstanceConfig`] still win.
    pub fn seed(mut self, seed: &str) -> EmulatorBuilder {
        self.seed = Some(Seed::new(seed));
        self
    }

    /// Generates keys, binds 127.0.0.1 and starts serving in the background.
    pub async fn start(self) -> Result<EmulatorHandle, EmulatorError> {
        let configs = if self.instances.is_empty() { vec![InstanceConfig::with_default_machines()] } else { self.instances };
        validate(&configs)?;
        let seed = self.seed.map(Arc::new);
        let prepared: Vec<(InstanceConfig, String, String)> = configs
            .into_iter()
            .enumerate()
            .map(|(index, c)| {
                let (id, secret) = match &seed {
                    Some(seed) => seed.instance_identity(index),
                    None => (ids::id("ins_"), ids::secret("sk_test_")),
                };
                let id = c.id.clone().unwrap_or(id);
                let secret = c.secret_key.clone().unwrap_or(secret);
                (c, id, secret)
            })
            .collect();
        let kids: Vec<String> = prepared.iter().map(|(c, id, _)| c.kid.clone().unwrap_or_else(|| id.clone())).collect();
        let key_seed = seed.clone();
        let keys = tokio::task::spawn_blocking(move || {
            kids.into_iter()
                .enumerate()
                .map(|(index, kid)| match &key_seed {
                    Some(seed) => seed.signing_key(index, kid),
                    None => SigningKey::generate(kid),
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|_| EmulatorError::Key(KeyError::Generate))??;

        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.map_err(EmulatorError::Bind)?;
        let addr = listener.local_addr().map_err(EmulatorError::Bind)?;
        let url = format!("http://{addr}");

        let clock = EmulatorClock::default();
        let now = clock.now_ms();
        let mut state = EmulatorState { instances: Vec::new(), limits: self.limits };
        for ((config, id, secret), key) in prepared.into_iter().zip(keys) {
            let issuer = config.issuer.clone().unwrap_or_else(|| format!("{url}/instances/{id}"));
            let mut instance = Instance::new(id, secret, issuer, vec![key], &state.limits);
            instance.reject_inactive_tokens = config.reject_inactive_tokens;
            instance.seed = seed.clone();
            create_configured_machines(&mut instance, &config.machines, now, &state.limits)?;
            state.instances.push(instance);
        }

        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            clock,
            faults: FaultTable::default(),
            counters: Counters::default(),
            log: RequestLog::new(self.request_log_capacity),
            conns: Arc::new(ConnRegistry::default()),
            shutdown,
            url,
        });
        let router = crate::routes::router(shared.clone());
        let mut stop = shared.shutdown.subscribe();
        let server = axum::serve(EmulatorListener::new(listener, shared.conns.clone()), router.into_make_service_with_connect_info::<ConnHandle>())
            .with_graceful_shutdown(async move {
                // An Err means the sender is gone, which also means shutdown.
                let _ = stop.wait_for(|stopping| *stopping).await;
            });
        let task = tokio::spawn(async move {
            let _ = server.await;
        });
        Ok(EmulatorHandle { shared, addr, task: Some(task) })
    }
}

/// State shared by the HTTP routes, the admin API and the handle.
pub(crate) struct Shared {
    state: Mutex<EmulatorState>,
    pub clock: EmulatorClock,
    pub faults: FaultTable,
    pub counters: Counters,
    pub log: RequestLog,
    pub conns: Arc<ConnRegistry>,
    pub shutdown: watch::Sender<bool>,
    pub url: String,
}

/// The routes' handle on [`Shared`].
pub(crate) type App = Arc<Shared>;

impl Shared {
    /// Locks the state. A panic while locked cannot leave it half-updated in a way that matters
    /// to an emulator, so a poisoned lock is used as is rather than failing every later request.
    pub fn state(&self) -> MutexGuard<'_, EmulatorState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn shutdown_rx(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn instance_info(&self, index: usize) -> Option<InstanceInfo> {
        self.state().instances.get(index).map(|i| i.info(index))
    }

    /// The start-up line / `GET /__emulator/info` document (camelCase).
    pub fn info_json(&self) -> Value {
        let instances: Vec<InstanceInfo> = {
            let state = self.state();
            state.instances.iter().enumerate().map(|(i, inst)| inst.info(i)).collect()
        };
        let machines = instances.first().map(|i| i.machines.clone()).unwrap_or_default();
        json!({ "url": self.url, "instances": instances, "machines": machines, "clockOffsetMs": self.clock.offset_ms() })
    }

    fn with_instance<T>(&self, index: usize, f: impl FnOnce(&mut Instance, &Limits, i64) -> Result<T, EmulatorError>) -> Result<T, EmulatorError> {
        let now = self.clock.now_ms();
        let mut state = self.state();
        let EmulatorState { instances, limits } = &mut *state;
        let instance = instances.get_mut(index).ok_or(EmulatorError::UnknownInstance(index))?;
        f(instance, limits, now)
    }

    /// Adds a freshly generated key (kid given or random `ins_…`) that becomes the active signer.
    pub async fn add_signing_key(&self, index: usize, kid: Option<String>) -> Result<KeyInfo, EmulatorError> {
        if self.instance_info(index).is_none() {
            return Err(EmulatorError::UnknownInstance(index));
        }
        if kid.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return Err(EmulatorError::Rejected("kid must not be empty".into()));
        }
        let kid = kid.unwrap_or_else(|| ids::id("ins_"));
        let key = tokio::task::spawn_blocking(move || SigningKey::generate(kid)).await.map_err(|_| EmulatorError::Key(KeyError::Generate))??;
        let info = KeyInfo { kid: key.kid().to_owned(), public_key_pem: key.public_key_pem().to_owned(), jwk: key.jwk() };
        self.with_instance(index, |inst, limits, _| inst.add_key(key, limits).map_err(EmulatorError::Rejected))?;
        Ok(info)
    }

    /// Installs a caller-held RSA private key (PEM) under `kid` as the active signer, replacing a
    /// live key with the same kid.
    pub fn import_signing_key(&self, index: usize, kid: &str, private_key_pem: &str) -> Result<KeyInfo, EmulatorError> {
        if kid.trim().is_empty() {
            return Err(EmulatorError::Rejected("kid must not be empty".into()));
        }
        let key = SigningKey::from_private_key_pem(kid, private_key_pem)?;
        let info = KeyInfo { kid: key.kid().to_owned(), public_key_pem: key.public_key_pem().to_owned(), jwk: key.jwk() };
        self.with_instance(index, |inst, limits, _| inst.import_key(key, limits).map_err(EmulatorError::Rejected))?;
        Ok(info)
    }

    pub fn retire_key(&self, index: usize, kid: &str) -> Result<(), EmulatorError> {
        self.with_instance(index, |inst, _, _| if inst.retire_key(kid) { Ok(()) } else { Err(EmulatorError::Rejected(format!("instance {index} has no live key {kid:?}"))) })
    }

    pub fn create_machine(&self, index: usize, m: &MachineConfig) -> Result<MachineInfo, EmulatorError> {
        self.with_instance(index, |inst, limits, now| {
            let mut scopes = Vec::new();
            for name in &m.scoped_to {
                let id = inst.machine_by_name(name).map(|x| x.id.clone()).ok_or_else(|| EmulatorError::Rejected(format!("no machine named {name:?}")))?;
                scopes.push(id);
            }
            let json = inst.create_machine(&m.name, &scopes, m.default_token_ttl.map(|t| t as f64), now, limits).map_err(|e| EmulatorError::Rejected(e.long_message))?;
            let id = json.get("id").and_then(Value::as_str).unwrap_or_default();
            inst.machine(id).map(|mm| inst.machine_info(mm)).ok_or_else(|| EmulatorError::Rejected("machine vanished".into()))
        })
    }

    pub fn seed_oauth_token(&self, index: usize, seed: OAuthTokenSeed) -> Result<SeededToken, EmulatorError> {
        self.with_instance(index, |inst, _, now| inst.seed_oauth_token(seed, now).map_err(EmulatorError::Rejected))
    }

    pub fn seed_api_key(&self, index: usize, seed: ApiKeySeed) -> Result<SeededToken, EmulatorError> {
        self.with_instance(index, |inst, _, now| inst.seed_api_key(seed, now).map_err(EmulatorError::Rejected))
    }

    pub fn set_reject_inactive_tokens(&self, index: usize, reject: bool) -> Result<(), EmulatorError> {
        self.with_instance(index, |inst, _, _| {
            inst.reject_inactive_tokens = reject;
            Ok(())
        })
    }

    /// Signs arbitrary header/payload JSON with the instance's active key (RS256 unless the
    /// header's `alg` says RS384/RS512), for tests that need odd but validly signed tokens.
    pub fn sign_jwt(&self, index: usize, header: &Value, payload: &Value) -> Result<String, EmulatorError> {
        self.with_instance(index, |inst, _, _| {
            let key = inst.active_key().ok_or_else(|| EmulatorError::Rejected("the instance has no signing key".into()))?;
            Ok(key.sign_jwt(header, payload)?)
        })
    }
}

/// A running emulator. Dropping it stops the server too (without waiting); prefer
/// [`EmulatorHandle::shutdown`] to wait until the port is closed.
pub struct EmulatorHandle {
    shared: App,
    addr: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle").field("url", &self.shared.url).finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    /// Base URL, `http://127.0.0.1:PORT` (pass as `apiUrl`).
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Snapshots of every instance (secret keys, keys, machines).
    pub fn instances(&self) -> Vec<InstanceInfo> {
        let state = self.shared.state();
        state.instances.iter().enumerate().map(|(i, inst)| inst.info(i)).collect()
    }

    pub fn instance(&self, index: usize) -> Option<InstanceInfo> {
        self.shared.instance_info(index)
    }

    /// Secret key of instance 0 (there is always at least one instance).
    pub fn secret_key(&self) -> String {
        self.shared.state().instances.first().map(|i| i.secret_key.clone()).unwrap_or_default()
    }

    /// Machine `name` of instance 0.
    pub fn machine(&self, name: &str) -> Option<MachineInfo> {
        self.machine_in(0, name)
    }

    /// Machine `name` of instance `index`.
    pub fn machine_in(&self, index: usize, name: &str) -> Option<MachineInfo> {
        let state = self.shared.state();
        let inst = state.instances.get(index)?;
        inst.machine_by_name(name).map(|m| inst.machine_info(m))
    }

    /// Creates a machine at run time (scopes by machine name).
    pub fn create_machine(&self, index: usize, machine: MachineConfig) -> Result<MachineInfo, EmulatorError> {
        self.shared.create_machine(index, &machine)
    }

    pub fn seed_oauth_token(&self, index: usize, seed: OAuthTokenSeed) -> Result<SeededToken, EmulatorError> {
        self.shared.seed_oauth_token(index, seed)
    }

    pub fn seed_api_key(&self, index: usize, seed: ApiKeySeed) -> Result<SeededToken, EmulatorError> {
        self.shared.seed_api_key(index, seed)
    }

    /// Sets (replaces) the fault of `route`; pass a [`Fault`](crate::Fault) for "until cleared"
    /// or a [`FaultRule`] with `times` for the next N requests.
    pub fn set_fault(&self, route: Route, rule: impl Into<FaultRule>) -> Result<(), EmulatorError> {
        self.shared.faults.set(route, rule.into()).map_err(EmulatorError::Rejected)
    }

    pub fn clear_fault(&self, route: Route) {
        self.shared.faults.clear(route);
    }

    pub fn clear_faults(&self) {
        self.shared.faults.clear_all();
    }

    pub fn faults(&self) -> BTreeMap<String, FaultRule> {
        self.shared.faults.snapshot()
    }

    /// Requests per route name (plus `other`).
    pub fn counters(&self) -> BTreeMap<String, u64> {
        self.shared.counters.snapshot()
    }

    pub fn count(&self, route: Route) -> u64 {
        self.shared.counters.get(Some(route))
    }

    pub fn reset_counters(&self) {
        self.shared.counters.reset();
    }

    /// Recent requests, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.snapshot()
    }

    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// Adds a new key with a random kid as the active signer; the old keys stay in JWKS until retired.
    pub async fn rotate_key(&self, index: usize) -> Result<KeyInfo, EmulatorError> {
        self.shared.add_signing_key(index, None).await
    }

    /// Like [`rotate_key`](Self::rotate_key) with a chosen kid.
    pub async fn add_signing_key(&self, index: usize, kid: &str) -> Result<KeyInfo, EmulatorError> {
        self.shared.add_signing_key(index, Some(kid.to_owned())).await
    }

    /// Installs an RSA private key you hold (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`
    /// PEM) under `kid` as the active signer; a live key with the same kid is replaced. Lets tests
    /// sign tokens themselves and have the emulator's JWKS serve the matching public key.
    pub fn import_signing_key(&self, index: usize, kid: &str, private_key_pem: &str) -> Result<KeyInfo, EmulatorError> {
        self.shared.import_signing_key(index, kid, private_key_pem)
    }

    /// Removes a key from JWKS and from signing (the newest remaining key signs).
    pub fn retire_key(&self, index: usize, kid: &str) -> Result<(), EmulatorError> {
        self.shared.retire_key(index, kid)
    }

    /// Shifts the emulator's "now" by `offset_ms` from the system clock.
    pub fn set_clock_offset_ms(&self, offset_ms: i64) {
        self.shared.clock.set_offset_ms(offset_ms);
    }

    /// Moves the emulator's "now" by `delta_ms`; returns the new offset.
    pub fn advance_clock_ms(&self, delta_ms: i64) -> i64 {
        self.shared.clock.advance_ms(delta_ms)
    }

    pub fn clock_offset_ms(&self) -> i64 {
        self.shared.clock.offset_ms()
    }

    /// The emulator's current time (Unix ms).
    pub fn now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    pub fn set_reject_inactive_tokens(&self, index: usize, reject: bool) -> Result<(), EmulatorError> {
        self.shared.set_reject_inactive_tokens(index, reject)
    }

    pub fn sign_jwt(&self, index: usize, header: &Value, payload: &Value) -> Result<String, EmulatorError> {
        self.shared.sign_jwt(index, header, payload)
    }

    /// Open client connections (to check that clients close or reuse them).
    pub fn live_connections(&self) -> usize {
        self.shared.conns.live()
    }

    /// The start-up JSON document (`url`, `instances`, `machines`, camelCase).
    pub fn info_json(&self) -> Value {
        self.shared.info_json()
    }

    /// Stops accepting, lets in-flight requests finish (hanging ones are released), kills what is
    /// left after a grace period, and waits for the server task.
    pub async fn shutdown(mut self) {
        self.shared.begin_shutdown();
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await.is_err() {
                self.shared.conns.kill_all();
                if tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await.is_err() {
                    task.abort();
                }
            }
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if self.task.take().is_some() {
            self.shared.begin_shutdown();
            self.shared.conns.kill_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_display_without_secrets() {
        assert_eq!(EmulatorError::Rejected("x".into()).to_string(), "x");
        assert_eq!(EmulatorError::UnknownInstance(3).to_string(), "no instance with index 3");
    }
}
