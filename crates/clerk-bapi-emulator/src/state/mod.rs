//! In-memory Backend API state: instances, their signing keys, machines and tokens.
//!
//! Everything lives behind one `Mutex<EmulatorState>` in the server. Operations return either
//! the JSON body Clerk would send or an [`ApiError`](crate::errors::ApiError), so route
//! handlers only parse input and pick the operation.

pub mod admin;
pub mod inspect;
pub mod m2m;
pub mod machines;
mod records;
pub mod seeded;
pub mod snapshot;
pub mod store;

use crate::ids;
use crate::keys::SigningKey;
use crate::seed::Seed;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use store::BoundedStore;

/// Capacities that bound the emulator's memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// M2M tokens kept per instance; the oldest is evicted beyond this.
    pub max_tokens_per_instance: usize,
    /// Seeded OAuth tokens and API keys kept per instance (each); oldest evicted.
    pub max_seeded_per_instance: usize,
    /// Machines per instance; creating more is a 400.
    pub max_machines_per_instance: usize,
    /// Live signing keys per instance; adding more is refused.
    pub max_keys_per_instance: usize,
    /// Scoped machines per machine (Clerk's documented maximum is 150).
    pub max_scopes_per_machine: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_tokens_per_instance: 100_000,
            max_seeded_per_instance: 100_000,
            max_machines_per_instance: 10_000,
            max_keys_per_instance: 16,
            max_scopes_per_machine: 150,
        }
    }
}

/// A machine (`mch_…`) and its secret key (`ak_…`). Serialized (camelCase) only into the
/// `--state` file.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    pub id: String,
    pub name: String,
    pub secret_key: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Ids of the machines this machine may call, in the order they were added.
    pub scoped_machines: Vec<String>,
    /// Seconds; Clerk's default TTL for tokens of this machine.
    pub default_token_ttl: u64,
    /// The secret key before the last rotation, still accepted until its deadline
    /// (`previous_token_ttl`).
    #[serde(default)]
    pub previous_secret: Option<PreviousSecret>,
}

/// A rotated-out machine secret key and when it stops working (Unix ms).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviousSecret {
    pub secret: String,
    pub expires_at: i64,
}

impl fmt::Debug for PreviousSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreviousSecret").field("secret", &ids::redact(&self.secret)).field("expires_at", &self.expires_at).finish()
    }
}

impl Machine {
    /// Does `credential` authenticate this machine at `now` (its secret key, or the previous one
    /// inside its grace period)?
    pub fn accepts(&self, credential: &str, now: i64) -> bool {
        self.secret_key == credential || self.previous_secret.as_ref().is_some_and(|p| p.secret == credential && now < p.expires_at)
    }
}

impl fmt::Debug for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Machine")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("secret_key", &ids::redact(&self.secret_key))
            .field("scoped_machines", &self.scoped_machines)
            .finish_non_exhaustive()
    }
}

/// One Clerk instance: its secret key, signing keys, machines and tokens.
pub struct Instance {
    pub id: String,
    pub secret_key: String,
    /// `iss` of the JWT-format M2M tokens it mints.
    pub issuer: String,
    /// Live signing keys, served in JWKS; the last one is the active signer.
    pub keys: Vec<SigningKey>,
    /// When true, verify endpoints answer 404 for revoked/expired tokens instead of 200 with flags.
    pub reject_inactive_tokens: bool,
    pub machines: Vec<Machine>,
    pub m2m_tokens: BoundedStore<records::M2mToken>,
    /// Opaque token value → token id.
    pub m2m_by_secret: std::collections::HashMap<String, String>,
    /// Keyed by the token value (`oat_…`).
    pub oauth_tokens: BoundedStore<records::OAuthToken>,
    /// Keyed by the secret (`ak_…`).
    pub api_keys: BoundedStore<records::ApiKey>,
    /// `--seed`: machine ids and secret keys derive from it instead of the thread RNG.
    pub seed: Option<Arc<Seed>>,
}

