//! The fixtures every chapter shares: real RSA keys and the tokens they sign, verifiers in PEM
//! and JWKS mode (a shared emulator serving key A), the emulator helpers, and the expected
//! outcomes with the checks that compare `verify_local` with `verify`. Chapters take it all
//! with `use crate::fixtures::*`.

pub(crate) use aws_lc_rs::encoding::AsDer;
pub(crate) use aws_lc_rs::rand::SystemRandom;
pub(crate) use aws_lc_rs::rsa::{KeyPair, KeySize};
pub(crate) use aws_lc_rs::signature::{self, KeyPair as _};
pub(crate) use clerk_bapi_emulator::{Emulator, EmulatorHandle, Fault, InstanceConfig, RetryAfter, Route};
pub(crate) use clerk_m2m_core::bapi::{self, BapiConfig, CreateM2mTokenParams, RevokeM2mTokenParams};
pub(crate) use clerk_m2m_core::internals::base64url::encode as b64;
pub(crate) use clerk_m2m_core::{Clock, FixedClock};
pub(crate) use clerk_m2m_core::TokenType;
pub(crate) use clerk_m2m_core::jwks::{JwksCache, JwksCacheConfig, JwksScope};
pub(crate) use clerk_m2m_core::{verify_signature, JwtAlgorithm, RsaPublicKey};
pub(crate) use clerk_m2m_core::{RawOptions, VerifyOptions};
pub(crate) use clerk_m2m_core::internals::redact;
pub(crate) use clerk_m2m_core::Secret;
pub(crate) use clerk_m2m_core::{Outcome, VerifiedData};
pub(crate) use clerk_m2m_core::{Mode, Verifier};
pub(crate) use serde_json::{json, Value};
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};
pub(crate) use std::sync::{Arc, LazyLock};
pub(crate) use std::time::{Duration, Instant};
pub(crate) use crate::common::{closed_port_url, run, TestClock, MARGIN};

// ---------------------------------------------------------------------------
// Keys and tokens

/// The fixed "now" of every JWT test (seconds), so that claim boundaries are exact.
pub(crate) const NOW_S: f64 = 1_700_000_000.0;
pub(crate) const NOW_MS: f64 = NOW_S * 1000.0;
pub(crate) const KID_A: &str = "ins_catalogue_A";
pub(crate) const CAT_M2M: &str = "cl_B7d4PD333AAA";
pub(crate) const CAT_SESSION: &str = "cl_B7d4PD111AAA";
pub(crate) const CAT_TEMPLATE: &str = "cl_B7d4PD222AAA";
pub(crate) const CAT_IGNORE: &str = "cl_I7d4PD111III";
pub(crate) const NOT_AN_M2M_TOKEN: &str = "The token is not an M2M token";
pub(crate) const UNDECODABLE: &str =
    "Invalid JWT form. The header, payload, or signature could not be decoded.";
pub(crate) const SIG_INVALID: &str = "JWT signature is invalid.";
pub(crate) const ALG_MISMATCH: &str =
    "Error verifying JWT signature. Error: JWK \"alg\" does not match the requested algorithm";
pub(crate) const INVALID_TYPE_JWT: &str =
    "Invalid JWT type: JWT. Expected one of: at+jwt, application/at+jwt for OAuth, or sub starting with 'mch_' for M2M";
pub(crate) const KID_MISMATCH: &str = "Unable to find a signing key in JWKS that matches the kid=";
/// A 1024-bit RSA public key (`openssl genrsa 1024`); aws-lc will not generate one.
pub(crate) const RSA_1024_SPKI_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCw12lDpBfgEhRgIpqJBhr/EAZD
G8jPsLAfL79j0sbpEe1FTiDYy11/hYUq5NAJi4zxz83cG3W74J1L06YsFCXEugrk
rQWvz+YlLIahq6/uHNmunEfqUlJycEGgWnWJTOAywvMMq2y8rdSQTxsGVlNvqxRc
MVlL5whYGKk/jCw4IwIDAQAB
-----END PUBLIC KEY-----
";

pub(crate) struct TestKey {
    pub(crate) pair: KeyPair,
}

impl TestKey {
    pub(crate) fn generate(size: KeySize) -> TestKey {
        TestKey {
            pair: KeyPair::generate(size).unwrap(),
        }
    }

