//! M2M tokens (`/m2m_tokens…`): minting (opaque and JWT), reuse, listing, revocation and
//! verification, in Clerk's JSON shape (`object: "machine_to_machine_token"`, ms timestamps).
//!
//! The rules the reference leaves to the server (reuse, visibility, inactive tokens, JWT
//! claims) are listed in the crate docs under "M2M token rules".

pub use super::records::{M2mToken, TokenFormat};
use super::Instance;
use crate::errors::ApiError;
use crate::ids;
use crate::keys::{self, JwtRejection, SigningKey};
use crate::state::machines::MAX_TTL_SECONDS;
use serde_json::{json, Map, Value};

/// `cat` header of Clerk M2M JWTs.
pub const JWT_CATEGORY_M2M: &str = "cl_B7d4PD333AAA";
/// Claims the emulator sets itself; custom claims with these names are dropped.
pub const REGISTERED_CLAIMS: [&str; 8] = ["iss", "sub", "aud", "scopes", "jti", "iat", "nbf", "exp"];
/// Claims `M2MToken.fromJwtPayload` leaves out of `claims`.
const REFERENCE_RESERVED_CLAIMS: [&str; 6] = ["iss", "sub", "exp", "nbf", "iat", "jti"];
/// `nbf` = `iat` − this, tolerating clients whose clock is slightly behind.
pub const NBF_LEEWAY_SECONDS: i64 = 5;
/// Clock skew the emulator allows on `nbf` when verifying JWTs (the reference's default).
const VERIFY_SKEW_MS: i64 = 5_000;

/// Validated `POST /m2m_tokens` body.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateM2m {
    pub seconds_until_expiration: Option<f64>,
    pub claims: Option<Map<String, Value>>,
    pub format: TokenFormat,
    pub min_remaining_ttl_seconds: Option<f64>,
}

/// Validated `GET /m2m_tokens` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListM2m {
    pub subject: Option<String>,
    /// Include revoked tokens (default false).
    pub include_revoked: bool,
    /// Include expired tokens (default false).
    pub include_expired: bool,
    pub limit: usize,
    pub offset: usize,
}

fn sorted(v: &[String]) -> Vec<&str> {
    let mut s: Vec<&str> = v.iter().map(String::as_str).collect();
    s.sort_unstable();
    s
}

/// Milliseconds for a validated seconds value (≤ 10 years, so the cast cannot overflow).
fn seconds_to_ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

impl Instance {
    /// `POST /m2m_tokens` for machine `machine_id`.
    pub fn create_m2m(&mut self, machine_id: &str, req: CreateM2m, now: i64) -> Result<Value, ApiError> {
        let machine = self.machine(machine_id).ok_or_else(|| ApiError::machine_key_invalid(false))?;
        if let Some(s) = req.seconds_until_expiration {
            if !(s.is_finite() && (1.0..=MAX_TTL_SECONDS).contains(&s)) {
                return Err(ApiError::param_value_invalid("seconds_until_expiration", &format!("must be null or between 1 and {MAX_TTL_SECONDS}.")));
            }
        }
        if let Some(m) = req.min_remaining_ttl_seconds {
            let lifetime = req.seconds_until_expiration.unwrap_or(machine.default_token_ttl as f64);
            if !(m.is_finite() && m >= 0.0) {
                return Err(ApiError::param_value_invalid("min_remaining_ttl_seconds", "must be a non-negative number."));
            }
            if m >= lifetime {
                return Err(ApiError::param_value_invalid("min_remaining_ttl_seconds", "must be less than the token lifetime (seconds_until_expiration, or the machine's default_token_ttl)."));
            }
        }
        let scopes = machine.scoped_machines.clone();
        match req.format {
            TokenFormat::Opaque => {
                if let Some(min) = req.min_remaining_ttl_seconds {
                    let min_ms = seconds_to_ms(min);
                    let want_scopes = sorted(&scopes);
                    let reusable = self.m2m_tokens.newest_first().find(|t| {
                        t.format == TokenFormat::Opaque
                            && t.subject == machine_id
                            && !t.revoked
                            && !t.is_expired(now)
                            && t.claims == req.claims
                            && sorted(&t.scopes) == want_scopes
                            && t.expiration.is_none_or(|e| e.saturating_sub(now) >= min_ms)
                    });
                    if let Some(t) = reusable {
                        return Ok(t.to_json(now, t.secret.as_deref()));
                    }
                }
                let secret = ids::secret("mt_");
                let token = M2mToken {
                    id: ids::id("mt_"),
                    secret: Some(secret.clone()),
                    jwt: None,
                    format: TokenFormat::Opaque,
                    subject: machine_id.to_owned(),
                    scopes,
                    claims: req.claims,
                    revoked: false,
                    revocation_reason: None,
                    expiration: req.seconds_until_expiration.map(|s| now.saturating_add(seconds_to_ms(s))),
                    created_at: now,
                    updated_at: now,
                };
                let json = token.to_json(now, Some(&secret));
                self.store_m2m(token);
                Ok(json)
            }
            TokenFormat::Jwt => {
                let key = self.active_key().ok_or_else(|| ApiError::internal("The instance has no signing key (all keys retired)."))?;
                let iat = now.div_euclid(1000);
                let exp = req.seconds_until_expiration.map(|s| iat.saturating_add(s.round() as i64));
                let id = ids::id("mt_");
                let jwt = mint_jwt(key, &self.issuer, machine_id, &scopes, &id, iat, exp, req.claims.as_ref())?;
                let token = M2mToken {
                    id,
                    secret: None,
                    jwt: Some(jwt.clone()),
                    format: TokenFormat::Jwt,
                    subject: machine_id.to_owned(),
                    scopes,
                    claims: req.claims,
                    revoked: false,
                    revocation_reason: None,
                    expiration: exp.map(|e| e.saturating_mul(1000)),
                    created_at: iat.saturating_mul(1000),
                    updated_at: iat.saturating_mul(1000),
                };
                let json = token.to_json(now, Some(&jwt));
                self.store_m2m(token);
                Ok(json)
            }
        }
    }