impl fmt::Debug for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instance")
            .field("id", &self.id)
            .field("secret_key", &ids::redact(&self.secret_key))
            .field("keys", &self.keys)
            .field("machines", &self.machines)
            .field("m2m_tokens", &self.m2m_tokens.len())
            .finish_non_exhaustive()
    }
}

impl Instance {
    pub fn new(id: String, secret_key: String, issuer: String, keys: Vec<SigningKey>, limits: &Limits) -> Instance {
        Instance {
            id,
            secret_key,
            issuer,
            keys,
            reject_inactive_tokens: false,
            machines: Vec::new(),
            m2m_tokens: BoundedStore::new(limits.max_tokens_per_instance),
            m2m_by_secret: std::collections::HashMap::new(),
            oauth_tokens: BoundedStore::new(limits.max_seeded_per_instance),
            api_keys: BoundedStore::new(limits.max_seeded_per_instance),
            seed: None,
        }
    }

    /// The signing key new JWTs use (the most recently added live key).
    pub fn active_key(&self) -> Option<&SigningKey> {
        self.keys.last()
    }

    /// `GET /v1/jwks` body: every live key.
    pub fn jwks_json(&self) -> Value {
        serde_json::json!({ "keys": self.keys.iter().map(SigningKey::jwk).collect::<Vec<_>>() })
    }

    /// Adds a signing key, which becomes the active signer. Refuses a duplicate kid (within this
    /// instance) and more than `limits.max_keys_per_instance` keys.
    pub fn add_key(&mut self, key: SigningKey, limits: &Limits) -> Result<(), String> {
        if self.keys.iter().any(|k| k.kid() == key.kid()) {
            return Err(format!("kid {} is already a live key of this instance", key.kid()));
        }
        if self.keys.len() >= limits.max_keys_per_instance {
            return Err(format!("an instance holds at most {} signing keys", limits.max_keys_per_instance));
        }
        self.keys.push(key);
        Ok(())
    }

    /// Installs an imported key as the active signer, replacing a live key with the same kid
    /// (so tests can swap in a key they hold under the instance's existing kid).
    pub fn import_key(&mut self, key: SigningKey, limits: &Limits) -> Result<(), String> {
        self.keys.retain(|k| k.kid() != key.kid());
        self.add_key(key, limits)
    }

    /// Removes a key from JWKS and signing. Retiring the last key is allowed (JWKS then serves
    /// `{"keys":[]}` and JWT minting fails with 500), so clients' empty-JWKS handling can be tested.
    pub fn retire_key(&mut self, kid: &str) -> bool {
        let before = self.keys.len();
        self.keys.retain(|k| k.kid() != kid);
        self.keys.len() != before
    }

    pub fn machine(&self, id: &str) -> Option<&Machine> {
        self.machines.iter().find(|m| m.id == id)
    }

    pub fn machine_by_name(&self, name: &str) -> Option<&Machine> {
        self.machines.iter().find(|m| m.name == name)
    }

    pub fn info(&self, index: usize) -> InstanceInfo {
        InstanceInfo {
            index,
            id: self.id.clone(),
            secret_key: self.secret_key.clone(),
            publishable_key: self.publishable_key(),
            issuer: self.issuer.clone(),
            kid: self.active_key().map(|k| k.kid().to_owned()),
            public_key_pem: self.active_key().map(|k| k.public_key_pem().to_owned()),
            keys: self.keys.iter().map(KeyInfo::of).collect(),
            reject_inactive_tokens: self.reject_inactive_tokens,
            machines: self.machines.iter().map(|m| self.machine_info(m)).collect(),
        }
    }

    /// A Clerk-shaped publishable key (`pk_test_` + base64 of a frontend API host and `$`), derived
    /// from the instance id so it is as stable as the id. M2M auth never uses it; the dashboard
    /// shows it as Clerk's does. The host is under `.localhost`, which resolves nowhere else.
    pub fn publishable_key(&self) -> String {
        use base64::Engine;
        let host = format!("{}.clerk-emulator.localhost$", self.id.to_ascii_lowercase());
        format!("pk_test_{}", base64::engine::general_purpose::STANDARD.encode(host))
    }

