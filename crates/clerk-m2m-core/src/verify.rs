//! `verifyMachineAuthToken` and `verifyM2MToken`: the machine-token router.
//!
//! Routing follows `@clerk/backend@3.25.0` exactly (JWT shape first, then the
//! `mt_`/`oat_`/`ak_` prefixes, else "Unknown machine token type"). What is new
//! is the split between [`Verifier::verify_local`], which settles on the
//! calling thread everything that needs no network (every local rejection, a
//! PEM key, a warm JWKS entry), and [`Verifier::verify`], the full async path.
//! Both produce the same [`Outcome`] for the same token; the binding tries the
//! first and falls back to the second, so the common case never hops threads.

use crate::bapi::BapiConfig;
use crate::clock::{Clock, SystemClock};
use crate::constants::*;
use crate::decode::{decode_view, JwtView, Scratch};
use crate::detect::is_jwt_format;
use crate::errors::{FailureReason, MachineErrorCode};
use crate::js;
use crate::jwks::{self, CachedJwk, JwksScope};
use crate::json::FieldRef;
use crate::jwt::{self, JwtParts, MachineJwtOptions, SignatureCheck};
use crate::keys::VerificationKey;
use crate::options::VerifyOptions;
use crate::redact::echo_untrusted;
use crate::opaque::OpaqueAnswers;
use crate::outcome::{Outcome, VerifiedData};
use crate::sigcache;
use serde_json::Value;
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Which public function is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `verifyMachineAuthToken`: every machine token type.
    MachineAuth,
    /// `verifyM2MToken`: M2M JWTs and `mt_` tokens only; anything else is `token-invalid`.
    M2MOnly,
}

const NOT_AN_M2M_TOKEN: &str = "The token is not an M2M token: expected an M2M JWT (sub starting with 'mch_') or an opaque token starting with 'mt_'.";

/// A settled outcome from [`Verifier::verify_local_answer`].
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub outcome: Outcome,
    /// A verified JWT whose signature the signature cache already held: this
    /// exact token was verified before. Only repeats are worth remembering
    /// whole (see [`Verifier::reuse_hint`]); a stream of distinct tokens then
    /// costs no memory beyond the signature cache.
    pub repeat: bool,
    /// When the key that verified it stops being vouched for: its JWKS fetch
    /// time + TTL (`None` for a PEM key, which cannot rotate).
    pub key_expires_at_ms: Option<f64>,
}

impl Answer {
    fn new(outcome: Outcome) -> Self {
        Answer { outcome, repeat: false, key_expires_at_ms: None }
    }
}

/// Where a token goes after the local checks (the first step, [`Verifier::route`]).
#[allow(clippy::large_enum_variant)] // short-lived, on the stack: see `Outcome`
enum Route<'t, 'b> {
    /// Settled without a key (a rejection, or unroutable).
    Done(Outcome),
    /// A JWT to verify with a key: an M2M JWT whose category passed, or an OAuth JWT.
    /// Decoded into the caller's [`Scratch`], borrowed from it.
    Jwt(JwtView<'t, 'b>, JwtKind),
    /// An opaque token, verified by the Backend API.
    Opaque(TokenType),
}

/// The two kinds of machine JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JwtKind {
    M2M,
    OAuth,
}

impl JwtKind {
    fn token_type(self) -> TokenType {
        match self {
            JwtKind::M2M => TokenType::M2MToken,
            JwtKind::OAuth => TokenType::OAuthToken,
        }
    }
}

/// The key a JWT is verified with: the parsed `jwtKey`, or a JWKS entry.
enum Key<'v> {
    Pem(&'v VerificationKey),
    Jwk(Arc<CachedJwk>),
}

impl Key<'_> {
    fn verification_key(&self) -> &VerificationKey {
        match self {
            Key::Pem(key) => key,
            Key::Jwk(jwk) => &jwk.key,
        }
    }

    /// See [`Answer::key_expires_at_ms`].
    fn expires_at_ms(&self) -> Option<f64> {
        match self {
            Key::Pem(_) => None,
            Key::Jwk(jwk) => Some(jwk.expires_at_ms),
        }
    }
}

/// What the second step ([`Verifier::resolve_key`]) found without the network.
enum Resolved<'v> {
    Key(Key<'v>),
    /// Neither `jwtKey` nor `secretKey`: the reference's `Failed to resolve JWK during verification.`
    NoKey,
    /// The key is behind a JWKS fetch (a cold or expired cache, or `skipJwksCache`).
    Fetch,
}