    pub(crate) fn sign(&self, alg: JwtAlgorithm, msg: &[u8]) -> Vec<u8> {
        let encoding: &'static dyn signature::RsaEncoding = match alg {
            JwtAlgorithm::RS256 => &signature::RSA_PKCS1_SHA256,
            JwtAlgorithm::RS384 => &signature::RSA_PKCS1_SHA384,
            JwtAlgorithm::RS512 => &signature::RSA_PKCS1_SHA512,
        };
        let mut sig = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(encoding, &SystemRandom::new(), msg, &mut sig)
            .unwrap();
        sig
    }

    pub(crate) fn spki_der(&self) -> Vec<u8> {
        self.pair.public_key().as_der().unwrap().as_ref().to_vec()
    }

    pub(crate) fn spki_pem(&self) -> String {
        pem("PUBLIC KEY", &self.spki_der())
    }

    pub(crate) fn pkcs8_pem(&self) -> String {
        let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> = self.pair.as_der().unwrap();
        pem("PRIVATE KEY", der.as_ref())
    }

    pub(crate) fn n(&self) -> Vec<u8> {
        self.pair
            .public_key()
            .modulus()
            .big_endian_without_leading_zero()
            .to_vec()
    }

    /// A public JWK like Clerk serves (`use`, `kty`, `kid`, `alg`, `n`, `e`).
    pub(crate) fn jwk(&self, kid: &str) -> Value {
        let e = self
            .pair
            .public_key()
            .exponent()
            .big_endian_without_leading_zero()
            .to_vec();
        json!({"use": "sig", "kty": "RSA", "kid": kid, "alg": "RS256", "n": b64(&self.n()), "e": b64(&e)})
    }
}

pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A: this instance. B: another instance. C: the attacker.
pub(crate) static A: LazyLock<TestKey> = LazyLock::new(|| TestKey::generate(KeySize::Rsa2048));
pub(crate) static B: LazyLock<TestKey> = LazyLock::new(|| TestKey::generate(KeySize::Rsa2048));
pub(crate) static C: LazyLock<TestKey> = LazyLock::new(|| TestKey::generate(KeySize::Rsa2048));

pub(crate) fn h0() -> Value {
    json!({"alg": "RS256", "typ": "JWT", "kid": KID_A, "cat": CAT_M2M})
}

pub(crate) fn p0() -> Value {
    json!({"sub": "mch_x", "jti": "mt_x", "iat": NOW_S - 10.0, "nbf": NOW_S - 10.0, "exp": NOW_S + 3600.0})
}

/// `base` with `extra`'s members set; a member set to `"__delete__"` is removed.
pub(crate) fn with(base: Value, extra: Value) -> Value {
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

/// `rawtok`: signs raw header and payload bytes.
pub(crate) fn raw_tok(header: &[u8], payload: &[u8], key: &TestKey, alg: JwtAlgorithm) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = key.sign(alg, input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

/// `tok(h, p, key, alg)`.
pub(crate) fn tok_with(header: &Value, payload: &Value, key: &TestKey, alg: JwtAlgorithm) -> String {
    raw_tok(
        header.to_string().as_bytes(),
        payload.to_string().as_bytes(),
        key,
        alg,
    )
}

/// `tok(h, p)` signed by A with RS256.
pub(crate) fn tok(header: &Value, payload: &Value) -> String {
    tok_with(header, payload, &A, JwtAlgorithm::RS256)
}

/// A token with the given signature bytes (instead of a real signature).
pub(crate) fn with_sig(header: &Value, payload: &Value, sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes()),
        b64(sig)
    )
}

// ---------------------------------------------------------------------------
// Verifiers

pub(crate) fn fixed() -> Arc<dyn Clock> {
    Arc::new(FixedClock(NOW_MS))
}

pub(crate) fn verifier_with(raw: RawOptions, clock: Arc<dyn Clock>) -> Verifier {
    Verifier::with_clock(VerifyOptions::from_raw(raw).unwrap(), clock)
}

/// PEM mode: `jwtKey` = A's SPKI PEM; `apiUrl` points at a closed port, so any network use would fail.
pub(crate) fn pem_verifier() -> Verifier {
    pem_verifier_for(&A.spki_pem())
}

pub(crate) fn pem_verifier_for(pem: &str) -> Verifier {
    verifier_with(
        RawOptions {
            jwt_key: Some(pem.to_owned()),
            api_url: Some(closed_port_url()),
            ..RawOptions::default()
        },
        fixed(),
    )
}

