//! `APIKey`, only ever built from a Backend API body.

use super::payload::{prop, redacted};
use crate::js::value::{Fields, JsValue};
use serde_json::Value;
use std::fmt;

/// `APIKey` (only built from Backend API responses).
#[derive(Clone, PartialEq)]
pub struct APIKey {
    pub id: JsValue,
    pub r#type: JsValue,
    pub name: JsValue,
    pub subject: JsValue,
    pub scopes: JsValue,
    pub claims: JsValue,
    pub revoked: JsValue,
    pub revocation_reason: JsValue,
    pub expired: JsValue,
    pub expiration: JsValue,
    pub created_by: JsValue,
    pub description: JsValue,
    pub last_used_at: JsValue,
    pub created_at: JsValue,
    pub updated_at: JsValue,
    /// The key itself, on creation responses only. Never printed by `Debug`.
    pub secret: JsValue,
}

impl fmt::Debug for APIKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("APIKey")
            .field("id", &self.id)
            .field("type", &self.r#type)
            .field("name", &self.name)
            .field("subject", &self.subject)
            .field("scopes", &self.scopes)
            .field("claims", &self.claims)
            .field("revoked", &self.revoked)
            .field("revocation_reason", &self.revocation_reason)
            .field("expired", &self.expired)
            .field("expiration", &self.expiration)
            .field("created_by", &self.created_by)
            .field("description", &self.description)
            .field("last_used_at", &self.last_used_at)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("secret", &redacted(&self.secret))
            .finish()
    }
}

impl APIKey {
    /// `APIKey.fromJSON(data)`: straight mapping.
    pub fn from_json(data: &Value) -> Self {
        APIKey {
            id: prop(data, "id"),
            r#type: prop(data, "type"),
            name: prop(data, "name"),
            subject: prop(data, "subject"),
            scopes: prop(data, "scopes"),
            claims: prop(data, "claims"),
            revoked: prop(data, "revoked"),
            revocation_reason: prop(data, "revocation_reason"),
            expired: prop(data, "expired"),
            expiration: prop(data, "expiration"),
            created_by: prop(data, "created_by"),
            description: prop(data, "description"),
            last_used_at: prop(data, "last_used_at"),
            created_at: prop(data, "created_at"),
            updated_at: prop(data, "updated_at"),
            secret: prop(data, "secret"),
        }
    }

    /// camelCase object in the reference's field order.
    pub fn to_json(&self) -> Value {
        self.fields().to_value()
    }

    /// The fields in the reference's order, with their camelCase names.
    pub fn fields(&self) -> Fields<'_, 16> {
        Fields([
            ("id", &self.id),
            ("type", &self.r#type),
            ("name", &self.name),
            ("subject", &self.subject),
            ("scopes", &self.scopes),
            ("claims", &self.claims),
            ("revoked", &self.revoked),
            ("revocationReason", &self.revocation_reason),
            ("expired", &self.expired),
            ("expiration", &self.expiration),
            ("createdBy", &self.created_by),
            ("description", &self.description),
            ("lastUsedAt", &self.last_used_at),
            ("createdAt", &self.created_at),
            ("updatedAt", &self.updated_at),
            ("secret", &self.secret),
        ])
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    #[test]
    fn api_key_from_json() {
        let body = json!({
            "object": "api_key", "id": "ak_1", "type": "api_key", "name": "n", "subject": "user_1", "scopes": [], "claims": null,
            "revoked": false, "revocation_reason": null, "expired": false, "expiration": null, "created_by": "user_2",
            "description": null, "last_used_at": 5, "created_at": 1, "updated_at": 2, "secret": "ak_live_supersecret"
        });
        let key = APIKey::from_json(&body);
        let js = key.to_json();
        assert_eq!(
            keys(&js),
            [
                "id", "type", "name", "subject", "scopes", "claims", "revoked", "revocationReason", "expired", "expiration", "createdBy",
                "description", "lastUsedAt", "createdAt", "updatedAt", "secret"
            ]
        );
        assert_eq!(js["lastUsedAt"], json!(5));
        assert_eq!(js["secret"], json!("ak_live_supersecret"));
        assert!(!format!("{key:?}").contains("supersecret"));
        assert_eq!(APIKey::from_json(&json!({})).to_json(), json!({}));
    }
}
