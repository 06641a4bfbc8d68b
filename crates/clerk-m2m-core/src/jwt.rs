//! `verifyJwt` of `@clerk/backend@3.25.0`, and the machine-JWT steps built on it.
//!
//! [`verify_jwt`] runs the reference's checks in its order: header
//! `typ`, `alg`, then the signature **before any claim** (so a forged token
//! never learns about configuration), then `sub`, `aud`, `azp`, `iss`, `exp`,
//! `nbf`, `iat`. The token is decoded once by the caller ([`crate::decode`]), into
//! either of the decoder's results ([`JwtParts`]): the router's borrowed [`JwtView`]
//! or `decodeJwt`'s [`DecodedJwt`], which the tests also use as the oracle.
//!
//! The machine steps ([`verify_m2m_jwt_with_key`], [`verify_oauth_jwt_with_key`])
//! are what `verifyM2MJwt` / `verifyOAuthJwt` do once a key is in hand; the
//! router resolves the key (PEM or JWKS) in between [`check_m2m_category`] and
//! them, and wraps key-resolution failures itself (see [`machine_error`]).
//!
//! Deliberate divergences (README "Differences"): a header or payload that is
//! `null` is read as an object without members. The reference throws a
//! `TypeError` out of `verifyMachineAuthToken` for those (J-33, J-35, W1);
//! here a `null` header gives `Invalid JWT algorithm undefined…` and a `null`
//! payload `Subject claim (sub) is required…`, both ordinary errors.

use crate::claims::{self, resolve_clock_skew};
use crate::clock::Clock;
use crate::constants::{JWT_CATEGORY_M2M_TOKEN, OAUTH_ACCESS_TOKEN_TYPES};
use crate::decode::{DecodedJwt, JwtView};
use crate::errors::{action, FailureReason, MachineErrorCode, MachineTokenVerificationError, Reason, TokenVerificationError};
use crate::js::get;
use crate::json::FieldRef;
use crate::keys::{verify_signature_digest, VerificationKey};
use crate::resources::{IdPOAuthAccessToken, M2MToken};
use crate::sigcache::SignatureCache;
use serde_json::Value;
use std::borrow::Cow;

/// What the verification steps read of a decoded token, from either decoder's result.
pub trait JwtParts {
    /// `header[name]`: absent, or not an object → `None`.
    fn header_field(&self, name: &str) -> Option<FieldRef<'_>>;
    /// `payload[name]`: absent, or not an object → `None`.
    fn payload_field(&self, name: &str) -> Option<FieldRef<'_>>;
    fn signature(&self) -> &[u8];
    /// The bytes that were signed: `raw.header + '.' + raw.payload`.
    fn signed_part<'t>(&self, token: &'t str) -> &'t str;
    /// The payload as a `serde_json::Value` (the OAuth path reads it whole).
    fn payload_value(&self) -> Cow<'_, Value>;
    /// `M2MToken.fromJwtPayload`, consuming the payload (its members move into the token).
    fn into_m2m_token(self, clock_skew_ms: Option<f64>, clock: &dyn Clock) -> Result<M2MToken, TokenVerificationError>;
}

/// `token.slice(0, header.length + 1 + payload.length)`.
fn signed_prefix<'t>(token: &'t str, raw_header: &str, raw_payload: &str) -> &'t str {
    token.get(..raw_header.len() + 1 + raw_payload.len()).unwrap_or(token)
}

impl JwtParts for DecodedJwt<'_> {
    fn header_field(&self, name: &str) -> Option<FieldRef<'_>> {
        get(&self.header, name).map(FieldRef::from)
    }
    fn payload_field(&self, name: &str) -> Option<FieldRef<'_>> {
        get(&self.payload, name).map(FieldRef::from)
    }
    fn signature(&self) -> &[u8] {
        &self.signature
    }
    fn signed_part<'t>(&self, token: &'t str) -> &'t str {
        signed_prefix(token, self.raw_header, self.raw_payload)
    }
    fn payload_value(&self) -> Cow<'_, Value> {
        Cow::Borrowed(&self.payload)
    }
    fn into_m2m_token(self, clock_skew_ms: Option<f64>, clock: &dyn Clock) -> Result<M2MToken, TokenVerificationError> {
        M2MToken::from_jwt_payload_owned(self.payload, clock_skew_ms, clock)
    }
}

impl JwtParts for JwtView<'_, '_> {
    fn header_field(&self, name: &str) -> Option<FieldRef<'_>> {
        self.header.get(name)
    }
    fn payload_field(&self, name: &str) -> Option<FieldRef<'_>> {
        self.payload.get(name)
    }
    fn signature(&self) -> &[u8] {
        self.signature
    }
    fn signed_part<'t>(&self, token: &'t str) -> &'t str {
        signed_prefix(token, self.raw_header, self.raw_payload)
    }
    fn payload_value(&self) -> Cow<'_, Value> {
        Cow::Owned(Value::Object(self.payload.to_map()))
    }
    fn into_m2m_token(self, clock_skew_ms: Option<f64>, clock: &dyn Clock) -> Result<M2MToken, TokenVerificationError> {
        M2MToken::from_jwt_members(self.payload, clock_skew_ms, clock)
    }
}

/// Options of `verifyJwt` (the machine paths use only some, see below).
#[derive(Debug, Clone, Copy, Default)]
pub struct JwtVerifyOptions<'a> {
    /// Expected audiences (`assertAudienceClaim`'s lenient check); empty = no check.
    pub audience: &'a [String],
    /// `authorizedParties`; empty = no check.
    pub authorized_parties: &'a [String],
    /// `issuer` (3.25.0); empty = no check.
    pub issuer: &'a [String],
    /// `clockSkewInMs` as given; non-finite or `None` → 5000 ms.
    pub clock_skew_ms: Option<f64>,
    /// `headerType`: `None` → `typ` absent or `JWT`; `Some(list)` → `typ` in the list.
    pub header_type: Option<&'a [&'a str]>,
    /// Where verified signatures are remembered (`None` = always do the RSA operation).
    pub signature_cache: Option<&'a SignatureCache>,
    /// When the key stops being vouched for (its JWKS fetch time + TTL; `None` for a PEM):
    /// a remembered signature never outlives it.
    pub key_expires_at_ms: Option<f64>,
}