    pub fn machine_info(&self, m: &Machine) -> MachineInfo {
        MachineInfo {
            id: m.id.clone(),
            name: m.name.clone(),
            secret_key: m.secret_key.clone(),
            instance_id: self.id.clone(),
            scoped_machines: m.scoped_machines.clone(),
            default_token_ttl: m.default_token_ttl,
            previous_secret_key_expires_at: m.previous_secret.as_ref().map(|p| p.expires_at),
        }
    }
}

/// Who is calling, as established by the Bearer credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An instance secret key (`sk_…`).
    Instance(usize),
    /// A machine secret key (`ak_…`) of a machine of that instance.
    Machine { instance: usize, machine_id: String },
}

impl Caller {
    pub fn instance(&self) -> usize {
        match self {
            Caller::Instance(i) => *i,
            Caller::Machine { instance, .. } => *instance,
        }
    }

    /// The machine id for machine callers (used for visibility checks).
    pub fn machine_id(&self) -> Option<&str> {
        match self {
            Caller::Instance(_) => None,
            Caller::Machine { machine_id, .. } => Some(machine_id),
        }
    }
}

/// All instances plus the capacities.
#[derive(Debug, Default)]
pub struct EmulatorState {
    pub instances: Vec<Instance>,
    pub limits: Limits,
}

impl EmulatorState {
    /// Resolves a Bearer credential to an instance or a machine at `now` (a rotated machine key
    /// works until its grace period ends). API keys and tokens are not credentials, even though
    /// API keys share the `ak_` prefix with machine secret keys.
    pub fn authenticate(&self, credential: &str, now: i64) -> Option<Caller> {
        for (i, inst) in self.instances.iter().enumerate() {
            if inst.secret_key == credential {
                return Some(Caller::Instance(i));
            }
            if let Some(m) = inst.machines.iter().find(|m| m.accepts(credential, now)) {
                return Some(Caller::Machine { instance: i, machine_id: m.id.clone() });
            }
        }
        None
    }

    /// Finds an instance by decimal index or by id (`ins_…`).
    pub fn find_instance(&self, key: &str) -> Option<usize> {
        if let Ok(i) = key.parse::<usize>() {
            return (i < self.instances.len()).then_some(i);
        }
        self.instances.iter().position(|inst| inst.id == key)
    }
}

/// A public signing key of an instance.
#[derive(Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyInfo {
    pub kid: String,
    pub public_key_pem: String,
    pub jwk: Value,
}

impl KeyInfo {
    pub fn of(key: &SigningKey) -> KeyInfo {
        KeyInfo { kid: key.kid().to_owned(), public_key_pem: key.public_key_pem().to_owned(), jwk: key.jwk() }
    }
}

impl fmt::Debug for KeyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyInfo").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// Snapshot of a machine, including its secret key (test tooling needs it to authenticate).
#[derive(Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MachineInfo {
    pub id: String,
    pub name: String,
    pub secret_key: String,
    pub instance_id: String,
    pub scoped_machines: Vec<String>,
    pub default_token_ttl: u64,
    /// When the secret key replaced by the last rotation stops working (Unix ms), if it still does.
    pub previous_secret_key_expires_at: Option<i64>,
}

impl fmt::Debug for MachineInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MachineInfo")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("secret_key", &ids::redact(&self.secret_key))
            .field("scoped_machines", &self.scoped_machines)
            .finish_non_exhaustive()
    }
}

/// Snapshot of an instance, including its secret key.
#[derive(Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InstanceInfo {
    pub index: usize,
    pub id: String,
    pub secret_key: String,
    /// `pk_test_…`: base64 of `{id}.clerk-emulator.localhost$`, as stable as the instance id.
    pub publishable_key: String,
    pub issuer: String,
    /// Kid of the active signing key (`None` once every key is retired).
    pub kid: Option<String>,
    /// SPKI PEM of the active signing key.
    pub public_key_pem: Option<String>,
    /// All live keys, oldest first.
    pub keys: Vec<KeyInfo>,
    pub reject_inactive_tokens: bool,
    pub machines: Vec<MachineInfo>,
}

