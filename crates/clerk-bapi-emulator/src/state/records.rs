//! The rows the state stores, data only: an instance holds them (`Instance`), and the
//! operations on them live in `m2m.rs` and `seeded.rs`, which also re-export them. Kept apart
//! so that the instance and its operations do not import each other.

use crate::ids;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenFormat {
    Opaque,
    Jwt,
}

/// A minted M2M token. Serialized (camelCase) only into the `--state` file.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct M2mToken {
    pub id: String,
    /// The bearer value of opaque tokens (`mt_…`), by which verify finds them.
    pub secret: Option<String>,
    /// The signed JWT of JWT-format tokens, kept only so the dashboard can copy it again.
    pub jwt: Option<String>,
    pub format: TokenFormat,
    pub subject: String,
    pub scopes: Vec<String>,
    pub claims: Option<Map<String, Value>>,
    pub revoked: bool,
    pub revocation_reason: Option<String>,
    /// Unix ms; `None` = never expires.
    pub expiration: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for M2mToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("M2mToken")
            .field("id", &self.id)
            .field("secret", &self.secret.as_deref().map(ids::redact))
            .field("jwt", &self.jwt.as_deref().map(ids::redact))
            .field("format", &self.format)
            .field("subject", &self.subject)
            .field("revoked", &self.revoked)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

impl M2mToken {
    /// Expired once `now` reaches the expiration.
    pub fn is_expired(&self, now: i64) -> bool {
        self.expiration.is_some_and(|e| e <= now)
    }

    /// Clerk's token JSON; `token` only on create responses.
    pub fn to_json(&self, now: i64, token: Option<&str>) -> Value {
        let mut v = json!({
            "object": "machine_to_machine_token",
            "id": self.id,
            "subject": self.subject,
            "scopes": self.scopes,
            "claims": self.claims,
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(t) = token {
                obj.insert("token".into(), Value::String(t.to_owned()));
            }
            obj.insert("revoked".into(), Value::Bool(self.revoked));
            obj.insert("revocation_reason".into(), json!(self.revocation_reason));
            obj.insert("expired".into(), Value::Bool(self.is_expired(now)));
            obj.insert("expiration".into(), json!(self.expiration));
            obj.insert("created_at".into(), json!(self.created_at));
            obj.insert("updated_at".into(), json!(self.updated_at));
        }
        v
    }

    /// May `machine` (a machine caller) see this token? Instance callers see everything.
    pub(super) fn visible_to(&self, machine: Option<&str>) -> bool {
        machine.is_none_or(|m| self.subject == m || self.scopes.iter().any(|s| s == m))
    }
}

/// A seeded OAuth access token (serialized, camelCase, only into the `--state` file).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthToken {
    pub id: String,
    pub client_id: String,
    pub subject: String,
    pub scopes: Vec<String>,
    pub aud: Option<Vec<String>>,
    pub revoked: bool,
    pub expiration: Option<i64>,
    pub created_at: i64,
}

/// A seeded API key (serialized, camelCase, only into the `--state` file).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub subject: String,
    pub scopes: Vec<String>,
    pub claims: Option<Map<String, Value>>,
    pub description: Option<String>,
    pub revoked: bool,
    pub expiration: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_used_at: Option<i64>,
}
