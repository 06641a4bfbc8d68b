//! The other opaque machine tokens, OAuth access tokens (`oat_…`) and API keys (`ak_…`): the
//! emulator cannot mint them over the Backend API, so tests seed them (Rust API or admin API)
//! and clients verify them through `POST /oauth_applications/access_tokens/verify` and
//! `POST /api_keys/verify`. Inactive (revoked/expired) ones follow the instance's
//! `reject_inactive_tokens` switch, like M2M tokens.

pub use super::records::{ApiKey, OAuthToken};
use super::Instance;
use crate::errors::ApiError;
use crate::ids;
use crate::state::machines::MAX_TTL_SECONDS;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::fmt;

/// What to seed as an OAuth access token. JSON (admin API): camelCase or snake_case keys.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthTokenSeed {
    /// Usually a user id (`user_…`).
    pub subject: String,
    /// OAuth client id; a random `client_…` when absent.
    #[serde(default, alias = "client_id")]
    pub client_id: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `aud` of the token (3.25.0 checks it when an `audience` option is set); omitted when `None`.
    #[serde(default)]
    pub aud: Option<Vec<String>>,
    /// Lifetime from now in seconds (negative = already expired); `None` = never expires.
    #[serde(default, alias = "expires_in_seconds")]
    pub expires_in_seconds: Option<f64>,
    #[serde(default)]
    pub revoked: bool,
}

/// What to seed as an API key. JSON (admin API): camelCase or snake_case keys.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeySeed {
    /// `user_…` or `org_…` (the reference derives userId/orgId from the prefix).
    pub subject: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub claims: Option<Map<String, Value>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, alias = "expires_in_seconds")]
    pub expires_in_seconds: Option<f64>,
    #[serde(default)]
    pub revoked: bool,
}

/// The id and bearer value of a seeded token.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct SeededToken {
    pub id: String,
    pub secret: String,
}

impl fmt::Debug for SeededToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeededToken").field("id", &self.id).field("secret", &ids::redact(&self.secret)).finish()
    }
}

fn expiration(expires_in_seconds: Option<f64>, now: i64) -> Result<Option<i64>, String> {
    match expires_in_seconds {
        None => Ok(None),
        Some(s) if s.is_finite() && s.abs() <= MAX_TTL_SECONDS => Ok(Some(now.saturating_add((s * 1000.0).round() as i64))),
        Some(_) => Err(format!("expiresInSeconds must be a finite number of at most {MAX_TTL_SECONDS} in magnitude")),
    }
}

fn expired(expiration: Option<i64>, now: i64) -> bool {
    expiration.is_some_and(|e| e <= now)
}

impl Instance {
    /// Seeds an OAuth access token; returns its id and `oat_…` value.
    pub fn seed_oauth_token(&mut self, seed: OAuthTokenSeed, now: i64) -> Result<SeededToken, String> {
        if seed.subject.is_empty() {
            return Err("subject is required".into());
        }
        let expiration = expiration(seed.expires_in_seconds, now)?;
        let secret = ids::secret("oat_");
        let id = ids::id("oat_");
        let token = OAuthToken {
            id: id.clone(),
            client_id: seed.client_id.unwrap_or_else(|| ids::id("client_")),
            subject: seed.subject,
            scopes: seed.scopes,
            aud: seed.aud,
            revoked: seed.revoked,
            expiration,
            created_at: now,
        };
        self.oauth_tokens.insert(secret.clone(), token);
        Ok(SeededToken { id, secret })
    }

    /// Seeds an API key; returns its id and `ak_…` secret (never a machine secret key).
    pub fn seed_api_key(&mut self, seed: ApiKeySeed, now: i64) -> Result<SeededToken, String> {
        if seed.subject.is_empty() {
            return Err("subject is required".into());
        }
        let expiration = expiration(seed.expires_in_seconds, now)?;
        let secret = ids::secret("ak_");
        let id = ids::id("ak_");
        let key = ApiKey {
            id: id.clone(),
            name: seed.name.unwrap_or_else(|| "emulated-api-key".into()),
            subject: seed.subject,
            scopes: seed.scopes,
            claims: seed.claims,
            description: seed.description,
            revoked: seed.revoked,
            expiration,
            created_at: now,
            updated_at: now,
            last_used_at: None,
        };
        self.api_keys.insert(secret.clone(), key);
        Ok(SeededToken { id, secret })
    }

    /// `POST /oauth_applications/access_tokens/verify`.
    pub fn verify_oauth_token(&self, access_token: &str, now: i64) -> Result<Value, ApiError> {
        let t = self.oauth_tokens.get(access_token).ok_or_else(|| ApiError::not_found("OAuth access token"))?;
        let is_expired = expired(t.expiration, now);
        if self.reject_inactive_tokens && (t.revoked || is_expired) {
            return Err(ApiError::not_found("OAuth access token"));
        }
        let mut v = json!({
            "object": "clerk_idp_oauth_access_token",
            "id": t.id,
            "client_id": t.client_id,
            "type": "oauth_token",
            "subject": t.subject,
            "scopes": t.scopes,
            "revoked": t.revoked,
            "revocation_reason": if t.revoked { json!("revoked") } else { Value::Null },
            "expired": is_expired,
            "expiration": t.expiration,
            "created_at": t.created_at,
            "updated_at": t.created_at,
        });
        if let (Some(aud), Some(obj)) = (&t.aud, v.as_object_mut()) {
            obj.insert("aud".into(), json!(aud));
        }
        Ok(v)
    }