/// How the JWT key is found.
enum KeySource {
    /// `jwtKey`, parsed once: strictly networkless.
    Pem(VerificationKey),
    /// `secretKey`: the instance JWKS, through the shared cache.
    Jwks,
    /// Neither: `Failed to resolve JWK during verification.`
    None,
}

/// A verifier bound to one option set (keys parsed, scope computed once).
pub struct Verifier {
    options: VerifyOptions,
    bapi: BapiConfig,
    scope: JwksScope,
    key_source: KeySource,
    opaque: OpaqueAnswers,
    clock: Arc<dyn Clock>,
    /// Verifications settled without the network ([`Verifier::verify_local_answer`]), and
    /// full ones ([`Verifier::verify`]).
    local: AtomicU64,
    remote: AtomicU64,
    /// Outcomes by token type × code, counted by whoever settles a verification (the binding).
    outcomes: crate::outcome_counts::OutcomeCounts,
}

impl Verifier {
    pub fn new(options: VerifyOptions) -> Self {
        Self::with_clock(options, Arc::new(SystemClock))
    }

    pub fn with_clock(options: VerifyOptions, clock: Arc<dyn Clock>) -> Self {
        let key_source = match (&options.jwt_key, &options.secret_key) {
            (Some(pem), _) => KeySource::Pem(VerificationKey::from_pem(pem)),
            (None, Some(_)) => KeySource::Jwks,
            (None, None) => KeySource::None,
        };
        Verifier {
            bapi: BapiConfig {
                api_url: options.api_url.clone(),
                api_version: options.api_version.clone(),
                secret_key: options.secret_key.clone(),
                machine_secret_key: options.machine_secret_key.clone(),
                timeout: options.timeout,
            },
            // `apiUrl` as given: the reference does not normalise it (a trailing slash is another scope).
            scope: JwksScope::new(&options.api_url_raw, &options.api_version, options.secret_key.as_ref()),
            key_source,
            opaque: OpaqueAnswers::new(options.opaque_cache_ttl_ms),
            options,
            clock,
            local: AtomicU64::new(0),
            remote: AtomicU64::new(0),
            outcomes: crate::outcome_counts::OutcomeCounts::default(),
        }
    }

    pub fn options(&self) -> &VerifyOptions {
        &self.options
    }

    /// Empties the caches this verifier holds by itself (the opt-in opaque answers); shared
    /// caches (JWKS, signatures) are left to other verifiers. For a verifier being released.
    pub fn clear_caches(&self) {
        self.opaque.clear();
    }

    /// [`Outcome::reusable_until`] with this verifier's clock and skew; `None` when `tokenCache` is off.
    pub fn reusable_until(&self, outcome: &Outcome) -> Option<f64> {
        // With skipJwksCache every call must see the current key set.
        if !self.options.token_cache || self.options.skip_jwks_cache {
            return None;
        }
        outcome.reusable_until(self.clock.now_ms(), self.options.effective_clock_skew_ms())
    }

    /// Until when (ms) the caller may answer this token again from memory:
    /// for a repeat, [`Verifier::reusable_until`], and never past the expiry of
    /// the JWKS fetch that supplied the key (after it, a refetch may serve
    /// another key under the same `kid`, or none); `None` for a first sighting.
    pub fn reuse_hint(&self, answer: &Answer) -> Option<f64> {
        if !answer.repeat {
            return None;
        }
        let until = self.reusable_until(&answer.outcome)?;
        match answer.key_expires_at_ms {
            Some(key_expiry) => {
                let until = until.min(key_expiry);
                (until > self.clock.now_ms()).then_some(until)
            }
            None => Some(until),
        }
    }