pub(crate) fn jwks_options(emu: &EmulatorHandle) -> RawOptions {
    RawOptions {
        secret_key: Some(emu.secret_key()),
        api_url: Some(emu.url().to_owned()),
        timeout_ms: Some(3000.0),
        ..RawOptions::default()
    }
}

pub(crate) fn jwks_verifier(emu: &EmulatorHandle) -> Verifier {
    verifier_with(jwks_options(emu), fixed())
}

/// `{"type":"status","status":200,body}`: the emulator answers `GET /v1/jwks` with this document.
pub(crate) fn serve_json(emu: &EmulatorHandle, route: Route, status: u16, body: &str) {
    let fault = Fault::Status {
        status,
        retry_after: None,
        body: Some(body.to_owned()),
        content_type: Some("application/json".into()),
    };
    emu.set_fault(route, fault).unwrap();
}

/// A fresh emulator whose JWKS endpoint serves `doc`.
pub(crate) async fn jwks_server(doc: &Value) -> EmulatorHandle {
    let emu = Emulator::builder().start().await.unwrap();
    serve_json(&emu, Route::Jwks, 200, &doc.to_string());
    emu
}

pub(crate) fn jwks_of(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}

/// The emulator shared by the JWKS-mode halves of the J rows: serves A as `KID_A`.
pub(crate) static SHARED: tokio::sync::OnceCell<EmulatorHandle> = tokio::sync::OnceCell::const_new();

pub(crate) async fn shared() -> &'static EmulatorHandle {
    SHARED
        .get_or_init(|| async { jwks_server(&jwks_of(&[A.jwk(KID_A)])).await })
        .await
}

// ---------------------------------------------------------------------------
// Expectations

#[derive(Debug, Clone, Copy)]
pub(crate) enum Exp<'a> {
    /// Verified with this token type.
    Accept(TokenType),
    /// Rejected with this token type and code; the message starts with the text.
    Reject(TokenType, &'a str, &'a str),
    /// The reference throws `Unknown machine token type`.
    Throw,
}

pub(crate) const M2M: TokenType = TokenType::M2MToken;
pub(crate) const OAUTH: TokenType = TokenType::OAuthToken;
pub(crate) const TVF: &str = "token-verification-failed";
pub(crate) const INVALID: &str = "token-invalid";

/// The full verification; `verify_local`, when it answers, must give the same outcome.
pub(crate) async fn outcome(v: &Verifier, token: &str, mode: Mode) -> Outcome {
    let full = v.verify(token, mode).await;
    if let Some(local) = v.verify_local(token, mode) {
        assert_eq!(
            local.to_json_string(),
            full.to_json_string(),
            "verify_local disagrees with verify"
        );
    }
    full
}

pub(crate) fn assert_outcome(o: &Outcome, exp: Exp<'_>, ctx: &str) {
    match (exp, o) {
        (Exp::Accept(tt), Outcome::Verified { token_type, .. }) => {
            assert_eq!(*token_type, tt, "{ctx}")
        }
        (Exp::Reject(tt, code, msg), Outcome::Rejected { token_type, error }) => {
            assert_eq!(
                (*token_type, error.code.as_str()),
                (tt, code),
                "{ctx}: {}",
                error.message
            );
            assert!(
                error.message.starts_with(msg),
                "{ctx}: message {:?} should start with {msg:?}",
                error.message
            );
        }
        (Exp::Throw, Outcome::Unroutable) => {}
        (exp, o) => panic!("{ctx}: expected {exp:?}, got {}", o.to_json_string()),
    }
}

