//! Starting an emulator: [`Emulator::builder`] → [`EmulatorBuilder`] → [`EmulatorBuilder::start`],
//! which prepares the instances (from `--state`, else from the configuration and `--seed`), binds
//! the listener, and spawns the server and the state writer.

use crate::access::Access;
use crate::app::{AppParts, AppState};
use crate::clock::EmulatorClock;
use crate::config::{validate, InstanceConfig};
use crate::conn::EmulatorListener;
use crate::errors::EmulatorError;
use crate::handle::EmulatorHandle;
use crate::ids;
use crate::keys::{KeyError, SigningKey};
use crate::seed::Seed;
use crate::serve::DEFAULT_REQUEST_TIMEOUT;
use crate::state::snapshot::{default_issuer, Snapshot};
use crate::state::{EmulatorState, Instance, Limits};
use crate::statefile::StateFile;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Default size of the recent-requests log.
pub const DEFAULT_REQUEST_LOG_CAPACITY: usize = 200;

/// Entry point: `Emulator::builder().start().await`.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            instances: Vec::new(),
            limits: Limits::default(),
            request_log_capacity: DEFAULT_REQUEST_LOG_CAPACITY,
            seed: None,
            state_file: None,
            allowed_hosts: Vec::new(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// Configures instances, address and capacities. With no instance configured, one instance with
/// the default machines (`trpc`, `webhook`, `worker`) is created.
#[derive(Debug)]
pub struct EmulatorBuilder {
    host: IpAddr,
    port: u16,
    instances: Vec<InstanceConfig>,
    limits: Limits,
    request_log_capacity: usize,
    seed: Option<Seed>,
    state_file: Option<PathBuf>,
    allowed_hosts: Vec<String>,
    request_timeout: Duration,
}

impl EmulatorBuilder {
    /// The address to listen on (default 127.0.0.1: only this machine can reach it).
    pub fn host(mut self, host: IpAddr) -> EmulatorBuilder {
        self.host = host;
        self
    }

    /// Port (0 = any free port, the default).
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

    /// Keeps instances, keys, machines, scopes and tokens in `path` across restarts: loaded at
    /// start when the file exists (it then wins over the configuration and the seed), written
    /// after every change. A file that is not an emulator state file stops the start.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> EmulatorBuilder {
        self.state_file = Some(path.into());
        self
    }

    /// A host name (besides IP addresses and `localhost`) under which the dashboard and admin
    /// API may be reached, e.g. a Docker service name.
    pub fn allow_host(mut self, name: impl Into<String>) -> EmulatorBuilder {
        self.allowed_hosts.push(name.into());
        self
    }

    /// How long a client may take to send a request's head, and again its body (default 10 s).
    /// Also how long an idle kept-alive connection stays open.
    pub fn request_timeout(mut self, timeout: Duration) -> EmulatorBuilder {
        self.request_timeout = timeout;
        self
    }

    /// Prepares the instances, binds, and starts serving in the background.
    pub async fn start(self) -> Result<EmulatorHandle, EmulatorError> {
        let configs = if self.instances.is_empty() { vec![InstanceConfig::with_default_machines()] } else { self.instances };
        validate(&configs)?;
        if self.request_timeout.is_zero() {
            return Err(EmulatorError::InvalidConfig("the request timeout must be positive".into()));
        }
        let seed = self.seed.map(Arc::new);
        let state_file = self.state_file.map(StateFile::new);
        let saved = match &state_file {
            Some(file) => file.read()?,
            None => None,
        };

        let bind = SocketAddr::new(self.host, self.port);
        let listener = TcpListener::bind(bind).await.map_err(|source| EmulatorError::Bind { addr: bind.to_string(), source })?;
        let addr = listener.local_addr().map_err(|source| EmulatorError::Bind { addr: bind.to_string(), source })?;
        let url = format!("http://{}", url_authority(addr));

        let clock = EmulatorClock::default();
        let created = saved.is_none();
        let instances = match saved {
            Some(snapshot) => restore(snapshot, &url, &self.limits, seed.as_ref(), state_file.as_ref()).await?,
            None => fresh(configs, &url, &self.limits, seed.as_ref(), clock.now_ms()).await?,
        };
        let app = Arc::new(AppState::new(AppParts {
            state: EmulatorState { instances, limits: self.limits },
            clock,
            log_capacity: self.request_log_capacity,
            url,
            access: Access::new(addr.port(), &self.allowed_hosts, ids::secret("")),
            body_timeout: self.request_timeout,
            state_file,
        }));
        if created {
            // Creates the file now, so a path that cannot be written stops the start.
            let writer = app.clone();
            tokio::task::spawn_blocking(move || writer.save_now()).await.map_err(|_| EmulatorError::Rejected("the state writer stopped unexpectedly".into()))??;
        }
        let router = crate::routes::app(app.clone());
        let server = tokio::spawn(crate::serve::serve(EmulatorListener::new(listener, app.conns.clone()), router, app.shutdown_rx(), self.request_timeout));
        let writer = tokio::spawn(app.clone().run_state_writer());
        Ok(EmulatorHandle::new(app, addr, server, writer))
    }
}

