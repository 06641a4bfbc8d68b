//! The state every route, the handle and the background tasks share ([`AppState`], held as
//! [`App`]): the emulated Backend API state behind one lock, the clock, faults, counters, the
//! request log, the connections, the access rules, and the `--state` file.
//!
//! Every change that should reach the dashboard or the state file goes through
//! [`AppState::changed`]: a version number that the dashboard's event stream and the state
//! writer watch, so bursts of changes are coalesced rather than queued.

use crate::access::Access;
use crate::clock::EmulatorClock;
use crate::conn::ConnRegistry;
use crate::counters::Counters;
use crate::errors::EmulatorError;
use crate::faults::FaultTable;
use crate::keys::{KeyError, SigningKey};
use crate::reqlog::RequestLog;
use crate::state::admin::KeyInstall;
use crate::state::{EmulatorState, InstanceInfo, KeyInfo};
use crate::statefile::StateFile;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// Where the dashboard is served.
pub const DASHBOARD_PATH: &str = "/__emulator/ui";
/// Most dashboards streaming the live log at once (each holds a connection).
pub const MAX_EVENT_SUBSCRIBERS: usize = 16;
/// How long the state writer lets changes gather before it writes them.
const SAVE_COALESCE: Duration = Duration::from_millis(100);

/// The routes' handle on [`AppState`].
pub type App = Arc<AppState>;

/// How the last save of the state file went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaveStatus {
    pub saved_at_ms: Option<i64>,
    pub error: Option<String>,
}

/// State shared by the HTTP routes, the admin API, the dashboard and the handle.
pub struct AppState {
    state: Mutex<EmulatorState>,
    pub clock: EmulatorClock,
    pub faults: FaultTable,
    pub counters: Counters,
    pub log: RequestLog,
    pub conns: Arc<ConnRegistry>,
    pub shutdown: watch::Sender<bool>,
    pub url: String,
    pub access: Access,
    /// How long a client may take to send a request's body (its head is hyper's to time).
    pub body_timeout: Duration,
    changes: watch::Sender<u64>,
    state_file: Option<StateFile>,
    save_status: Mutex<SaveStatus>,
    /// Open event streams (bounded by [`MAX_EVENT_SUBSCRIBERS`]).
    pub subscribers: AtomicUsize,
}

/// Everything [`AppState::new`] needs.
pub struct AppParts {
    pub state: EmulatorState,
    pub clock: EmulatorClock,
    pub log_capacity: usize,
    pub url: String,
    pub access: Access,
    pub body_timeout: Duration,
    pub state_file: Option<StateFile>,
}

impl AppState {
    pub fn new(parts: AppParts) -> AppState {
        AppState {
            state: Mutex::new(parts.state),
            clock: parts.clock,
            faults: FaultTable::default(),
            counters: Counters::default(),
            log: RequestLog::new(parts.log_capacity),
            conns: Arc::new(ConnRegistry::default()),
            shutdown: watch::channel(false).0,
            url: parts.url,
            access: parts.access,
            body_timeout: parts.body_timeout,
            changes: watch::channel(0).0,
            state_file: parts.state_file,
            save_status: Mutex::new(SaveStatus::default()),
            subscribers: AtomicUsize::new(0),
        }
    }

    /// Locks the state. A panic while locked cannot leave it half-updated in a way that matters
    /// to an emulator, so a poisoned lock is used as is rather than failing every later request.
    pub fn state(&self) -> MutexGuard<'_, EmulatorState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn shutdown_rx(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Something the dashboard shows (or the state file keeps) changed.
    pub fn changed(&self) {
        self.changes.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub fn dashboard_url(&self) -> String {
        format!("{}{DASHBOARD_PATH}", self.url)
    }

    pub fn instance_info(&self, index: usize) -> Option<InstanceInfo> {
        self.state().instances.get(index).map(|i| i.info(index))
    }

    /// The start-up line / `GET /__emulator/info` document (camelCase).
    pub fn info_json(&self) -> Value {
        let instances = self.state().infos();
        let machines = instances.first().map(|i| i.machines.clone()).unwrap_or_default();
        let status = self.save_status();
        let state_file = self.state_file.as_ref().map(|f| json!({ "path": f.path().display().to_string(), "savedAtMs": status.saved_at_ms, "error": status.error }));
        json!({
            "url": self.url,
            "dashboardUrl": self.dashboard_url(),
            "adminToken": self.access.token(),
            "instances": instances,
            "machines": machines,
            "clockOffsetMs": self.clock.offset_ms(),
            "stateFile": state_file,
        })
    }

    /// Generates a key off the async threads (RSA generation takes a while) and installs it as the
    /// active signer (kid given, or a random `ins_…`); with `retire_others`, the older keys leave
    /// JWKS at once.
    pub async fn add_signing_key(&self, index: usize, kid: Option<String>, retire_others: bool) -> Result<KeyInfo, EmulatorError> {
        if self.instance_info(index).is_none() {
            return Err(EmulatorError::UnknownInstance(index));
        }
        if kid.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return Err(EmulatorError::Rejected("kid must not be empty".into()));
        }
        let kid = kid.unwrap_or_else(|| crate::ids::id("ins_"));
        let key = tokio::task::spawn_blocking(move || SigningKey::generate(kid)).await.map_err(|_| EmulatorError::Key(KeyError::Generate))??;
        let info = self.state().install_key(index, key, KeyInstall::Add, retire_others)?;
        self.changed();
        Ok(info)
    }