    /// Step 1: the routing of `verifyMachineAuthToken` (and the M2M category check) up to the
    /// first point that may need a key or the network.
    fn route<'t, 'b>(&self, token: &'t str, mode: Mode, scratch: &'b mut Scratch) -> Route<'t, 'b> {
        let max = self.options.max_token_bytes;
        if is_jwt_format(token) {
            let decoded = match decode_view(token, max, scratch) {
                Ok(d) => d,
                Err(e) => {
                    let reason = if matches!(e, crate::decode::DecodeError::TooLarge { .. }) { FailureReason::TooLarge } else { FailureReason::Malformed };
                    return Route::Done(Outcome::rejected(TokenType::M2MToken, MachineErrorCode::TokenInvalid, reason, e.to_string()));
                }
            };
            // A `null` or non-object payload/header has no `sub`/`typ` (the reference throws a TypeError here).
            if let Some(FieldRef::Str(sub)) = decoded.payload_field("sub") {
                if sub.starts_with(M2M_SUBJECT_PREFIX) {
                    // The category comes before any key work or network.
                    return match jwt::check_m2m_category(&decoded) {
                        Ok(()) => Route::Jwt(decoded, JwtKind::M2M),
                        Err(error) => Route::Done(Outcome::Rejected { token_type: TokenType::M2MToken, error }),
                    };
                }
            }
            if mode == Mode::M2MOnly {
                return Route::Done(Outcome::rejected(TokenType::M2MToken, MachineErrorCode::TokenInvalid, FailureReason::WrongType, NOT_AN_M2M_TOKEN));
            }
            let typ = decoded.header_field("typ");
            if let Some(FieldRef::Str(t)) = typ {
                if OAUTH_ACCESS_TOKEN_TYPES.contains(&t) {
                    return Route::Jwt(decoded, JwtKind::OAuth);
                }
            }
            let shown = match typ {
                None | Some(FieldRef::Json(Value::Null)) => "missing".to_owned(),
                Some(FieldRef::Str(t)) => echo_untrusted(t),
                Some(FieldRef::Json(v)) => echo_untrusted(&js::to_js_string(v)),
            };
            let message = format!(
                "Invalid JWT type: {shown}. Expected one of: {} for OAuth, or sub starting with 'mch_' for M2M",
                OAUTH_ACCESS_TOKEN_TYPES.join(", ")
            );
            return Route::Done(Outcome::rejected(TokenType::OAuthToken, MachineErrorCode::TokenVerificationFailed, FailureReason::WrongType, message));
        }
        let token_type = if token.starts_with(M2M_TOKEN_PREFIX) {
            TokenType::M2MToken
        } else if token.starts_with(OAUTH_TOKEN_PREFIX) {
            TokenType::OAuthToken
        } else if token.starts_with(API_KEY_PREFIX) {
            TokenType::ApiKey
        } else if mode == Mode::M2MOnly {
            return Route::Done(Outcome::rejected(TokenType::M2MToken, MachineErrorCode::TokenInvalid, FailureReason::WrongType, NOT_AN_M2M_TOKEN));
        } else {
            return Route::Done(Outcome::Unroutable);
        };
        if mode == Mode::M2MOnly && token_type != TokenType::M2MToken {
            return Route::Done(Outcome::rejected(TokenType::M2MToken, MachineErrorCode::TokenInvalid, FailureReason::WrongType, NOT_AN_M2M_TOKEN));
        }
        if token.len() > max {
            // Never sent: no real opaque token is this large, and a flood of them must cost nothing.
            return Route::Done(Outcome::rejected(
                token_type,
                MachineErrorCode::TokenInvalid,
                FailureReason::TooLarge,
                format!("Invalid machine token. The token is larger than {max} bytes."),
            ));
        }
        Route::Opaque(token_type)
    }