impl fmt::Debug for InstanceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceInfo")
            .field("index", &self.index)
            .field("id", &self.id)
            .field("secret_key", &ids::redact(&self.secret_key))
            .field("kid", &self.kid)
            .field("machines", &self.machines)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A fresh RSA-2048 key (real keys, as the brief asks; generation takes a few ms).
    pub fn key(kid: &str) -> SigningKey {
        SigningKey::generate(kid).unwrap()
    }

    /// An instance with machines `a`, `b` (scoped to a) and `c` (no scopes, default TTL 60 s).
    pub fn instance() -> Instance {
        let limits = &Limits::default();
        let mut inst = Instance::new("ins_test".into(), "sk_test_secret".into(), "http://emu/instances/ins_test".into(), vec![key("ins_test")], limits);
        let a = inst.create_machine("a", &[], None, 0, limits).unwrap();
        let a_id = a["id"].as_str().unwrap().to_owned();
        inst.create_machine("b", &[a_id], None, 0, limits).unwrap();
        inst.create_machine("c", &[], Some(60.0), 0, limits).unwrap();
        inst
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn authenticate_instance_and_machine_keys() {
        let inst = instance();
        let machine_key = inst.machines[0].secret_key.clone();
        let machine_id = inst.machines[0].id.clone();
        let state = EmulatorState { instances: vec![inst], limits: Limits::default() };
        assert_eq!(state.authenticate("sk_test_secret", 0), Some(Caller::Instance(0)));
        assert_eq!(state.authenticate(&machine_key, 0), Some(Caller::Machine { instance: 0, machine_id }));
        assert_eq!(state.authenticate("sk_test_other", 0), None);
        assert_eq!(state.authenticate("", 0), None);
        assert_eq!(state.find_instance("0"), Some(0));
        assert_eq!(state.find_instance("1"), None);
        assert_eq!(state.find_instance("ins_test"), Some(0));
        assert_eq!(state.find_instance("ins_nope"), None);
    }

    #[test]
    fn key_rotation_rules() {
        let limits = Limits { max_keys_per_instance: 2, ..Limits::default() };
        let mut inst = instance();
        assert_eq!(inst.active_key().unwrap().kid(), "ins_test");
        assert!(inst.add_key(key("ins_test"), &limits).is_err());
        inst.add_key(key("ins_new"), &limits).unwrap();
        assert_eq!(inst.active_key().unwrap().kid(), "ins_new");
        assert!(inst.add_key(key("ins_third"), &limits).is_err());
        // Import replaces a key of the same kid (and makes it the active one).
        let before = inst.jwks_json();
        inst.import_key(key("ins_test"), &limits).unwrap();
        assert_eq!(inst.active_key().unwrap().kid(), "ins_test");
        assert_eq!(inst.keys.len(), 2);
        assert_ne!(inst.jwks_json(), before);
        inst.import_key(key("ins_new"), &limits).unwrap();
        let jwks = inst.jwks_json();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        assert!(inst.retire_key("ins_test"));
        assert!(!inst.retire_key("ins_test"));
        assert_eq!(inst.jwks_json()["keys"][0]["kid"], "ins_new");
        assert!(inst.retire_key("ins_new"));
        assert_eq!(inst.jwks_json(), serde_json::json!({"keys": []}));
        assert!(inst.active_key().is_none());
        let info = inst.info(0);
        assert_eq!(info.kid, None);
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let inst = instance();
        let dbg = format!("{inst:?}");
        assert!(!dbg.contains("sk_test_secret"));
        assert!(!dbg.contains(&inst.machines[0].secret_key));
        let info = inst.info(0);
        let dbg = format!("{info:?}");
        assert!(!dbg.contains("sk_test_secret"));
        assert!(!dbg.contains(&inst.machines[0].secret_key));
        assert!(!dbg.contains("BEGIN PUBLIC KEY"));
    }
}