/// What `verifyM2MToken` answers when `verifyMachineAuthToken` answers `exp`.
pub(crate) fn m2m_only(exp: Exp<'_>) -> Exp<'_> {
    match exp {
        Exp::Accept(M2M) | Exp::Reject(M2M, _, _) => exp,
        _ => Exp::Reject(M2M, INVALID, NOT_AN_M2M_TOKEN),
    }
}

/// Checks a token in both modes of both functions against `v`.
pub(crate) async fn check_with(v: &Verifier, token: &str, exp: Exp<'_>, ctx: &str) -> Outcome {
    let o = outcome(v, token, Mode::MachineAuth).await;
    assert_outcome(&o, exp, &format!("{ctx} [verifyMachineAuthToken]"));
    let o2 = outcome(v, token, Mode::M2MOnly).await;
    assert_outcome(&o2, m2m_only(exp), &format!("{ctx} [verifyM2MToken]"));
    o
}

pub(crate) async fn check_pem(token: &str, exp: Exp<'_>, ctx: &str) -> Outcome {
    check_with(&pem_verifier(), token, exp, &format!("{ctx} (PEM)")).await
}

pub(crate) async fn check_jwks(token: &str, exp: Exp<'_>, ctx: &str) -> Outcome {
    check_with(
        &jwks_verifier(shared().await),
        token,
        exp,
        &format!("{ctx} (JWKS)"),
    )
    .await
}

/// The row applies to both modes with the same result.
pub(crate) async fn check(token: &str, exp: Exp<'_>, ctx: &str) -> Outcome {
    check_jwks(token, exp, ctx).await;
    check_pem(token, exp, ctx).await
}

pub(crate) fn rejected_message(o: &Outcome) -> String {
    match o {
        Outcome::Rejected { error, .. } => error.message.clone(),
        other => panic!("expected a rejection, got {}", other.to_json_string()),
    }
}

pub(crate) fn m2m_data(o: &Outcome) -> Value {
    match o {
        Outcome::Verified {
            data: VerifiedData::M2MJwt(t),
            ..
        } => t.to_json(),
        other => panic!("expected an M2M token, got {}", other.to_json_string()),
    }
}

pub(crate) fn api_data(o: &Outcome) -> Value {
    match o {
        Outcome::Verified {
            data: VerifiedData::Api(v),
            ..
        } => v.clone(),
        other => panic!("expected Backend API data, got {}", other.to_json_string()),
    }
}

pub(crate) const ACCEPT: Exp<'static> = Exp::Accept(M2M);

pub(crate) fn h0_text() -> String {
    h0().to_string()
}

pub(crate) fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

pub(crate) fn raw_a(header: &str, payload: &str) -> String {
    raw_tok(
        header.as_bytes(),
        payload.as_bytes(),
        &A,
        JwtAlgorithm::RS256,
    )
}

pub(crate) const EXPIRED: &str = "JWT is expired.";

/// A token signed by A under `KID_A`.
pub(crate) fn a_token() -> String {
    tok(&h0(), &p0())
}

pub(crate) fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    aws_lc_rs::rand::fill(&mut b).unwrap();
    u64::from_le_bytes(b)
}

pub(crate) async fn mint(emu: &EmulatorHandle) -> Value {
    let webhook = emu.machine("webhook").unwrap();
    let cfg = BapiConfig::new(url::Url::parse(emu.url()).unwrap());
    let params = CreateM2mTokenParams {
        machine_secret_key: Some(Secret::new(webhook.secret_key)),
        seconds_until_expiration: Some(3600.0),
        ..Default::default()
    };
    bapi::create_m2m_token(&cfg, &params).await.unwrap()
}

/// An emulator and an opaque token minted by `webhook` (scoped to `trpc`).
pub(crate) async fn opaque_env() -> Opaque {
    let emu = Emulator::builder().start().await.unwrap();
    let token = mint(&emu).await;
    Opaque {
        token: token["token"].as_str().unwrap().to_owned(),
        id: token["id"].as_str().unwrap().to_owned(),
        emu,
    }
}

/// Verifies with trpc's machine secret key (the receiver).
pub(crate) fn opaque_verifier(emu: &EmulatorHandle, timeout_ms: f64) -> Verifier {
    let trpc = emu.machine("trpc").unwrap();
    verifier_with(
        RawOptions {
            machine_secret_key: Some(trpc.secret_key),
            api_url: Some(emu.url().into()),
            timeout_ms: Some(timeout_ms),
            ..RawOptions::default()
        },
        fixed(),
    )
}

pub(crate) fn rejected(o: &Outcome) -> (TokenType, &str, Option<u16>, &str) {
    match o {
        Outcome::Rejected { token_type, error } => (
            *token_type,
            error.code.as_str(),
            error.status,
            error.message.as_str(),
        ),
        other => panic!("expected a rejection, got {}", other.to_json_string()),
    }
}

/// An emulator with one minted opaque token (`mt_…`) and its id.
pub(crate) struct Opaque {
    pub(crate) emu: EmulatorHandle,
    pub(crate) token: String,
    pub(crate) id: String,
}