    /// Step 2: the key for a routed JWT, as far as it can be had without the network.
    fn resolve_key(&self, decoded: &JwtView<'_, '_>) -> Resolved<'_> {
        match &self.key_source {
            KeySource::Pem(key) => Resolved::Key(Key::Pem(key)),
            KeySource::None => Resolved::NoKey,
            KeySource::Jwks if self.options.skip_jwks_cache => Resolved::Fetch,
            KeySource::Jwks => {
                match jwks::global().try_get_cached_by_key(&self.scope, &kid_lookup_key(decoded.header_field("kid")), self.clock.now_ms()) {
                    Some(jwk) => Resolved::Key(Key::Jwk(jwk)),
                    None => Resolved::Fetch,
                }
            }
        }
    }

    /// Step 2, networked: the JWKS entry for the token's `kid` (single-flight fetch, cooldown).
    async fn fetch_key(&self, decoded: &JwtView<'_, '_>, kind: JwtKind) -> Result<Key<'static>, Outcome> {
        // The network path: a copy of the kid costs nothing here.
        let kid = decoded.header_field("kid").map(FieldRef::to_value);
        match jwks::global().get_key(&self.scope, &self.bapi, kid.as_ref(), self.options.skip_jwks_cache, self.clock.as_ref()).await {
            Ok(jwk) => Ok(Key::Jwk(jwk)),
            Err(e) => Err(Outcome::Rejected { token_type: kind.token_type(), error: jwt::machine_error(e) }),
        }
    }

    /// Step 3: the signature and the claims, with the key in hand.
    fn finish_jwt(&self, token: &str, decoded: JwtView<'_, '_>, key: &Key<'_>, kind: JwtKind) -> Answer {
        let clock = self.clock.as_ref();
        let key_expires_at_ms = key.expires_at_ms();
        let options = MachineJwtOptions {
            audience: &self.options.audience,
            clock_skew_ms: self.options.clock_skew_in_ms,
            signature_cache: self.options.token_cache.then(sigcache::global),
            key_expires_at_ms,
        };
        let token_type = kind.token_type();
        let verified = match kind {
            JwtKind::OAuth => jwt::verify_oauth_jwt_with_key(token, &decoded, key.verification_key(), &options, clock).map(|(t, c)| (VerifiedData::OAuthJwt(t), c)),
            JwtKind::M2M => jwt::verify_m2m_jwt_with_key(token, decoded, key.verification_key(), &options, clock).map(|(t, c)| (VerifiedData::M2MJwt(t), c)),
        };
        match verified {
            Ok((data, check)) => Answer { outcome: Outcome::Verified { token_type, data }, repeat: check == SignatureCheck::Remembered, key_expires_at_ms },
            Err(error) => Answer { outcome: Outcome::Rejected { token_type, error }, repeat: false, key_expires_at_ms },
        }
    }

    /// Answers without the network when it can; `None` means "needs the network: call [`Verifier::verify`]".
    pub fn verify_local(&self, token: &str, mode: Mode) -> Option<Outcome> {
        self.verify_local_answer(token, mode).map(|a| a.outcome)
    }

    /// [`Verifier::verify_local`], also saying whether the token is a repeat.
    pub fn verify_local_answer(&self, token: &str, mode: Mode) -> Option<Answer> {
        let mut scratch = Scratch::new();
        let answer = match self.route(token, mode, &mut scratch) {
            Route::Done(outcome) => Answer::new(outcome),
            Route::Opaque(_) => return None,
            Route::Jwt(decoded, kind) => match self.resolve_key(&decoded) {
                Resolved::Key(key) => self.finish_jwt(token, decoded, &key, kind),
                Resolved::NoKey => Answer::new(no_key(kind)),
                Resolved::Fetch => return None,
            },
        };
        self.local.fetch_add(1, Ordering::Relaxed);
        self.outcomes.record(&answer.outcome);
        Some(answer)
    }

    /// The full verification, network included.
    pub async fn verify(&self, token: &str, mode: Mode) -> Outcome {
        self.remote.fetch_add(1, Ordering::Relaxed);
        let outcome = self.verify_uncounted(token, mode).await;
        self.outcomes.record(&outcome);
        outcome
    }

    /// [`Verifier::verify`]'s steps; the caller counts the outcome (one place for every return).
    async fn verify_uncounted(&self, token: &str, mode: Mode) -> Outcome {
        // Boxed: a future that holds 3.5 KiB of stack buffers across its awaits would be that much larger.
        let mut scratch = Box::new(Scratch::new());
        let (decoded, kind) = match self.route(token, mode, &mut scratch) {
            Route::Done(outcome) => return outcome,
            Route::Opaque(token_type) => {
                let audience = &self.options.audience;
                return self.opaque.verify(&self.bapi, token, token_type, audience, || self.clock.now_ms()).await;
            }
            Route::Jwt(decoded, kind) => (decoded, kind),
        };
        let key = match self.resolve_key(&decoded) {
            Resolved::Key(key) => key,
            Resolved::NoKey => return no_key(kind),
            Resolved::Fetch => match self.fetch_key(&decoded, kind).await {
                Ok(key) => key,
                Err(outcome) => return outcome,
            },
        };
        self.finish_jwt(token, decoded, &key, kind).outcome
    }

    /// Verifications this verifier settled without the network, and with it ([`Verifier::verify`]).
    pub fn counts(&self) -> (u64, u64) {
        (self.local.load(Ordering::Relaxed), self.remote.load(Ordering::Relaxed))
    }

    /// This verifier's outcomes by token type × code ([`crate::outcome_counts::OutcomeCounts::record`]):
    /// every outcome [`Verifier::verify_local_answer`] and [`Verifier::verify`] settle is counted there.
    pub fn outcomes(&self) -> &crate::outcome_counts::OutcomeCounts {
        &self.outcomes
    }
}

