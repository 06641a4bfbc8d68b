//! The state as `--state FILE` keeps it: every instance with its secret key, signing keys
//! (private, PKCS#8 PEM), machines with their scopes and secret keys, M2M tokens, and seeded OAuth
//! tokens and API keys. Faults, counters, the request log and the clock offset are a session's,
//! not state, and are not kept. The document names its format and version, so a file that is
//! not one (or is a later version) is refused rather than misread.

use super::m2m::M2mToken;
use super::seeded::{ApiKey, OAuthToken};
use super::{EmulatorState, Instance, Limits, Machine};
use crate::keys::{KeyError, SigningKey};
use crate::seed::Seed;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;

/// What the `format` field of every state file says.
pub const FORMAT: &str = "clerk-bapi-emulator/state";
/// The version this emulator writes and reads.
pub const VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub format: String,
    pub version: u32,
    /// Emulator time of the save (Unix ms), for people reading the file.
    pub saved_at_ms: i64,
    pub instances: Vec<InstanceSnapshot>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceSnapshot {
    pub id: String,
    pub secret_key: String,
    /// Only an explicitly configured issuer; the default (`{url}/instances/{id}`) follows the
    /// URL of each run, whose port may change.
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub reject_inactive_tokens: bool,
    pub keys: Vec<KeySnapshot>,
    #[serde(default)]
    pub machines: Vec<Machine>,
    /// Oldest first.
    #[serde(default)]
    pub m2m_tokens: Vec<M2mToken>,
    #[serde(default)]
    pub oauth_tokens: Vec<Keyed<OAuthToken>>,
    #[serde(default)]
    pub api_keys: Vec<Keyed<ApiKey>>,
}

impl std::fmt::Debug for InstanceSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceSnapshot").field("id", &self.id).field("machines", &self.machines.len()).finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySnapshot {
    pub kid: String,
    pub private_key_pem: String,
}

/// A seeded token with the bearer value it is found by.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Keyed<T> {
    pub secret: String,
    #[serde(flatten)]
    pub item: T,
}

/// The default `iss` of an instance's JWTs at `url`.
pub fn default_issuer(url: &str, instance_id: &str) -> String {
    format!("{url}/instances/{instance_id}")
}

impl EmulatorState {
    /// The state as the file keeps it.
    pub fn snapshot(&self, url: &str, now: i64) -> Result<Snapshot, KeyError> {
        let instances = self
            .instances
            .iter()
            .map(|inst| {
                Ok(InstanceSnapshot {
                    id: inst.id.clone(),
                    secret_key: inst.secret_key.clone(),
                    issuer: (inst.issuer != default_issuer(url, &inst.id)).then(|| inst.issuer.clone()),
                    reject_inactive_tokens: inst.reject_inactive_tokens,
                    keys: inst.keys.iter().map(|k| Ok(KeySnapshot { kid: k.kid().to_owned(), private_key_pem: k.private_key_pem()? })).collect::<Result<_, KeyError>>()?,
                    machines: inst.machines.clone(),
                    m2m_tokens: inst.m2m_tokens.oldest_first().map(|(_, t)| t.clone()).collect(),
                    oauth_tokens: inst.oauth_tokens.oldest_first().map(|(s, t)| Keyed { secret: s.to_owned(), item: t.clone() }).collect(),
                    api_keys: inst.api_keys.oldest_first().map(|(s, k)| Keyed { secret: s.to_owned(), item: k.clone() }).collect(),
                })
            })
            .collect::<Result<_, KeyError>>()?;
        Ok(Snapshot { format: FORMAT.into(), version: VERSION, saved_at_ms: now, instances })
    }
}

