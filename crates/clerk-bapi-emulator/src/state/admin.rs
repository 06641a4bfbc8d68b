//! What the emulator's owner (the Rust handle, the admin API, the dashboard) does to the state
//! beyond the Backend API: instances by index, keys, settings, seeded tokens, signing, and the
//! dashboard's views of machines and tokens. Errors are [`EmulatorError`]s (or Clerk's
//! [`ApiError`] where an operation is the Backend API's own), never secrets.

use super::m2m::{CreateM2m, M2mToken, TokenFormat};
use super::seeded::{ApiKeySeed, OAuthTokenSeed, SeededToken};
use super::{EmulatorState, Instance, InstanceInfo, KeyInfo, MachineInfo};
use crate::config::MachineConfig;
use crate::errors::{ApiError, EmulatorError};
use crate::keys::SigningKey;
use serde_json::{json, Value};

/// Largest page of the dashboard's token list.
pub const MAX_TOKEN_PAGE: usize = 500;

/// The dashboard's token filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFilter {
    /// Only this machine's tokens (id).
    pub machine: Option<String>,
    pub include_revoked: bool,
    pub include_expired: bool,
    pub limit: usize,
}

/// How a new signing key joins an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyInstall {
    /// A fresh key with a new kid; older keys stay in JWKS.
    Add,
    /// A caller's key: replaces a live key with the same kid.
    Import,
}

impl EmulatorState {
    pub fn instance_mut(&mut self, index: usize) -> Result<&mut Instance, EmulatorError> {
        self.instances.get_mut(index).ok_or(EmulatorError::UnknownInstance(index))
    }

    pub fn instance_ref(&self, index: usize) -> Result<&Instance, EmulatorError> {
        self.instances.get(index).ok_or(EmulatorError::UnknownInstance(index))
    }

    pub fn infos(&self) -> Vec<InstanceInfo> {
        self.instances.iter().enumerate().map(|(i, inst)| inst.info(i)).collect()
    }

    /// Installs `key` as the active signer of instance `index`; with `retire_others`, every other
    /// key leaves JWKS at the same moment (a hard rotation).
    pub fn install_key(&mut self, index: usize, key: SigningKey, how: KeyInstall, retire_others: bool) -> Result<KeyInfo, EmulatorError> {
        let limits = self.limits.clone();
        let inst = self.instance_mut(index)?;
        let info = KeyInfo::of(&key);
        match how {
            KeyInstall::Add => inst.add_key(key, &limits),
            KeyInstall::Import => inst.import_key(key, &limits),
        }
        .map_err(EmulatorError::Rejected)?;
        if retire_others {
            inst.keys.retain(|k| k.kid() == info.kid);
        }
        Ok(info)
    }

    pub fn retire_key(&mut self, index: usize, kid: &str) -> Result<(), EmulatorError> {
        if self.instance_mut(index)?.retire_key(kid) {
            Ok(())
        } else {
            Err(EmulatorError::Rejected(format!("instance {index} has no live key {kid:?}")))
        }
    }

