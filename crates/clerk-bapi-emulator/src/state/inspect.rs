//! The dashboard's "inspect": what a pasted credential is, what it says, and whether it verifies
//! against this instance — and if not, why. Verification is the emulator's own
//! ([`Instance::check_m2m`], the code behind `POST /m2m_tokens/verify`), so the answer is the
//! one the Backend API would give; the reason is what that endpoint folds into a 404.

use super::m2m::TokenRejection;
use super::Instance;
use crate::keys;
use serde_json::{json, Value};

/// Longest input inspect looks at (Clerk tokens are far shorter; the package refuses over 16 KiB).
pub const MAX_INSPECT_BYTES: usize = 16 * 1024;

impl Instance {
    /// `{kind, verifies, reason, message, decoded, token}` (camelCase) for `input` at `now`.
    pub fn inspect(&self, index: usize, input: &str, now: i64) -> Value {
        let input = input.trim();
        let answer = |kind: &str, verifies: bool, reason: Option<&str>, message: String| json!({ "kind": kind, "verifies": verifies, "reason": reason, "message": message, "decoded": null, "token": null });
        if input.is_empty() {
            return answer("empty", false, Some("empty"), "Paste a token to inspect it.".into());
        }
        if input.len() > MAX_INSPECT_BYTES {
            return answer("unknown", false, Some("too-large"), format!("Longer than {MAX_INSPECT_BYTES} bytes: no Clerk token is."));
        }
        if input == self.secret_key {
            return answer("instance_secret_key", false, Some("not-a-token"), format!("This is the secret key of instance {index}: a credential for the Backend API, not a token."));
        }
        if let Some(m) = self.machines.iter().find(|m| m.accepts(input, now)) {
            let which = if m.secret_key == input { "the secret key" } else { "the previous (rotated) secret key" };
            return answer("machine_secret_key", false, Some("not-a-token"), format!("This is {which} of machine {:?} ({}): it mints tokens, it is not one.", m.name, m.id));
        }
        if input.starts_with("oat_") {
            return match self.verify_oauth_token(input, now) {
                Ok(v) => json!({ "kind": "oauth_token", "verifies": !(v["revoked"] == true || v["expired"] == true), "reason": inactive_reason(&v), "message": "An OAuth access token seeded into this instance.", "decoded": null, "token": v }),
                Err(_) => answer("oauth_token", false, Some("unknown-token"), "No OAuth access token of this instance has this value.".into()),
            };
        }
        let decoded = keys::decode_jwt(input).ok().map(|d| json!({ "header": d.header, "payload": d.payload }));
        let kind = if keys::looks_like_jwt(input) { "m2m_jwt" } else if input.starts_with("mt_") { "m2m_opaque" } else { "unknown" };
        let mut out = match self.check_m2m(None, input, now) {
            Ok(record) => {
                let v = record.to_json(now, None);
                let (verifies, reason, message) = match (record.revoked, record.is_expired(now)) {
                    (true, _) => (false, Some("revoked"), format!("Revoked{}: the Backend API still finds it, this package refuses it.", record.revocation_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())),
                    (_, true) => (false, Some("expired"), "Expired: the Backend API still finds it, this package refuses it.".to_owned()),
                    _ => (true, None, format!("Verifies against instance {index}: minted by {}.", self.machine(&record.subject).map(|m| format!("{:?}", m.name)).unwrap_or_else(|| record.subject.clone()))),
                };
                json!({ "kind": kind, "verifies": verifies, "reason": reason, "message": message, "decoded": null, "token": v })
            }
            Err(TokenRejection::UnknownToken) if kind == "unknown" => answer("unknown", false, Some("unknown-token"), "Not a Clerk machine token of this instance (neither a JWT nor a known opaque token).".into()),
            Err(why) => answer(kind, false, Some(why.code()), format!("Does not verify against instance {index}: {why}.")),
        };
        out["decoded"] = decoded.unwrap_or(Value::Null);
        out
    }
}

fn inactive_reason(v: &Value) -> Option<&'static str> {
    if v["revoked"] == true {
        Some("revoked")
    } else if v["expired"] == true {
        Some("expired")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::m2m::{CreateM2m, TokenFormat};
    use super::super::seeded::OAuthTokenSeed;
    use super::super::test_support::instance;

    const NOW: i64 = 1_700_000_000_000;

    #[test]
    fn says_what_a_credential_is_and_why_it_does_not_verify() {
        let mut inst = instance();
        let b = inst.machines[1].id.clone();
        let mint = |inst: &mut super::Instance, format| inst.create_m2m(&b, CreateM2m { seconds_until_expiration: Some(60.0), claims: None, format, min_remaining_ttl_seconds: None }, NOW).unwrap();
        let jwt = mint(&mut inst, TokenFormat::Jwt);
        let v = inst.inspect(0, jwt["token"].as_str().unwrap(), NOW);
        assert_eq!((v["kind"].as_str(), v["verifies"].as_bool(), v["reason"].as_str()), (Some("m2m_jwt"), Some(true), None));
        assert_eq!(v["decoded"]["payload"]["sub"], b.as_str());
        assert_eq!(v["token"]["id"], jwt["id"]);
        let late = inst.inspect(0, jwt["token"].as_str().unwrap(), NOW + 61_000);
        assert_eq!((late["verifies"].as_bool(), late["reason"].as_str()), (Some(false), Some("expired")));
        assert_eq!(late["decoded"]["header"]["kid"], "ins_test", "decoded even when it does not verify");

        let opaque = mint(&mut inst, TokenFormat::Opaque);
        let secret = opaque["token"].as_str().unwrap().to_owned();
        assert_eq!(inst.inspect(0, &secret, NOW)["verifies"], true);
        inst.revoke_m2m(None, opaque["id"].as_str().unwrap(), Some("leaked".into()), NOW).unwrap();
        let r = inst.inspect(0, &format!("  {secret}\n"), NOW);
        assert_eq!((r["kind"].as_str(), r["verifies"].as_bool(), r["reason"].as_str()), (Some("m2m_opaque"), Some(false), Some("revoked")));
        assert!(r["message"].as_str().unwrap().contains("leaked"));
        assert_eq!(inst.inspect(0, "mt_unknown", NOW)["reason"], "unknown-token");
        assert_eq!(inst.inspect(0, "hello", NOW)["kind"], "unknown");
        assert_eq!(inst.inspect(0, "", NOW)["reason"], "empty");
        assert_eq!(inst.inspect(0, &"x".repeat(super::MAX_INSPECT_BYTES + 1), NOW)["reason"], "too-large");
        assert_eq!(inst.inspect(0, "sk_test_secret", NOW)["kind"], "instance_secret_key");
        let mk = inst.machines[0].secret_key.clone();
        let m = inst.inspect(0, &mk, NOW);
        assert_eq!(m["kind"], "machine_secret_key");
        assert!(!m.to_string().contains(&mk), "inspect never echoes a secret key");
        let oat = inst.seed_oauth_token(OAuthTokenSeed { subject: "user_1".into(), ..Default::default() }, NOW).unwrap();
        assert_eq!(inst.inspect(0, &oat.secret, NOW)["verifies"], true);
        assert_eq!(inst.inspect(0, "oat_nope", NOW)["reason"], "unknown-token");
        let forged = format!("{}x", &jwt["token"].as_str().unwrap()[..jwt["token"].as_str().unwrap().len() - 1]);
        assert!(inst.inspect(0, &forged, NOW)["reason"].as_str().is_some_and(|r| r == "signature" || r == "malformed"));
    }
}