    pub fn save_status(&self) -> SaveStatus {
        self.save_status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Writes the state file now (blocking I/O), recording how it went. No-op without one.
    pub fn save_now(&self) -> Result<(), EmulatorError> {
        let Some(file) = &self.state_file else { return Ok(()) };
        let now = self.clock.now_ms();
        let result = self.state().snapshot(&self.url, now).map_err(EmulatorError::from).and_then(|snapshot| file.write(&snapshot));
        let mut status = self.save_status.lock().unwrap_or_else(|p| p.into_inner());
        match &result {
            Ok(()) => *status = SaveStatus { saved_at_ms: Some(now), error: None },
            Err(e) => status.error = Some(e.to_string()),
        }
        result
    }

    /// Keeps the state file up to date until shutdown: after each burst of changes, one write.
    /// A failed write is reported on stderr once per distinct error and shown on the dashboard.
    pub async fn run_state_writer(self: Arc<AppState>) {
        if self.state_file.is_none() {
            return;
        }
        let mut changes = self.changes();
        let mut stop = self.shutdown_rx();
        let mut last_error: Option<String> = None;
        loop {
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { break },
                _ = stop.wait_for(|s| *s) => break,
            }
            tokio::time::sleep(SAVE_COALESCE).await;
            changes.borrow_and_update();
            let app = self.clone();
            let result = tokio::task::spawn_blocking(move || app.save_now()).await;
            let error = match result {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(_) => Some("the state writer stopped unexpectedly".to_owned()),
            };
            if let Some(e) = error.as_ref().filter(|e| last_error.as_ref() != Some(e)) {
                eprintln!("clerk-bapi-emulator: {e}");
            }
            last_error = error;
        }
    }

    /// Counts an event-stream subscriber in, unless [`MAX_EVENT_SUBSCRIBERS`] are open.
    pub fn try_subscribe(self: &Arc<AppState>) -> Option<SubscriberSlot> {
        let taken = self.subscribers.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < MAX_EVENT_SUBSCRIBERS).then_some(n + 1)).is_ok();
        taken.then(|| SubscriberSlot(self.clone()))
    }
}

/// An open event stream's place; dropping it frees the place.
pub struct SubscriberSlot(App);

impl Drop for SubscriberSlot {
    fn drop(&mut self) {
        self.0.subscribers.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::state::test_support::instance;

    /// An app around the test instance (no listener: routes are driven with `oneshot`).
    pub fn app() -> App {
        Arc::new(AppState::new(AppParts {
            state: EmulatorState { instances: vec![instance()], limits: Default::default() },
            clock: EmulatorClock::default(),
            log_capacity: 100,
            url: "http://127.0.0.1:4010".into(),
            access: Access::new(4010, &[], "test-token".into()),
            body_timeout: Duration::from_secs(5),
            state_file: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::app;
    use super::*;

    #[test]
    fn subscribers_are_capped() {
        let app = app();
        let slots: Vec<SubscriberSlot> = (0..MAX_EVENT_SUBSCRIBERS).filter_map(|_| app.try_subscribe()).collect();
        assert_eq!(slots.len(), MAX_EVENT_SUBSCRIBERS);
        assert!(app.try_subscribe().is_none());
        drop(slots);
        assert!(app.try_subscribe().is_some());
    }

    #[test]
    fn info_names_the_dashboard_and_changes_are_versioned() {
        let app = app();
        let info = app.info_json();
        assert_eq!(info["dashboardUrl"], "http://127.0.0.1:4010/__emulator/ui");
        assert_eq!(info["stateFile"], Value::Null);
        let rx = app.changes();
        app.changed();
        assert!(rx.has_changed().unwrap());
        assert!(app.save_now().is_ok(), "no state file: nothing to do");
    }
}