    /// `POST /api_keys/verify` (records `last_used_at`).
    pub fn verify_api_key(&mut self, secret: &str, now: i64) -> Result<Value, ApiError> {
        let reject = self.reject_inactive_tokens;
        let k = self.api_keys.get_mut(secret).ok_or_else(|| ApiError::not_found("API key"))?;
        let is_expired = expired(k.expiration, now);
        if reject && (k.revoked || is_expired) {
            return Err(ApiError::not_found("API key"));
        }
        k.last_used_at = Some(now);
        Ok(json!({
            "object": "api_key",
            "id": k.id,
            "type": "api_key",
            "name": k.name,
            "subject": k.subject,
            "scopes": k.scopes,
            "claims": k.claims,
            "revoked": k.revoked,
            "revocation_reason": if k.revoked { json!("revoked") } else { Value::Null },
            "expired": is_expired,
            "expiration": k.expiration,
            "created_by": Value::Null,
            "description": k.description,
            "last_used_at": k.last_used_at,
            "created_at": k.created_at,
            "updated_at": k.updated_at,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::instance;
    use super::*;

    #[test]
    fn oauth_seed_and_verify() {
        let mut inst = instance();
        let seed = OAuthTokenSeed { subject: "user_1".into(), client_id: Some("client_x".into()), scopes: vec!["read".into()], aud: Some(vec!["api".into()]), expires_in_seconds: Some(60.0), revoked: false };
        let t = inst.seed_oauth_token(seed, 1000).unwrap();
        assert!(t.secret.starts_with("oat_") && t.id.starts_with("oat_") && t.secret != t.id);
        assert!(!format!("{t:?}").contains(&t.secret));
        let v = inst.verify_oauth_token(&t.secret, 1000).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["object", "id", "client_id", "type", "subject", "scopes", "revoked", "revocation_reason", "expired", "expiration", "created_at", "updated_at", "aud"]);
        assert_eq!(v["object"], "clerk_idp_oauth_access_token");
        assert_eq!(v["client_id"], "client_x");
        assert_eq!(v["expiration"], 61_000);
        assert_eq!(v["aud"], json!(["api"]));
        assert_eq!(inst.verify_oauth_token(&t.secret, 61_000).unwrap()["expired"], true);
        assert_eq!(inst.verify_oauth_token("oat_nope", 0).unwrap_err().status.as_u16(), 404);
        inst.reject_inactive_tokens = true;
        assert!(inst.verify_oauth_token(&t.secret, 61_000).is_err());
        assert!(inst.verify_oauth_token(&t.secret, 60_999).is_ok());
        let no_aud = inst.seed_oauth_token(OAuthTokenSeed { subject: "user_2".into(), revoked: true, ..Default::default() }, 0).unwrap();
        assert!(inst.verify_oauth_token(&no_aud.secret, 0).is_err());
        inst.reject_inactive_tokens = false;
        let v = inst.verify_oauth_token(&no_aud.secret, 0).unwrap();
        assert!(v.get("aud").is_none());
        assert_eq!(v["revoked"], true);
        assert!(v["client_id"].as_str().unwrap().starts_with("client_"));
    }

    #[test]
    fn api_key_seed_and_verify() {
        let mut inst = instance();
        let claims = json!({"tier": "gold"}).as_object().unwrap().clone();
        let k = inst.seed_api_key(ApiKeySeed { subject: "org_1".into(), name: Some("ci".into()), claims: Some(claims), expires_in_seconds: Some(-1.0), ..Default::default() }, 5000).unwrap();
        assert!(k.secret.starts_with("ak_"));
        let machine_key = inst.machines[0].secret_key.clone();
        assert_eq!(inst.verify_api_key(&machine_key, 0).unwrap_err().status.as_u16(), 404);
        let v = inst.verify_api_key(&k.secret, 6000).unwrap();
        assert_eq!(v["object"], "api_key");
        assert_eq!(v["type"], "api_key");
        assert_eq!(v["name"], "ci");
        assert_eq!(v["subject"], "org_1");
        assert_eq!(v["claims"], json!({"tier": "gold"}));
        assert_eq!(v["expired"], true);
        assert_eq!(v["last_used_at"], 6000);
        assert!(v.get("secret").is_none());
        inst.reject_inactive_tokens = true;
        assert!(inst.verify_api_key(&k.secret, 6000).is_err());
    }

    #[test]
    fn seed_validation() {
        let mut inst = instance();
        assert!(inst.seed_oauth_token(OAuthTokenSeed::default(), 0).is_err());
        assert!(inst.seed_api_key(ApiKeySeed::default(), 0).is_err());
        for bad in [f64::NAN, f64::INFINITY, MAX_TTL_SECONDS + 1.0, -MAX_TTL_SECONDS - 1.0] {
            assert!(inst.seed_oauth_token(OAuthTokenSeed { subject: "u".into(), expires_in_seconds: Some(bad), ..Default::default() }, 0).is_err());
        }
        let seed: OAuthTokenSeed = serde_json::from_value(json!({"subject": "u", "client_id": "c", "expiresInSeconds": 5})).unwrap();
        assert_eq!(seed.client_id.as_deref(), Some("c"));
        assert_eq!(seed.expires_in_seconds, Some(5.0));
    }
}