/// How a valid signature was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    /// The RSA operation ran.
    Computed,
    /// The signature cache held these exact bytes under this key: the token was verified before.
    Remembered,
}

/// `verifyJwt(token, options)` with a decoded token and a key.
pub fn verify_jwt<D: JwtParts>(
    token: &str,
    decoded: &D,
    key: &VerificationKey,
    options: &JwtVerifyOptions<'_>,
    clock: &dyn Clock,
) -> Result<SignatureCheck, TokenVerificationError> {
    let skew = resolve_clock_skew(options.clock_skew_ms);
    claims::assert_header_type_field(decoded.header_field("typ"), options.header_type)?;
    let alg = claims::assert_header_algorithm_field(decoded.header_field("alg"))?;

    let public_key = key.import_for(alg).map_err(signature_exception)?;
    let signing_input = decoded.signed_part(token).as_bytes();
    let digest = alg.digest(signing_input);
    let signature = decoded.signature();
    let cached = options.signature_cache.map(|c| (c, SignatureCache::key(public_key.id(), alg, digest.as_ref(), signature)));
    let seen = cached.as_ref().is_some_and(|(c, k)| c.is_verified(k, clock.now_ms()));
    let verified = if seen { Ok(true) } else { verify_signature_digest(alg, &digest, signature, public_key) };
    match verified {
        Ok(true) => {
            if let (false, Some((c, k))) = (seen, cached) {
                c.remember(k, clock.now_ms(), options.key_expires_at_ms);
            }
        }
        Ok(false) => return Err(TokenVerificationError::new(Reason::TokenInvalidSignature, "JWT signature is invalid.")),
        Err(message) => return Err(signature_exception(message)),
    }

    claims::assert_sub_field(decoded.payload_field("sub"))?;
    claims::assert_audience_field(decoded.payload_field("aud"), options.audience)?;
    claims::assert_authorized_parties_field(decoded.payload_field("azp"), options.authorized_parties)?;
    claims::assert_issuer_field(decoded.payload_field("iss"), options.issuer)?;
    claims::assert_expiration_field(decoded.payload_field("exp"), skew, clock)?;
    claims::assert_activation_field(decoded.payload_field("nbf"), skew, clock)?;
    claims::assert_issued_at_field(decoded.payload_field("iat"), skew, clock)?;
    Ok(if seen { SignatureCheck::Remembered } else { SignatureCheck::Computed })
}

/// An exception from `importKey`/`verify`, wrapped twice as the reference
/// does: `'Error verifying JWT signature. ' + String(new TokenVerificationError({message}))`.
fn signature_exception(message: String) -> TokenVerificationError {
    TokenVerificationError::new(Reason::TokenVerificationFailed, format!("Error verifying JWT signature. Error: {message}"))
        .with_action(action::ENSURE_CLERK_JWT)
        .with_failure(FailureReason::KeyUnusable)
}

/// A verification or key-resolution failure as the machine paths report it:
/// `token-verification-failed` with the message only (the inner `reason` and
/// `action` are dropped, as in the reference); our failure reason is kept.
pub fn machine_error(error: TokenVerificationError) -> MachineTokenVerificationError {
    MachineTokenVerificationError::new(MachineErrorCode::TokenVerificationFailed, error.failure, error.message)
}

/// Neither `jwtKey` nor `secretKey`: the only machine error with an `action`.
pub fn failed_to_resolve_jwk_error() -> MachineTokenVerificationError {
    MachineTokenVerificationError::new(MachineErrorCode::TokenVerificationFailed, FailureReason::NoKey, "Failed to resolve JWK during verification.")
        .with_action(action::SET_CLERK_JWT_KEY)
}

/// The M2M `cat` rule, checked before any key work or network: `cat` absent
/// or exactly `cl_B7d4PD333AAA`; anything else (`null`, other categories,
/// non-strings) → `token-invalid` `Invalid M2M JWT category.`
pub fn check_m2m_category<D: JwtParts>(decoded: &D) -> Result<(), MachineTokenVerificationError> {
    match decoded.header_field("cat") {
        None => Ok(()),
        Some(FieldRef::Str(cat)) if cat == JWT_CATEGORY_M2M_TOKEN => Ok(()),
        Some(_) => Err(MachineTokenVerificationError::new(MachineErrorCode::TokenInvalid, FailureReason::Category, "Invalid M2M JWT category.")),
    }
}

/// What the machine JWT paths take from the verification options (3.25.0
/// forwards only these to `verifyJwt`: no `authorizedParties`, no `issuer`).
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineJwtOptions<'a> {
    /// `[audience].flat()` without falsy entries.
    pub audience: &'a [String],
    /// `clockSkewInMs` as given (`None` = undefined).
    pub clock_skew_ms: Option<f64>,
    /// The verified-signature cache, when enabled.
    pub signature_cache: Option<&'a SignatureCache>,
    /// See [`JwtVerifyOptions::key_expires_at_ms`].
    pub key_expires_at_ms: Option<f64>,
}

/// `verifyM2MJwt` once the category passed ([`check_m2m_category`], which comes before any
/// key work) and the key is resolved: `verifyJwt` (default `typ` rule, lenient audience), then
/// `M2MToken.fromJwtPayload`. Every failure is `token-verification-failed`.
/// Takes the decoded token: the payload's members move into the `M2MToken`.
pub fn verify_m2m_jwt_with_key<D: JwtParts>(
    token: &str,
    decoded: D,
    key: &VerificationKey,
    options: &MachineJwtOptions<'_>,
    clock: &dyn Clock,
) -> Result<(M2MToken, SignatureCheck), MachineTokenVerificationError> {
    let jwt_options = JwtVerifyOptions {
        audience: options.audience,
        clock_skew_ms: options.clock_skew_ms,
        signature_cache: options.signature_cache,
        key_expires_at_ms: options.key_expires_at_ms,
        ..JwtVerifyOptions::default()
    };
    let check = verify_jwt(token, &decoded, key, &jwt_options, clock).map_err(machine_error)?;
    let token = decoded.into_m2m_token(options.clock_skew_ms, clock).map_err(machine_error)?;
    Ok((token, check))
}