/// `127.0.0.1:4010`, `[::1]:4010`; an unspecified bind address (0.0.0.0, ::) is shown as the
/// loopback address of its family, the one a local client can use.
fn url_authority(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port()).to_string()
}

async fn restore(snapshot: Snapshot, url: &str, limits: &Limits, seed: Option<&Arc<Seed>>, file: Option<&StateFile>) -> Result<Vec<Instance>, EmulatorError> {
    let (url, limits, seed) = (url.to_owned(), limits.clone(), seed.cloned());
    let restored = tokio::task::spawn_blocking(move || snapshot.restore(&url, &limits, seed.as_ref())).await.map_err(|_| EmulatorError::Key(KeyError::Generate))?;
    let path = file.map(|f| f.path().display().to_string()).unwrap_or_default();
    restored.map_err(|reason| EmulatorError::StateFile { path, reason: format!("is inconsistent ({reason}). The emulator does not overwrite it: move it away, or choose another --state path") })
}

/// Instances from the configuration: ids and secret keys from the seed or random, keys generated
/// off the async threads, then the configured machines.
async fn fresh(configs: Vec<InstanceConfig>, url: &str, limits: &Limits, seed: Option<&Arc<Seed>>, now: i64) -> Result<Vec<Instance>, EmulatorError> {
    let prepared: Vec<(InstanceConfig, String, String)> = configs
        .into_iter()
        .enumerate()
        .map(|(index, c)| {
            let (id, secret) = match seed {
                Some(seed) => seed.instance_identity(index),
                None => (ids::id("ins_"), ids::secret("sk_test_")),
            };
            let id = c.id.clone().unwrap_or(id);
            let secret = c.secret_key.clone().unwrap_or(secret);
            (c, id, secret)
        })
        .collect();
    let kids: Vec<String> = prepared.iter().map(|(c, id, _)| c.kid.clone().unwrap_or_else(|| id.clone())).collect();
    let key_seed = seed.cloned();
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
    let mut instances = Vec::with_capacity(prepared.len());
    for ((config, id, secret), key) in prepared.into_iter().zip(keys) {
        let issuer = config.issuer.clone().unwrap_or_else(|| default_issuer(url, &id));
        let mut instance = Instance::new(id, secret, issuer, vec![key], limits);
        instance.reject_inactive_tokens = config.reject_inactive_tokens;
        instance.seed = seed.cloned();
        instance.create_configured_machines(&config.machines, now, limits)?;
        instances.push(instance);
    }
    Ok(instances)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_an_address_a_local_client_can_use() {
        let at = |s: &str| url_authority(s.parse().unwrap());
        assert_eq!(at("127.0.0.1:4010"), "127.0.0.1:4010");
        assert_eq!(at("0.0.0.0:4010"), "127.0.0.1:4010");
        assert_eq!(at("[::]:4010"), "[::1]:4010");
        assert_eq!(at("[::1]:1"), "[::1]:1");
        assert_eq!(at("192.168.1.5:80"), "192.168.1.5:80");
    }
}