    pub(crate) fn store_m2m(&mut self, token: M2mToken) {
        if let Some(secret) = &token.secret {
            self.m2m_by_secret.insert(secret.clone(), token.id.clone());
        }
        for evicted in self.m2m_tokens.insert(token.id.clone(), token) {
            if let Some(secret) = evicted.secret {
                self.m2m_by_secret.remove(&secret);
            }
        }
    }

    /// `GET /m2m_tokens`: newest first, `{m2m_tokens, total_count}`, items without `token`.
    /// A machine caller may only list its own tokens (a different `subject` is a 403).
    pub fn list_m2m(&self, caller_machine: Option<&str>, q: &ListM2m, now: i64) -> Result<Value, ApiError> {
        let subject = match (caller_machine, q.subject.as_deref()) {
            (Some(m), Some(s)) if s != m => return Err(ApiError::forbidden("A Machine Secret Key can only list the tokens of its own machine.")),
            (Some(m), _) => Some(m),
            (None, s) => s,
        };
        let matching: Vec<&M2mToken> = self
            .m2m_tokens
            .newest_first()
            .filter(|t| subject.is_none_or(|s| t.subject == s))
            .filter(|t| q.include_revoked || !t.revoked)
            .filter(|t| q.include_expired || !t.is_expired(now))
            .collect();
        let items: Vec<Value> = matching.iter().skip(q.offset).take(q.limit).map(|t| t.to_json(now, None)).collect();
        Ok(json!({ "m2m_tokens": items, "total_count": matching.len() }))
    }

    /// `POST /m2m_tokens/{id}/revoke`. Revoking twice keeps the first reason and answers 200.
    pub fn revoke_m2m(&mut self, caller_machine: Option<&str>, id: &str, reason: Option<String>, now: i64) -> Result<Value, ApiError> {
        let token = self.m2m_tokens.get_mut(id).filter(|t| t.visible_to(caller_machine)).ok_or_else(|| ApiError::not_found("M2M token"))?;
        if !token.revoked {
            token.revoked = true;
            token.revocation_reason = reason;
            token.updated_at = now;
        }
        Ok(token.to_json(now, None))
    }

    /// `POST /m2m_tokens/verify` (see the module docs for the rules): every rejection is Clerk's
    /// 404, and so is an inactive token when the instance rejects those.
    pub fn verify_m2m(&self, caller_machine: Option<&str>, token: &str, now: i64) -> Result<Value, ApiError> {
        let record = self.check_m2m(caller_machine, token, now).map_err(|_| ApiError::not_found("M2M token"))?;
        if self.reject_inactive_tokens && (record.revoked || record.is_expired(now)) {
            return Err(ApiError::not_found("M2M token"));
        }
        Ok(record.to_json(now, None))
    }

    /// What this instance knows of an M2M token presented by `caller_machine` (instance callers
    /// see every token): its record — revoked and expired ones included, the caller decides — or
    /// why it is not one of this instance's tokens. The one verifier of the emulator: the verify
    /// endpoint and the dashboard's "inspect" both use it.
    pub fn check_m2m(&self, caller_machine: Option<&str>, token: &str, now: i64) -> Result<M2mToken, TokenRejection> {
        let record = if keys::looks_like_jwt(token) {
            self.check_m2m_jwt(token, now)?
        } else {
            self.m2m_by_secret.get(token).and_then(|id| self.m2m_tokens.get(id)).cloned().ok_or(TokenRejection::UnknownToken)?
        };
        if !record.visible_to(caller_machine) {
            return Err(TokenRejection::NotVisible);
        }
        Ok(record)
    }