impl Snapshot {
    /// Rebuilds the instances, checking what the emulator relies on (unique ids and keys, scopes
    /// that name machines of the instance, keys that parse). `Err` says what is wrong, without
    /// secrets. CPU-heavy (RSA key parsing): call from a blocking context in async code.
    pub fn restore(self, url: &str, limits: &Limits, seed: Option<&Arc<Seed>>) -> Result<Vec<Instance>, String> {
        if self.instances.is_empty() {
            return Err("it holds no instance".into());
        }
        if self.instances.len() > crate::config::MAX_INSTANCES {
            return Err(format!("it holds more than {} instances", crate::config::MAX_INSTANCES));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(self.instances.len());
        for (i, s) in self.instances.into_iter().enumerate() {
            let at = |what: &str| format!("instances[{i}]: {what}");
            if s.id.trim().is_empty() || s.secret_key.trim().is_empty() {
                return Err(at("empty id or secret key"));
            }
            if !seen.insert(s.id.clone()) || !seen.insert(s.secret_key.clone()) {
                return Err(at("an id or secret key used twice"));
            }
            if s.keys.len() > limits.max_keys_per_instance || s.machines.len() > limits.max_machines_per_instance {
                return Err(at("more keys or machines than the emulator holds"));
            }
            let keys = s
                .keys
                .into_iter()
                .enumerate()
                .map(|(k, key)| SigningKey::from_private_key_pem(key.kid, &key.private_key_pem).map_err(|e| at(&format!("keys[{k}]: {e}"))))
                .collect::<Result<Vec<_>, _>>()?;
            let issuer = s.issuer.unwrap_or_else(|| default_issuer(url, &s.id));
            let mut inst = Instance::new(s.id, s.secret_key, issuer, keys, limits);
            inst.reject_inactive_tokens = s.reject_inactive_tokens;
            inst.seed = seed.cloned();
            let ids: HashSet<&str> = s.machines.iter().map(|m| m.id.as_str()).collect();
            if ids.len() != s.machines.len() || s.machines.iter().any(|m| m.id.is_empty() || m.secret_key.is_empty()) {
                return Err(at("machine ids must be unique and ids and secret keys non-empty"));
            }
            if let Some(m) = s.machines.iter().find(|m| m.scoped_machines.iter().any(|x| !ids.contains(x.as_str())) || m.scoped_machines.len() > limits.max_scopes_per_machine) {
                return Err(at(&format!("machine {} is scoped to a machine the file does not hold", m.id)));
            }
            inst.machines = s.machines;
            for t in s.m2m_tokens {
                inst.store_m2m(t);
            }
            for k in s.oauth_tokens {
                inst.oauth_tokens.insert(k.secret, k.item);
            }
            for k in s.api_keys {
                inst.api_keys.insert(k.secret, k.item);
            }
            out.push(inst);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::m2m::{CreateM2m, TokenFormat};
    use super::super::seeded::{ApiKeySeed, OAuthTokenSeed};
    use super::super::test_support::instance;
    use super::*;

    const URL: &str = "http://127.0.0.1:4010";

    #[test]
    fn round_trip_keeps_what_verifies() {
        let mut inst = instance();
        inst.issuer = default_issuer(URL, &inst.id);
        let b = inst.machines[1].id.clone();
        let req = |format| CreateM2m { seconds_until_expiration: None, claims: None, format, min_remaining_ttl_seconds: None };
        let opaque = inst.create_m2m(&b, req(TokenFormat::Opaque), 1).unwrap();
        let jwt = inst.create_m2m(&b, req(TokenFormat::Jwt), 1).unwrap();
        inst.rotate_machine_secret(&b, 60.0, 1).unwrap();
        let oat = inst.seed_oauth_token(OAuthTokenSeed { subject: "user_1".into(), ..Default::default() }, 1).unwrap();
        let ak = inst.seed_api_key(ApiKeySeed { subject: "user_1".into(), ..Default::default() }, 1).unwrap();
        let state = EmulatorState { instances: vec![inst], limits: Limits::default() };
        let text = serde_json::to_string(&state.snapshot(URL, 5).unwrap()).unwrap();
        assert!(text.starts_with(r#"{"format":"clerk-bapi-emulator/state","version":1,"savedAtMs":5"#), "{}", &text[..80]);
        assert!(!text.contains("\"issuer\":\"http"), "the default issuer is not stored");

        // Another port after the restart: the issuer follows it; everything else is the same.
        let snap: Snapshot = serde_json::from_str(&text).unwrap();
        let restored = snap.restore("http://127.0.0.1:4011", &Limits::default(), None).unwrap();
        let r = &restored[0];
        let before = &state.instances[0];
        assert_eq!((r.id.as_str(), r.secret_key.as_str()), (before.id.as_str(), before.secret_key.as_str()));
        assert_eq!(r.issuer, "http://127.0.0.1:4011/instances/ins_test");
        assert_eq!(r.jwks_json(), before.jwks_json());
        assert_eq!(r.machines.len(), 3);
        assert_eq!(r.machines[1].previous_secret, before.machines[1].previous_secret);
        assert!(r.verify_m2m(None, opaque["token"].as_str().unwrap(), 2).is_ok());
        assert!(r.verify_m2m(None, jwt["token"].as_str().unwrap(), 2).is_ok());
        assert!(r.verify_oauth_token(&oat.secret, 2).is_ok());
        assert_eq!(r.api_keys.len(), 1);
        assert!(r.api_keys.get(&ak.secret).is_some());
    }

    #[test]
    fn restore_refuses_inconsistent_files() {
        let state = EmulatorState { instances: vec![instance()], limits: Limits::default() };
        let good = serde_json::to_value(state.snapshot(URL, 0).unwrap()).unwrap();
        let refuse = |edit: &dyn Fn(&mut serde_json::Value), says: &str| {
            let mut v = good.clone();
            edit(&mut v);
            let snap: Snapshot = serde_json::from_value(v).unwrap();
            let e = snap.restore(URL, &Limits::default(), None).unwrap_err();
            assert!(e.contains(says), "{e}");
            assert!(!e.contains("sk_test_secret"));
        };
        refuse(&|v| v["instances"] = serde_json::json!([]), "no instance");
        refuse(&|v| v["instances"][0]["keys"][0]["privateKeyPem"] = "nope".into(), "keys[0]");
        refuse(&|v| v["instances"][0]["machines"][1]["scopedMachines"] = serde_json::json!(["mch_ghost"]), "scoped to");
        refuse(&|v| v["instances"][0]["machines"][1]["id"] = v["instances"][0]["machines"][0]["id"].clone(), "unique");
        refuse(&|v| v["instances"][0]["secretKey"] = "".into(), "empty");
        refuse(&|v| {
            let dup = v["instances"][0].clone();
            v["instances"].as_array_mut().unwrap().push(dup);
        }, "twice");
    }
}