/// JavaScript `String(kid)`, the JWKS lookup key ([`jwks::kid_lookup_key`]), without a copy of a string kid.
fn kid_lookup_key(kid: Option<FieldRef<'_>>) -> Cow<'_, str> {
    match kid {
        Some(FieldRef::Str(kid)) => Cow::Borrowed(kid),
        Some(FieldRef::Json(kid)) => jwks::kid_lookup_key(Some(kid)),
        None => jwks::kid_lookup_key(None),
    }
}

/// The rejection of a JWT when the verifier has no key at all.
fn no_key(kind: JwtKind) -> Outcome {
    Outcome::Rejected { token_type: kind.token_type(), error: jwt::failed_to_resolve_jwk_error() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base64url::encode;
    use crate::clock::FixedClock;
    use crate::keys::test_keys::{key_a, key_b};
    use crate::keys::JwtAlgorithm;
    use crate::options::RawOptions;
    use crate::errors::MachineTokenVerificationError;
    use crate::outcome::REUSE_MAX_MS;
    use serde_json::json;

    const NOW_S: f64 = 1_700_000_000.0;

    fn signed(header: &Value, payload: &Value) -> String {
        let input = format!("{}.{}", encode(header.to_string().as_bytes()), encode(payload.to_string().as_bytes()));
        let sig = key_a().sign(JwtAlgorithm::RS256, input.as_bytes());
        format!("{input}.{}", encode(&sig))
    }

    fn m2m_token(extra: Value) -> String {
        let mut p = json!({"sub": "mch_1", "jti": "mt_1", "scopes": "mch_2 mch_3", "iat": NOW_S - 10.0, "exp": NOW_S + 60.0});
        if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                p.insert(k.clone(), v.clone());
            }
        }
        signed(&json!({"alg": "RS256", "typ": "JWT", "kid": "ins_a", "cat": JWT_CATEGORY_M2M_TOKEN}), &p)
    }

    fn verifier(raw: RawOptions) -> Verifier {
        let options = VerifyOptions::from_raw(raw).unwrap();
        Verifier::with_clock(options, Arc::new(FixedClock(NOW_S * 1000.0)))
    }

    fn pem_verifier() -> Verifier {
        verifier(RawOptions { jwt_key: Some(key_a().spki_pem()), ..RawOptions::default() })
    }

    fn code(o: &Outcome) -> (TokenType, &'static str, String) {
        match o {
            Outcome::Rejected { token_type, error } => (*token_type, error.code.as_str(), error.message.clone()),
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_m2m_jwt_verifies_locally_with_a_pem() {
        let v = pem_verifier();
        let out = v.verify_local(&m2m_token(json!({})), Mode::MachineAuth).expect("PEM is networkless");
        let Outcome::Verified { token_type, data: VerifiedData::M2MJwt(t) } = &out else { panic!("{out:?}") };
        assert_eq!(*token_type, TokenType::M2MToken);
        let j = t.to_json();
        assert_eq!(j["subject"], "mch_1");
        assert_eq!(j["scopes"], json!(["mch_2", "mch_3"]));
        assert_eq!(j["expiration"].as_f64(), Some((NOW_S + 60.0) * 1000.0));
        let wire: Value = serde_json::from_str(&out.to_json_string()).unwrap();
        assert_eq!(wire["kind"], "m2m");
        assert_eq!(wire["tokenType"], "m2m_token");
    }

    #[tokio::test]
    async fn local_and_full_paths_agree_whenever_local_answers() {
        let v = pem_verifier();
        let other = {
            let input = format!("{}.{}", encode(br#"{"alg":"RS256","typ":"JWT"}"#), encode(br#"{"sub":"mch_1","exp":1}"#));
            format!("{input}.{}", encode(&key_b().sign(JwtAlgorithm::RS256, input.as_bytes())))
        };
        let tokens = [
            m2m_token(json!({})),
            m2m_token(json!({"exp": NOW_S - 100.0})),
            m2m_token(json!({"scopes": 5})),
            other,
            "abc.def.ghi".to_owned(),
            "xx_1".to_owned(),
            signed(&json!({"alg": "RS256", "typ": "at+jwt"}), &json!({"sub": "user_1", "exp": NOW_S + 5.0})),
            signed(&json!({"alg": "RS256", "typ": "JWT"}), &json!({"sub": "user_1"})),
        ];
        for t in &tokens {
            for mode in [Mode::MachineAuth, Mode::M2MOnly] {
                let local = v.verify_local(t, mode).expect("no network needed with a PEM");
                // Compared as the JS layer sees them (NaN timestamps are not `==` to themselves).
                assert_eq!(local.to_json_string(), v.verify(t, mode).await.to_json_string(), "{t} {mode:?}");
            }
        }
    }

    #[test]
    fn routing_follows_the_reference() {
        let v = pem_verifier();
        assert_eq!(v.verify_local("xx_abc", Mode::MachineAuth), Some(Outcome::Unroutable));
        assert_eq!(v.verify_local("", Mode::MachineAuth), Some(Outcome::Unroutable));
        assert_eq!(v.verify_local("mt_abc", Mode::MachineAuth), None, "opaque needs the network");
        assert_eq!(v.verify_local("oat_abc", Mode::MachineAuth), None);
        assert_eq!(v.verify_local("ak_abc", Mode::MachineAuth), None);
        // JWT shape wins over the mt_ prefix.
        let (tt, c, m) = code(&v.verify_local("mt_a.b.c", Mode::MachineAuth).unwrap());
        assert_eq!((tt, c), (TokenType::M2MToken, "token-invalid"));
        assert_eq!(m, "Invalid JWT form. The header, payload, or signature could not be decoded.");
        // A non-M2M, non-OAuth JWT is an oauth_token failure naming its typ.
        let t = signed(&json!({"alg": "RS256", "typ": "JWT"}), &json!({"sub": "user_1"}));
        let (tt, c, m) = code(&v.verify_local(&t, Mode::MachineAuth).unwrap());
        assert_eq!((tt, c), (TokenType::OAuthToken, "token-verification-failed"));
        assert_eq!(m, "Invalid JWT type: JWT. Expected one of: at+jwt, application/at+jwt for OAuth, or sub starting with 'mch_' for M2M");
        let t = signed(&json!({"alg": "RS256"}), &json!({}));
        assert!(code(&v.verify_local(&t, Mode::MachineAuth).unwrap()).2.starts_with("Invalid JWT type: missing."));
        let t = signed(&json!({"alg": "RS256", "typ": "a\nb"}), &json!({}));
        assert!(code(&v.verify_local(&t, Mode::MachineAuth).unwrap()).2.starts_with("Invalid JWT type: a\\nb."));
    }

    #[test]
    fn null_payload_and_header_are_errors_not_crashes() {
        let v = pem_verifier();
        let t = signed(&json!({"alg": "RS256"}), &Value::Null);
        assert_eq!(code(&v.verify_local(&t, Mode::MachineAuth).unwrap()).0, TokenType::OAuthToken);
        let t = signed(&Value::Null, &json!({"sub": "mch_1", "exp": NOW_S + 10.0}));
        let (tt, c, m) = code(&v.verify_local(&t, Mode::MachineAuth).unwrap());
        assert_eq!((tt, c), (TokenType::M2MToken, "token-verification-failed"));
        assert!(m.starts_with("Invalid JWT algorithm undefined."), "{m}");
    }

    #[test]
    fn m2m_only_rejects_everything_else_without_network() {
        let v = pem_verifier();
        for t in ["oat_abc", "ak_abc", "xx_abc", ""] {
            let (tt, c, m) = code(&v.verify_local(t, Mode::M2MOnly).unwrap());
            assert_eq!((tt, c), (TokenType::M2MToken, "token-invalid"), "{t}");
            assert_eq!(m, NOT_AN_M2M_TOKEN);
        }
        let oauth = signed(&json!({"alg": "RS256", "typ": "at+jwt"}), &json!({"sub": "user_1"}));
        assert_eq!(code(&v.verify_local(&oauth, Mode::M2MOnly).unwrap()).1, "token-invalid");
        assert_eq!(v.verify_local("mt_abc", Mode::M2MOnly), None);
    }

    #[test]
    fn category_is_checked_before_any_key_work() {
        // No key at all: the category error still comes first.
        let v = verifier(RawOptions::default());
        let t = signed(&json!({"alg": "RS256", "cat": JWT_CATEGORY_SESSION_TOKEN}), &json!({"sub": "mch_1"}));
        let (_, c, m) = code(&v.verify_local(&t, Mode::MachineAuth).unwrap());
        assert_eq!((c, m.as_str()), ("token-invalid", "Invalid M2M JWT category."));
        let t = m2m_token(json!({}));
        let Some(Outcome::Rejected { error, .. }) = v.verify_local(&t, Mode::MachineAuth) else { panic!() };
        assert_eq!(error.message, "Failed to resolve JWK during verification.");
        assert_eq!(error.action.as_deref(), Some("Set the CLERK_JWT_KEY environment variable."));
    }

    #[test]
    fn size_ceiling_applies_to_jwts_and_opaque_tokens() {
        let v = verifier(RawOptions { jwt_key: Some(key_a().spki_pem()), max_token_bytes: Some(1024.0), ..RawOptions::default() });
        let big = m2m_token(json!({"pad": "a".repeat(2000)}));
        let (_, c, m) = code(&v.verify_local(&big, Mode::MachineAuth).unwrap());
        assert_eq!(c, "token-invalid");
        assert!(m.contains("larger than 1024 bytes"), "{m}");
        let opaque = format!("mt_{}", "a".repeat(2000));
        let (tt, c, _) = code(&v.verify_local(&opaque, Mode::MachineAuth).unwrap());
        assert_eq!((tt, c), (TokenType::M2MToken, "token-invalid"));
        let ok = m2m_token(json!({}));
        assert!(matches!(v.verify_local(&ok, Mode::MachineAuth), Some(Outcome::Verified { .. })));
    }

    #[test]
    fn jwks_mode_without_a_warm_cache_needs_the_network() {
        let v = verifier(RawOptions { secret_key: Some("sk_test_verify_rs_unit".into()), api_url: Some("http://127.0.0.1:9".into()), ..RawOptions::default() });
        assert_eq!(v.verify_local(&m2m_token(json!({})), Mode::MachineAuth), None);
    }

    /// A clock tests can move.
    struct MovableClock(std::sync::Mutex<f64>);
    impl Clock for MovableClock {
        fn now_ms(&self) -> f64 {
            *self.0.lock().unwrap()
        }
    }

    #[test]
    fn direct_wire_text_is_the_tree_form_serialised() {
        use crate::js::value::JsValue;
        use crate::resources::{IdPOAuthAccessToken, M2MToken};
        let v = pem_verifier();
        let mut outcomes = vec![
            v.verify_local(&m2m_token(json!({"custom": {"b": [1, 2.5, null], "1": "x"}, "aud": "s\u{2028}\"q"})), Mode::MachineAuth).unwrap(),
            v.verify_local(&m2m_token(json!({"exp": NOW_S - 60.0})), Mode::MachineAuth).unwrap(),
            v.verify_local("mt_x", Mode::M2MOnly).unwrap_or(Outcome::Unroutable),
            v.verify_local("nope", Mode::MachineAuth).unwrap(),
            Outcome::Rejected {
                token_type: TokenType::ApiKey,
                error: MachineTokenVerificationError {
                    code: MachineErrorCode::TokenInvalid,
                    message: "m".into(),
                    status: Some(401),
                    action: Some("a".into()),
                    reason: FailureReason::unavailable(crate::errors::Transport::status(503, Some(3), 2)),
                },
            },
            Outcome::Verified { token_type: TokenType::ApiKey, data: VerifiedData::Api(json!({"object": "api_key", "id": "ak_1", "n": 1e300})) },
        ];
        let mut odd = M2MToken::from_json(&json!({"id": "mt_1"}));
        odd.expiration = JsValue::Number(f64::NAN);
        odd.created_at = JsValue::Number(-0.0);
        odd.updated_at = JsValue::Number(f64::NEG_INFINITY);
        outcomes.push(Outcome::Verified { token_type: TokenType::M2MToken, data: VerifiedData::M2MJwt(odd) });
        let oauth = IdPOAuthAccessToken::from_json(&json!({"id": "oat_1", "act": {"sub": "u", "iss": "i", "act": {"sub": "v"}}, "aud": ["a"]}));
        outcomes.push(Outcome::Verified { token_type: TokenType::OAuthToken, data: VerifiedData::OAuthJwt(oauth) });
        for o in &outcomes {
            assert_eq!(o.to_json_string(), o.to_json().to_string(), "{o:?}");
            let mut with = o.to_json();
            if let (Outcome::Verified { .. }, Some(obj)) = (o, with.as_object_mut()) {
                obj.insert("reuseUntil".into(), 1_700_000_123_456.0.into());
            }
            assert_eq!(o.to_json_string_with(Some(1_700_000_123_456.0)), with.to_string(), "{o:?}");
        }
    }

    #[test]
    fn compact_wire_form_holds_the_same_fields() {
        let v = pem_verifier();
        let o = v.verify_local(&m2m_token(json!({"custom": {"x": [1, null]}})), Mode::MachineAuth).unwrap();
        let wire: Value = serde_json::from_str(&o.to_wire_string(Some(5.0))).unwrap();
        let tree = o.to_json();
        let names = ["id", "subject", "scopes", "claims", "revoked", "revocationReason", "expired", "expiration", "createdAt", "updatedAt"];
        assert_eq!(wire[0], json!("m2m"));
        for (i, name) in names.iter().enumerate() {
            assert_eq!(wire[i + 1], tree["data"][name], "{name}");
        }
        assert_eq!(wire[11], json!(5.0));
        assert_eq!(serde_json::from_str::<Value>(&o.to_wire_string(None)).unwrap()[11], Value::Null);
        // Everything else keeps the object form.
        let rejected = v.verify_local("nope.nope.nope", Mode::MachineAuth).unwrap();
        assert_eq!(rejected.to_wire_string(None), rejected.to_json_string());
    }

    #[test]
    fn signature_cache_hits_give_the_answer_a_fresh_verification_would() {
        let clock = Arc::new(MovableClock(std::sync::Mutex::new(NOW_S * 1000.0)));
        let options = VerifyOptions::from_raw(RawOptions { jwt_key: Some(key_a().spki_pem()), ..RawOptions::default() }).unwrap();
        let cached = Verifier::with_clock(options.clone(), clock.clone());
        let fresh = Verifier::with_clock(VerifyOptions { token_cache: false, ..options }, clock.clone());
        let t = m2m_token(json!({"exp": NOW_S + 60.0, "nbf": NOW_S - 1.0, "jti": "mt_cache_test"}));
        for step_ms in [0.0, 1.0, 30_000.0, 34_999.0, 36_000.0, 400_000.0] {
            *clock.0.lock().unwrap() = NOW_S * 1000.0 + step_ms;
            for _ in 0..2 {
                let a = cached.verify_local(&t, Mode::MachineAuth).unwrap().to_json_string();
                let b = fresh.verify_local(&t, Mode::MachineAuth).unwrap().to_json_string();
                assert_eq!(a, b, "at +{step_ms} ms");
            }
        }
        // Expired at +65 s (exp + 5 s skew): the cached path says so too.
        *clock.0.lock().unwrap() = (NOW_S + 66.0) * 1000.0;
        assert_eq!(code(&cached.verify_local(&t, Mode::MachineAuth).unwrap()).1, "token-verification-failed");
    }

    #[test]
    fn a_signature_verified_under_one_key_is_never_credited_to_another() {
        let t = m2m_token(json!({"jti": "mt_cross_key"}));
        let a = pem_verifier();
        assert!(matches!(a.verify_local(&t, Mode::MachineAuth), Some(Outcome::Verified { .. })));
        let b = verifier(RawOptions { jwt_key: Some(key_b().spki_pem()), ..RawOptions::default() });
        let (_, c, m) = code(&b.verify_local(&t, Mode::MachineAuth).unwrap());
        assert_eq!((c, m.as_str()), ("token-verification-failed", "JWT signature is invalid."));
    }

    #[test]
    fn reuse_window_ends_before_expiry_and_within_the_jwks_ttl() {
        let now = NOW_S * 1000.0;
        let v = pem_verifier();
        let ok = v.verify_local(&m2m_token(json!({"exp": NOW_S + 60.0})), Mode::MachineAuth).unwrap();
        // exp + 5 s skew, minus a second for truncation.
        assert_eq!(v.reusable_until(&ok), Some(now + 60_000.0 - 1000.0 + 5000.0));
        let long = v.verify_local(&m2m_token(json!({"exp": NOW_S + 86_400.0})), Mode::MachineAuth).unwrap();
        assert_eq!(v.reusable_until(&long), Some(now + REUSE_MAX_MS));
        let far = v.verify_local(&m2m_token(json!({"exp": 1e13})), Mode::MachineAuth).unwrap();
        assert_eq!(v.reusable_until(&far), Some(now + REUSE_MAX_MS));
        let rejected = v.verify_local(&m2m_token(json!({"exp": NOW_S - 60.0})), Mode::MachineAuth).unwrap();
        assert_eq!(v.reusable_until(&rejected), None);
        let api = Outcome::Verified { token_type: TokenType::M2MToken, data: VerifiedData::Api(json!({})) };
        assert_eq!(v.reusable_until(&api), None);
        let off = verifier(RawOptions { jwt_key: Some(key_a().spki_pem()), token_cache: Some(false), ..RawOptions::default() });
        assert_eq!(off.reusable_until(&ok), None);
        let skip = verifier(RawOptions { jwt_key: Some(key_a().spki_pem()), skip_jwks_cache: true, ..RawOptions::default() });
        assert_eq!(skip.reusable_until(&ok), None);
    }
}