    /// Checks a JWT-format token against this instance's live keys and its time claims; returns
    /// the stored record for its `jti`, or one built from the payload like the reference's
    /// `M2MToken.fromJwtPayload` (for JWTs signed with the instance key by other means).
    fn check_m2m_jwt(&self, token: &str, now: i64) -> Result<M2mToken, TokenRejection> {
        let live: Vec<&SigningKey> = self.keys.iter().collect();
        let jwt = keys::verify_jwt(token, &live).map_err(TokenRejection::Jwt)?;
        let p = &jwt.payload;
        let seconds = |name: &str| -> Result<Option<f64>, TokenRejection> {
            match p.get(name) {
                None => Ok(None),
                Some(Value::Number(n)) => n.as_f64().filter(|f| f.is_finite()).map(Some).ok_or(TokenRejection::BadTimeClaim),
                Some(_) => Err(TokenRejection::BadTimeClaim),
            }
        };
        let (exp, nbf, iat) = (seconds("exp")?, seconds("nbf")?, seconds("iat")?);
        let now_f = now as f64;
        if exp.is_some_and(|e| e * 1000.0 <= now_f) {
            return Err(TokenRejection::Expired);
        }
        if nbf.is_some_and(|n| n * 1000.0 > now_f + VERIFY_SKEW_MS as f64) {
            return Err(TokenRejection::NotYetValid);
        }
        let sub = p.get("sub").and_then(Value::as_str).filter(|s| s.starts_with("mch_")).ok_or(TokenRejection::NotMachineSubject)?;
        if self.machine(sub).is_none() {
            return Err(TokenRejection::UnknownMachine);
        }
        let jti = p.get("jti").and_then(Value::as_str);
        if let Some(stored) = jti.and_then(|j| self.m2m_tokens.get(j)).filter(|t| t.format == TokenFormat::Jwt && t.subject == sub) {
            return Ok(stored.clone());
        }
        let scopes: Vec<String> = match (p.get("scopes"), p.get("aud")) {
            (Some(Value::String(s)), _) => s.split(' ').map(str::to_owned).collect(),
            (_, Some(Value::Array(a))) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            (_, Some(Value::String(s))) => vec![s.clone()],
            _ => Vec::new(),
        };
        let claims: Map<String, Value> = p.iter().filter(|(k, _)| !REFERENCE_RESERVED_CLAIMS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
        let created = iat.map(|i| (i * 1000.0) as i64).unwrap_or(now);
        Ok(M2mToken {
            id: jti.unwrap_or_default().to_owned(),
            secret: None,
            jwt: None,
            format: TokenFormat::Jwt,
            subject: sub.to_owned(),
            scopes,
            claims: (!claims.is_empty()).then_some(claims),
            revoked: false,
            revocation_reason: None,
            expiration: exp.map(|e| (e * 1000.0) as i64),
            created_at: created,
            updated_at: created,
        })
    }

    /// Drops every token minted by `machine_id` (its machine was deleted).
    pub(crate) fn remove_m2m_tokens_of(&mut self, machine_id: &str) {
        for gone in self.m2m_tokens.remove_where(|t| t.subject == machine_id) {
            if let Some(secret) = gone.secret {
                self.m2m_by_secret.remove(&secret);
            }
        }
    }
}

/// Why a presented token is not a usable M2M token of an instance. The verify endpoint answers
/// all of them with one 404 (as Clerk does); the dashboard names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("{0}")]
    Jwt(JwtRejection),
    #[error("the token has expired (exp)")]
    Expired,
    #[error("the token is not valid yet (nbf, with 5 s of skew)")]
    NotYetValid,
    #[error("exp, nbf or iat is not a finite number")]
    BadTimeClaim,
    #[error("sub is not a machine id (mch_…): not an M2M token")]
    NotMachineSubject,
    #[error("the machine that minted it no longer exists")]
    UnknownMachine,
    #[error("no M2M token of this instance has this value")]
    UnknownToken,
    #[error("the calling machine is neither the token's subject nor in its scopes")]
    NotVisible,
}

impl TokenRejection {
    /// A stable code for the admin API and the dashboard.
    pub fn code(self) -> &'static str {
        match self {
            TokenRejection::Jwt(j) => j.code(),
            TokenRejection::Expired => "expired",
            TokenRejection::NotYetValid => "not-yet-valid",
            TokenRejection::BadTimeClaim => "time-claim",
            TokenRejection::NotMachineSubject => "not-m2m",
            TokenRejection::UnknownMachine => "machine-deleted",
            TokenRejection::UnknownToken => "unknown-token",
            TokenRejection::NotVisible => "not-in-scope",
        }
    }
}

