//! The Backend API emulator inside the addon, on napi's tokio runtime, so the CLI
//! (`npx clerk-m2m-native emulator`) and `startEmulator()` need no separate binary and no Rust.
//! Conversions only: options and start-up logic (`--seed`, machine specs, ranges, `.env` lines)
//! live in `clerk-bapi-emulator`.

use clerk_bapi_emulator::{EmulatorError, EmulatorHandle, LaunchOptions, MachineConfig};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Mutex;

/// What `npx clerk-m2m-native emulator` passes (already parsed by `node:util`'s `parseArgs`).
#[napi(object)]
pub struct NativeEmulatorOptions {
    pub port: Option<u32>,
    pub instances: Option<u32>,
    /// `NAME` or `NAME:A,B` (NAME may call A and B).
    pub machines: Option<Vec<String>>,
    pub reject_inactive_tokens: Option<bool>,
    pub seed: Option<String>,
    /// The address to listen on (default `127.0.0.1`).
    pub host: Option<String>,
    /// `--state FILE`: machines, scopes, keys and tokens kept across restarts.
    pub state: Option<String>,
    /// Host names the dashboard and admin API answer besides IP addresses and `localhost`.
    pub allow_hosts: Option<Vec<String>>,
}

impl TryFrom<NativeEmulatorOptions> for LaunchOptions {
    type Error = Error;

    fn try_from(o: NativeEmulatorOptions) -> Result<LaunchOptions> {
        let defaults = LaunchOptions::default();
        let port = match o.port {
            None => defaults.port,
            Some(p) => u16::try_from(p).map_err(|_| Error::new(Status::InvalidArg, "--port must be 0..=65535"))?,
        };
        let machines = o.machines.unwrap_or_default().iter().map(|s| s.parse::<MachineConfig>()).collect::<std::result::Result<Vec<_>, _>>().map_err(|e| Error::new(Status::InvalidArg, e))?;
        let host = match o.host {
            None => defaults.host,
            Some(h) => h.parse().map_err(|_| Error::new(Status::InvalidArg, format!("--host {h:?} is not an IP address")))?,
        };
        Ok(LaunchOptions {
            host,
            port,
            instances: o.instances.map_or(defaults.instances, |n| n as usize),
            machines,
            reject_inactive_tokens: o.reject_inactive_tokens.unwrap_or(false),
            seed: o.seed,
            state: o.state.map(Into::into),
            allowed_hosts: o.allow_hosts.unwrap_or_default(),
        })
    }
}

/// A running emulator. `stop()` closes it; so does dropping it (garbage collection).
#[napi]
pub struct NativeEmulator {
    handle: Mutex<Option<EmulatorHandle>>,
    info: String,
    env: String,
}

/// Starts an emulator (on 127.0.0.1 unless `host` says otherwise) and resolves once it listens. Bad options (none at all
/// included) reject with `code: 'InvalidArg'`, anything else (a busy port) with `'GenericFailure'`.
#[napi]
pub async fn start_native_emulator(options: Option<NativeEmulatorOptions>) -> Result<NativeEmulator> {
    let launch = match options {
        Some(options) => LaunchOptions::try_from(options)?,
        None => return Err(Error::new(Status::InvalidArg, "startNativeEmulator needs an options object")),
    };
    let builder = launch.builder().map_err(|e| Error::new(Status::InvalidArg, e.to_string()))?;
    let handle = builder.start().await.map_err(|e| {
        let status = if matches!(e, EmulatorError::InvalidConfig(_)) { Status::InvalidArg } else { Status::GenericFailure };
        Error::new(status, e.to_string())
    })?;
    let (info, env) = (handle.info_json().to_string(), handle.env_lines());
    Ok(NativeEmulator { handle: Mutex::new(Some(handle)), info, env })
}

#[napi]
impl NativeEmulator {
    /// Not constructible from JS: `startNativeEmulator()` makes them. A coded error, as for every
    /// other misuse of the binding (napi's own "no constructor" error has no `code`).
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Result<Self> {
        Err(Error::new(Status::GenericFailure, "NativeEmulator is created by startNativeEmulator(), not with new"))
    }

    /// The start-up document (`url`, `instances`, `machines`) as JSON text.
    #[napi(getter, catch_unwind)]
    pub fn info(&self) -> String {
        self.info.clone()
    }

    /// `.env` lines for instance 0 (`CLERK_API_URL`, `CLERK_SECRET_KEY`, `CLERK_JWT_KEY`, per machine).
    #[napi(getter, catch_unwind)]
    pub fn env(&self) -> String {
        self.env.clone()
    }

    /// Stops accepting, lets in-flight requests finish (briefly), closes the port. Idempotent.
    #[napi]
    pub async fn stop(&self) {
        let handle = self.handle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(handle) = handle {
            handle.shutdown().await;
        }
    }
}