    /// Creates a machine whose scopes name other machines of the instance.
    pub fn create_named_machine(&mut self, index: usize, m: &MachineConfig, now: i64) -> Result<MachineInfo, EmulatorError> {
        let limits = self.limits.clone();
        let inst = self.instance_mut(index)?;
        let scopes = m
            .scoped_to
            .iter()
            .map(|name| inst.machine_by_name(name).map(|x| x.id.clone()).ok_or_else(|| EmulatorError::Rejected(format!("no machine named {name:?}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let json = inst.create_machine(&m.name, &scopes, m.default_token_ttl.map(|t| t as f64), now, &limits).map_err(|e| EmulatorError::Rejected(e.long_message))?;
        let id = json.get("id").and_then(Value::as_str).unwrap_or_default();
        inst.machine(id).map(|mm| inst.machine_info(mm)).ok_or_else(|| EmulatorError::Rejected("machine vanished".into()))
    }

    pub fn seed_oauth_token(&mut self, index: usize, seed: OAuthTokenSeed, now: i64) -> Result<SeededToken, EmulatorError> {
        self.instance_mut(index)?.seed_oauth_token(seed, now).map_err(EmulatorError::Rejected)
    }

    pub fn seed_api_key(&mut self, index: usize, seed: ApiKeySeed, now: i64) -> Result<SeededToken, EmulatorError> {
        self.instance_mut(index)?.seed_api_key(seed, now).map_err(EmulatorError::Rejected)
    }

    pub fn set_reject_inactive_tokens(&mut self, index: usize, reject: bool) -> Result<(), EmulatorError> {
        self.instance_mut(index)?.reject_inactive_tokens = reject;
        Ok(())
    }

    /// Signs arbitrary header/payload JSON with the instance's active key (RS256 unless the
    /// header's `alg` says RS384/RS512), for tests that need odd but validly signed tokens.
    pub fn sign_jwt(&self, index: usize, header: &Value, payload: &Value) -> Result<String, EmulatorError> {
        let key = self.instance_ref(index)?.active_key().ok_or_else(|| EmulatorError::Rejected("the instance has no signing key".into()))?;
        Ok(key.sign_jwt(header, payload)?)
    }
}

impl Instance {
    /// A machine by id, or else by name (the admin API and the dashboard accept either).
    pub fn resolve_machine(&self, id_or_name: &str) -> Result<String, ApiError> {
        self.machine(id_or_name).or_else(|| self.machine_by_name(id_or_name)).map(|m| m.id.clone()).ok_or_else(|| ApiError::not_found("Machine"))
    }

    /// The admin view of a machine (camelCase, with its secret key).
    pub fn machine_view(&self, id: &str) -> Result<MachineInfo, ApiError> {
        self.machine(id).map(|m| self.machine_info(m)).ok_or_else(|| ApiError::not_found("Machine"))
    }

    /// Mints a token as machine `id` would over `POST /m2m_tokens`, without its secret key and
    /// untouched by faults (the dashboard's "mint"). Answers the admin view of the token.
    pub fn mint_as(&mut self, id: &str, req: CreateM2m, now: i64) -> Result<Value, ApiError> {
        let created = self.create_m2m(id, req, now)?;
        let token_id = created.get("id").and_then(Value::as_str).unwrap_or_default();
        self.m2m_tokens.get(token_id).map(|t| self.token_view(t, now)).ok_or_else(|| ApiError::internal("token vanished"))
    }

    /// The dashboard's list of tokens, newest first.
    pub fn token_views(&self, filter: &TokenFilter, now: i64) -> Value {
        let matching: Vec<&M2mToken> = self
            .m2m_tokens
            .newest_first()
            .filter(|t| filter.machine.as_deref().is_none_or(|m| t.subject == m))
            .filter(|t| filter.include_revoked || !t.revoked)
            .filter(|t| filter.include_expired || !t.is_expired(now))
            .collect();
        let tokens: Vec<Value> = matching.iter().take(filter.limit.clamp(1, MAX_TOKEN_PAGE)).map(|t| self.token_view(t, now)).collect();
        json!({ "tokens": tokens, "totalCount": matching.len() })
    }

    /// One token as the dashboard shows it (camelCase; the bearer value included: the admin API
    /// is the emulator owner's).
    pub fn token_view(&self, t: &M2mToken, now: i64) -> Value {
        let name = |id: &str| self.machine(id).map(|m| m.name.clone());
        json!({
            "id": t.id,
            "format": match t.format { TokenFormat::Opaque => "opaque", TokenFormat::Jwt => "jwt" },
            "subject": t.subject,
            "machineName": name(&t.subject),
            "scopes": t.scopes,
            "scopeNames": t.scopes.iter().map(|s| name(s)).collect::<Vec<_>>(),
            "claims": t.claims,
            "revoked": t.revoked,
            "revocationReason": t.revocation_reason,
            "expired": t.is_expired(now),
            "expiration": t.expiration,
            "createdAt": t.created_at,
            "token": t.secret.as_ref().or(t.jwt.as_ref()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{instance, key};
    use super::*;

    fn state() -> EmulatorState {
        EmulatorState { instances: vec![instance()], limits: Default::default() }
    }

    #[test]
    fn keys_by_index_and_hard_rotation() {
        let mut s = state();
        s.install_key(0, key("ins_two"), KeyInstall::Add, false).unwrap();
        assert_eq!(s.instances[0].keys.len(), 2);
        let info = s.install_key(0, key("ins_three"), KeyInstall::Add, true).unwrap();
        assert_eq!(info.kid, "ins_three");
        assert_eq!(s.instances[0].jwks_json()["keys"].as_array().unwrap().len(), 1, "retire_others leaves only the new key");
        assert!(matches!(s.install_key(3, key("x"), KeyInstall::Add, false), Err(EmulatorError::UnknownInstance(3))));
        assert!(s.retire_key(0, "ins_two").is_err());
        s.retire_key(0, "ins_three").unwrap();
        assert!(s.sign_jwt(0, &json!({}), &json!({})).is_err());
    }

    #[test]
    fn machines_by_name_and_token_views() {
        let mut s = state();
        let m = s.create_named_machine(0, &MachineConfig::new("orders").scoped_to(&["a"]), 5).unwrap();
        assert!(s.create_named_machine(0, &MachineConfig::new("x").scoped_to(&["ghost"]), 5).is_err());
        let inst = s.instance_mut(0).unwrap();
        assert_eq!(inst.resolve_machine("orders").unwrap(), m.id);
        assert_eq!(inst.resolve_machine(&m.id).unwrap(), m.id);
        assert!(inst.resolve_machine("nobody").is_err());
        let opaque = |format| CreateM2m { seconds_until_expiration: Some(60.0), claims: None, format, min_remaining_ttl_seconds: None };
        let t = inst.mint_as(&m.id, opaque(TokenFormat::Opaque), 1_000).unwrap();
        assert_eq!((t["format"].as_str(), t["machineName"].as_str(), t["scopeNames"][0].as_str()), (Some("opaque"), Some("orders"), Some("a")));
        assert!(t["token"].as_str().unwrap().starts_with("mt_"));
        let j = inst.mint_as(&m.id, opaque(TokenFormat::Jwt), 1_000).unwrap();
        assert_eq!(j["token"].as_str().unwrap().split('.').count(), 3);
        inst.revoke_m2m(None, t["id"].as_str().unwrap(), Some("test".into()), 2_000).unwrap();
        let filter = |revoked, expired| TokenFilter { machine: Some(m.id.clone()), include_revoked: revoked, include_expired: expired, limit: 10 };
        assert_eq!(inst.token_views(&filter(false, false), 2_000)["totalCount"], 1);
        let all = inst.token_views(&filter(true, false), 2_000);
        assert_eq!(all["totalCount"], 2);
        assert_eq!(all["tokens"][1]["revocationReason"], "test");
        assert_eq!(inst.token_views(&filter(true, false), 61_000)["totalCount"], 0, "both expired");
        assert_eq!(inst.token_views(&filter(true, true), 61_000)["totalCount"], 2);
        assert_eq!(inst.token_views(&TokenFilter { limit: 1, ..filter(true, true) }, 61_000)["tokens"].as_array().unwrap().len(), 1);
    }
}