/// Builds and signs a Clerk-shaped M2M JWT: header `{alg, typ, kid, cat}`, claims `iss, sub, aud,
/// scopes (omitted when empty, so the reference's split never yields [""]), jti, iat, nbf, exp?`
/// followed by the custom claims that do not collide with those.
#[allow(clippy::too_many_arguments)]
fn mint_jwt(key: &SigningKey, issuer: &str, sub: &str, scopes: &[String], jti: &str, iat: i64, exp: Option<i64>, custom: Option<&Map<String, Value>>) -> Result<String, ApiError> {
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": key.kid(), "cat": JWT_CATEGORY_M2M });
    let mut payload = Map::new();
    payload.insert("iss".into(), json!(issuer));
    payload.insert("sub".into(), json!(sub));
    payload.insert("aud".into(), json!(scopes));
    if !scopes.is_empty() {
        payload.insert("scopes".into(), json!(scopes.join(" ")));
    }
    payload.insert("jti".into(), json!(jti));
    payload.insert("iat".into(), json!(iat));
    payload.insert("nbf".into(), json!(iat.saturating_sub(NBF_LEEWAY_SECONDS)));
    if let Some(e) = exp {
        payload.insert("exp".into(), json!(e));
    }
    for (k, v) in custom.into_iter().flatten() {
        if !REGISTERED_CLAIMS.contains(&k.as_str()) {
            payload.insert(k.clone(), v.clone());
        }
    }
    key.sign_jwt(&header, &Value::Object(payload)).map_err(|_| ApiError::internal("JWT signing failed."))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::instance;
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    const NOW: i64 = 1_700_000_000_123;

    fn opaque(seconds: Option<f64>) -> CreateM2m {
        CreateM2m { seconds_until_expiration: seconds, claims: None, format: TokenFormat::Opaque, min_remaining_ttl_seconds: None }
    }

    fn ids(inst: &Instance) -> (String, String, String) {
        (inst.machines[0].id.clone(), inst.machines[1].id.clone(), inst.machines[2].id.clone())
    }

    fn segment(token: &str, i: usize) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(i).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn opaque_create_shape() {
        let mut inst = instance();
        let (a, b, _) = ids(&inst);
        let v = inst.create_m2m(&b, opaque(Some(60.0)), NOW).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["object", "id", "subject", "scopes", "claims", "token", "revoked", "revocation_reason", "expired", "expiration", "created_at", "updated_at"]);
        assert_eq!(v["object"], "machine_to_machine_token");
        let (id, token) = (v["id"].as_str().unwrap(), v["token"].as_str().unwrap());
        assert!(id.starts_with("mt_") && token.starts_with("mt_") && id != token);
        assert!(token.len() >= 32 + 3);
        assert_eq!(v["subject"], b.as_str());
        assert_eq!(v["scopes"], json!([a]));
        assert_eq!(v["claims"], Value::Null);
        assert_eq!(v["expiration"], NOW + 60_000);
        assert_eq!(v["created_at"], NOW);
        assert_eq!(v["expired"], false);
        let never = inst.create_m2m(&b, opaque(None), NOW).unwrap();
        assert_eq!(never["expiration"], Value::Null);
    }

    #[test]
    fn create_validation_boundaries() {
        let mut inst = instance();
        let (_, b, c) = ids(&inst);
        for bad in [0.0, 0.999, -5.0, f64::NAN, f64::INFINITY, MAX_TTL_SECONDS + 1.0] {
            let e = inst.create_m2m(&b, opaque(Some(bad)), NOW).unwrap_err();
            assert_eq!(e.code, "form_param_value_invalid", "{bad}");
        }
        assert!(inst.create_m2m(&b, opaque(Some(1.0)), NOW).is_ok());
        assert!(inst.create_m2m(&b, opaque(Some(MAX_TTL_SECONDS)), NOW).is_ok());
        assert_eq!(inst.create_m2m("mch_gone", opaque(None), NOW).unwrap_err().status.as_u16(), 401);
        // min_remaining must be < lifetime: explicit seconds, else the machine default (c: 60 s).
        let with_min = |s: Option<f64>, m: f64| CreateM2m { min_remaining_ttl_seconds: Some(m), ..opaque(s) };
        assert!(inst.create_m2m(&b, with_min(Some(100.0), 100.0), NOW).is_err());
        assert!(inst.create_m2m(&b, with_min(Some(100.0), 99.0), NOW).is_ok());
        assert!(inst.create_m2m(&c, with_min(None, 60.0), NOW).is_err());
        assert!(inst.create_m2m(&c, with_min(None, 59.0), NOW).is_ok());
        assert!(inst.create_m2m(&c, with_min(None, -1.0), NOW).is_err());
        assert!(inst.create_m2m(&c, with_min(None, f64::NAN), NOW).is_err());
    }

    #[test]
    fn min_remaining_ttl_reuse_rule() {
        let mut inst = instance();
        let (a, b, _) = ids(&inst);
        let req = |m: f64| CreateM2m { min_remaining_ttl_seconds: Some(m), ..opaque(Some(600.0)) };
        let first = inst.create_m2m(&b, req(100.0), NOW).unwrap();
        // Same machine, same claims/scopes, enough TTL left: same token back.
        let again = inst.create_m2m(&b, req(100.0), NOW + 1000).unwrap();
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["token"], first["token"]);
        // Exactly min remaining is enough; one ms less is not.
        let at_boundary = inst.create_m2m(&b, req(100.0), NOW + 500_000).unwrap();
        assert_eq!(at_boundary["id"], first["id"]);
        let past = inst.create_m2m(&b, req(100.0), NOW + 500_001).unwrap();
        assert_ne!(past["id"], first["id"]);
        // Different claims → new token.
        let claims = CreateM2m { claims: Some(json!({"x": 1}).as_object().unwrap().clone()), ..req(10.0) };
        assert_ne!(inst.create_m2m(&b, claims, NOW).unwrap()["id"], first["id"]);
        // Other machine never reuses b's token.
        assert_ne!(inst.create_m2m(&a, req(10.0), NOW).unwrap()["subject"], first["subject"]);
        // Revoked tokens are not reused; the newest live one is.
        let newest = past["id"].as_str().unwrap().to_owned();
        inst.revoke_m2m(None, &newest, None, NOW).unwrap();
        let after_revoke = inst.create_m2m(&b, req(10.0), NOW + 500_001).unwrap();
        assert_ne!(after_revoke["id"].as_str().unwrap(), newest);
        // Without min_remaining every create mints.
        let x = inst.create_m2m(&b, opaque(Some(600.0)), NOW).unwrap();
        let y = inst.create_m2m(&b, opaque(Some(600.0)), NOW).unwrap();
        assert_ne!(x["id"], y["id"]);
        // A never-expiring token satisfies any (valid) minimum; c's default TTL (60 s) bounds it.
        let c = inst.machines[2].id.clone();
        let n1 = inst.create_m2m(&c, CreateM2m { min_remaining_ttl_seconds: Some(5.0), ..opaque(None) }, NOW).unwrap();
        let n2 = inst.create_m2m(&c, CreateM2m { min_remaining_ttl_seconds: Some(59.0), ..opaque(None) }, NOW + 86_400_000).unwrap();
        assert_eq!(n1["expiration"], Value::Null);
        assert_eq!(n1["id"], n2["id"]);
        // JWTs are never deduplicated.
        let j = |m| CreateM2m { format: TokenFormat::Jwt, min_remaining_ttl_seconds: Some(m), ..opaque(Some(600.0)) };
        let j1 = inst.create_m2m(&b, j(10.0), NOW).unwrap();
        let j2 = inst.create_m2m(&b, j(10.0), NOW).unwrap();
        assert_ne!(j1["id"], j2["id"]);
    }

    #[test]
    fn jwt_create_header_claims_and_verify() {
        let mut inst = instance();
        let (a, b, _) = ids(&inst);
        let custom = json!({"role": "svc", "sub": "evil", "exp": 1, "aud": "x", "scopes": "y", "iss": "z", "jti": "j", "iat": 0, "nbf": 0}).as_object().unwrap().clone();
        let v = inst.create_m2m(&b, CreateM2m { seconds_until_expiration: Some(120.0), claims: Some(custom.clone()), format: TokenFormat::Jwt, min_remaining_ttl_seconds: None }, NOW).unwrap();
        let jwt = v["token"].as_str().unwrap();
        let raw_header = String::from_utf8(URL_SAFE_NO_PAD.decode(jwt.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(raw_header, r#"{"alg":"RS256","typ":"JWT","kid":"ins_test","cat":"cl_B7d4PD333AAA"}"#);
        let p = segment(jwt, 1);
        let order: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(order, ["iss", "sub", "aud", "scopes", "jti", "iat", "nbf", "exp", "role"]);
        let iat = NOW / 1000;
        assert_eq!(p["iss"], inst.issuer.as_str());
        assert_eq!(p["sub"], b.as_str());
        assert_eq!(p["aud"], json!([a]));
        assert_eq!(p["scopes"], a.as_str());
        assert_eq!(p["jti"], v["id"]);
        assert_eq!(p["iat"], iat);
        assert_eq!(p["nbf"], iat - NBF_LEEWAY_SECONDS);
        assert_eq!(p["exp"], iat + 120);
        assert_eq!(v["expiration"], (iat + 120) * 1000);
        assert_eq!(v["created_at"], iat * 1000);
        assert_eq!(v["claims"], Value::Object(custom));
        // Verify by instance and by the scoped machine a; machine c is not in scope → 404.
        let by_instance = inst.verify_m2m(None, jwt, NOW).unwrap();
        assert_eq!(by_instance["id"], v["id"]);
        assert!(by_instance.get("token").is_none());
        assert!(inst.verify_m2m(Some(&a), jwt, NOW).is_ok());
        let c = inst.machines[2].id.clone();
        assert_eq!(inst.verify_m2m(Some(&c), jwt, NOW).unwrap_err().status.as_u16(), 404);
        // Expired JWT → 404 (boundary: exp*1000 == now).
        assert_eq!(inst.verify_m2m(None, jwt, (iat + 120) * 1000).unwrap_err().status.as_u16(), 404);
        assert!(inst.verify_m2m(None, jwt, (iat + 120) * 1000 - 1).is_ok());
        // Tampered → 404.
        let tampered = format!("{}x", jwt);
        assert!(inst.verify_m2m(None, &tampered, NOW).is_err());
    }

    #[test]
    fn jwt_without_scopes_or_expiry() {
        let mut inst = instance();
        let (a, _, _) = ids(&inst);
        let v = inst.create_m2m(&a, CreateM2m { format: TokenFormat::Jwt, ..opaque(None) }, NOW).unwrap();
        let p = segment(v["token"].as_str().unwrap(), 1);
        assert_eq!(p["aud"], json!([]));
        assert!(p.get("scopes").is_none());
        assert!(p.get("exp").is_none());
        assert_eq!(v["expiration"], Value::Null);
        assert!(inst.verify_m2m(None, v["token"].as_str().unwrap(), NOW + 10_000_000_000).is_ok());
    }

    #[test]
    fn jwt_signed_by_other_means_is_built_from_payload() {
        let mut inst = instance();
        let (a, b, _) = ids(&inst);
        let key = inst.active_key().unwrap();
        let payload = json!({"sub": b, "scopes": format!("{a} x"), "jti": "mt_custom", "iat": NOW / 1000, "exp": NOW / 1000 + 60, "role": "r"});
        let jwt = key.sign_jwt(&json!({"alg": "RS256", "kid": "ins_test"}), &payload).unwrap();
        let v = inst.verify_m2m(None, &jwt, NOW).unwrap();
        assert_eq!(v["id"], "mt_custom");
        assert_eq!(v["scopes"], json!([a, "x"]));
        assert_eq!(v["claims"], json!({"scopes": format!("{a} x"), "role": "r"}));
        assert_eq!(v["created_at"], (NOW / 1000) * 1000);
        // nbf in the future beyond 5 s skew → 404; within skew → ok.
        let early = key.sign_jwt(&json!({"alg": "RS256", "kid": "ins_test"}), &json!({"sub": b, "nbf": NOW / 1000 + 10})).unwrap();
        assert!(inst.verify_m2m(None, &early, NOW).is_err());
        let near = key.sign_jwt(&json!({"alg": "RS256", "kid": "ins_test"}), &json!({"sub": b, "nbf": NOW / 1000 + 4})).unwrap();
        assert!(inst.verify_m2m(None, &near, NOW).is_ok());
        // Non-machine subject, non-numeric exp → 404.
        for bad in [json!({"sub": "user_1"}), json!({"sub": b, "exp": "soon"}), json!({"exp": 9_999_999_999i64})] {
            let t = key.sign_jwt(&json!({"alg": "RS256", "kid": "ins_test"}), &bad).unwrap();
            assert!(inst.verify_m2m(None, &t, NOW).is_err(), "{bad}");
        }
        // After the key is retired the instance no longer accepts the token.
        let kid = inst.active_key().unwrap().kid().to_owned();
        inst.retire_key(&kid);
        assert!(inst.verify_m2m(None, &jwt, NOW).is_err());
        assert_eq!(inst.create_m2m(&a, CreateM2m { format: TokenFormat::Jwt, ..opaque(None) }, NOW).unwrap_err().status.as_u16(), 500);
    }

    #[test]
    fn check_names_why_a_token_does_not_verify() {
        let mut inst = instance();
        let (a, b, c) = ids(&inst);
        let jwt = |inst: &mut Instance, s| inst.create_m2m(&b, CreateM2m { format: TokenFormat::Jwt, ..opaque(s) }, NOW).unwrap()["token"].as_str().unwrap().to_owned();
        let short = jwt(&mut inst, Some(10.0));
        let record = inst.check_m2m(None, &short, NOW).unwrap();
        assert_eq!(record.jwt.as_deref(), Some(short.as_str()), "the JWT is kept for the dashboard");
        assert_eq!(inst.check_m2m(None, &short, NOW + 10_000).unwrap_err(), TokenRejection::Expired);
        assert_eq!(inst.check_m2m(None, &short, NOW - 60_000).unwrap_err(), TokenRejection::NotYetValid);
        assert_eq!(inst.check_m2m(Some(&c), &short, NOW).unwrap_err(), TokenRejection::NotVisible);
        assert_eq!(inst.check_m2m(None, "mt_nope", NOW).unwrap_err(), TokenRejection::UnknownToken);
        assert_eq!(inst.check_m2m(None, "a.b.c", NOW).unwrap_err(), TokenRejection::Jwt(JwtRejection::Malformed));
        let odd = inst.active_key().unwrap().sign_jwt(&json!({"alg": "RS256", "kid": "ins_test"}), &json!({"sub": "user_1"})).unwrap();
        assert_eq!(inst.check_m2m(None, &odd, NOW).unwrap_err(), TokenRejection::NotMachineSubject);
        let odd = inst.active_key().unwrap().sign_jwt(&json!({"alg": "RS256", "kid": "ins_test"}), &json!({"sub": b, "exp": "soon"})).unwrap();
        assert_eq!(inst.check_m2m(None, &odd, NOW).unwrap_err().code(), "time-claim");
        // Revoked and expired opaque tokens are records (the caller decides); unknown ones are not.
        let o = inst.create_m2m(&b, opaque(Some(1.0)), NOW).unwrap();
        assert!(inst.check_m2m(None, o["token"].as_str().unwrap(), NOW + 5_000).unwrap().is_expired(NOW + 5_000));
        // A deleted machine's tokens stop verifying: opaque ones are gone, JWTs name the reason.
        let long = jwt(&mut inst, None);
        let opaque_token = inst.create_m2m(&b, opaque(None), NOW).unwrap()["token"].as_str().unwrap().to_owned();
        inst.delete_machine(&b, NOW).unwrap();
        assert_eq!(inst.check_m2m(None, &long, NOW).unwrap_err(), TokenRejection::UnknownMachine);
        assert_eq!(inst.check_m2m(None, &opaque_token, NOW).unwrap_err(), TokenRejection::UnknownToken);
        assert!(inst.m2m_tokens.newest_first().all(|t| t.subject != b));
        assert!(inst.m2m_by_secret.len() < 3);
        // Retired key.
        let a_jwt = inst.create_m2m(&a, CreateM2m { format: TokenFormat::Jwt, ..opaque(None) }, NOW).unwrap()["token"].as_str().unwrap().to_owned();
        let kid = inst.active_key().unwrap().kid().to_owned();
        inst.retire_key(&kid);
        assert_eq!(inst.check_m2m(None, &a_jwt, NOW).unwrap_err().code(), "kid-unknown");
    }

    #[test]
    fn verify_opaque_visibility_and_inactive_switch() {
        let mut inst = instance();
        let (a, b, c) = ids(&inst);
        let v = inst.create_m2m(&b, opaque(Some(60.0)), NOW).unwrap();
        let token = v["token"].as_str().unwrap().to_owned();
        let id = v["id"].as_str().unwrap().to_owned();
        assert!(inst.verify_m2m(None, &token, NOW).is_ok());
        assert!(inst.verify_m2m(Some(&a), &token, NOW).is_ok()); // in scope
        assert!(inst.verify_m2m(Some(&b), &token, NOW).is_ok()); // minter
        assert_eq!(inst.verify_m2m(Some(&c), &token, NOW).unwrap_err().status.as_u16(), 404);
        assert!(inst.verify_m2m(None, &id, NOW).is_err()); // the id is not the token
        assert!(inst.verify_m2m(None, "mt_unknown", NOW).is_err());
        assert!(inst.verify_m2m(None, "", NOW).is_err());
        // Expired: 200 with expired:true by default (boundary: expiration == now).
        let expired = inst.verify_m2m(None, &token, NOW + 60_000).unwrap();
        assert_eq!(expired["expired"], true);
        assert_eq!(inst.verify_m2m(None, &token, NOW + 59_999).unwrap()["expired"], false);
        inst.revoke_m2m(None, &id, Some("done".into()), NOW).unwrap();
        let revoked = inst.verify_m2m(None, &token, NOW).unwrap();
        assert_eq!((revoked["revoked"].clone(), revoked["revocation_reason"].clone()), (json!(true), json!("done")));
        inst.reject_inactive_tokens = true;
        assert!(inst.verify_m2m(None, &token, NOW).is_err());
        let live = inst.create_m2m(&b, opaque(Some(60.0)), NOW).unwrap();
        assert!(inst.verify_m2m(None, live["token"].as_str().unwrap(), NOW).is_ok());
        assert!(inst.verify_m2m(None, live["token"].as_str().unwrap(), NOW + 60_000).is_err());
    }

    #[test]
    fn revoke_rules() {
        let mut inst = instance();
        let (a, b, c) = ids(&inst);
        let v = inst.create_m2m(&b, opaque(None), NOW).unwrap();
        let id = v["id"].as_str().unwrap().to_owned();
        assert_eq!(inst.revoke_m2m(Some(&c), &id, None, NOW).unwrap_err().status.as_u16(), 404);
        assert_eq!(inst.revoke_m2m(None, "mt_nope", None, NOW).unwrap_err().status.as_u16(), 404);
        let r = inst.revoke_m2m(Some(&a), &id, Some("first".into()), NOW + 5).unwrap();
        assert_eq!(r["revoked"], true);
        assert_eq!(r["revocation_reason"], "first");
        assert_eq!(r["updated_at"], NOW + 5);
        assert!(r.get("token").is_none());
        let again = inst.revoke_m2m(None, &id, Some("second".into()), NOW + 9).unwrap();
        assert_eq!(again["revocation_reason"], "first");
        assert_eq!(again["updated_at"], NOW + 5);
    }

    #[test]
    fn list_filters_pagination_and_auth() {
        let mut inst = instance();
        let (a, b, _) = ids(&inst);
        let t1 = inst.create_m2m(&b, opaque(Some(10.0)), NOW).unwrap();
        let t2 = inst.create_m2m(&b, opaque(None), NOW + 1).unwrap();
        let t3 = inst.create_m2m(&b, opaque(None), NOW + 2).unwrap();
        inst.create_m2m(&a, opaque(None), NOW).unwrap();
        inst.revoke_m2m(None, t3["id"].as_str().unwrap(), None, NOW).unwrap();
        let q = |subject: Option<&str>, r, e, limit, offset| ListM2m { subject: subject.map(str::to_owned), include_revoked: r, include_expired: e, limit, offset };
        let later = NOW + 20_000; // t1 expired
        let base = inst.list_m2m(None, &q(Some(&b), false, false, 10, 0), later).unwrap();
        assert_eq!(base["total_count"], 1);
        assert_eq!(base["m2m_tokens"][0]["id"], t2["id"]);
        assert!(base["m2m_tokens"][0].get("token").is_none());
        let all = inst.list_m2m(None, &q(Some(&b), true, true, 10, 0), later).unwrap();
        assert_eq!(all["total_count"], 3);
        assert_eq!(all["m2m_tokens"][0]["id"], t3["id"]); // newest first
        assert_eq!(all["m2m_tokens"][2]["id"], t1["id"]);
        assert_eq!(inst.list_m2m(None, &q(Some(&b), true, false, 10, 0), later).unwrap()["total_count"], 2);
        assert_eq!(inst.list_m2m(None, &q(Some(&b), false, true, 10, 0), later).unwrap()["total_count"], 2);
        let page = inst.list_m2m(None, &q(Some(&b), true, true, 1, 1), later).unwrap();
        assert_eq!(page["m2m_tokens"].as_array().unwrap().len(), 1);
        assert_eq!(page["m2m_tokens"][0]["id"], t2["id"]);
        assert_eq!(page["total_count"], 3);
        // Instance key without subject: every machine's tokens.
        assert_eq!(inst.list_m2m(None, &q(None, true, true, 100, 0), later).unwrap()["total_count"], 4);
        // Machine key: own tokens only; subject of another machine → 403.
        assert_eq!(inst.list_m2m(Some(&a), &q(None, true, true, 100, 0), later).unwrap()["total_count"], 1);
        assert_eq!(inst.list_m2m(Some(&a), &q(Some(&a), true, true, 100, 0), later).unwrap()["total_count"], 1);
        assert_eq!(inst.list_m2m(Some(&a), &q(Some(&b), true, true, 100, 0), later).unwrap_err().status.as_u16(), 403);
    }

    #[test]
    fn token_cap_evicts_oldest_and_its_secret() {
        let mut inst = instance();
        inst.m2m_tokens = crate::state::store::BoundedStore::new(2);
        let (_, b, _) = ids(&inst);
        let first = inst.create_m2m(&b, opaque(None), NOW).unwrap();
        inst.create_m2m(&b, opaque(None), NOW).unwrap();
        inst.create_m2m(&b, opaque(None), NOW).unwrap();
        assert_eq!(inst.m2m_tokens.len(), 2);
        assert_eq!(inst.m2m_by_secret.len(), 2);
        assert!(inst.verify_m2m(None, first["token"].as_str().unwrap(), NOW).is_err());
    }
}