/// `verifyOAuthJwt` once the key is resolved: `verifyJwt` with `headerType`
/// `[at+jwt, application/at+jwt]` and **no** audience, then the strict OAuth
/// audience check, then `IdPOAuthAccessToken.fromJwtPayload`. No `cat` check.
pub fn verify_oauth_jwt_with_key<D: JwtParts>(
    token: &str,
    decoded: &D,
    key: &VerificationKey,
    options: &MachineJwtOptions<'_>,
    clock: &dyn Clock,
) -> Result<(IdPOAuthAccessToken, SignatureCheck), MachineTokenVerificationError> {
    let jwt_options = JwtVerifyOptions {
        clock_skew_ms: options.clock_skew_ms,
        header_type: Some(&OAUTH_ACCESS_TOKEN_TYPES[..]),
        signature_cache: options.signature_cache,
        key_expires_at_ms: options.key_expires_at_ms,
        ..JwtVerifyOptions::default()
    };
    let check = verify_jwt(token, decoded, key, &jwt_options, clock).map_err(machine_error)?;
    let payload = decoded.payload_value();
    claims::assert_oauth_audience_claim(get(&payload, "aud"), options.audience).map_err(machine_error)?;
    let token = IdPOAuthAccessToken::from_jwt_payload(&payload, options.clock_skew_ms, clock).map_err(machine_error)?;
    Ok((token, check))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base64url;
    use crate::clock::FixedClock;
    use crate::decode::decode;
    use crate::keys::test_keys::{key_a, key_b, TestKey, RSA_1024_SPKI_PEM};
    use crate::keys::JwtAlgorithm;
    use crate::js::value::JsValue;
    use serde_json::json;

    const NOW_S: f64 = 1_666_648_250.0;
    const NOW: FixedClock = FixedClock(NOW_S * 1000.0);
    const ENSURE: Option<&str> = Some(action::ENSURE_CLERK_JWT);

    fn h0() -> Value {
        json!({"alg": "RS256", "typ": "JWT", "kid": "ins_2GIoQhbUpy0hX7B2cVkuTMinXoD", "cat": "cl_B7d4PD333AAA"})
    }

    fn p0() -> Value {
        json!({"sub": "mch_1", "jti": "mt_1", "iat": NOW_S - 10.0, "nbf": NOW_S - 10.0, "exp": NOW_S + 3600.0})
    }

    fn raw_token(header: &str, payload: &str, key: &TestKey, alg: JwtAlgorithm) -> String {
        let input = format!("{}.{}", base64url::encode(header.as_bytes()), base64url::encode(payload.as_bytes()));
        let sig = key.sign(alg, input.as_bytes());
        format!("{input}.{}", base64url::encode(&sig))
    }

    fn token_with(header: &Value, payload: &Value, key: &TestKey, alg: JwtAlgorithm) -> String {
        raw_token(&header.to_string(), &payload.to_string(), key, alg)
    }

    fn token(header: &Value, payload: &Value) -> String {
        token_with(header, payload, key_a(), JwtAlgorithm::RS256)
    }

    fn with(base: Value, extra: Value) -> Value {
        let mut v = base;
        for (k, val) in extra.as_object().unwrap() {
            if val == &json!("__delete__") {
                v.as_object_mut().unwrap().shift_remove(k);
            } else {
                v[k] = val.clone();
            }
        }
        v
    }

    fn pem_key() -> VerificationKey {
        VerificationKey::from_pem(&key_a().spki_pem())
    }

    fn jwk_key() -> VerificationKey {
        VerificationKey::from_jwk(&key_a().jwk())
    }

    fn run(token: &str, key: &VerificationKey, options: &JwtVerifyOptions<'_>) -> Result<(), TokenVerificationError> {
        let decoded = decode(token).unwrap();
        verify_jwt(token, &decoded, key, options, &NOW).map(|_| ())
    }

    fn err(reason: Reason, message: &str, action: Option<&str>) -> TokenVerificationError {
        let e = TokenVerificationError::new(reason, message);
        match action {
            Some(a) => e.with_action(a),
            None => e,
        }
    }

    #[test]
    fn valid_tokens_verify_with_pem_and_jwk() {
        let t = token(&h0(), &p0());
        assert_eq!(run(&t, &pem_key(), &JwtVerifyOptions::default()), Ok(()));
        assert_eq!(run(&t, &jwk_key(), &JwtVerifyOptions::default()), Ok(()));
        let no_typ = token(&with(h0(), json!({"typ": "__delete__"})), &p0());
        assert_eq!(run(&no_typ, &pem_key(), &JwtVerifyOptions::default()), Ok(()));
    }

    #[test]
    fn rs384_and_rs512() {
        for alg in [JwtAlgorithm::RS384, JwtAlgorithm::RS512] {
            let t = token_with(&with(h0(), json!({"alg": alg.as_str()})), &p0(), key_a(), alg);
            // JWK without alg: the header's hash is used (J-05).
            assert_eq!(run(&t, &jwk_key(), &JwtVerifyOptions::default()), Ok(()));
            // PEM and JWK with alg RS256: WebCrypto's message, double-wrapped.
            let expected = err(
                Reason::TokenVerificationFailed,
                "Error verifying JWT signature. Error: JWK \"alg\" does not match the requested algorithm",
                ENSURE,
            )
            .with_failure(FailureReason::KeyUnusable);
            assert_eq!(run(&t, &pem_key(), &JwtVerifyOptions::default()), Err(expected.clone()));
            let rs256_jwk = VerificationKey::from_jwk(&with(key_a().jwk(), json!({"alg": "RS256"})));
            assert_eq!(run(&t, &rs256_jwk, &JwtVerifyOptions::default()), Err(expected));
        }
    }

    #[test]
    fn signature_failures() {
        let invalid = Err(err(Reason::TokenInvalidSignature, "JWT signature is invalid.", None));
        let good = token(&h0(), &p0());
        let (input, sig) = good.rsplit_once('.').unwrap();
        let sig = base64url::decode_loose(sig).unwrap();
        let mut tampered = sig.clone();
        tampered[0] ^= 0x80;
        let mut long = vec![0u8];
        long.extend_from_slice(&sig);
        for bad in [tampered, sig[1..].to_vec(), long, vec![], vec![0; 256]] {
            let t = format!("{input}.{}", base64url::encode(&bad));
            assert_eq!(run(&t, &pem_key(), &JwtVerifyOptions::default()), invalid, "len {}", bad.len());
        }
        // Signed by another key (J-15), and payload swapped after signing.
        let other = token_with(&h0(), &p0(), key_b(), JwtAlgorithm::RS256);
        assert_eq!(run(&other, &pem_key(), &JwtVerifyOptions::default()), invalid);
        let swapped = format!("{}.{}.{}", input.split('.').next().unwrap(), base64url::encode(br#"{"sub":"mch_2"}"#), base64url::encode(&sig));
        assert_eq!(run(&swapped, &pem_key(), &JwtVerifyOptions::default()), invalid);
    }

    #[test]
    fn signature_is_checked_before_claims() {
        // Expired, wrong sub, and a bad signature: only the signature is reported.
        let t = token_with(&h0(), &json!({"sub": 5, "exp": 1}), key_b(), JwtAlgorithm::RS256);
        assert_eq!(run(&t, &pem_key(), &JwtVerifyOptions::default()).unwrap_err().message, "JWT signature is invalid.");
        // typ and alg come before the signature.
        let t = token_with(&with(h0(), json!({"typ": "at+jwt"})), &p0(), key_b(), JwtAlgorithm::RS256);
        assert_eq!(run(&t, &pem_key(), &JwtVerifyOptions::default()).unwrap_err().message, r#"Invalid JWT type "at+jwt". Expected "JWT"."#);
        let t = token_with(&with(h0(), json!({"typ": "at+jwt", "alg": "none"})), &p0(), key_b(), JwtAlgorithm::RS256);
        assert_eq!(run(&t, &pem_key(), &JwtVerifyOptions::default()).unwrap_err().reason, Reason::TokenInvalid, "typ before alg");
        let t = token_with(&with(h0(), json!({"alg": "HS256"})), &p0(), key_b(), JwtAlgorithm::RS256);
        assert_eq!(
            run(&t, &pem_key(), &JwtVerifyOptions::default()),
            Err(err(Reason::TokenInvalidAlgorithm, r#"Invalid JWT algorithm "HS256". Supported: RS256,RS384,RS512."#, ENSURE))
        );
    }

    #[test]
    fn key_import_errors_are_double_wrapped() {
        let t = token(&h0(), &p0());
        let cases: [(VerificationKey, &str); 5] = [
            (VerificationKey::from_jwk(&with(key_a().jwk(), json!({"use": "enc"}))), "Invalid JWK \"use\" Parameter"),
            (VerificationKey::from_jwk(&with(key_a().jwk(), json!({"kty": "EC"}))), "Invalid JWK \"kty\" Parameter"),
            (VerificationKey::from_jwk(&json!(null)), "Invalid keyData"),
            (VerificationKey::from_pem(RSA_1024_SPKI_PEM), "Unsupported RSA key size: 1024 bits. Keys must be 2048 to 8192 bits."),
            (
                VerificationKey::from_pem("not a pem"),
                "Invalid jwtKey: expected a PEM-encoded RSA public key (-----BEGIN PUBLIC KEY-----).",
            ),
        ];
        for (key, inner) in cases {
            assert_eq!(
                run(&t, &key, &JwtVerifyOptions::default()),
                Err(err(Reason::TokenVerificationFailed, &format!("Error verifying JWT signature. Error: {inner}"), ENSURE).with_failure(FailureReason::KeyUnusable))
            );
        }
    }

    #[test]
    fn claims_run_in_order_after_the_signature() {
        let v = |payload: Value| run(&token(&h0(), &payload), &pem_key(), &JwtVerifyOptions::default());
        assert_eq!(v(with(p0(), json!({"sub": "__delete__", "exp": "x"}))).unwrap_err().message, "Subject claim (sub) is required and must be a string. Received undefined.");
        assert_eq!(v(with(p0(), json!({"exp": "__delete__"}))).unwrap_err().message, "Invalid JWT expiry date claim (exp) undefined. Expected number.");
        assert_eq!(v(with(p0(), json!({"exp": NOW_S - 60.0, "nbf": "x"}))).unwrap_err().reason, Reason::TokenExpired, "exp before nbf");
        assert_eq!(v(with(p0(), json!({"nbf": NOW_S + 60.0, "iat": "x"}))).unwrap_err().reason, Reason::TokenNotActiveYet, "nbf before iat");
        assert_eq!(v(with(p0(), json!({"iat": NOW_S + 60.0}))).unwrap_err().reason, Reason::TokenIatInTheFuture);
        // Options: audience, azp, issuer in that order.
        let aud = vec!["other".to_owned()];
        let parties = vec!["https://a".to_owned()];
        let issuer = vec!["https://i".to_owned()];
        let opts = JwtVerifyOptions { audience: &aud, authorized_parties: &parties, issuer: &issuer, ..Default::default() };
        let t = token(&h0(), &with(p0(), json!({"aud": "x"})));
        assert_eq!(run(&t, &pem_key(), &opts).unwrap_err().message, r#"Invalid JWT audience claim (aud) "x". Is not included in "["other"]"."#);
        let t = token(&h0(), &with(p0(), json!({"aud": "other"})));
        assert_eq!(run(&t, &pem_key(), &opts).unwrap_err().reason, Reason::TokenInvalidAuthorizedParties);
        let t = token(&h0(), &with(p0(), json!({"aud": "other", "azp": "https://a"})));
        assert_eq!(run(&t, &pem_key(), &opts).unwrap_err().reason, Reason::TokenInvalidIssuer);
        let t = token(&h0(), &with(p0(), json!({"aud": "other", "azp": "https://a", "iss": "https://i"})));
        assert_eq!(run(&t, &pem_key(), &opts), Ok(()));
    }

    #[test]
    fn skew_option_resolution_in_verify_jwt() {
        let t = token(&h0(), &with(p0(), json!({"exp": NOW_S - 4.0})));
        for skew in [None, Some(f64::NAN), Some(f64::INFINITY)] {
            assert_eq!(run(&t, &pem_key(), &JwtVerifyOptions { clock_skew_ms: skew, ..Default::default() }), Ok(()));
        }
        let zero = JwtVerifyOptions { clock_skew_ms: Some(0.0), ..Default::default() };
        assert_eq!(run(&t, &pem_key(), &zero).unwrap_err().reason, Reason::TokenExpired);
    }

    #[test]
    fn non_object_headers_and_payloads() {
        // Header null (J-35, ours) and other non-objects (J-36): invalid algorithm, never a panic.
        for header in ["null", "[]", "\"x\"", "42", "true"] {
            let t = raw_token(header, &p0().to_string(), key_a(), JwtAlgorithm::RS256);
            assert_eq!(
                run(&t, &pem_key(), &JwtVerifyOptions::default()),
                Err(err(Reason::TokenInvalidAlgorithm, "Invalid JWT algorithm undefined. Supported: RS256,RS384,RS512.", ENSURE)),
                "{header}"
            );
        }
        // Payload null / non-objects: the sub rule (J-33 ours, J-34).
        for payload in ["null", "[1]", "\"mch_1\"", "42", "true"] {
            let t = raw_token(&h0().to_string(), payload, key_a(), JwtAlgorithm::RS256);
            assert_eq!(
                run(&t, &pem_key(), &JwtVerifyOptions::default()).unwrap_err().message,
                "Subject claim (sub) is required and must be a string. Received undefined.",
                "{payload}"
            );
        }
        // OAuth header rule with a null header: typ undefined is not allowed.
        let t = raw_token("null", &p0().to_string(), key_a(), JwtAlgorithm::RS256);
        let oauth = JwtVerifyOptions { header_type: Some(&OAUTH_ACCESS_TOKEN_TYPES[..]), ..Default::default() };
        assert_eq!(run(&t, &pem_key(), &oauth).unwrap_err().message, r#"Invalid JWT type undefined. Expected "at+jwt, application/at+jwt"."#);
    }

    #[test]
    fn duplicate_keys_last_wins() {
        // J-30/J-31 through the real decoder.
        let t = raw_token(&h0().to_string(), &format!(r#"{{"sub":"user_1","sub":"mch_1","exp":{}}}"#, NOW_S + 60.0), key_a(), JwtAlgorithm::RS256);
        assert_eq!(run(&t, &pem_key(), &JwtVerifyOptions::default()), Ok(()));
        let t = raw_token(&h0().to_string(), &format!(r#"{{"sub":"mch_1","exp":{},"exp":1}}"#, NOW_S + 60.0), key_a(), JwtAlgorithm::RS256);
        assert_eq!(run(&t, &pem_key(), &JwtVerifyOptions::default()).unwrap_err().reason, Reason::TokenExpired);
    }

    /// `verifyM2MJwt` with a key in hand: the category, then the key steps.
    fn m2m(token: &str, key: &VerificationKey, options: &MachineJwtOptions<'_>) -> Result<M2MToken, MachineTokenVerificationError> {
        let decoded = decode(token).unwrap();
        check_m2m_category(&decoded)?;
        verify_m2m_jwt_with_key(token, decoded, key, options, &NOW).map(|(t, _)| t)
    }

    fn mtve(code: MachineErrorCode, reason: FailureReason, message: &str) -> MachineTokenVerificationError {
        MachineTokenVerificationError::new(code, reason, message)
    }

    #[test]
    fn m2m_success_builds_the_token() {
        let payload = with(p0(), json!({"scopes": "mch_2 mch_3", "custom": true}));
        let t = m2m(&token(&h0(), &payload), &pem_key(), &MachineJwtOptions::default()).unwrap();
        assert_eq!(t.subject, JsValue::string("mch_1"));
        assert_eq!(t.id, JsValue::string("mt_1"));
        assert_eq!(t.scopes, JsValue::Json(json!(["mch_2", "mch_3"])));
        assert_eq!(t.claims, JsValue::Json(json!({"scopes": "mch_2 mch_3", "custom": true})));
        assert_eq!(t.expiration, JsValue::Number((NOW_S + 3600.0) * 1000.0));
        assert_eq!(t.expired, JsValue::bool(false));
        // cat absent is accepted (J-110).
        assert!(m2m(&token(&with(h0(), json!({"cat": "__delete__"})), &p0()), &jwk_key(), &MachineJwtOptions::default()).is_ok());
    }

    #[test]
    fn m2m_category_rule() {
        for cat in [json!("cl_B7d4PD111AAA"), json!("cl_B7d4PD222AAA"), json!("cl_I7d4PD111III"), json!(null), json!(""), json!(333), json!([]), json!("cl_B7d4PD333AAA ")] {
            // Signed by another key: the category is reported without any signature work.
            let t = token_with(&with(h0(), json!({"cat": cat.clone()})), &p0(), key_b(), JwtAlgorithm::RS256);
            assert_eq!(m2m(&t, &pem_key(), &MachineJwtOptions::default()), Err(mtve(MachineErrorCode::TokenInvalid, FailureReason::Category, "Invalid M2M JWT category.")), "{cat}");
        }
        // Null header: no cat → continues to verifyJwt (ours, J-35).
        let t = raw_token("null", &p0().to_string(), key_a(), JwtAlgorithm::RS256);
        assert_eq!(
            m2m(&t, &pem_key(), &MachineJwtOptions::default()),
            Err(mtve(MachineErrorCode::TokenVerificationFailed, FailureReason::Algorithm, "Invalid JWT algorithm undefined. Supported: RS256,RS384,RS512."))
        );
    }

    #[test]
    fn m2m_errors_are_wrapped_without_reason_or_action() {
        let cases: [(String, FailureReason, &str); 5] = [
            (token(&with(h0(), json!({"typ": "at+jwt"})), &p0()), FailureReason::Claims, r#"Invalid JWT type "at+jwt". Expected "JWT"."#),
            (token(&with(h0(), json!({"alg": "__delete__"})), &p0()), FailureReason::Algorithm, "Invalid JWT algorithm undefined. Supported: RS256,RS384,RS512."),
            (token_with(&h0(), &p0(), key_b(), JwtAlgorithm::RS256), FailureReason::Signature, "JWT signature is invalid."),
            (
                token_with(&with(h0(), json!({"alg": "RS384"})), &p0(), key_a(), JwtAlgorithm::RS384),
                FailureReason::KeyUnusable,
                "Error verifying JWT signature. Error: JWK \"alg\" does not match the requested algorithm",
            ),
            (token(&h0(), &with(p0(), json!({"exp": "__delete__"}))), FailureReason::Claims, "Invalid JWT expiry date claim (exp) undefined. Expected number."),
        ];
        for (t, reason, message) in cases {
            let e = m2m(&t, &pem_key(), &MachineJwtOptions::default()).unwrap_err();
            assert_eq!(e, mtve(MachineErrorCode::TokenVerificationFailed, reason, message));
            assert_eq!(e.status, None);
            assert_eq!(e.action, None);
        }
        let expired = token(&h0(), &with(p0(), json!({"exp": NOW_S - 60.0})));
        assert_eq!(
            m2m(&expired, &pem_key(), &MachineJwtOptions::default()).unwrap_err().message,
            "JWT is expired. Expiry date: Mon, 24 Oct 2022 21:49:50 GMT, Current date: Mon, 24 Oct 2022 21:50:50 GMT."
        );
    }

    #[test]
    fn m2m_lenient_audience_and_skew() {
        let aud = vec!["other".to_owned()];
        let opts = MachineJwtOptions { audience: &aud, clock_skew_ms: None, signature_cache: None, key_expires_at_ms: None };
        assert!(m2m(&token(&h0(), &p0()), &pem_key(), &opts).is_ok(), "no aud in the token passes");
        assert_eq!(
            m2m(&token(&h0(), &with(p0(), json!({"aud": ["mch_1xxxxx", "mch_2xxxxx"]}))), &pem_key(), &opts).unwrap_err().message,
            r#"Invalid JWT audience claim array (aud) ["mch_1xxxxx","mch_2xxxxx"]. Is not included in "["other"]"."#
        );
        // azp/iss are never checked on the machine path.
        assert!(m2m(&token(&h0(), &with(p0(), json!({"azp": "x", "iss": "y"}))), &pem_key(), &opts).is_ok());
        let t = token(&h0(), &with(p0(), json!({"exp": NOW_S - 2.0})));
        assert!(m2m(&t, &pem_key(), &MachineJwtOptions::default()).is_ok(), "inside the default 5 s");
        assert!(m2m(&t, &pem_key(), &MachineJwtOptions { audience: &[], clock_skew_ms: Some(0.0), signature_cache: None, key_expires_at_ms: None }).is_err());
    }

    #[test]
    fn m2m_scopes_crash_path_is_an_error() {
        // J-43: the reference throws a TypeError; here a structured error.
        let t = token(&h0(), &with(p0(), json!({"scopes": 5})));
        assert_eq!(
            m2m(&t, &pem_key(), &MachineJwtOptions::default()),
            Err(mtve(MachineErrorCode::TokenVerificationFailed, FailureReason::Claims, "Invalid M2M JWT scopes claim (scopes) 5. Expected a space-separated string."))
        );
        let t = token(&h0(), &with(p0(), json!({"aud": "mch_x"})));
        assert_eq!(m2m(&t, &pem_key(), &MachineJwtOptions::default()).unwrap().scopes, JsValue::string("mch_x"));
    }

    #[test]
    fn m2m_out_of_range_dates_fail_closed() {
        let t = token(&h0(), &with(p0(), json!({"exp": -1e13})));
        assert!(m2m(&t, &pem_key(), &MachineJwtOptions::default()).unwrap_err().message.starts_with("JWT is expired."));
        let t = token(&h0(), &with(p0(), json!({"nbf": 1e13})));
        assert!(m2m(&t, &pem_key(), &MachineJwtOptions::default()).unwrap_err().message.starts_with("JWT cannot be used prior"));
        let t = token(&h0(), &with(p0(), json!({"iat": 1e13})));
        assert!(m2m(&t, &pem_key(), &MachineJwtOptions::default()).unwrap_err().message.starts_with("JWT issued at date claim (iat) is in the future."));
        let t = token(&h0(), &with(p0(), json!({"exp": 1e20})));
        let ok = m2m(&t, &pem_key(), &MachineJwtOptions::default()).unwrap();
        assert_eq!(ok.expiration, JsValue::Number(1e23));
    }

    fn oauth_header() -> Value {
        json!({"alg": "RS256", "typ": "at+jwt", "kid": "ins_1"})
    }

    fn oauth(token: &str, options: &MachineJwtOptions<'_>) -> Result<IdPOAuthAccessToken, MachineTokenVerificationError> {
        let decoded = decode(token).unwrap();
        verify_oauth_jwt_with_key(token, &decoded, &jwk_key(), options, &NOW).map(|(t, _)| t)
    }

    #[test]
    fn oauth_path() {
        let payload = json!({"sub": "user_1", "client_id": "c1", "scope": "read write", "exp": NOW_S + 60.0, "iat": NOW_S, "aud": "api"});
        let t = oauth(&token(&oauth_header(), &payload), &MachineJwtOptions::default()).unwrap();
        assert_eq!(t.scopes, JsValue::Json(json!(["read", "write"])));
        assert_eq!(t.aud, JsValue::Json(json!(["api"])));
        let app = token(&with(oauth_header(), json!({"typ": "application/at+jwt", "cat": "cl_B7d4PD111AAA"})), &payload);
        assert!(oauth(&app, &MachineJwtOptions::default()).is_ok(), "no cat rule on the OAuth path");
        let jwt_typ = token(&with(oauth_header(), json!({"typ": "JWT"})), &payload);
        assert_eq!(
            oauth(&jwt_typ, &MachineJwtOptions::default()).unwrap_err().message,
            r#"Invalid JWT type "JWT". Expected "at+jwt, application/at+jwt"."#
        );
        // Strict audience after the signature; the lenient one is not applied.
        let expected = vec!["other".to_owned()];
        let opts = MachineJwtOptions { audience: &expected, clock_skew_ms: None, signature_cache: None, key_expires_at_ms: None };
        assert_eq!(
            oauth(&token(&oauth_header(), &payload), &opts),
            Err(mtve(
                MachineErrorCode::TokenVerificationFailed,
                FailureReason::Claims,
                r#"OAuth audience mismatch. Verification expected audience ["other"], but incoming token has aud "api"."#
            ))
        );
        let no_aud = with(payload.clone(), json!({"aud": "__delete__"}));
        assert_eq!(
            oauth(&token(&oauth_header(), &no_aud), &opts).unwrap_err().message,
            "Invalid OAuth audience claim (aud) undefined. Expected a non-empty string or a non-empty array of non-empty strings."
        );
        let api = vec!["api".to_owned()];
        assert!(oauth(&token(&oauth_header(), &payload), &MachineJwtOptions { audience: &api, clock_skew_ms: None, signature_cache: None, key_expires_at_ms: None }).is_ok());
        // Forged token with a mismatching audience: the signature is reported.
        let forged = token_with(&oauth_header(), &payload, key_b(), JwtAlgorithm::RS256);
        assert_eq!(oauth(&forged, &opts).unwrap_err().message, "JWT signature is invalid.");
        // Payload null (J-33 ours): a structured error.
        let t = raw_token(&oauth_header().to_string(), "null", key_a(), JwtAlgorithm::RS256);
        assert_eq!(oauth(&t, &opts).unwrap_err().message, "Subject claim (sub) is required and must be a string. Received undefined.");
    }

    /// The router's decoder ([`JwtView`]) against `decodeJwt`'s ([`DecodedJwt`], the `Value`
    /// path every rule was first written for): the same answers, the `M2MToken`s the same
    /// text key for key, on tricky payloads signed for real.
    fn assert_decoders_agree(header: &[u8], payload: &[u8]) {
        let input = format!("{}.{}", base64url::encode(header), base64url::encode(payload));
        let t = format!("{input}.{}", base64url::encode(&key_a().sign(JwtAlgorithm::RS256, input.as_bytes())));
        let shown = String::from_utf8_lossy(payload);
        let old = decode(&t).unwrap();
        let mut scratch = crate::decode::Scratch::new();
        let view = crate::decode::decode_view(&t, crate::decode::DEFAULT_MAX_TOKEN_BYTES, &mut scratch).unwrap();
        assert_eq!(check_m2m_category(&old), check_m2m_category(&view), "{shown}");
        let m2m_text = |r: Result<(M2MToken, SignatureCheck), MachineTokenVerificationError>| {
            r.map(|(tok, check)| (serde_json::to_string(&tok.fields()).unwrap(), check))
        };
        let oauth_text = |r: Result<(IdPOAuthAccessToken, SignatureCheck), MachineTokenVerificationError>| {
            r.map(|(tok, check)| (serde_json::to_string(&tok.fields()).unwrap(), check))
        };
        let aud = vec!["other".to_owned(), "mch_2".to_owned()];
        for options in [
            MachineJwtOptions::default(),
            MachineJwtOptions { audience: &aud, clock_skew_ms: Some(0.0), signature_cache: None, key_expires_at_ms: None },
            MachineJwtOptions { audience: &[], clock_skew_ms: Some(f64::NAN), signature_cache: None, key_expires_at_ms: None },
        ] {
            let key = pem_key();
            let a = m2m_text(verify_m2m_jwt_with_key(&t, old.clone(), &key, &options, &NOW));
            let b = m2m_text(verify_m2m_jwt_with_key(&t, view.clone(), &key, &options, &NOW));
            assert_eq!(a, b, "M2M: {shown}");
            let a = oauth_text(verify_oauth_jwt_with_key(&t, &old, &key, &options, &NOW));
            let b = oauth_text(verify_oauth_jwt_with_key(&t, &view, &key, &options, &NOW));
            assert_eq!(a, b, "OAuth: {shown}");
        }
    }

    #[test]
    fn the_borrowed_decoder_gives_the_same_answers() {
        let h = h0().to_string();
        let exp = NOW_S + 3600.0;
        let payloads: Vec<Vec<u8>> = vec![
            p0().to_string().into_bytes(),
            format!(r#"{{"sub":"user_1","sub":"mch_1","exp":1,"exp":{exp},"jti":"a","jti":null}}"#).into_bytes(),
            format!(r#"{{"s\u0075b":"m\u0063h_\u00e9","exp":{exp},"scopes":"a  b\u0020c","aud":"mch_x","\u0031":"one"}}"#).into_bytes(),
            format!(r#"{{"sub":"mch_1","exp":{exp},"aud":["mch_2",{{"k":1,"k":[2]}}],"custom":{{"z":1,"a":{{"b":null}}}},"2":0,"1":1,"01":2,"__proto__":{{"admin":true}}}}"#).into_bytes(),
            format!(r#"{{"sub":"mch_1","exp":{exp},"iat":-0,"nbf":1.0,"x":1E2,"y":-0.0,"z":18446744073709551616,"w":0.1000000000000000055511151231257827,"v":1e21}}"#).into_bytes(),
            format!(r#"{{"sub":"mch_1","exp":"{exp}","iat":"5"}}"#).into_bytes(),
            format!(r#"{{"sub":"mch_1","exp":{exp},"iat":"5","nbf":null}}"#).into_bytes(),
            format!(r#"{{"sub":"mch_1","exp":{exp},"scopes":5}}"#).into_bytes(),
            format!(r#"{{"sub":"mch_1","exp":{exp},"scopes":null,"aud":5}}"#).into_bytes(),
            format!(r#"{{"sub":"mch_1","exp":{exp},"scopes":null,"aud":null,"scope":"read write","scp":["a"],"client_id":"c","act":{{"sub":"s","iss":"i"}}}}"#).into_bytes(),
            format!(r#"{{"sub":"mch_1","exp":{exp},"iss":"x","sub":"mch_2","nbf":{}}}"#, NOW_S + 60.0).into_bytes(),
            format!("\u{feff}{{\"sub\":\"mch_1\",\"exp\":{exp},\"name\":\"\u{1F600}\"}}").into_bytes(),
            [b"{\"sub\":\"mch_\xFF\",\"exp\":".as_slice(), exp.to_string().as_bytes(), b",\"n\xC3\":\"\xE2\x82\"}"].concat(),
            format!(r#"{{"sub":"mch_1","exp":{exp},{}}}"#, (0..40).map(|i| format!(r#""k{}":"v{i}""#, i % 35)).collect::<Vec<_>>().join(",")).into_bytes(),
            format!(r#"{{"sub":5,"exp":{exp}}}"#).into_bytes(),
            format!(r#"{{"exp":{exp}}}"#).into_bytes(),
            b"null".to_vec(),
            b"[1,2]".to_vec(),
            br#""mch_1""#.to_vec(),
            b"{}".to_vec(),
        ];
        let headers: Vec<Vec<u8>> = vec![
            h.clone().into_bytes(),
            br#"{"alg":"RS256","typ":"at+jwt","kid":"k","alg":"RS256"}"#.to_vec(),
            br#"{"alg":"RS256","typ":"application/at+jwt","typ":"at+jwt","cat":"cl_B7d4PD333AAA","cat":"x"}"#.to_vec(),
            br#"{"alg":"RS\u0032\u00356","typ":"J\u0057T","cat":"cl_B7d4PD333AAA"}"#.to_vec(),
            br#"{"alg":"RS384","typ":5}"#.to_vec(),
            br#"{"alg":["RS256"]}"#.to_vec(),
            b"null".to_vec(),
        ];
        for header in &headers {
            for payload in &payloads {
                assert_decoders_agree(header, payload);
            }
        }
    }

    #[test]
    fn helper_errors() {
        let e = failed_to_resolve_jwk_error();
        assert_eq!(e.code, MachineErrorCode::TokenVerificationFailed);
        assert_eq!(e.message, "Failed to resolve JWK during verification.");
        assert_eq!(e.action.as_deref(), Some("Set the CLERK_JWT_KEY environment variable."));
        let wrapped = machine_error(TokenVerificationError::new(Reason::JwkKidMismatch, "m").with_action("a"));
        assert_eq!(wrapped, mtve(MachineErrorCode::TokenVerificationFailed, FailureReason::KidMissing, "m"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Random header/payload JSON (signed or not) never panics anywhere on the path.
        #[test]
        fn verify_never_panics(
            header in json_value(3),
            payload in json_value(3),
            sign in proptest::bool::ANY,
            skew in proptest::option::of(proptest::num::f64::ANY),
        ) {
            let h = header.to_string();
            let p = payload.to_string();
            let t = if sign {
                raw_token(&h, &p, key_a(), JwtAlgorithm::RS256)
            } else {
                format!("{}.{}.", base64url::encode(h.as_bytes()), base64url::encode(p.as_bytes()))
            };
            if let Ok(decoded) = crate::decode::decode_with_limit(&t, 1 << 20) {
                let aud = vec!["a".to_owned()];
                let opts = MachineJwtOptions { audience: &aud, clock_skew_ms: skew, signature_cache: None, key_expires_at_ms: None };
                for key in [pem_key(), jwk_key()] {
                    let _ = verify_jwt(&t, &decoded, &key, &JwtVerifyOptions::default(), &NOW);
                    if let Ok((tok, _)) = verify_m2m_jwt_with_key(&t, decoded.clone(), &key, &opts, &NOW) { let _ = tok.to_json(); }
                    if let Ok((tok, _)) = verify_oauth_jwt_with_key(&t, &decoded, &key, &opts, &NOW) { let _ = tok.to_json(); }
                }
            }
        }

        /// Valid header and payload with random claim values: signed tokens never panic either.
        #[test]
        fn signed_claims_never_panic(
            exp in claim_value(), nbf in claim_value(), iat in claim_value(), sub in claim_value(),
            scopes in claim_value(), aud in claim_value(), cat in claim_value(),
        ) {
            let mut payload = json!({"exp": exp, "nbf": nbf, "iat": iat, "sub": sub, "scopes": scopes, "aud": aud});
            payload.as_object_mut().unwrap().retain(|_, v| v != &json!("__absent__"));
            let header = with(h0(), json!({"cat": cat}));
            let t = token(&header, &payload);
            let decoded = decode(&t).unwrap();
            if let Ok((tok, _)) = verify_m2m_jwt_with_key(&t, decoded, &pem_key(), &MachineJwtOptions::default(), &NOW) { let _ = tok.to_json(); }
        }
    }

    fn claim_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            Just(json!("__absent__")),
            Just(json!(null)),
            Just(json!("mch_1")),
            Just(json!("cl_B7d4PD333AAA")),
            Just(json!("")),
            Just(json!(["mch_1"])),
            Just(json!({})),
            proptest::num::f64::NORMAL.prop_map(|f| json!(f)),
            (-1e13f64..1e13).prop_map(|f| json!(f)),
            Just(json!(NOW_S)),
        ]
    }

    fn json_value(depth: u32) -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            proptest::bool::ANY.prop_map(Value::Bool),
            proptest::num::f64::NORMAL.prop_map(|f| json!(f)),
            proptest::num::i64::ANY.prop_map(|i| json!(i)),
            prop_oneof![Just("RS256"), Just("JWT"), Just("at+jwt"), Just("mch_1"), Just("cl_B7d4PD333AAA"), Just("x\u{0}\n")].prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(depth, 24, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(
                    (prop_oneof![Just("alg"), Just("typ"), Just("cat"), Just("sub"), Just("exp"), Just("nbf"), Just("iat"), Just("aud"), Just("scopes"), Just("__proto__"), Just("1")], inner),
                    0..6
                )
                .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }
}
