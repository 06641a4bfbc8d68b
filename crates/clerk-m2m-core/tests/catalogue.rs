//! The security catalogue (`../shared/spec/security-catalogue.md`) as executable tests: the
//! rows about the core's semantics, run through the public router ([`Verifier`]) with a fixed
//! clock, real RSA keys and, for JWKS and opaque tokens, the in-process emulator on 127.0.0.1.
//!
//! Every test is named after its row (`j_01_…` is row J-01); `__test__/catalogue.test.ts`
//! parses these names to print the catalogue coverage. Rows that need the JS surface
//! (rejected promises, JS objects, child processes, RSS) are in `__test__/catalogue.test.ts`,
//! `__test__/resources.bounds.test.ts` and `__test__/canary.test.ts`; J-73 is in `wycheproof.rs`.
//!
//! Unless a row says otherwise, a token is checked in PEM mode and in JWKS mode (a shared
//! emulator serving key A), with `verifyMachineAuthToken` and `verifyM2MToken` semantics
//! ([`Mode::MachineAuth`] / [`Mode::M2MOnly`]); `verify_local`, when it answers, must agree
//! with the full `verify`.

// Counts every assertion for the catalogue census (scripts/census.mjs); before everything else.
#[macro_use]
mod census;
mod common;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _};
use clerk_bapi_emulator::{Emulator, EmulatorHandle, Fault, InstanceConfig, RetryAfter, Route};
use clerk_m2m_core::bapi::{self, BapiConfig, CreateM2mTokenParams, RevokeM2mTokenParams};
use clerk_m2m_core::internals::base64url::encode as b64;
use clerk_m2m_core::{Clock, FixedClock};
use clerk_m2m_core::TokenType;
use clerk_m2m_core::jwks::{JwksCache, JwksCacheConfig, JwksScope};
use clerk_m2m_core::{verify_signature, JwtAlgorithm, RsaPublicKey};
use clerk_m2m_core::{RawOptions, VerifyOptions};
use clerk_m2m_core::internals::redact;
use clerk_m2m_core::Secret;
use clerk_m2m_core::{Outcome, VerifiedData};
use clerk_m2m_core::{Mode, Verifier};
use common::{closed_port_url, run, TestClock, MARGIN};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// Keys and tokens

/// The fixed "now" of every JWT test (seconds), so that claim boundaries are exact.
const NOW_S: f64 = 1_700_000_000.0;
const NOW_MS: f64 = NOW_S * 1000.0;
const KID_A: &str = "ins_catalogue_A";
const CAT_M2M: &str = "cl_B7d4PD333AAA";
const CAT_SESSION: &str = "cl_B7d4PD111AAA";
const CAT_TEMPLATE: &str = "cl_B7d4PD222AAA";
const CAT_IGNORE: &str = "cl_I7d4PD111III";
const NOT_AN_M2M_TOKEN: &str = "The token is not an M2M token";
const UNDECODABLE: &str =
    "Invalid JWT form. The header, payload, or signature could not be decoded.";
const SIG_INVALID: &str = "JWT signature is invalid.";
const ALG_MISMATCH: &str =
    "Error verifying JWT signature. Error: JWK \"alg\" does not match the requested algorithm";
const INVALID_TYPE_JWT: &str =
    "Invalid JWT type: JWT. Expected one of: at+jwt, application/at+jwt for OAuth, or sub starting with 'mch_' for M2M";
const KID_MISMATCH: &str = "Unable to find a signing key in JWKS that matches the kid=";
/// A 1024-bit RSA public key (`openssl genrsa 1024`); aws-lc will not generate one.
const RSA_1024_SPKI_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCw12lDpBfgEhRgIpqJBhr/EAZD
G8jPsLAfL79j0sbpEe1FTiDYy11/hYUq5NAJi4zxz83cG3W74J1L06YsFCXEugrk
rQWvz+YlLIahq6/uHNmunEfqUlJycEGgWnWJTOAywvMMq2y8rdSQTxsGVlNvqxRc
MVlL5whYGKk/jCw4IwIDAQAB
-----END PUBLIC KEY-----
";

struct TestKey {
    pair: KeyPair,
}

impl TestKey {
    fn generate(size: KeySize) -> TestKey {
        TestKey {
            pair: KeyPair::generate(size).unwrap(),
        }
    }

    fn sign(&self, alg: JwtAlgorithm, msg: &[u8]) -> Vec<u8> {
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

    fn spki_der(&self) -> Vec<u8> {
        self.pair.public_key().as_der().unwrap().as_ref().to_vec()
    }

    fn spki_pem(&self) -> String {
        pem("PUBLIC KEY", &self.spki_der())
    }

    fn pkcs8_pem(&self) -> String {
        let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> = self.pair.as_der().unwrap();
        pem("PRIVATE KEY", der.as_ref())
    }

    fn n(&self) -> Vec<u8> {
        self.pair
            .public_key()
            .modulus()
            .big_endian_without_leading_zero()
            .to_vec()
    }

    /// A public JWK like Clerk serves (`use`, `kty`, `kid`, `alg`, `n`, `e`).
    fn jwk(&self, kid: &str) -> Value {
        let e = self
            .pair
            .public_key()
            .exponent()
            .big_endian_without_leading_zero()
            .to_vec();
        json!({"use": "sig", "kty": "RSA", "kid": kid, "alg": "RS256", "n": b64(&self.n()), "e": b64(&e)})
    }
}

fn pem(label: &str, der: &[u8]) -> String {
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
static A: LazyLock<TestKey> = LazyLock::new(|| TestKey::generate(KeySize::Rsa2048));
static B: LazyLock<TestKey> = LazyLock::new(|| TestKey::generate(KeySize::Rsa2048));
static C: LazyLock<TestKey> = LazyLock::new(|| TestKey::generate(KeySize::Rsa2048));

fn h0() -> Value {
    json!({"alg": "RS256", "typ": "JWT", "kid": KID_A, "cat": CAT_M2M})
}

fn p0() -> Value {
    json!({"sub": "mch_x", "jti": "mt_x", "iat": NOW_S - 10.0, "nbf": NOW_S - 10.0, "exp": NOW_S + 3600.0})
}

/// `base` with `extra`'s members set; a member set to `"__delete__"` is removed.
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

/// `rawtok`: signs raw header and payload bytes.
fn raw_tok(header: &[u8], payload: &[u8], key: &TestKey, alg: JwtAlgorithm) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = key.sign(alg, input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

/// `tok(h, p, key, alg)`.
fn tok_with(header: &Value, payload: &Value, key: &TestKey, alg: JwtAlgorithm) -> String {
    raw_tok(
        header.to_string().as_bytes(),
        payload.to_string().as_bytes(),
        key,
        alg,
    )
}

/// `tok(h, p)` signed by A with RS256.
fn tok(header: &Value, payload: &Value) -> String {
    tok_with(header, payload, &A, JwtAlgorithm::RS256)
}

/// A token with the given signature bytes (instead of a real signature).
fn with_sig(header: &Value, payload: &Value, sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes()),
        b64(sig)
    )
}

// ---------------------------------------------------------------------------
// Verifiers

fn fixed() -> Arc<dyn Clock> {
    Arc::new(FixedClock(NOW_MS))
}

fn verifier_with(raw: RawOptions, clock: Arc<dyn Clock>) -> Verifier {
    Verifier::with_clock(VerifyOptions::from_raw(raw).unwrap(), clock)
}

/// PEM mode: `jwtKey` = A's SPKI PEM; `apiUrl` points at a closed port, so any network use would fail.
fn pem_verifier() -> Verifier {
    pem_verifier_for(&A.spki_pem())
}

fn pem_verifier_for(pem: &str) -> Verifier {
    verifier_with(
        RawOptions {
            jwt_key: Some(pem.to_owned()),
            api_url: Some(closed_port_url()),
            ..RawOptions::default()
        },
        fixed(),
    )
}

fn jwks_options(emu: &EmulatorHandle) -> RawOptions {
    RawOptions {
        secret_key: Some(emu.secret_key()),
        api_url: Some(emu.url().to_owned()),
        timeout_ms: Some(3000.0),
        ..RawOptions::default()
    }
}

fn jwks_verifier(emu: &EmulatorHandle) -> Verifier {
    verifier_with(jwks_options(emu), fixed())
}

/// `{"type":"status","status":200,body}`: the emulator answers `GET /v1/jwks` with this document.
fn serve_json(emu: &EmulatorHandle, route: Route, status: u16, body: &str) {
    let fault = Fault::Status {
        status,
        retry_after: None,
        body: Some(body.to_owned()),
        content_type: Some("application/json".into()),
    };
    emu.set_fault(route, fault).unwrap();
}

/// A fresh emulator whose JWKS endpoint serves `doc`.
async fn jwks_server(doc: &Value) -> EmulatorHandle {
    let emu = Emulator::builder().start().await.unwrap();
    serve_json(&emu, Route::Jwks, 200, &doc.to_string());
    emu
}

fn jwks_of(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}

/// The emulator shared by the JWKS-mode halves of the J rows: serves A as `KID_A`.
static SHARED: tokio::sync::OnceCell<EmulatorHandle> = tokio::sync::OnceCell::const_new();

async fn shared() -> &'static EmulatorHandle {
    SHARED
        .get_or_init(|| async { jwks_server(&jwks_of(&[A.jwk(KID_A)])).await })
        .await
}

// ---------------------------------------------------------------------------
// Expectations

#[derive(Debug, Clone, Copy)]
enum Exp<'a> {
    /// Verified with this token type.
    Accept(TokenType),
    /// Rejected with this token type and code; the message starts with the text.
    Reject(TokenType, &'a str, &'a str),
    /// The reference throws `Unknown machine token type`.
    Throw,
}

const M2M: TokenType = TokenType::M2MToken;
const OAUTH: TokenType = TokenType::OAuthToken;
const TVF: &str = "token-verification-failed";
const INVALID: &str = "token-invalid";

/// The full verification; `verify_local`, when it answers, must give the same outcome.
async fn outcome(v: &Verifier, token: &str, mode: Mode) -> Outcome {
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

fn assert_outcome(o: &Outcome, exp: Exp<'_>, ctx: &str) {
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
fn m2m_only(exp: Exp<'_>) -> Exp<'_> {
    match exp {
        Exp::Accept(M2M) | Exp::Reject(M2M, _, _) => exp,
        _ => Exp::Reject(M2M, INVALID, NOT_AN_M2M_TOKEN),
    }
}

/// Checks a token in both modes of both functions against `v`.
async fn check_with(v: &Verifier, token: &str, exp: Exp<'_>, ctx: &str) -> Outcome {
    let o = outcome(v, token, Mode::MachineAuth).await;
    assert_outcome(&o, exp, &format!("{ctx} [verifyMachineAuthToken]"));
    let o2 = outcome(v, token, Mode::M2MOnly).await;
    assert_outcome(&o2, m2m_only(exp), &format!("{ctx} [verifyM2MToken]"));
    o
}

async fn check_pem(token: &str, exp: Exp<'_>, ctx: &str) -> Outcome {
    check_with(&pem_verifier(), token, exp, &format!("{ctx} (PEM)")).await
}

async fn check_jwks(token: &str, exp: Exp<'_>, ctx: &str) -> Outcome {
    check_with(
        &jwks_verifier(shared().await),
        token,
        exp,
        &format!("{ctx} (JWKS)"),
    )
    .await
}

/// The row applies to both modes with the same result.
async fn check(token: &str, exp: Exp<'_>, ctx: &str) -> Outcome {
    check_jwks(token, exp, ctx).await;
    check_pem(token, exp, ctx).await
}

fn rejected_message(o: &Outcome) -> String {
    match o {
        Outcome::Rejected { error, .. } => error.message.clone(),
        other => panic!("expected a rejection, got {}", other.to_json_string()),
    }
}

fn m2m_data(o: &Outcome) -> Value {
    match o {
        Outcome::Verified {
            data: VerifiedData::M2MJwt(t),
            ..
        } => t.to_json(),
        other => panic!("expected an M2M token, got {}", other.to_json_string()),
    }
}

fn api_data(o: &Outcome) -> Value {
    match o {
        Outcome::Verified {
            data: VerifiedData::Api(v),
            ..
        } => v.clone(),
        other => panic!("expected Backend API data, got {}", other.to_json_string()),
    }
}

const ACCEPT: Exp<'static> = Exp::Accept(M2M);

// ===========================================================================
// 2.1 Algorithm attacks

#[test]
fn j_01_alg_none_with_an_empty_signature_is_unroutable() {
    run(async {
        let t = format!(
            "{}.{}.",
            b64(with(h0(), json!({"alg": "none"})).to_string().as_bytes()),
            b64(p0().to_string().as_bytes())
        );
        check(&t, Exp::Throw, "alg none").await;
    });
}

#[test]
fn j_02_none_in_any_case_with_a_junk_signature_is_an_invalid_algorithm() {
    run(async {
        for alg in ["none", "None", "NONE", "nOnE"] {
            let t = with_sig(&with(h0(), json!({"alg": alg})), &p0(), &[0]);
            assert!(t.ends_with(".AA"));
            let msg = format!("Invalid JWT algorithm \"{alg}\". Supported: RS256,RS384,RS512.");
            check(&t, Exp::Reject(M2M, TVF, &msg), alg).await;
        }
    });
}

#[test]
fn j_03_hs256_keyed_with_the_public_key_has_no_code_path() {
    run(async {
        let pem_text = A.spki_pem();
        let secrets: Vec<(&str, Vec<u8>)> = vec![
            ("PEM text", pem_text.clone().into_bytes()),
            ("DER bytes", A.spki_der()),
            ("raw n", A.n()),
            (
                "PEM with leading whitespace",
                format!("\n  {pem_text}").into_bytes(),
            ),
        ];
        for (what, secret) in secrets {
            let h = with(h0(), json!({"alg": "HS256"}));
            let input = format!(
                "{}.{}",
                b64(h.to_string().as_bytes()),
                b64(p0().to_string().as_bytes())
            );
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
            let mac = aws_lc_rs::hmac::sign(&key, input.as_bytes());
            let t = format!("{input}.{}", b64(mac.as_ref()));
            check(
                &t,
                Exp::Reject(M2M, TVF, "Invalid JWT algorithm \"HS256\""),
                what,
            )
            .await;
        }
    });
}

#[test]
fn j_04_ps256_es256_eddsa_and_hs384_are_refused_before_any_key_work() {
    run(async {
        let rng = SystemRandom::new();
        let input_for = |alg: &str| {
            format!(
                "{}.{}",
                b64(with(h0(), json!({"alg": alg})).to_string().as_bytes()),
                b64(p0().to_string().as_bytes())
            )
        };
        let mut tokens = Vec::new();
        // PS256 with A (RSA-PSS).
        let input = input_for("PS256");
        let mut sig = vec![0; A.pair.public_modulus_len()];
        A.pair
            .sign(&signature::RSA_PSS_SHA256, &rng, input.as_bytes(), &mut sig)
            .unwrap();
        tokens.push(("PS256", format!("{input}.{}", b64(&sig))));
        // ES256 with a P-256 key.
        let ec =
            signature::EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let input = input_for("ES256");
        let sig = ec.sign(&rng, input.as_bytes()).unwrap();
        tokens.push(("ES256", format!("{input}.{}", b64(sig.as_ref()))));
        // EdDSA with an Ed25519 key.
        let ed = signature::Ed25519KeyPair::generate().unwrap();
        let input = input_for("EdDSA");
        tokens.push((
            "EdDSA",
            format!("{input}.{}", b64(ed.sign(input.as_bytes()).as_ref())),
        ));
        // HS384 with a random key.
        let input = input_for("HS384");
        let key = aws_lc_rs::hmac::Key::generate(aws_lc_rs::hmac::HMAC_SHA384, &rng).unwrap();
        tokens.push((
            "HS384",
            format!(
                "{input}.{}",
                b64(aws_lc_rs::hmac::sign(&key, input.as_bytes()).as_ref())
            ),
        ));
        for (alg, t) in tokens {
            let msg = format!("Invalid JWT algorithm \"{alg}\". Supported: RS256,RS384,RS512.");
            check(&t, Exp::Reject(M2M, TVF, &msg), alg).await;
        }
    });
}

#[test]
fn j_05_rs384_and_rs512_need_a_jwk_without_alg() {
    run(async {
        let no_alg = with(A.jwk(KID_A), json!({"alg": "__delete__"}));
        let emu_no_alg = jwks_server(&jwks_of(&[no_alg])).await;
        for alg in [JwtAlgorithm::RS384, JwtAlgorithm::RS512] {
            let t = tok_with(&with(h0(), json!({"alg": alg.as_str()})), &p0(), &A, alg);
            // PEM mode and a JWK with alg RS256: WebCrypto's alg-mismatch message.
            check(&t, Exp::Reject(M2M, TVF, ALG_MISMATCH), alg.as_str()).await;
            // A JWK without alg: the header's hash is used, as WebCrypto does.
            check_with(&jwks_verifier(&emu_no_alg), &t, ACCEPT, alg.as_str()).await;
        }
        // RS256 verifies everywhere.
        check_with(
            &jwks_verifier(&emu_no_alg),
            &tok(&h0(), &p0()),
            ACCEPT,
            "RS256",
        )
        .await;
        emu_no_alg.shutdown().await;
    });
}

#[test]
fn j_06_missing_or_non_string_alg_is_invalid() {
    run(async {
        for (alg, shown) in [
            (json!("__delete__"), "undefined"),
            (json!(null), "null"),
            (json!(123), "123"),
            (json!(["RS256"]), "[\"RS256\"]"),
        ] {
            let t = tok(&with(h0(), json!({"alg": alg})), &p0());
            let msg = format!("Invalid JWT algorithm {shown}. Supported: RS256,RS384,RS512.");
            check(&t, Exp::Reject(M2M, TVF, &msg), shown).await;
        }
    });
}

#[test]
fn j_07_alg_is_case_and_space_sensitive() {
    run(async {
        for alg in ["rs256", "RS256 ", " RS256", "Rs256"] {
            let t = tok(&with(h0(), json!({"alg": alg})), &p0());
            check(&t, Exp::Reject(M2M, TVF, "Invalid JWT algorithm"), alg).await;
        }
    });
}

// ===========================================================================
// 2.2 kid and header-embedded keys

#[test]
fn j_10_absent_kid_is_fine_with_a_pem_and_a_kid_mismatch_with_jwks() {
    run(async {
        let t = tok(&with(h0(), json!({"kid": "__delete__"})), &p0());
        check_pem(&t, ACCEPT, "no kid").await;
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let o = check_with(
            &jwks_verifier(&emu),
            &t,
            Exp::Reject(M2M, TVF, KID_MISMATCH),
            "no kid",
        )
        .await;
        assert!(rejected_message(&o).contains("kid='undefined'"));
        assert!(
            emu.count(Route::Jwks) <= 1,
            "fetches: {}",
            emu.count(Route::Jwks)
        );
        emu.shutdown().await;
    });
}

/// J-11's hostile kids.
fn hostile_kids() -> Vec<String> {
    vec![
        "../../etc/passwd".into(),
        "%2e%2e/%2e%2e/etc/passwd".into(),
        "ins_A\u{0}".into(),
        "ins_A\n[fake log] user=admin".into(),
        "k".repeat(10 * 1024),
        "\u{1b}[31mred\u{1b}[0m".into(),
        "x\u{202e}txt.exe".into(),
    ]
}

#[test]
fn j_11_hostile_kids_are_only_map_keys_and_are_escaped_in_messages() {
    run(async {
        for kid in hostile_kids() {
            let t = tok(&with(h0(), json!({"kid": kid})), &p0());
            check_pem(&t, ACCEPT, "hostile kid").await;
            let o = check_jwks(&t, Exp::Reject(M2M, TVF, KID_MISMATCH), "hostile kid").await;
            let m = rejected_message(&o);
            assert!(
                !m.contains('\n')
                    && !m.contains('\u{0}')
                    && !m.contains('\u{1b}')
                    && !m.contains('\u{202e}'),
                "{m:?}"
            );
            assert!(m.len() < 600, "message not truncated: {} bytes", m.len());
            assert!(m.contains(&redact::echo_untrusted(&kid)), "{m:?}");
        }
    });
}

#[test]
fn j_12_prototype_names_as_kid_are_plain_misses_with_at_most_one_fetch() {
    run(async {
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let v = jwks_verifier(&emu);
        for kid in ["__proto__", "constructor", "toString", "hasOwnProperty"] {
            let t = tok(&with(h0(), json!({"kid": kid})), &p0());
            let o = check_with(&v, &t, Exp::Reject(M2M, TVF, KID_MISMATCH), kid).await;
            assert!(rejected_message(&o).contains(&format!("kid='{kid}'")));
        }
        // The first miss fetched (cold cache); the others fell in the cooldown (fixed clock).
        assert_eq!(emu.count(Route::Jwks), 1);
        check_with(&v, &tok(&h0(), &p0()), ACCEPT, "A still verifies").await;
        emu.shutdown().await;
    });
}

/// Two instances on one emulator (same apiUrl, different secret keys) and a second emulator
/// (another apiUrl), all sharing one kid.
#[test]
fn j_13_another_tenants_kid_is_never_served_from_its_scope() {
    run(async {
        let shared_kid = "ins_same_kid";
        let emu = Emulator::builder()
            .instance(InstanceConfig::with_default_machines().kid("ins_tenant_a"))
            .instance(InstanceConfig::new().kid("ins_tenant_b"))
            .instance(InstanceConfig::new().kid(shared_kid))
            .instance(InstanceConfig::new().kid(shared_kid))
            .start()
            .await
            .unwrap();
        let opts = |i: usize| RawOptions {
            secret_key: Some(emu.instance(i).unwrap().secret_key),
            api_url: Some(emu.url().into()),
            ..RawOptions::default()
        };
        let sign = |i: usize, kid: &str| {
            emu.sign_jwt(i, &with(h0(), json!({"kid": kid})), &p0())
                .unwrap()
        };
        // Different kids: B's token, after B warmed its own scope, is a kid miss for A.
        let b_token = sign(1, "ins_tenant_b");
        check_with(
            &verifier_with(opts(1), fixed()),
            &b_token,
            ACCEPT,
            "B under B",
        )
        .await;
        check_with(
            &verifier_with(opts(0), fixed()),
            &b_token,
            Exp::Reject(M2M, TVF, KID_MISMATCH),
            "B under A",
        )
        .await;
        // Same kid: the kid is found in A's own JWKS, and B's signature fails there.
        let d_token = sign(3, shared_kid);
        check_with(
            &verifier_with(opts(3), fixed()),
            &d_token,
            ACCEPT,
            "D under D",
        )
        .await;
        check_with(
            &verifier_with(opts(2), fixed()),
            &d_token,
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "D under C",
        )
        .await;
        // Another apiUrl with the same secret key text is another scope too.
        let other = Emulator::builder()
            .instance(
                InstanceConfig::new()
                    .kid(shared_kid)
                    .secret_key(emu.instance(2).unwrap().secret_key),
            )
            .start()
            .await
            .unwrap();
        let o_token = other
            .sign_jwt(0, &with(h0(), json!({"kid": shared_kid})), &p0())
            .unwrap();
        check_with(
            &verifier_with(
                RawOptions {
                    api_url: Some(other.url().into()),
                    ..opts(2)
                },
                fixed(),
            ),
            &o_token,
            ACCEPT,
            "other under other",
        )
        .await;
        check_with(
            &verifier_with(opts(2), fixed()),
            &o_token,
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "other under C",
        )
        .await;
        other.shutdown().await;
        emu.shutdown().await;
    });
}

#[test]
fn j_14_non_string_kids_are_coerced_like_js_string() {
    run(async {
        for (kid, jwks_accepts) in [
            (json!(123), false),
            (json!([KID_A]), true),
            (json!({}), false),
            (json!(true), false),
            (json!(null), false),
        ] {
            let t = tok(&with(h0(), json!({"kid": kid.clone()})), &p0());
            check_pem(&t, ACCEPT, &kid.to_string()).await;
            let exp = if jwks_accepts {
                ACCEPT
            } else {
                Exp::Reject(M2M, TVF, KID_MISMATCH)
            };
            check_jwks(&t, exp, &kid.to_string()).await;
        }
        // String(123) is "123": a key served under that kid matches.
        let emu = jwks_server(&jwks_of(&[A.jwk("123")])).await;
        check_with(
            &jwks_verifier(&emu),
            &tok(&with(h0(), json!({"kid": 123})), &p0()),
            ACCEPT,
            "kid 123",
        )
        .await;
        emu.shutdown().await;
    });
}

#[test]
fn j_15_a_valid_kid_with_an_attackers_signature_is_invalid() {
    run(async {
        let t = tok_with(&h0(), &p0(), &C, JwtAlgorithm::RS256);
        check(&t, Exp::Reject(M2M, TVF, SIG_INVALID), "signed by C").await;
    });
}

#[test]
fn j_16_an_embedded_jwk_header_is_never_consulted() {
    run(async {
        let h = with(h0(), json!({"jwk": C.jwk("attacker")}));
        check(
            &tok_with(&h, &p0(), &C, JwtAlgorithm::RS256),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "jwk of C",
        )
        .await;
        check(&tok(&h, &p0()), ACCEPT, "jwk header on an A token").await;
    });
}

/// Counts connections to a loopback "attacker" listener.
async fn attacker_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (url, hits)
}

#[test]
fn j_17_jku_and_x5u_urls_are_never_fetched() {
    run(async {
        let (url, hits) = attacker_listener().await;
        for member in ["jku", "x5u"] {
            let h = with(h0(), json!({ member: url.clone() }));
            check(
                &tok_with(&h, &p0(), &C, JwtAlgorithm::RS256),
                Exp::Reject(M2M, TVF, SIG_INVALID),
                member,
            )
            .await;
            check(&tok(&h, &p0()), ACCEPT, member).await;
        }
        // Also with a kid the cache does not know (a JWKS fetch happens, but to apiUrl only).
        let h = json!({"alg": "RS256", "kid": "ins_unknown", "jku": url.clone()});
        check_jwks(
            &tok_with(&h, &p0(), &C, JwtAlgorithm::RS256),
            Exp::Reject(M2M, TVF, KID_MISMATCH),
            "unknown kid",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            hits.load(Ordering::SeqCst),
            0,
            "the attacker's listener was contacted"
        );
    });
}

#[test]
fn j_18_an_x5c_chain_is_ignored() {
    run(async {
        // A certificate is never parsed; C's DER stands in for one.
        let h = with(
            h0(),
            json!({"x5c": [base64::Engine::encode(&base64::engine::general_purpose::STANDARD, C.spki_der())]}),
        );
        check(
            &tok_with(&h, &p0(), &C, JwtAlgorithm::RS256),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "x5c of C",
        )
        .await;
    });
}

#[test]
fn j_19_crit_is_ignored_for_parity() {
    run(async {
        for crit in [
            json!({"crit": ["x-foo"], "x-foo": 1}),
            json!({"crit": ["exp"]}),
            json!({"crit": []}),
        ] {
            check(
                &tok(&with(h0(), crit.clone()), &p0()),
                ACCEPT,
                &crit.to_string(),
            )
            .await;
        }
    });
}

#[test]
fn j_20_unencoded_payloads_are_not_supported() {
    run(async {
        // RFC 7797: the signer signs `b64u(header) + '.' + <raw payload>`; we always verify the encoded form.
        let h = with(h0(), json!({"b64": false, "crit": ["b64"]}));
        let header_b64 = b64(h.to_string().as_bytes());
        let payload = p0().to_string();
        let sig = A.sign(
            JwtAlgorithm::RS256,
            format!("{header_b64}.{payload}").as_bytes(),
        );
        let t = format!("{header_b64}.{}.{}", b64(payload.as_bytes()), b64(&sig));
        check(&t, Exp::Reject(M2M, TVF, SIG_INVALID), "b64:false").await;
    });
}

// ===========================================================================
// 2.3 JSON shape, duplicates, encodings

fn raw_a(header: &str, payload: &str) -> String {
    raw_tok(
        header.as_bytes(),
        payload.as_bytes(),
        &A,
        JwtAlgorithm::RS256,
    )
}

fn h0_text() -> String {
    h0().to_string()
}

#[test]
fn j_30_duplicate_payload_keys_last_wins() {
    run(async {
        let p = format!(
            r#"{{"sub":"user_1","sub":"mch_1","exp":{},"iat":{}}}"#,
            NOW_S + 60.0,
            NOW_S - 1.0
        );
        let o = check(&raw_a(&h0_text(), &p), ACCEPT, "dup sub").await;
        assert_eq!(m2m_data(&o)["subject"], "mch_1");
        // And the other order is not an M2M token at all.
        let p = format!(r#"{{"sub":"mch_1","sub":"user_1","exp":{}}}"#, NOW_S + 60.0);
        check(
            &raw_a(&h0_text(), &p),
            Exp::Reject(OAUTH, TVF, INVALID_TYPE_JWT),
            "dup sub reversed",
        )
        .await;
    });
}

#[test]
fn j_31_a_duplicate_exp_is_read_last_wins() {
    run(async {
        let p = format!(r#"{{"sub":"mch_1","exp":{},"exp":1}}"#, NOW_S + 3600.0);
        check(
            &raw_a(&h0_text(), &p),
            Exp::Reject(M2M, TVF, "JWT is expired."),
            "dup exp",
        )
        .await;
    });
}

#[test]
fn j_32_duplicate_header_keys_last_wins() {
    run(async {
        let p = p0().to_string();
        let h = format!(
            r#"{{"alg":"RS256","kid":"{KID_A}","cat":"{CAT_M2M}","cat":"{CAT_TEMPLATE}"}}"#
        );
        check(
            &raw_a(&h, &p),
            Exp::Reject(M2M, INVALID, "Invalid M2M JWT category."),
            "dup cat",
        )
        .await;
        let h = format!(r#"{{"alg":"none","alg":"RS256","kid":"{KID_A}"}}"#);
        check(&raw_a(&h, &p), ACCEPT, "dup alg").await;
    });
}

#[test]
fn j_33_a_null_payload_is_an_error_not_a_crash() {
    run(async {
        check(
            &raw_a(&h0_text(), "null"),
            Exp::Reject(OAUTH, TVF, INVALID_TYPE_JWT),
            "payload null",
        )
        .await;
    });
}

#[test]
fn j_34_non_object_payloads_are_not_m2m() {
    run(async {
        for p in ["[1]", "\"mch_1\"", "42", "true", "[]", "\"\"", "0", "false"] {
            check(
                &raw_a(&h0_text(), p),
                Exp::Reject(OAUTH, TVF, INVALID_TYPE_JWT),
                p,
            )
            .await;
        }
    });
}

/// A header without members. PEM mode reaches `verifyJwt`'s algorithm check; JWKS mode first
/// looks the (absent) kid up, as the reference resolves the key before `verifyJwt` — the
/// catalogue's expected text is the PEM-mode one. Both are `token-verification-failed`.
async fn check_memberless_header(header: &str) {
    let t = raw_a(header, &p0().to_string());
    check_pem(
        &t,
        Exp::Reject(M2M, TVF, "Invalid JWT algorithm undefined."),
        header,
    )
    .await;
    let o = check_jwks(&t, Exp::Reject(M2M, TVF, KID_MISMATCH), header).await;
    assert!(rejected_message(&o).contains("kid='undefined'"));
}

#[test]
fn j_35_a_null_header_is_an_invalid_algorithm_not_a_crash() {
    run(check_memberless_header("null"));
}

#[test]
fn j_36_array_and_string_headers_have_no_algorithm() {
    run(async {
        for h in ["[]", "\"x\"", "[\"RS256\"]", "7"] {
            check_memberless_header(h).await;
        }
    });
}

#[test]
fn j_37_payloads_that_are_not_json_are_undecodable() {
    run(async {
        for p in ["{", "{\"sub\":\"mch_1\"} x", "{'sub':'mch_1'}", "NaN", " "] {
            check(
                &raw_a(&h0_text(), p),
                Exp::Reject(M2M, INVALID, UNDECODABLE),
                p,
            )
            .await;
        }
    });
}

#[test]
fn j_38_invalid_utf8_becomes_replacement_characters() {
    run(async {
        let mut p = format!(r#"{{"sub":"mch_1","exp":{},"note":""#, NOW_S + 60.0).into_bytes();
        p.extend_from_slice(&[0xFF, 0xFE]);
        p.extend_from_slice(b"\"}");
        let t = raw_tok(h0_text().as_bytes(), &p, &A, JwtAlgorithm::RS256);
        let o = check(&t, ACCEPT, "FF FE").await;
        assert_eq!(m2m_data(&o)["claims"]["note"], "\u{FFFD}\u{FFFD}");
    });
}

#[test]
fn j_39_one_leading_bom_is_stripped() {
    run(async {
        let mut p = vec![0xEF, 0xBB, 0xBF];
        p.extend_from_slice(p0().to_string().as_bytes());
        let mut h = vec![0xEF, 0xBB, 0xBF];
        h.extend_from_slice(h0_text().as_bytes());
        check(&raw_tok(&h, &p, &A, JwtAlgorithm::RS256), ACCEPT, "BOM").await;
        // Two BOMs: the second is not whitespace for JSON.parse.
        let mut p2 = vec![0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF];
        p2.extend_from_slice(p0().to_string().as_bytes());
        check(
            &raw_tok(h0_text().as_bytes(), &p2, &A, JwtAlgorithm::RS256),
            Exp::Reject(M2M, INVALID, UNDECODABLE),
            "two BOMs",
        )
        .await;
    });
}

#[test]
fn j_40_lone_surrogates_are_refused_deliberately() {
    run(async {
        let p = format!(r#"{{"sub":"mch_\ud800","exp":{}}}"#, NOW_S + 60.0);
        check(
            &raw_a(&h0_text(), &p),
            Exp::Reject(M2M, INVALID, UNDECODABLE),
            "lone surrogate",
        )
        .await;
        // A valid pair is fine.
        let p = format!(r#"{{"sub":"mch_\ud83d\ude00","exp":{}}}"#, NOW_S + 60.0);
        let o = check(&raw_a(&h0_text(), &p), ACCEPT, "surrogate pair").await;
        assert_eq!(m2m_data(&o)["subject"], "mch_😀");
    });
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn j_41_deep_nesting_is_refused_without_recursion() {
    run(async {
        let p = format!(
            r#"{{"sub":"mch_1","exp":{},"x":{}}}"#,
            NOW_S + 60.0,
            nested(5000)
        );
        check(
            &raw_a(&h0_text(), &p),
            Exp::Reject(M2M, INVALID, UNDECODABLE),
            "5000 deep payload",
        )
        .await;
        let h = format!(r#"{{"alg":"RS256","x":{}}}"#, nested(5000));
        check(
            &raw_a(&h, &p0().to_string()),
            Exp::Reject(M2M, INVALID, UNDECODABLE),
            "5000 deep header",
        )
        .await;
        // Moderate nesting (well under serde_json's 128) is accepted.
        let p = format!(
            r#"{{"sub":"mch_1","exp":{},"x":{}}}"#,
            NOW_S + 60.0,
            nested(100)
        );
        check(&raw_a(&h0_text(), &p), ACCEPT, "100 deep").await;
    });
}

#[test]
fn j_42_a_proto_claim_is_dropped_and_claims_is_null() {
    run(async {
        let p = format!(
            r#"{{"sub":"mch_x","jti":"mt_x","exp":{},"__proto__":{{"role":"admin"}}}}"#,
            NOW_S + 60.0
        );
        let o = check(&raw_a(&h0_text(), &p), ACCEPT, "__proto__").await;
        assert_eq!(m2m_data(&o)["claims"], Value::Null);
        // With another custom claim, only that one is kept.
        let p = format!(
            r#"{{"sub":"mch_x","exp":{},"__proto__":{{"role":"admin"}},"team":"a"}}"#,
            NOW_S + 60.0
        );
        let o = check(&raw_a(&h0_text(), &p), ACCEPT, "__proto__ + team").await;
        assert_eq!(m2m_data(&o)["claims"], json!({"team": "a"}));
    });
}

#[test]
fn j_43_odd_scopes_are_errors_and_a_string_aud_stays_a_string() {
    run(async {
        for scopes in [json!(5), json!(["a"]), json!({}), json!(true)] {
            let t = tok(&h0(), &with(p0(), json!({"scopes": scopes.clone()})));
            check(
                &t,
                Exp::Reject(M2M, TVF, "Invalid M2M JWT scopes claim (scopes)"),
                &scopes.to_string(),
            )
            .await;
        }
        let o = check(
            &tok(&h0(), &with(p0(), json!({"aud": "mch_x"}))),
            ACCEPT,
            "aud string",
        )
        .await;
        assert_eq!(m2m_data(&o)["scopes"], json!("mch_x"));
        let o = check(
            &tok(
                &h0(),
                &with(p0(), json!({"scopes": "mch_1 mch_2", "aud": "x"})),
            ),
            ACCEPT,
            "scopes string",
        )
        .await;
        assert_eq!(m2m_data(&o)["scopes"], json!(["mch_1", "mch_2"]));
        let o = check(&tok(&h0(), &p0()), ACCEPT, "neither").await;
        assert_eq!(m2m_data(&o)["scopes"], json!([]));
    });
}

// ===========================================================================
// 2.4 Size / DoS

#[test]
fn j_50_a_2mb_jwt_is_refused_before_decoding_and_without_network() {
    run(async {
        let t = tok(&h0(), &with(p0(), json!({"pad": "a".repeat(2_000_000)})));
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let v = jwks_verifier(&emu);
        // Settled locally, by the ceiling (checked before any base64 or JSON work; the JS
        // suite measures the cost on the release build, J-54).
        assert!(v.verify_local(&t, Mode::MachineAuth).is_some());
        check_with(
            &v,
            &t,
            Exp::Reject(
                M2M,
                INVALID,
                "Invalid JWT form. The token is larger than 16384 bytes.",
            ),
            "2 MB",
        )
        .await;
        check_pem(
            &t,
            Exp::Reject(
                M2M,
                INVALID,
                "Invalid JWT form. The token is larger than 16384 bytes.",
            ),
            "2 MB",
        )
        .await;
        assert_eq!(emu.count(Route::Jwks), 0);
        // The ceiling is configurable (up to 1 MiB), and applies at its exact boundary.
        let small = tok(&h0(), &p0());
        let v = verifier_with(
            RawOptions {
                jwt_key: Some(A.spki_pem()),
                max_token_bytes: Some(small.len() as f64),
                ..RawOptions::default()
            },
            fixed(),
        );
        check_with(&v, &small, ACCEPT, "at the ceiling").await;
        let v = verifier_with(
            RawOptions {
                jwt_key: Some(A.spki_pem()),
                max_token_bytes: Some(small.len() as f64 - 1.0),
                ..RawOptions::default()
            },
            fixed(),
        );
        check_with(
            &v,
            &small,
            Exp::Reject(M2M, INVALID, "Invalid JWT form. The token is larger than"),
            "one over",
        )
        .await;
        emu.shutdown().await;
    });
}

#[test]
fn j_51_a_1mb_opaque_token_is_refused_locally() {
    run(async {
        let emu = Emulator::builder().start().await.unwrap();
        let v = jwks_verifier(&emu);
        let t = format!("mt_{}", "a".repeat(1_000_000));
        for mode in [Mode::MachineAuth, Mode::M2MOnly] {
            let local = v
                .verify_local(&t, mode)
                .expect("answered without the network");
            assert_outcome(
                &local,
                Exp::Reject(
                    M2M,
                    INVALID,
                    "Invalid machine token. The token is larger than 16384 bytes.",
                ),
                "1 MB mt_",
            );
            assert_outcome(
                &v.verify(&t, mode).await,
                Exp::Reject(M2M, INVALID, "Invalid machine token."),
                "1 MB mt_",
            );
        }
        for (prefix, tt) in [("oat_", OAUTH), ("ak_", TokenType::ApiKey)] {
            let t = format!("{prefix}{}", "a".repeat(1_000_000));
            assert_outcome(
                &v.verify(&t, Mode::MachineAuth).await,
                Exp::Reject(tt, INVALID, "Invalid machine token."),
                prefix,
            );
        }
        assert_eq!(
            emu.counters().values().sum::<u64>(),
            0,
            "{:?}",
            emu.counters()
        );
        emu.shutdown().await;
    });
}

#[test]
fn j_52_a_1mb_header_segment_is_refused() {
    run(async {
        let h = with(h0(), json!({"pad": "h".repeat(1_000_000)}));
        check(
            &tok(&h, &p0()),
            Exp::Reject(M2M, INVALID, "Invalid JWT form. The token is larger than"),
            "1 MB header",
        )
        .await;
    });
}

#[test]
fn j_53_a_hundred_thousand_dots_is_unroutable_in_linear_time() {
    run(async {
        let t = vec!["a"; 100_001].join(".");
        let start = Instant::now();
        check(&t, Exp::Throw, "1e5 dots").await;
        let t2 = vec!["a"; 1_000_001].join(".");
        check_pem(&t2, Exp::Throw, "1e6 dots").await;
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    });
}

// ===========================================================================
// 2.5 base64url and signature bytes

#[test]
fn j_60_padding_makes_a_token_unroutable() {
    run(async {
        let t = tok(&h0(), &p0());
        let segs: Vec<&str> = t.split('.').collect();
        for i in 0..3 {
            let mut s: Vec<String> = segs.iter().map(|x| x.to_string()).collect();
            s[i].push('=');
            check(&s.join("."), Exp::Throw, "padding").await;
        }
    });
}

#[test]
fn j_61_the_standard_alphabet_is_unroutable() {
    run(async {
        // Find a token whose encoding uses '-' or '_' and swap them for '+' '/'.
        let mut i = 0;
        let t = loop {
            let t = tok(&h0(), &with(p0(), json!({"jti": format!("mt_{i}")})));
            if t.contains('-') || t.contains('_') {
                break t;
            }
            i += 1;
        };
        check(&t.replace('-', "+").replace('_', "/"), Exp::Throw, "+/").await;
    });
}

#[test]
fn j_62_whitespace_anywhere_is_unroutable() {
    run(async {
        let t = tok(&h0(), &p0());
        let (a, b) = t.split_at(10);
        for bad in [
            format!(" {t}"),
            format!("{t}\n"),
            format!("{a} {b}"),
            format!("\t{t}"),
            format!("{t}\r\n"),
        ] {
            check(&bad, Exp::Throw, "whitespace").await;
        }
    });
}

#[test]
fn j_63_non_canonical_trailing_bits_are_undecodable() {
    run(async {
        let t = tok(&h0(), &p0());
        let (input, sig) = t.rsplit_once('.').unwrap();
        assert_eq!(sig.len(), 342, "256 bytes = 342 chars, 4 unused bits");
        let last = sig.as_bytes()[341];
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = ALPHABET.iter().position(|&c| c == last).unwrap();
        let flipped = ALPHABET[idx ^ 1] as char;
        let bad = format!("{input}.{}{flipped}", &sig[..341]);
        check(
            &bad,
            Exp::Reject(M2M, INVALID, UNDECODABLE),
            "trailing bits",
        )
        .await;
    });
}

#[test]
fn j_64_a_segment_of_length_1_mod_4_is_undecodable() {
    run(async {
        let t = tok(&h0(), &p0());
        // 342 − 1 = 341 ≡ 1 (mod 4).
        check(
            &t[..t.len() - 1],
            Exp::Reject(M2M, INVALID, UNDECODABLE),
            "341-char signature",
        )
        .await;
    });
}

#[test]
fn j_65_empty_segments_are_unroutable() {
    run(async {
        let t = tok(&h0(), &p0());
        let sig = t.rsplit('.').next().unwrap();
        let p = b64(p0().to_string().as_bytes());
        for bad in [
            format!("..{sig}"),
            format!(".{p}.{sig}"),
            format!("{}..{sig}", b64(h0_text().as_bytes())),
        ] {
            check(&bad, Exp::Throw, "empty segment").await;
        }
    });
}

#[test]
fn j_70_a_signature_without_its_leading_zero_byte_is_invalid() {
    run(async {
        // PKCS#1 v1.5 is deterministic: vary the payload until the signature starts with 0x00.
        let (payload, sig) = (0..20_000)
            .map(|i| with(p0(), json!({"jti": format!("mt_{i}")})))
            .find_map(|p| {
                let input = format!(
                    "{}.{}",
                    b64(h0_text().as_bytes()),
                    b64(p.to_string().as_bytes())
                );
                let sig = A.sign(JwtAlgorithm::RS256, input.as_bytes());
                (sig[0] == 0).then_some((p, sig))
            })
            .expect("a signature with a leading zero byte");
        check(&with_sig(&h0(), &payload, &sig), ACCEPT, "256 bytes").await;
        check(
            &with_sig(&h0(), &payload, &sig[1..]),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "255 bytes",
        )
        .await;
    });
}

#[test]
fn j_71_an_extra_leading_zero_byte_is_invalid() {
    run(async {
        let input = format!(
            "{}.{}",
            b64(h0_text().as_bytes()),
            b64(p0().to_string().as_bytes())
        );
        let mut sig = vec![0u8];
        sig.extend(A.sign(JwtAlgorithm::RS256, input.as_bytes()));
        check(
            &with_sig(&h0(), &p0(), &sig),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "257 bytes",
        )
        .await;
    });
}

#[test]
fn j_72_zero_ff_and_spliced_signatures_are_invalid() {
    run(async {
        let other = tok(&h0(), &with(p0(), json!({"sub": "mch_other"})));
        let spliced = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            other.rsplit('.').next().unwrap(),
        )
        .unwrap();
        for (what, sig) in [
            ("zeros", vec![0u8; 256]),
            ("0xFF", vec![0xFF; 256]),
            ("spliced", spliced),
            ("empty-ish", vec![1]),
        ] {
            check(
                &with_sig(&h0(), &p0(), &sig),
                Exp::Reject(M2M, TVF, SIG_INVALID),
                what,
            )
            .await;
        }
    });
}

// ===========================================================================
// 2.6 Time claims

fn exp_token(extra: Value) -> String {
    tok(&h0(), &with(p0(), extra))
}

const EXPIRED: &str = "JWT is expired.";
const NOT_ACTIVE: &str = "JWT cannot be used prior to not before date claim (nbf).";
const IAT_FUTURE: &str = "JWT issued at date claim (iat) is in the future.";

#[test]
fn j_80_a_missing_exp_is_refused() {
    run(async {
        let msg = "Invalid JWT expiry date claim (exp) undefined. Expected number.";
        check(
            &exp_token(json!({"exp": "__delete__"})),
            Exp::Reject(M2M, TVF, msg),
            "no exp",
        )
        .await;
    });
}

#[test]
fn j_81_a_wrongly_typed_exp_is_never_absent() {
    run(async {
        for (exp, shown) in [
            (json!("1795763638"), "\"1795763638\""),
            (json!(true), "true"),
            (json!(null), "null"),
            (json!([]), "[]"),
            (json!({}), "{}"),
        ] {
            let msg = format!("Invalid JWT expiry date claim (exp) {shown}. Expected number.");
            check(
                &exp_token(json!({"exp": exp})),
                Exp::Reject(M2M, TVF, &msg),
                shown,
            )
            .await;
        }
    });
}

#[test]
fn j_82_a_fractional_exp_is_kept_in_expiration() {
    run(async {
        let o = check(
            &exp_token(json!({"exp": NOW_S + 3600.5})),
            ACCEPT,
            "fractional",
        )
        .await;
        assert_eq!(
            m2m_data(&o)["expiration"].as_f64(),
            Some((NOW_S + 3600.5) * 1000.0)
        );
    });
}

/// The reference's rule: seconds truncated toward zero, then `exp_ms <= now - skew` is expired.
fn model_expired(exp_s: f64, now_ms: f64, skew_ms: f64) -> bool {
    exp_s.trunc() * 1000.0 <= now_ms - skew_ms
}

#[test]
fn j_83_exp_at_the_skew_boundary() {
    run(async {
        check(
            &exp_token(json!({"exp": NOW_S - 2.0})),
            ACCEPT,
            "2 s ago, inside the default 5 s",
        )
        .await;
        check(
            &exp_token(json!({"exp": NOW_S - 60.0})),
            Exp::Reject(M2M, TVF, EXPIRED),
            "60 s ago",
        )
        .await;
        check(
            &exp_token(json!({"exp": NOW_S - 5.0})),
            Exp::Reject(M2M, TVF, EXPIRED),
            "exactly now − skew",
        )
        .await;
        check(
            &exp_token(json!({"exp": NOW_S - 4.0})),
            ACCEPT,
            "1 s inside",
        )
        .await;
        // Seconds are truncated toward zero first: now − 4.1 s counts as now − 5 s, the boundary.
        check(
            &exp_token(json!({"exp": NOW_S - 4.1})),
            Exp::Reject(M2M, TVF, EXPIRED),
            "truncated toward zero",
        )
        .await;
        check(
            &exp_token(json!({"exp": NOW_S - 3.9})),
            ACCEPT,
            "now − 3.9 s counts as now − 3 s",
        )
        .await;
    });
    // Property: around now − skew ± 3 s, with a moving clock and several skews, the answer is the model's.
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 96,
        ..Default::default()
    });
    let strategy = (
        -3000i64..=3000,
        0i64..=999,
        proptest::sample::select(vec![0.0, 1000.0, 5000.0, 30000.0]),
    );
    runner
        .run(&strategy, |(delta_ms, now_frac, skew)| {
            let now_ms = NOW_MS + now_frac as f64;
            let exp_s = (now_ms - skew + delta_ms as f64) / 1000.0;
            let t = exp_token(json!({"exp": exp_s, "iat": NOW_S - 100.0, "nbf": NOW_S - 100.0}));
            let v = verifier_with(
                RawOptions {
                    jwt_key: Some(A.spki_pem()),
                    clock_skew_in_ms: Some(skew),
                    ..RawOptions::default()
                },
                Arc::new(FixedClock(now_ms)),
            );
            let o = v.verify_local(&t, Mode::MachineAuth).unwrap();
            let rejected =
                matches!(&o, Outcome::Rejected { error, .. } if error.message.starts_with(EXPIRED));
            proptest::prop_assert_eq!(
                rejected,
                model_expired(exp_s, now_ms, skew),
                "exp {} now {} skew {}: {}",
                exp_s,
                now_ms,
                skew,
                o.to_json_string()
            );
            let verified = matches!(o, Outcome::Verified { .. });
            proptest::prop_assert!(rejected || verified, "{}", o.to_json_string());
            Ok(())
        })
        .unwrap();
}

#[test]
fn j_84_very_large_exp_is_in_the_future_without_overflow() {
    run(async {
        for exp in [
            "1e20",
            "9e12",
            "99999999999999999999999",
            "1.7976931348623157e308",
        ] {
            let p = format!(r#"{{"sub":"mch_x","jti":"mt_x","exp":{exp}}}"#);
            let o = check(&raw_a(&h0_text(), &p), ACCEPT, exp).await;
            let expected: f64 = exp.parse::<f64>().unwrap() * 1000.0;
            let got = &m2m_data(&o)["expiration"];
            if expected.is_finite() {
                assert_eq!(got.as_f64(), Some(expected), "{exp}");
            } else {
                assert_eq!(got, "Infinity", "{exp}");
            }
        }
    });
}

#[test]
fn j_85_a_negative_exp_is_expired() {
    run(async {
        check(
            &exp_token(json!({"exp": -1})),
            Exp::Reject(M2M, TVF, EXPIRED),
            "-1",
        )
        .await;
    });
}

#[test]
fn j_86_exp_before_the_js_date_range_is_expired() {
    run(async {
        for exp in [-1e13, -8.64e12 - 1.0, -1e300] {
            check(
                &exp_token(json!({"exp": exp})),
                Exp::Reject(M2M, TVF, EXPIRED),
                &exp.to_string(),
            )
            .await;
        }
    });
}

#[test]
fn j_87_exp_overflowing_f64_is_undecodable() {
    run(async {
        for exp in ["1e400", "-1e400"] {
            let p = format!(r#"{{"sub":"mch_1","exp":{exp}}}"#);
            check(
                &raw_a(&h0_text(), &p),
                Exp::Reject(M2M, INVALID, UNDECODABLE),
                exp,
            )
            .await;
        }
    });
}

#[test]
fn j_88_nbf_cases() {
    run(async {
        check(
            &exp_token(json!({"nbf": NOW_S + 60.0})),
            Exp::Reject(M2M, TVF, NOT_ACTIVE),
            "now+60",
        )
        .await;
        check(&exp_token(json!({"nbf": NOW_S + 4.0})), ACCEPT, "now+4").await;
        check(
            &exp_token(json!({"nbf": NOW_S + 5.0})),
            ACCEPT,
            "exactly now+skew is not after",
        )
        .await;
        check(
            &exp_token(json!({"nbf": NOW_S + 6.0})),
            Exp::Reject(M2M, TVF, NOT_ACTIVE),
            "now+6",
        )
        .await;
        let msg = "Invalid JWT not before date claim (nbf) \"x\". Expected number.";
        check(
            &exp_token(json!({"nbf": "x"})),
            Exp::Reject(M2M, TVF, msg),
            "\"x\"",
        )
        .await;
        check(
            &exp_token(json!({"nbf": null})),
            Exp::Reject(M2M, TVF, "Invalid JWT not before date claim (nbf) null."),
            "null",
        )
        .await;
        for nbf in [1e13, 1e300] {
            check(
                &exp_token(json!({"nbf": nbf})),
                Exp::Reject(M2M, TVF, NOT_ACTIVE),
                &nbf.to_string(),
            )
            .await;
        }
    });
}

#[test]
fn j_89_iat_cases() {
    run(async {
        check(
            &exp_token(json!({"iat": NOW_S + 60.0})),
            Exp::Reject(M2M, TVF, IAT_FUTURE),
            "now+60",
        )
        .await;
        let o = check(&exp_token(json!({"iat": "__delete__"})), ACCEPT, "absent").await;
        assert_eq!(m2m_data(&o)["createdAt"], "NaN");
        assert_eq!(m2m_data(&o)["updatedAt"], "NaN");
        check(
            &exp_token(json!({"iat": "x"})),
            Exp::Reject(
                M2M,
                TVF,
                "Invalid JWT issued at date claim (iat) \"x\". Expected number.",
            ),
            "\"x\"",
        )
        .await;
        for iat in [1e13, 1e300] {
            check(
                &exp_token(json!({"iat": iat})),
                Exp::Reject(M2M, TVF, IAT_FUTURE),
                &iat.to_string(),
            )
            .await;
        }
    });
}

#[test]
fn j_90_odd_clock_skews() {
    run(async {
        let v = |skew: Option<f64>| {
            verifier_with(
                RawOptions {
                    jwt_key: Some(A.spki_pem()),
                    clock_skew_in_ms: skew,
                    ..RawOptions::default()
                },
                fixed(),
            )
        };
        let just_expired = exp_token(json!({"exp": NOW_S - 1.0}));
        // 0 is honoured (no fallback to 5000), and the default is 5000.
        check_with(
            &v(Some(0.0)),
            &just_expired,
            Exp::Reject(M2M, TVF, EXPIRED),
            "skew 0",
        )
        .await;
        check_with(&v(None), &just_expired, ACCEPT, "default skew").await;
        // Negative: parity, the window shrinks (a valid token becomes "expired").
        check_with(
            &v(Some(-1e9)),
            &tok(&h0(), &p0()),
            Exp::Reject(M2M, TVF, EXPIRED),
            "skew -1e9",
        )
        .await;
        // Huge values never overflow: a token expired a long time ago is inside the window.
        let o = check_with(
            &v(Some(1e308)),
            &exp_token(json!({"exp": 1})),
            ACCEPT,
            "skew 1e308",
        )
        .await;
        assert_eq!(m2m_data(&o)["expired"], false);
        check_with(
            &v(Some(-1e308)),
            &tok(&h0(), &p0()),
            Exp::Reject(M2M, TVF, EXPIRED),
            "skew -1e308",
        )
        .await;
        // Non-finite numbers are refused as options (the JS layer does the same for non-numbers);
        // the reference silently falls back to 5000 ms. See SECURITY.md.
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let r = VerifyOptions::from_raw(RawOptions {
                clock_skew_in_ms: Some(bad),
                ..RawOptions::default()
            });
            assert_eq!(
                r.err().map(|e| e.to_string()).as_deref(),
                Some("clockSkewInMs must be a finite number"),
                "{bad}"
            );
        }
    });
}

// ===========================================================================
// 2.7 sub, cat, typ, framing

#[test]
fn j_100_non_string_sub_is_not_m2m_and_never_a_type_error() {
    run(async {
        for sub in [
            json!(123),
            json!(["mch_1"]),
            json!({}),
            json!(null),
            json!("__delete__"),
        ] {
            let p = with(p0(), json!({"sub": sub.clone()}));
            check(
                &tok(&h0(), &p),
                Exp::Reject(OAUTH, TVF, INVALID_TYPE_JWT),
                &sub.to_string(),
            )
            .await;
            // With typ at+jwt it is an OAuth JWT; the OAuth path rejects the sub.
            let h = with(h0(), json!({"typ": "at+jwt"}));
            let o = check(
                &tok(&h, &p),
                Exp::Reject(
                    OAUTH,
                    TVF,
                    "Subject claim (sub) is required and must be a string.",
                ),
                &sub.to_string(),
            )
            .await;
            assert!(!rejected_message(&o).contains("TypeError"));
        }
    });
}

#[test]
fn j_101_a_session_subject_is_not_m2m() {
    run(async {
        check(
            &tok(&h0(), &with(p0(), json!({"sub": "user_1"}))),
            Exp::Reject(OAUTH, TVF, INVALID_TYPE_JWT),
            "user_1",
        )
        .await;
    });
}

#[test]
fn j_102_lookalike_prefixes_are_not_m2m() {
    run(async {
        for sub in [
            "\u{ff4d}ch_1",
            "MCH_1",
            " mch_1",
            "mch-1",
            "m\u{0441}h_1",
            "Mch_1",
            "mch",
        ] {
            check(
                &tok(&h0(), &with(p0(), json!({"sub": sub}))),
                Exp::Reject(OAUTH, TVF, INVALID_TYPE_JWT),
                sub,
            )
            .await;
        }
    });
}

#[test]
fn j_103_a_json_escaped_prefix_is_m2m() {
    run(async {
        let p = format!(r#"{{"sub":"\u006dch_1","exp":{}}}"#, NOW_S + 60.0);
        let o = check(&raw_a(&h0_text(), &p), ACCEPT, "\\u006d").await;
        assert_eq!(m2m_data(&o)["subject"], "mch_1");
    });
}

#[test]
fn j_104_odd_but_prefixed_subjects_are_returned_verbatim() {
    run(async {
        for sub in [
            "mch_\u{0}".to_owned(),
            format!("mch_{}", "z".repeat(10 * 1024)),
            "mch_\n\u{1b}[0m".to_owned(),
        ] {
            let o = check(
                &tok(&h0(), &with(p0(), json!({"sub": sub.clone()}))),
                ACCEPT,
                "odd sub",
            )
            .await;
            assert_eq!(m2m_data(&o)["subject"], json!(sub));
        }
    });
}

#[test]
fn j_110_an_absent_cat_is_accepted() {
    run(async {
        check(
            &tok(&with(h0(), json!({"cat": "__delete__"})), &p0()),
            ACCEPT,
            "no cat",
        )
        .await;
    });
}

#[test]
fn j_111_the_m2m_cat_is_accepted() {
    run(async {
        check(&tok(&h0(), &p0()), ACCEPT, "M2M cat").await;
    });
}

/// A fresh emulator serving A, the token, and no signature work: the token is signed by C.
async fn category_rejected_without_network(cat: Value) {
    let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
    let t = tok_with(
        &with(h0(), json!({ "cat": cat.clone() })),
        &p0(),
        &C,
        JwtAlgorithm::RS256,
    );
    check_with(
        &jwks_verifier(&emu),
        &t,
        Exp::Reject(M2M, INVALID, "Invalid M2M JWT category."),
        &cat.to_string(),
    )
    .await;
    check_pem(
        &t,
        Exp::Reject(M2M, INVALID, "Invalid M2M JWT category."),
        &cat.to_string(),
    )
    .await;
    // Even with no key configured at all, the category answer comes first.
    check_with(
        &verifier_with(RawOptions::default(), fixed()),
        &t,
        Exp::Reject(M2M, INVALID, "Invalid M2M JWT category."),
        "no key",
    )
    .await;
    assert_eq!(emu.count(Route::Jwks), 0, "{cat}: no JWKS request");
    emu.shutdown().await;
}

#[test]
fn j_112_a_session_cat_is_refused_with_zero_jwks_requests() {
    run(category_rejected_without_network(json!(CAT_SESSION)));
}

#[test]
fn j_113_a_template_cat_is_refused_with_zero_jwks_requests() {
    run(category_rejected_without_network(json!(CAT_TEMPLATE)));
}

#[test]
fn j_114_the_ignore_marker_is_not_m2m() {
    run(category_rejected_without_network(json!(CAT_IGNORE)));
}

#[test]
fn j_115_malformed_cats_are_refused() {
    run(async {
        for cat in [
            json!(""),
            json!(null),
            json!(333),
            json!([]),
            json!(format!("{CAT_M2M} ")),
            json!(CAT_M2M.to_lowercase()),
            json!([CAT_M2M]),
        ] {
            let t = tok(&with(h0(), json!({ "cat": cat.clone() })), &p0());
            check(
                &t,
                Exp::Reject(M2M, INVALID, "Invalid M2M JWT category."),
                &cat.to_string(),
            )
            .await;
        }
    });
}

#[test]
fn j_116_a_cat_in_the_payload_is_only_a_claim() {
    run(async {
        let t = tok(
            &with(h0(), json!({"cat": "__delete__"})),
            &with(p0(), json!({"cat": CAT_SESSION})),
        );
        let o = check(&t, ACCEPT, "payload cat").await;
        assert_eq!(m2m_data(&o)["claims"], json!({"cat": CAT_SESSION}));
    });
}

#[test]
fn j_117_same_instance_session_or_template_jwts_with_a_machine_sub() {
    run(async {
        for cat in [CAT_SESSION, CAT_TEMPLATE] {
            let t = tok(
                &with(h0(), json!({ "cat": cat })),
                &with(p0(), json!({"sub": "mch_1", "sid": "sess_1"})),
            );
            check(
                &t,
                Exp::Reject(M2M, INVALID, "Invalid M2M JWT category."),
                cat,
            )
            .await;
        }
        // Without a cat (tokens minted before the rollout) it verifies: Clerk's documented trade-off.
        let t = tok(
            &with(h0(), json!({"cat": "__delete__"})),
            &with(p0(), json!({"sub": "mch_1", "sid": "sess_1"})),
        );
        check(&t, ACCEPT, "no cat").await;
    });
}

#[test]
fn j_120_typ_absent_or_jwt_is_accepted() {
    run(async {
        check(
            &tok(&with(h0(), json!({"typ": "__delete__"})), &p0()),
            ACCEPT,
            "no typ",
        )
        .await;
        check(&tok(&h0(), &p0()), ACCEPT, "JWT").await;
    });
}

#[test]
fn j_121_other_typs_with_a_machine_sub_are_refused() {
    run(async {
        for (typ, shown) in [
            (json!("jwt"), "\"jwt\""),
            (json!("JOSE"), "\"JOSE\""),
            (json!("at+jwt"), "\"at+jwt\""),
            (json!("application/at+jwt"), "\"application/at+jwt\""),
            (json!(null), "null"),
            (json!(1), "1"),
        ] {
            let msg = format!("Invalid JWT type {shown}. Expected \"JWT\".");
            check(
                &tok(&with(h0(), json!({ "typ": typ })), &p0()),
                Exp::Reject(M2M, TVF, &msg),
                shown,
            )
            .await;
        }
    });
}

#[test]
fn j_130_surrounding_whitespace_is_unroutable_in_the_core() {
    run(async {
        let t = tok(&h0(), &p0());
        for bad in [
            format!(" {t}"),
            format!("{t}\n"),
            format!("\t{t}"),
            format!("{t} "),
            " mt_abc".to_owned(),
        ] {
            check(&bad, Exp::Throw, "whitespace").await;
        }
    });
}

#[test]
fn j_131_a_scheme_left_on_is_unroutable_in_the_core() {
    run(async {
        let t = tok(&h0(), &p0());
        for bad in [
            format!("Bearer {t}"),
            "Bearer mt_x".to_owned(),
            format!("bearer {t}"),
            format!("BEARER\t{t}"),
        ] {
            check(&bad, Exp::Throw, "scheme").await;
        }
    });
}

#[test]
fn j_132_degenerate_strings_are_unroutable() {
    run(async {
        for bad in ["", ".", "..", "a.b.c.d", "a.b.c.d.e", "a", "a.b", "...."] {
            check(bad, Exp::Throw, bad).await;
        }
    });
}

#[test]
fn j_133_lookalike_opaque_prefixes_are_unroutable() {
    run(async {
        for bad in [
            "MT_x",
            "\u{ff4d}t_x",
            " mt_x",
            "Mt_x",
            "OAT_x",
            "AK_x",
            "mt-x",
            "sk_test_x",
        ] {
            check(bad, Exp::Throw, bad).await;
        }
    });
}

#[test]
fn j_134_bare_and_junk_opaque_tokens_go_to_the_api_and_are_not_found() {
    run(async {
        let emu = Emulator::builder().start().await.unwrap();
        let v = verifier_with(
            RawOptions {
                secret_key: Some(emu.secret_key()),
                api_url: Some(emu.url().into()),
                ..RawOptions::default()
            },
            fixed(),
        );
        for t in ["mt_", "mt_junk", "mt_\u{0}\"'<>", "mt_😀"] {
            for mode in [Mode::MachineAuth, Mode::M2MOnly] {
                let o = outcome(&v, t, mode).await;
                assert_outcome(&o, Exp::Reject(M2M, INVALID, "Machine token not found"), t);
                let Outcome::Rejected { error, .. } = o else {
                    unreachable!()
                };
                assert_eq!(error.status, Some(404));
            }
        }
        assert_eq!(emu.count(Route::M2mVerify), 8);
        emu.shutdown().await;
    });
}

// ===========================================================================
// 2.8 Key material

#[test]
fn j_140_well_formed_pems_verify() {
    run(async {
        let pem = A.spki_pem();
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("\n");
        let t = tok(&h0(), &p0());
        for (what, text) in [
            ("LF", pem.clone()),
            ("CRLF", pem.replace('\n', "\r\n")),
            ("no armour", body.clone()),
            ("one line", body.replace('\n', "")),
        ] {
            check_with(&pem_verifier_for(&text), &t, ACCEPT, what).await;
        }
    });
}

#[test]
fn j_141_a_pem_with_literal_backslash_n_is_unescaped() {
    run(async {
        let escaped = A.spki_pem().replace('\n', "\\n");
        assert!(!escaped.contains('\n'));
        check_with(
            &pem_verifier_for(&escaped),
            &tok(&h0(), &p0()),
            ACCEPT,
            "literal \\n",
        )
        .await;
        let escaped_crlf = A.spki_pem().replace('\n', "\\r\\n");
        check_with(
            &pem_verifier_for(&escaped_crlf),
            &tok(&h0(), &p0()),
            ACCEPT,
            "literal \\r\\n",
        )
        .await;
    });
}

#[test]
fn j_142_3072_and_4096_bit_pems_verify() {
    run(async {
        for size in [KeySize::Rsa3072, KeySize::Rsa4096] {
            let k = TestKey::generate(size);
            let t = tok_with(&h0(), &p0(), &k, JwtAlgorithm::RS256);
            check_with(&pem_verifier_for(&k.spki_pem()), &t, ACCEPT, "big key").await;
            // And A's PEM does not verify it.
            check_pem(&t, Exp::Reject(M2M, TVF, SIG_INVALID), "big key under A").await;
        }
        // e = 3 keys: aws-lc cannot generate them; __test__/catalogue.test.ts signs with Node.
        let k = RsaPublicKey::from_der(&A.spki_der()).unwrap();
        assert_eq!(k.modulus_bits(), 2048);
    });
}

#[test]
fn j_143_a_1024_bit_pem_is_refused() {
    run(async {
        let msg = "Error verifying JWT signature. Error: Unsupported RSA key size: 1024 bits. Keys must be 2048 to 8192 bits.";
        check_with(
            &pem_verifier_for(RSA_1024_SPKI_PEM),
            &tok(&h0(), &p0()),
            Exp::Reject(M2M, TVF, msg),
            "1024",
        )
        .await;
        assert!(RsaPublicKey::from_pem(RSA_1024_SPKI_PEM).is_err());
    });
}

#[test]
fn j_144_garbage_private_and_certificate_key_material_is_refused_without_echo() {
    run(async {
        let private = A.pkcs8_pem();
        let cert = pem("CERTIFICATE", &A.spki_der());
        for (what, text) in [("garbage", "not a pem".to_owned()), ("private", private.clone()), ("certificate", cert.clone()), ("EC", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEpkPd+Fs6kyvt7179iLNkLaPy2WtrOQGSbNUT2YiOw6FBjgOHGyGYdu1PeXQO2kdlPztAXycHpVdxPcT7zWuOsw==\n-----END PUBLIC KEY-----".to_owned())] {
            let o = check_with(&pem_verifier_for(&text), &tok(&h0(), &p0()), Exp::Reject(M2M, TVF, "Error verifying JWT signature. Error: "), what).await;
            let m = rejected_message(&o);
            for line in text.lines().filter(|l| l.len() > 16 && !l.starts_with("-----")) {
                assert!(!m.contains(&line[..16]), "{what}: key material echoed: {m}");
            }
            assert!(!m.contains("not a pem"), "{m}");
        }
    });
}

#[test]
fn j_145_jwt_key_wins_over_secret_key_with_zero_requests() {
    run(async {
        let emu = jwks_server(&jwks_of(&[B.jwk(KID_A)])).await;
        let v = verifier_with(
            RawOptions {
                jwt_key: Some(A.spki_pem()),
                ..jwks_options(&emu)
            },
            fixed(),
        );
        check_with(&v, &tok(&h0(), &p0()), ACCEPT, "A under PEM A").await;
        check_with(
            &v,
            &tok_with(&h0(), &p0(), &B, JwtAlgorithm::RS256),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "B (served by JWKS) under PEM A",
        )
        .await;
        check_with(
            &v,
            &tok(&with(h0(), json!({"kid": "ins_unknown"})), &p0()),
            ACCEPT,
            "unknown kid",
        )
        .await;
        assert_eq!(
            emu.counters().values().sum::<u64>(),
            0,
            "{:?}",
            emu.counters()
        );
        emu.shutdown().await;
    });
}

#[test]
fn j_146_no_key_at_all_fails_to_resolve_a_jwk() {
    run(async {
        let v = verifier_with(RawOptions::default(), fixed());
        let o = check_with(
            &v,
            &tok(&h0(), &p0()),
            Exp::Reject(M2M, TVF, "Failed to resolve JWK during verification."),
            "{}",
        )
        .await;
        let Outcome::Rejected { error, .. } = o else {
            unreachable!()
        };
        assert_eq!(
            error.action.as_deref(),
            Some("Set the CLERK_JWT_KEY environment variable.")
        );
    });
}

#[test]
fn j_147_same_kid_different_pems_in_one_process() {
    run(async {
        let ta = tok(&h0(), &p0());
        let tb = tok_with(&h0(), &p0(), &B, JwtAlgorithm::RS256);
        let (va, vb) = (
            pem_verifier_for(&A.spki_pem()),
            pem_verifier_for(&B.spki_pem()),
        );
        check_with(&va, &ta, ACCEPT, "A/A").await;
        check_with(&vb, &tb, ACCEPT, "B/B").await;
        check_with(&va, &tb, Exp::Reject(M2M, TVF, SIG_INVALID), "A/B").await;
        check_with(&vb, &ta, Exp::Reject(M2M, TVF, SIG_INVALID), "B/A").await;
        check_with(&va, &ta, ACCEPT, "A/A again").await;
    });
}

// ===========================================================================
// 3.3 JWKS endpoint

/// A token signed by A under `KID_A`.
fn a_token() -> String {
    tok(&h0(), &p0())
}

#[test]
fn k_01_a_cold_cache_fetches_once_with_the_right_headers() {
    run(async {
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        check_with(&jwks_verifier(&emu), &a_token(), ACCEPT, "cold").await;
        assert_eq!(emu.count(Route::Jwks), 1);
        let r = emu
            .requests()
            .into_iter()
            .find(|r| r.route.as_deref() == Some("jwks"))
            .unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/v1/jwks"));
        assert_eq!(r.authorization_scheme.as_deref(), Some("Bearer"));
        assert_eq!(
            r.authorization_prefix.as_deref(),
            Some(&emu.secret_key()[..7])
        );
        assert_eq!(r.clerk_api_version.as_deref(), Some("2026-05-12"));
        assert!(
            r.user_agent
                .as_deref()
                .is_some_and(|ua| ua.starts_with("clerk-m2m-native/")),
            "{:?}",
            r.user_agent
        );
        emu.shutdown().await;
    });
}

#[test]
fn k_02_warm_cache_no_fetch_expired_cache_one_fetch() {
    run(async {
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let clock = Arc::new(TestClock::new(NOW_MS));
        let v = verifier_with(jwks_options(&emu), clock.clone());
        let t = tok(&h0(), &with(p0(), json!({"exp": NOW_S + 86_400.0})));
        check_with(&v, &t, ACCEPT, "cold").await;
        clock.advance(299_000.0);
        check_with(&v, &t, ACCEPT, "warm").await;
        assert_eq!(emu.count(Route::Jwks), 1);
        clock.advance(1_000.0);
        check_with(&v, &t, ACCEPT, "expired").await;
        assert_eq!(emu.count(Route::Jwks), 2);
        emu.shutdown().await;
    });
}

#[test]
fn k_03_a_random_kid_flood_fetches_at_most_once_per_cooldown() {
    run(async {
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let clock = Arc::new(TestClock::new(NOW_MS));
        // A generous deadline: on a loaded machine a fetch that timed out would (rightly) be
        // retried by the next miss, which is not what this row measures.
        let v = Arc::new(verifier_with(
            RawOptions { timeout_ms: Some(30_000.0), ..jwks_options(&emu) },
            clock.clone(),
        ));
        let tokens: Vec<String> = (0..1000)
            .map(|i| {
                tok_with(
                    &with(
                        h0(),
                        json!({"kid": format!("ins_random_{i}_{}", rand_u64())}),
                    ),
                    &p0(),
                    &C,
                    JwtAlgorithm::RS256,
                )
            })
            .collect();
        let tokens = Arc::new(tokens);
        let mut set = tokio::task::JoinSet::new();
        for chunk in 0..10 {
            let (v, tokens) = (v.clone(), tokens.clone());
            set.spawn(async move {
                for t in tokens.iter().skip(chunk * 100).take(100) {
                    assert_outcome(
                        &v.verify(t, Mode::MachineAuth).await,
                        Exp::Reject(M2M, TVF, KID_MISMATCH),
                        "random kid",
                    );
                }
            });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
        assert_eq!(
            emu.count(Route::Jwks),
            1,
            "one fetch for 1000 random kids inside the cooldown: {:?}",
            jwks_log(&emu)
        );
        // After the 5 s cooldown, another flood costs at most one more fetch.
        clock.advance(5_000.0);
        for t in tokens.iter().take(200) {
            assert_outcome(
                &v.verify(t, Mode::MachineAuth).await,
                Exp::Reject(M2M, TVF, KID_MISMATCH),
                "random kid",
            );
        }
        assert_eq!(emu.count(Route::Jwks), 2, "{:?}", jwks_log(&emu));
        emu.shutdown().await;
    });
}

/// The JWKS requests the emulator saw: (status, fault), for failure messages.
fn jwks_log(emu: &EmulatorHandle) -> Vec<(Option<u16>, Option<String>, i64)> {
    emu.requests()
        .into_iter()
        .filter(|r| r.route.as_deref() == Some("jwks"))
        .map(|r| (r.status, r.fault, r.at_ms))
        .collect()
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    aws_lc_rs::rand::fill(&mut b).unwrap();
    u64::from_le_bytes(b)
}

#[test]
fn k_04_fifty_concurrent_cold_verifications_make_one_fetch() {
    run(async {
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let v = Arc::new(jwks_verifier(&emu));
        let t = Arc::new(a_token());
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let (v, t) = (v.clone(), t.clone());
            set.spawn(async move { v.verify(&t, Mode::MachineAuth).await });
        }
        while let Some(r) = set.join_next().await {
            assert_outcome(&r.unwrap(), ACCEPT, "concurrent cold");
        }
        assert_eq!(emu.count(Route::Jwks), 1);
        emu.shutdown().await;
    });
}

/// An emulator whose JWKS route has `fault`, and a verifier for it with `timeout_ms`.
async fn faulted(fault: Fault, timeout_ms: f64) -> (EmulatorHandle, Verifier) {
    let emu = Emulator::builder().start().await.unwrap();
    emu.set_fault(Route::Jwks, fault).unwrap();
    let v = verifier_with(
        RawOptions {
            timeout_ms: Some(timeout_ms),
            ..jwks_options(&emu)
        },
        fixed(),
    );
    (emu, v)
}

fn assert_no_secret(o: &Outcome, secret: &str) {
    let s = o.to_json_string();
    assert!(
        !s.contains(secret) && !s.contains(&secret[8..]),
        "secret in {s}"
    );
}

#[test]
fn k_05_5xx_is_retried_at_most_twice_inside_the_deadline() {
    run(async {
        for status in [500, 502, 503] {
            let (emu, v) = faulted(
                Fault::Status {
                    status,
                    retry_after: None,
                    body: None,
                    content_type: None,
                },
                5000.0,
            )
            .await;
            let start = Instant::now();
            let o = v.verify(&a_token(), Mode::MachineAuth).await;
            assert!(
                start.elapsed() <= Duration::from_millis(5000) + MARGIN,
                "{:?}",
                start.elapsed()
            );
            assert_outcome(
                &o,
                Exp::Reject(
                    M2M,
                    TVF,
                    &format!(
                        "Error loading Clerk JWKS from {}/v1/jwks with code={status}",
                        emu.url()
                    ),
                ),
                "5xx",
            );
            assert_eq!(emu.count(Route::Jwks), 3, "{status}: 1 + 2 retries");
            assert_no_secret(&o, &emu.secret_key());
            emu.shutdown().await;
        }
    });
}

#[test]
fn k_06_an_invalid_secret_key_is_not_retried() {
    run(async {
        let emu = Emulator::builder().start().await.unwrap();
        let wrong = "sk_test_wrong_key_for_k06_0123456789";
        let v = verifier_with(
            RawOptions {
                secret_key: Some(wrong.into()),
                ..jwks_options(&emu)
            },
            fixed(),
        );
        let o = v.verify(&a_token(), Mode::MachineAuth).await;
        assert_outcome(&o, Exp::Reject(M2M, TVF, ""), "401");
        let m = rejected_message(&o);
        assert!(
            !m.is_empty() && !m.contains("Error loading"),
            "the Backend API's clerk_key_invalid message: {m}"
        );
        assert_eq!(emu.count(Route::Jwks), 1);
        assert_no_secret(&o, wrong);
        // 400 and 403 are not retried either.
        for status in [400, 403] {
            let (emu, v) = faulted(
                Fault::Status {
                    status,
                    retry_after: None,
                    body: None,
                    content_type: None,
                },
                3000.0,
            )
            .await;
            assert_outcome(
                &v.verify(&a_token(), Mode::MachineAuth).await,
                Exp::Reject(M2M, TVF, "Error loading Clerk JWKS"),
                "4xx",
            );
            assert_eq!(emu.count(Route::Jwks), 1, "{status}");
            emu.shutdown().await;
        }
        emu.shutdown().await;
    });
}

#[test]
fn k_07_non_json_bodies_are_errors_and_only_5xx_is_retried() {
    run(async {
        let (emu, v) = faulted(
            Fault::NonJson {
                status: Some(502),
                body: Some("<html>bad gateway</html>".into()),
                content_type: Some("text/html".into()),
            },
            3000.0,
        )
        .await;
        let o = v.verify(&a_token(), Mode::MachineAuth).await;
        assert_outcome(
            &o,
            Exp::Reject(M2M, TVF, "Error loading Clerk JWKS from"),
            "502 html",
        );
        assert!(!rejected_message(&o).contains("<html>"));
        assert_eq!(emu.count(Route::Jwks), 3);
        emu.shutdown().await;
        let (emu, v) = faulted(
            Fault::NonJson {
                status: Some(200),
                body: Some("{not json".into()),
                content_type: None,
            },
            3000.0,
        )
        .await;
        let o = v.verify(&a_token(), Mode::MachineAuth).await;
        assert_outcome(
            &o,
            Exp::Reject(M2M, TVF, "Error loading Clerk JWKS from"),
            "200 {not json",
        );
        assert!(
            rejected_message(&o).contains("not valid JSON"),
            "{}",
            rejected_message(&o)
        );
        assert_eq!(emu.count(Route::Jwks), 1);
        emu.shutdown().await;
    });
}

#[test]
fn k_08_wrong_json_shapes_are_errors_not_panics() {
    run(async {
        for body in [
            "null",
            "{}",
            r#"{"keys":null}"#,
            r#"{"keys":"x"}"#,
            r#"{"keys":[null]}"#,
            r#"{"keys":[]}"#,
            "[]",
            "42",
            r#""keys""#,
            r#"{"keys":{"length":1}}"#,
            r#"{"keys":[1,"a",true]}"#,
        ] {
            let emu = Emulator::builder().start().await.unwrap();
            serve_json(&emu, Route::Jwks, 200, body);
            let o = jwks_verifier(&emu)
                .verify(&a_token(), Mode::MachineAuth)
                .await;
            assert_outcome(&o, Exp::Reject(M2M, TVF, ""), body);
            emu.shutdown().await;
        }
    });
}

#[test]
fn k_09_a_hung_jwks_endpoint_is_cut_off_at_the_deadline() {
    run(async {
        let (emu, v) = faulted(Fault::Hang, 1000.0).await;
        let start = Instant::now();
        let o = v.verify(&a_token(), Mode::MachineAuth).await;
        let took = start.elapsed();
        assert!(
            took <= Duration::from_millis(1000) + MARGIN && took >= Duration::from_millis(900),
            "{took:?}"
        );
        assert_outcome(
            &o,
            Exp::Reject(M2M, TVF, "Error loading Clerk JWKS: request to"),
            "hang",
        );
        assert!(
            rejected_message(&o).contains("timed out after 1000 ms"),
            "{}",
            rejected_message(&o)
        );
        emu.shutdown().await;
    });
}

#[test]
fn k_10_slow_huge_and_overlong_key_sets_are_bounded() {
    run(async {
        // 1 byte per second.
        let (emu, v) = faulted(
            Fault::SlowDrip {
                chunk_bytes: Some(1),
                interval_ms: Some(1000),
            },
            1500.0,
        )
        .await;
        let start = Instant::now();
        assert_outcome(
            &v.verify(&a_token(), Mode::MachineAuth).await,
            Exp::Reject(M2M, TVF, "Error loading Clerk JWKS"),
            "drip",
        );
        assert!(
            start.elapsed() <= Duration::from_millis(1500) + MARGIN,
            "{:?}",
            start.elapsed()
        );
        emu.shutdown().await;
        // 100 MB body: refused at the 1 MiB cap without reading it all.
        let (emu, v) = faulted(
            Fault::Oversized {
                bytes: 100 * 1024 * 1024,
                status: None,
            },
            5000.0,
        )
        .await;
        let start = Instant::now();
        let o = v.verify(&a_token(), Mode::MachineAuth).await;
        assert!(
            rejected_message(&o).contains("larger than 1048576 bytes"),
            "{}",
            rejected_message(&o)
        );
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        emu.shutdown().await;
        // 10 000 keys (small, so under the body cap): the key-count cap refuses the set.
        let mut keys: Vec<Value> = (0..9_999)
            .map(|i| json!({"kid": format!("k{i}"), "kty": "RSA"}))
            .collect();
        keys.push(A.jwk(KID_A));
        let emu = jwks_server(&jwks_of(&keys)).await;
        let o = jwks_verifier(&emu)
            .verify(&a_token(), Mode::MachineAuth)
            .await;
        assert_outcome(
            &o,
            Exp::Reject(
                M2M,
                TVF,
                "The JWKS endpoint returned an invalid key set (more than 100 keys)",
            ),
            "10k keys",
        );
        emu.shutdown().await;
    });
}

#[test]
fn k_11_redirects_are_not_followed() {
    run(async {
        // The target serves C under A's kid; it must never be contacted.
        let target = jwks_server(&jwks_of(&[C.jwk(KID_A)])).await;
        let location = format!("{}/v1/jwks", target.url());
        for status in [301, 302, 307, 308] {
            let (emu, v) = faulted(
                Fault::Redirect {
                    location: location.clone(),
                    status: Some(status),
                },
                3000.0,
            )
            .await;
            let o = v
                .verify(
                    &tok_with(&h0(), &p0(), &C, JwtAlgorithm::RS256),
                    Mode::MachineAuth,
                )
                .await;
            assert_outcome(
                &o,
                Exp::Reject(
                    M2M,
                    TVF,
                    &format!(
                        "Error loading Clerk JWKS from {}/v1/jwks with code={status}",
                        emu.url()
                    ),
                ),
                "redirect",
            );
            assert_eq!(emu.count(Route::Jwks), 1);
            emu.shutdown().await;
        }
        assert_eq!(target.count(Route::Jwks), 0);
        target.shutdown().await;
    });
}

#[test]
fn k_12_unusable_jwks_entries_never_verify() {
    run(async {
        let a = A.jwk(KID_A);
        let cases = [
            ("kty EC", with(a.clone(), json!({"kty": "EC"}))),
            (
                "kty oct",
                with(a.clone(), json!({"kty": "oct", "k": "c2VjcmV0"})),
            ),
            ("use enc", with(a.clone(), json!({"use": "enc"}))),
            (
                "key_ops sign",
                with(a.clone(), json!({"key_ops": ["sign"]})),
            ),
            ("alg RS384", with(a.clone(), json!({"alg": "RS384"}))),
            ("private d", with(a.clone(), json!({"d": "AQAB"}))),
            ("no n", with(a.clone(), json!({"n": "__delete__"}))),
            ("kty missing", with(a.clone(), json!({"kty": "__delete__"}))),
        ];
        for (what, jwk) in cases {
            let emu = jwks_server(&jwks_of(&[jwk])).await;
            check_with(
                &jwks_verifier(&emu),
                &a_token(),
                Exp::Reject(M2M, TVF, "Error verifying JWT signature. Error: "),
                what,
            )
            .await;
            emu.shutdown().await;
        }
    });
}

#[test]
fn k_13_keys_outside_2048_to_8192_bits_are_refused() {
    run(async {
        // Real 1024- and 16 384-bit keys, each served as the instance's JWK, with a token that key
        // signed (tests/fixtures/k13-keys.json; __test__/catalogue.test.ts checks the signatures
        // with node:crypto): refused for the key size before any RSA work, in both functions.
        let fixture: Value = serde_json::from_str(include_str!("fixtures/k13-keys.json")).unwrap();
        let keys = fixture["keys"].as_array().unwrap();
        assert_eq!(keys.iter().map(|k| k["bits"].as_u64().unwrap()).collect::<Vec<_>>(), [1024, 16384]);
        for k in keys {
            let bits = k["bits"].as_u64().unwrap();
            let n = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, k["jwk"]["n"].as_str().unwrap()).unwrap();
            assert_eq!(n.len() as u64 * 8, bits, "the fixture's modulus is {bits} bits");
            let token = k["token"].as_str().unwrap();
            let emu = jwks_server(&jwks_of(std::slice::from_ref(&k["jwk"]))).await;
            let msg = format!("Error verifying JWT signature. Error: Unsupported RSA key size: {bits} bits. Keys must be 2048 to 8192 bits.");
            let start = Instant::now();
            let o = check_with(&jwks_verifier(&emu), token, Exp::Reject(M2M, TVF, &msg), &format!("{bits} bits")).await;
            // No 16 384-bit modular exponentiation was attempted (each costs ~0.2 s of CPU).
            assert!(start.elapsed() < Duration::from_secs(2), "{bits}: {:?}", start.elapsed());
            let Outcome::Rejected { error, .. } = o else { unreachable!() };
            assert_eq!(error.reason.as_str(), "key-unusable");
            emu.shutdown().await;
        }
        // 8192 bits, the upper bound, is accepted: wycheproof.rs verifies the 8192-bit vectors.
    });
}

#[test]
fn k_14_a_duplicate_kid_is_last_wins() {
    run(async {
        let emu = jwks_server(&jwks_of(&[B.jwk(KID_A), A.jwk(KID_A)])).await;
        check_with(&jwks_verifier(&emu), &a_token(), ACCEPT, "A last").await;
        check_with(
            &jwks_verifier(&emu),
            &tok_with(&h0(), &p0(), &B, JwtAlgorithm::RS256),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "B first",
        )
        .await;
        emu.shutdown().await;
    });
}

#[test]
fn k_15_a_proto_kid_in_the_jwks_is_a_plain_entry() {
    run(async {
        let emu = jwks_server(&jwks_of(&[
            B.jwk("__proto__"),
            A.jwk(KID_A),
            C.jwk("constructor"),
        ]))
        .await;
        let v = jwks_verifier(&emu);
        check_with(&v, &a_token(), ACCEPT, "A").await;
        check_with(
            &v,
            &tok_with(
                &with(h0(), json!({"kid": "__proto__"})),
                &p0(),
                &B,
                JwtAlgorithm::RS256,
            ),
            ACCEPT,
            "B as __proto__",
        )
        .await;
        check_with(
            &v,
            &tok_with(
                &with(h0(), json!({"kid": "constructor"})),
                &p0(),
                &C,
                JwtAlgorithm::RS256,
            ),
            ACCEPT,
            "C as constructor",
        )
        .await;
        check_with(
            &v,
            &tok_with(
                &with(h0(), json!({"kid": "toString"})),
                &p0(),
                &C,
                JwtAlgorithm::RS256,
            ),
            Exp::Reject(M2M, TVF, KID_MISMATCH),
            "toString",
        )
        .await;
        emu.shutdown().await;
    });
}

#[test]
fn k_16_tenants_never_share_keys_per_secret_key_api_url_and_version() {
    run(async {
        let kid = "ins_k16";
        let emu = Emulator::builder()
            .instance(InstanceConfig::new().kid(kid))
            .instance(InstanceConfig::new().kid(kid))
            .start()
            .await
            .unwrap();
        let opts = |i: usize| RawOptions {
            secret_key: Some(emu.instance(i).unwrap().secret_key),
            api_url: Some(emu.url().into()),
            ..RawOptions::default()
        };
        let t0 = emu
            .sign_jwt(0, &with(h0(), json!({"kid": kid})), &p0())
            .unwrap();
        let t1 = emu
            .sign_jwt(1, &with(h0(), json!({"kid": kid})), &p0())
            .unwrap();
        let (v0, v1) = (
            verifier_with(opts(0), fixed()),
            verifier_with(opts(1), fixed()),
        );
        check_with(&v0, &t0, ACCEPT, "0/0").await;
        check_with(&v1, &t1, ACCEPT, "1/1").await;
        check_with(&v0, &t1, Exp::Reject(M2M, TVF, SIG_INVALID), "0/1").await;
        check_with(&v1, &t0, Exp::Reject(M2M, TVF, SIG_INVALID), "1/0").await;
        // apiUrl as given is part of the scope: a trailing slash is another scope (another fetch).
        let before = emu.count(Route::Jwks);
        let slash = verifier_with(
            RawOptions {
                api_url: Some(format!("{}/", emu.url())),
                ..opts(0)
            },
            fixed(),
        );
        check_with(&slash, &t0, ACCEPT, "trailing slash").await;
        assert_eq!(emu.count(Route::Jwks), before + 1);
        // apiVersion too: v2 is not served, and is not answered from the v1 scope.
        let v2 = verifier_with(
            RawOptions {
                api_version: Some("v2".into()),
                ..opts(0)
            },
            fixed(),
        );
        check_with(
            &v2,
            &t0,
            Exp::Reject(M2M, TVF, "Error loading Clerk JWKS from"),
            "v2",
        )
        .await;
        // Separate TTLs: expiring one scope leaves the other warm.
        let clock = Arc::new(TestClock::new(NOW_MS));
        let e0 = verifier_with(
            RawOptions {
                api_url: Some(format!("{}//", emu.url())),
                ..opts(0)
            },
            clock.clone(),
        );
        let e1 = verifier_with(
            RawOptions {
                api_url: Some(format!("{}//", emu.url())),
                ..opts(1)
            },
            clock.clone(),
        );
        check_with(&e0, &t0, ACCEPT, "e0").await;
        clock.advance(200_000.0);
        check_with(&e1, &t1, ACCEPT, "e1").await;
        clock.advance(150_000.0);
        let before = emu.count(Route::Jwks);
        check_with(&e1, &t1, ACCEPT, "e1 still warm").await;
        assert_eq!(emu.count(Route::Jwks), before);
        check_with(&e0, &t0, ACCEPT, "e0 expired").await;
        assert_eq!(emu.count(Route::Jwks), before + 1);
        emu.shutdown().await;
    });
}

#[test]
fn k_17_skip_jwks_cache_fetches_every_time() {
    run(async {
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let v = verifier_with(
            RawOptions {
                skip_jwks_cache: true,
                ..jwks_options(&emu)
            },
            fixed(),
        );
        for _ in 0..3 {
            assert!(
                v.verify_local(&a_token(), Mode::MachineAuth).is_none(),
                "never answered from memory"
            );
            assert_outcome(
                &v.verify(&a_token(), Mode::MachineAuth).await,
                ACCEPT,
                "skip",
            );
        }
        assert_eq!(emu.count(Route::Jwks), 3);
        // Each fetch is bounded by the timeout: a slow endpoint (each answer 2 s late) costs
        // three fetches of at most the 300 ms deadline each, nothing waits for the answers.
        let slow = Fault::Delay { ms: 2_000 };
        emu.set_fault(Route::Jwks, slow).unwrap();
        emu.reset_counters();
        let v = verifier_with(RawOptions { skip_jwks_cache: true, timeout_ms: Some(300.0), ..jwks_options(&emu) }, fixed());
        for i in 0..3 {
            let start = Instant::now();
            let o = v.verify(&a_token(), Mode::MachineAuth).await;
            let took = start.elapsed();
            assert!(took >= Duration::from_millis(250) && took <= Duration::from_millis(300) + MARGIN, "fetch {i}: {took:?}");
            assert!(rejected_message(&o).contains("timed out after 300 ms"), "{}", rejected_message(&o));
            let Outcome::Rejected { error, .. } = &o else { unreachable!() };
            assert_eq!(error.reason.transport().map(|t| t.kind.as_str()), Some("timeout"));
        }
        assert_eq!(emu.count(Route::Jwks), 3, "one request each: a timeout is not retried past the deadline");
        emu.shutdown().await;
    });
}

#[test]
fn k_18_scope_churn_is_bounded() {
    run(async {
        // Every secret key gets a key set (the fault answers before any authentication), so
        // every scope stays fresh and only the LRU bound can evict.
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let cache = JwksCache::new(JwksCacheConfig {
            max_scopes: 16,
            ..JwksCacheConfig::default()
        });
        let clock = FixedClock(NOW_MS);
        for i in 0..300 {
            let secret = Secret::new(format!("sk_test_churn_{i:05}"));
            let mut cfg = BapiConfig::new(url::Url::parse(emu.url()).unwrap());
            cfg.secret_key = Some(secret.clone());
            let scope = JwksScope::new(emu.url(), "v1", Some(&secret));
            assert!(cache
                .get_key(&scope, &cfg, Some(&json!(KID_A)), false, &clock)
                .await
                .is_ok());
            assert!(cache.stats().scopes <= 16, "{:?}", cache.stats());
        }
        assert_eq!(cache.stats().scopes, 16);
        assert_eq!(cache.stats().fetches, 300);
        emu.shutdown().await;
    });
}

#[test]
fn k_19_hostile_api_urls_and_versions_are_configuration_errors() {
    for url in [
        "http://169.254.169.254",
        "file:///etc/passwd",
        "http://evil.test",
        "https://user:pw@api.clerk.com",
        "https://user@api.clerk.com",
        "gopher://x",
        "http://localhost.evil.com",
        "https://api.clerk.com?x=1",
        "not a url",
    ] {
        let r = VerifyOptions::from_raw(RawOptions {
            api_url: Some(url.into()),
            secret_key: Some("sk_test_x".into()),
            ..RawOptions::default()
        });
        let e = r.err().unwrap_or_else(|| panic!("{url} accepted"));
        assert!(e.to_string().starts_with("apiUrl"), "{e}");
        assert!(!e.to_string().contains("pw@"), "{e}");
    }
    for version in ["../x", "v1/../../x", "v1?x", "..", "a b", "v1#x"] {
        let r = VerifyOptions::from_raw(RawOptions {
            api_version: Some(version.into()),
            ..RawOptions::default()
        });
        assert!(r.is_err(), "{version} accepted");
    }
    for ok in [
        "https://api.clerk.com",
        "http://127.0.0.1:1",
        "http://[::1]:1",
        "http://localhost:1",
    ] {
        assert!(
            VerifyOptions::from_raw(RawOptions {
                api_url: Some(ok.into()),
                ..RawOptions::default()
            })
            .is_ok(),
            "{ok}"
        );
    }
}

#[test]
fn k_20_the_kid_mismatch_message_names_no_cached_kid_and_no_secret() {
    run(async {
        let emu = shared().await;
        let hostile = format!("ins_A\n[fake]\u{1b}[31m{}", "x".repeat(5000));
        let o = check_jwks(
            &tok(&with(h0(), json!({"kid": hostile})), &p0()),
            Exp::Reject(M2M, TVF, KID_MISMATCH),
            "hostile kid",
        )
        .await;
        let m = rejected_message(&o);
        assert!(!m.contains(KID_A), "a cached kid is listed: {m}");
        assert!(!m.contains(&emu.secret_key()[8..]), "secret in {m}");
        assert!(
            m.contains("ins_A\\n[fake]\\u{1b}[31mxx") && m.contains('…'),
            "{m}"
        );
        assert!(!m.contains('\n') && !m.contains('\u{1b}'), "{m:?}");
    });
}

// ===========================================================================
// 4. Opaque tokens

struct Opaque {
    emu: EmulatorHandle,
    token: String,
    id: String,
}

/// An emulator and an opaque token minted by `webhook` (scoped to `trpc`).
async fn opaque_env() -> Opaque {
    let emu = Emulator::builder().start().await.unwrap();
    let token = mint(&emu).await;
    Opaque {
        token: token["token"].as_str().unwrap().to_owned(),
        id: token["id"].as_str().unwrap().to_owned(),
        emu,
    }
}

async fn mint(emu: &EmulatorHandle) -> Value {
    let webhook = emu.machine("webhook").unwrap();
    let cfg = BapiConfig::new(url::Url::parse(emu.url()).unwrap());
    let params = CreateM2mTokenParams {
        machine_secret_key: Some(Secret::new(webhook.secret_key)),
        seconds_until_expiration: Some(3600.0),
        ..Default::default()
    };
    bapi::create_m2m_token(&cfg, &params).await.unwrap()
}

/// Verifies with trpc's machine secret key (the receiver).
fn opaque_verifier(emu: &EmulatorHandle, timeout_ms: f64) -> Verifier {
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

fn rejected(o: &Outcome) -> (TokenType, &str, Option<u16>, &str) {
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

#[test]
fn o_01_a_valid_opaque_token_is_an_m2m_token_with_ms_timestamps() {
    run(async {
        let env = opaque_env().await;
        let v = opaque_verifier(&env.emu, 3000.0);
        for mode in [Mode::MachineAuth, Mode::M2MOnly] {
            assert!(
                v.verify_local(&env.token, mode).is_none(),
                "opaque tokens always need the API"
            );
            let o = v.verify(&env.token, mode).await;
            let d = api_data(&o);
            assert_eq!(d["id"], json!(env.id));
            assert_eq!(d["subject"], json!(env.emu.machine("webhook").unwrap().id));
            let (created, expiration) = (
                d["created_at"].as_f64().unwrap(),
                d["expiration"].as_f64().unwrap(),
            );
            assert!(created > 1.6e12, "milliseconds: {created}");
            assert_eq!(expiration - created, 3_600_000.0);
        }
        env.emu.shutdown().await;
    });
}

#[test]
fn o_02_an_unknown_token_is_not_found() {
    run(async {
        let env = opaque_env().await;
        let o = opaque_verifier(&env.emu, 3000.0)
            .verify(
                "mt_unknown0000000000000000000000000000000000000000",
                Mode::MachineAuth,
            )
            .await;
        assert_eq!(
            rejected(&o),
            (M2M, INVALID, Some(404), "Machine token not found")
        );
        env.emu.shutdown().await;
    });
}

#[test]
fn o_03_a_bad_credential_is_secret_key_invalid_without_our_key() {
    run(async {
        let env = opaque_env().await;
        let wrong = "ak_wrong_machine_secret_for_o03_0123456789";
        let v = verifier_with(
            RawOptions {
                machine_secret_key: Some(wrong.into()),
                api_url: Some(env.emu.url().into()),
                ..RawOptions::default()
            },
            fixed(),
        );
        let o = v.verify(&env.token, Mode::MachineAuth).await;
        let (tt, code, status, msg) = rejected(&o);
        assert_eq!((tt, code, status), (M2M, "secret-key-invalid", Some(401)));
        assert!(!msg.is_empty());
        assert!(
            !o.to_json_string().contains(&wrong[3..])
                && !o.to_json_string().contains(&env.token[3..])
        );
        env.emu.shutdown().await;
    });
}

#[test]
fn o_04_429_is_not_retried_and_exposes_retry_after() {
    run(async {
        let env = opaque_env().await;
        env.emu
            .set_fault(
                Route::M2mVerify,
                Fault::Status {
                    status: 429,
                    retry_after: Some(RetryAfter::Seconds(7)),
                    body: None,
                    content_type: None,
                },
            )
            .unwrap();
        let o = opaque_verifier(&env.emu, 3000.0)
            .verify(&env.token, Mode::MachineAuth)
            .await;
        assert_eq!(
            rejected(&o),
            (M2M, "unexpected-error", Some(429), "Unexpected error")
        );
        assert_eq!(env.emu.count(Route::M2mVerify), 1);
        // The Backend API error carries Retry-After for callers that want it.
        let mut cfg = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
        cfg.secret_key = Some(Secret::new(env.emu.secret_key()));
        let e = bapi::verify_m2m_opaque(&cfg, &env.token).await.unwrap_err();
        assert_eq!((e.status, e.retry_after), (Some(429), Some(7)));
        env.emu.shutdown().await;
    });
}

#[test]
fn o_05_transient_failures_are_retried_at_most_twice() {
    run(async {
        let env = opaque_env().await;
        let v = opaque_verifier(&env.emu, 5000.0);
        for status in [500, 502, 503, 504] {
            env.emu.reset_counters();
            env.emu
                .set_fault(
                    Route::M2mVerify,
                    Fault::Status {
                        status,
                        retry_after: None,
                        body: None,
                        content_type: None,
                    },
                )
                .unwrap();
            let start = Instant::now();
            let o = v.verify(&env.token, Mode::MachineAuth).await;
            assert!(start.elapsed() <= Duration::from_millis(5000) + MARGIN);
            assert_eq!(
                rejected(&o),
                (M2M, "unexpected-error", Some(status), "Unexpected error")
            );
            assert_eq!(env.emu.count(Route::M2mVerify), 3, "{status}");
        }
        // A connection reset before any answer: retried, then unexpected-error without status.
        env.emu.reset_counters();
        env.emu.set_fault(Route::M2mVerify, Fault::Drop).unwrap();
        let o = v.verify(&env.token, Mode::MachineAuth).await;
        assert_eq!(
            rejected(&o),
            (M2M, "unexpected-error", None, "Unexpected error")
        );
        assert_eq!(env.emu.count(Route::M2mVerify), 3);
        // One transient failure, then success.
        env.emu.reset_counters();
        env.emu
            .set_fault(
                Route::M2mVerify,
                clerk_bapi_emulator::FaultRule::times(
                    Fault::Status {
                        status: 503,
                        retry_after: None,
                        body: None,
                        content_type: None,
                    },
                    1,
                ),
            )
            .unwrap();
        assert!(matches!(
            v.verify(&env.token, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
        assert_eq!(env.emu.count(Route::M2mVerify), 2);
        env.emu.shutdown().await;
    });
}

#[test]
fn o_06_a_hung_server_times_out() {
    run(async {
        let env = opaque_env().await;
        env.emu.set_fault(Route::M2mVerify, Fault::Hang).unwrap();
        let start = Instant::now();
        let o = opaque_verifier(&env.emu, 800.0)
            .verify(&env.token, Mode::MachineAuth)
            .await;
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(750) && took <= Duration::from_millis(800) + MARGIN,
            "{took:?}"
        );
        assert_eq!(
            rejected(&o),
            (M2M, "unexpected-error", None, "Unexpected error")
        );
        env.emu.shutdown().await;
    });
}

#[test]
fn o_07_unreachable_servers_are_unexpected_errors_without_status() {
    run(async {
        for url in [
            closed_port_url(),
            "https://clerk-m2m-native-test.invalid".to_owned(),
        ] {
            let v = verifier_with(
                RawOptions {
                    secret_key: Some("sk_test_o07".into()),
                    api_url: Some(url.clone()),
                    timeout_ms: Some(3000.0),
                    ..RawOptions::default()
                },
                fixed(),
            );
            let start = Instant::now();
            let o = v.verify("mt_unreachable", Mode::MachineAuth).await;
            assert!(
                start.elapsed() <= Duration::from_millis(3000) + MARGIN,
                "{url}: {:?}",
                start.elapsed()
            );
            assert_eq!(
                rejected(&o),
                (M2M, "unexpected-error", None, "Unexpected error"),
                "{url}"
            );
        }
    });
}

#[test]
fn o_08_bad_200_bodies_are_unexpected_errors() {
    run(async {
        let env = opaque_env().await;
        let v = opaque_verifier(&env.emu, 5000.0);
        let faults = [
            Fault::NonJson {
                status: Some(200),
                body: Some("<html>ok</html>".into()),
                content_type: Some("text/html".into()),
            },
            Fault::NonJson {
                status: Some(200),
                body: None,
                content_type: None,
            },
            Fault::TruncatedJson,
            Fault::Oversized {
                bytes: 10 * 1024 * 1024,
                status: None,
            },
            Fault::Status {
                status: 200,
                retry_after: None,
                body: Some("[1,2]".into()),
                content_type: None,
            },
            Fault::Status {
                status: 200,
                retry_after: None,
                body: Some("null".into()),
                content_type: None,
            },
        ];
        for fault in faults {
            let kind = fault.kind();
            env.emu.set_fault(Route::M2mVerify, fault).unwrap();
            let o = v.verify(&env.token, Mode::MachineAuth).await;
            assert_eq!(
                rejected(&o),
                (M2M, "unexpected-error", None, "Unexpected error"),
                "{kind}"
            );
        }
        env.emu.shutdown().await;
    });
}

#[test]
fn o_09_revoked_or_expired_200_answers_are_rejected() {
    run(async {
        let env = opaque_env().await;
        let v = opaque_verifier(&env.emu, 3000.0);
        let cfg = {
            let mut c = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
            c.secret_key = Some(Secret::new(env.emu.secret_key()));
            c
        };
        bapi::revoke_m2m_token(
            &cfg,
            &RevokeM2mTokenParams {
                m2m_token_id: env.id.clone(),
                revocation_reason: Some("o-09".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let o = v.verify(&env.token, Mode::MachineAuth).await;
        assert_eq!(
            rejected(&o),
            (M2M, INVALID, None, "Machine token has been revoked.")
        );
        // Expired: the emulator's clock moves past the token's expiration; it still answers 200.
        let other = mint(&env.emu).await;
        env.emu.advance_clock_ms(3_601_000);
        let o = v
            .verify(other["token"].as_str().unwrap(), Mode::MachineAuth)
            .await;
        assert_eq!(
            rejected(&o),
            (M2M, INVALID, None, "Machine token has expired.")
        );
        env.emu.shutdown().await;
    });
}

#[test]
fn o_10_no_credential_sends_no_authorization_and_maps_the_401() {
    run(async {
        let env = opaque_env().await;
        let v = verifier_with(
            RawOptions {
                api_url: Some(env.emu.url().into()),
                ..RawOptions::default()
            },
            fixed(),
        );
        let o = v.verify(&env.token, Mode::MachineAuth).await;
        let (tt, code, status, _) = rejected(&o);
        assert_eq!((tt, code, status), (M2M, "secret-key-invalid", Some(401)));
        let r = env
            .emu
            .requests()
            .into_iter()
            .rfind(|r| r.route.as_deref() == Some("m2m_verify"))
            .unwrap();
        assert!(!r.authorization_present);
        env.emu.shutdown().await;
    });
}

#[test]
fn o_11_hostile_token_characters_only_travel_in_the_json_body() {
    run(async {
        let env = opaque_env().await;
        let v = opaque_verifier(&env.emu, 3000.0);
        let hostile = [
            "mt_a\r\nX-Injected: 1",
            "mt_\"quoted\"\\",
            "mt_\u{0}nul",
            &format!("mt_{}", "q".repeat(4096)),
            "mt_?x=1#frag",
            "mt_../../v1/jwks",
        ];
        for t in hostile {
            env.emu.clear_requests();
            let o = v.verify(t, Mode::MachineAuth).await;
            assert_eq!(rejected(&o).1, INVALID, "{t:?}");
            let r = env.emu.requests().pop().unwrap();
            assert_eq!(
                (r.method.as_str(), r.path.as_str(), r.query.as_deref()),
                ("POST", "/m2m_tokens/verify", None),
                "{t:?}"
            );
            assert_eq!(r.body, Some(json!({ "token": t })));
            assert_eq!(
                r.authorization_prefix.as_deref(),
                Some(&env.emu.machine("trpc").unwrap().secret_key[..7]),
                "only the credential is in the header"
            );
            assert!(!rejected(&o).3.contains(&t[3..]));
        }
        env.emu.shutdown().await;
    });
}

#[test]
fn o_12_revoke_ids_cannot_change_the_path() {
    run(async {
        let env = opaque_env().await;
        env.emu.reset_counters();
        let mut cfg = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
        cfg.secret_key = Some(Secret::new(env.emu.secret_key()));
        for id in [
            "../machines/mch_x",
            "..",
            "%2e%2e",
            "%252e%252e/x",
            "a/../../b",
            "a\\..\\b",
        ] {
            let e = bapi::revoke_m2m_token(
                &cfg,
                &RevokeM2mTokenParams {
                    m2m_token_id: id.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
            assert_eq!(e.kind, Some(bapi::KIND_INVALID_REQUEST), "{id}");
        }
        assert_eq!(env.emu.count(Route::M2mRevoke), 0);
        assert_eq!(
            env.emu.counters().values().sum::<u64>(),
            0,
            "{:?}",
            env.emu.counters()
        );
        // Other characters stay inside the segment, percent-encoded.
        for (id, path) in [
            ("mt_a/b", "/m2m_tokens/mt_a%2Fb/revoke"),
            ("mt_a?b#c", "/m2m_tokens/mt_a%3Fb%23c/revoke"),
        ] {
            env.emu.clear_requests();
            let e = bapi::revoke_m2m_token(
                &cfg,
                &RevokeM2mTokenParams {
                    m2m_token_id: id.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
            assert_eq!(e.status, Some(404), "{id}");
            let r = env.emu.requests().pop().unwrap();
            assert_eq!((r.path.as_str(), r.query.as_deref()), (path, None), "{id}");
        }
        env.emu.shutdown().await;
    });
}

#[test]
fn o_13_create_is_never_retried_after_a_mid_request_failure() {
    run(async {
        let env = opaque_env().await;
        let webhook = env.emu.machine("webhook").unwrap();
        let cfg = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
        for fault in [
            Fault::Drop,
            Fault::Reset {
                after_bytes: Some(10),
            },
            Fault::Status {
                status: 503,
                retry_after: None,
                body: None,
                content_type: None,
            },
        ] {
            env.emu.reset_counters();
            let kind = fault.kind();
            env.emu.set_fault(Route::M2mCreate, fault).unwrap();
            let params = CreateM2mTokenParams {
                machine_secret_key: Some(Secret::new(webhook.secret_key.clone())),
                ..Default::default()
            };
            assert!(
                bapi::create_m2m_token(&cfg, &params).await.is_err(),
                "{kind}"
            );
            assert_eq!(env.emu.count(Route::M2mCreate), 1, "{kind}: never retried");
        }
        env.emu.shutdown().await;
    });
}

#[test]
fn o_14_opaque_results_are_not_cached_by_default() {
    run(async {
        // The opaque result cache is opt-in (`opaqueCacheTtlMs`, default 0): by default every
        // verification asks the API, so a revocation is effective at once.
        let env = opaque_env().await;
        let v = opaque_verifier(&env.emu, 3000.0);
        assert!(matches!(
            v.verify(&env.token, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
        assert!(matches!(
            v.verify(&env.token, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
        let mut cfg = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
        cfg.secret_key = Some(Secret::new(env.emu.secret_key()));
        bapi::revoke_m2m_token(
            &cfg,
            &RevokeM2mTokenParams {
                m2m_token_id: env.id.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            rejected(&v.verify(&env.token, Mode::MachineAuth).await).3,
            "Machine token has been revoked."
        );
        assert_eq!(env.emu.count(Route::M2mVerify), 3);
        // Failures are not cached either: a 429, then a healthy answer.
        env.emu
            .set_fault(
                Route::M2mVerify,
                clerk_bapi_emulator::FaultRule::times(
                    Fault::Status {
                        status: 429,
                        retry_after: None,
                        body: None,
                        content_type: None,
                    },
                    1,
                ),
            )
            .unwrap();
        let fresh = mint(&env.emu).await;
        let fresh = fresh["token"].as_str().unwrap();
        assert_eq!(
            rejected(&v.verify(fresh, Mode::MachineAuth).await).2,
            Some(429)
        );
        assert!(matches!(
            v.verify(fresh, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
        env.emu.shutdown().await;
    });
}

// ===========================================================================
// 5. Native-addon rows, core halves (the JS halves are in __test__/)

#[test]
fn n_03_signature_verification_needs_no_process_wide_crypto_provider() {
    // This process never installs a jsonwebtoken/rustls provider; a missing one would panic here.
    let input = b"header.payload";
    let sig = A.sign(JwtAlgorithm::RS256, input);
    let key = RsaPublicKey::from_der(&A.spki_der()).unwrap();
    assert_eq!(
        verify_signature(JwtAlgorithm::RS256, input, &sig, &key),
        Ok(true)
    );
    assert_eq!(
        verify_signature(JwtAlgorithm::RS384, input, &sig, &key),
        Ok(false)
    );
}

#[test]
fn n_04_arithmetic_edges_in_options_never_panic() {
    let huge = [
        1e308,
        -1e308,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        18446744073709551616.0,
        -0.0,
        0.5,
        9007199254740993.0,
    ];
    for &x in &huge {
        for raw in [
            RawOptions {
                clock_skew_in_ms: Some(x),
                jwt_key: Some(A.spki_pem()),
                ..RawOptions::default()
            },
            RawOptions {
                timeout_ms: Some(x),
                ..RawOptions::default()
            },
            RawOptions {
                max_token_bytes: Some(x),
                ..RawOptions::default()
            },
        ] {
            match VerifyOptions::from_raw(raw) {
                // Whatever was accepted must be usable without overflow: a PEM verifier answers
                // locally, the others (no key) with the reference's key error.
                Ok(o) => {
                    let v = Verifier::with_clock(o, fixed());
                    assert!(v.verify_local(&a_token(), Mode::MachineAuth).is_some(), "{x}");
                }
                // Whatever was refused says which option, without panicking.
                Err(e) => assert!(!e.to_string().is_empty(), "{x}"),
            }
        }
    }
    // Clocks at the edges of time.
    for now in [f64::MAX, f64::MIN, f64::NAN, 0.0, -1.0, 8.64e15 + 1.0] {
        let v = verifier_with(
            RawOptions {
                jwt_key: Some(A.spki_pem()),
                ..RawOptions::default()
            },
            Arc::new(FixedClock(now)),
        );
        // An outcome (accepted or rejected, by the time claims), never a panic.
        let o = v.verify_local(&a_token(), Mode::MachineAuth);
        assert!(matches!(o, Some(Outcome::Verified { .. } | Outcome::Rejected { .. })), "{now}");
    }
}

#[test]
fn n_05_redaction_never_cuts_inside_a_character() {
    for s in [
        "mt_é€😀xyz",
        "sk_😀😀😀😀😀😀😀😀",
        "ak_\u{301}\u{301}\u{301}\u{301}\u{301}",
        "abcdef😀",
        "mt_",
    ] {
        let p = redact::secret_prefix(s);
        assert!(p.trim_end_matches('…').chars().count() <= 7, "{p}");
        assert!(s.starts_with(p.trim_end_matches('…')));
        let _ = redact::echo_untrusted(s);
        let _ = format!("{:?}", Secret::new(s));
    }
    run(async {
        // Opaque tokens with a multi-byte character at byte 7 through a failing network path.
        let v = verifier_with(
            RawOptions {
                machine_secret_key: Some("ak_é😀CANARYCANARY".into()),
                api_url: Some(closed_port_url()),
                timeout_ms: Some(500.0),
                ..RawOptions::default()
            },
            fixed(),
        );
        for t in ["mt_éé😀CANARY", "mt_abc😀CANARY", "mt_😀😀😀😀CANARY"] {
            let o = v.verify(t, Mode::MachineAuth).await;
            assert_eq!(rejected(&o).1, "unexpected-error");
            assert!(
                !o.to_json_string().contains("CANARY"),
                "{}",
                o.to_json_string()
            );
        }
        let o = VerifyOptions::from_raw(RawOptions {
            secret_key: Some("sk_test_😀CANARY".into()),
            ..RawOptions::default()
        })
        .unwrap();
        assert!(!format!("{o:?}").contains("CANARY"));
    });
}

#[test]
fn n_10_a_depth_bomb_is_token_invalid_and_never_overflows_the_stack() {
    run(async {
        for depth in [129, 5_000, 100_000] {
            let p = format!(
                r#"{{"sub":"mch_1","exp":{},"x":{}}}"#,
                NOW_S + 60.0,
                nested(depth)
            );
            let t = raw_a(&h0_text(), &p);
            let v = verifier_with(
                RawOptions {
                    jwt_key: Some(A.spki_pem()),
                    max_token_bytes: Some(1024.0 * 1024.0),
                    ..RawOptions::default()
                },
                fixed(),
            );
            check_with(
                &v,
                &t,
                Exp::Reject(M2M, INVALID, UNDECODABLE),
                &depth.to_string(),
            )
            .await;
            // Objects nest the same way.
            let p = format!(
                r#"{{"sub":"mch_1","x":{}1{}}}"#,
                "{\"a\":".repeat(depth),
                "}".repeat(depth)
            );
            check_with(
                &v,
                &raw_a(&h0_text(), &p),
                Exp::Reject(M2M, INVALID, UNDECODABLE),
                "objects",
            )
            .await;
        }
        // A Backend API body nested 5000 deep is an error too.
        let env = opaque_env().await;
        serve_json(
            &env.emu,
            Route::M2mVerify,
            200,
            &format!(
                r#"{{"object":"machine_to_machine_token","x":{}}}"#,
                nested(5000)
            ),
        );
        let o = opaque_verifier(&env.emu, 3000.0)
            .verify(&env.token, Mode::MachineAuth)
            .await;
        assert_eq!(rejected(&o).1, "unexpected-error");
        serve_json(
            &env.emu,
            Route::Jwks,
            200,
            &format!(r#"{{"keys":{}}}"#, nested(5000)),
        );
        let o = verifier_with(jwks_options(&env.emu), fixed())
            .verify(&a_token(), Mode::MachineAuth)
            .await;
        assert_eq!(rejected(&o).1, TVF);
        env.emu.shutdown().await;
    });
}

fn real_now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64
}

#[test]
fn o_14_the_opt_in_opaque_cache_is_bounded_by_its_ttl_and_the_expiration_and_skips_failures() {
    run(async {
        let env = opaque_env().await;
        let trpc = env.emu.machine("trpc").unwrap();
        let clock = Arc::new(TestClock::new(real_now_ms()));
        let raw = RawOptions {
            machine_secret_key: Some(trpc.secret_key),
            api_url: Some(env.emu.url().into()),
            opaque_cache_ttl_ms: Some(10_000.0),
            ..RawOptions::default()
        };
        let v = verifier_with(raw.clone(), clock.clone());
        let count = || env.emu.count(Route::M2mVerify);
        // Inside the TTL a revocation is not seen (the documented trade-off); after it, it is.
        assert!(matches!(
            v.verify(&env.token, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
        let mut cfg = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
        cfg.secret_key = Some(Secret::new(env.emu.secret_key()));
        bapi::revoke_m2m_token(
            &cfg,
            &RevokeM2mTokenParams {
                m2m_token_id: env.id.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        clock.advance(9_000.0);
        assert!(
            matches!(
                v.verify(&env.token, Mode::MachineAuth).await,
                Outcome::Verified { .. }
            ),
            "cached inside the TTL"
        );
        assert_eq!(count(), 1);
        clock.advance(1_000.0);
        assert_eq!(
            rejected(&v.verify(&env.token, Mode::MachineAuth).await).3,
            "Machine token has been revoked."
        );
        assert_eq!(count(), 2);
        // Failures are never cached: a 429, a 503 and a dropped connection, then a success.
        let fresh = mint(&env.emu).await;
        let fresh = fresh["token"].as_str().unwrap().to_owned();
        for fault in [
            Fault::Status {
                status: 429,
                retry_after: None,
                body: None,
                content_type: None,
            },
            Fault::Status {
                status: 503,
                retry_after: Some(RetryAfter::Seconds(100)),
                body: None,
                content_type: None,
            },
            Fault::Drop,
        ] {
            env.emu
                .set_fault(
                    Route::M2mVerify,
                    clerk_bapi_emulator::FaultRule::times(fault.clone(), 3),
                )
                .unwrap();
            assert_eq!(
                rejected(&v.verify(&fresh, Mode::MachineAuth).await).1,
                "unexpected-error",
                "{}",
                fault.kind()
            );
            env.emu.clear_fault(Route::M2mVerify);
        }
        let before = count();
        assert!(matches!(
            v.verify(&fresh, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
        assert_eq!(count(), before + 1, "the failures were not cached");
        // Nor are 404s.
        let before = count();
        for _ in 0..2 {
            assert_eq!(
                rejected(&v.verify("mt_unknown_o14", Mode::MachineAuth).await).2,
                Some(404)
            );
        }
        assert_eq!(count(), before + 2);
        // An entry never outlives the token: a token expiring in 2 s is cached at most until then.
        let short = {
            let webhook = env.emu.machine("webhook").unwrap();
            let cfg = BapiConfig::new(url::Url::parse(env.emu.url()).unwrap());
            let params = CreateM2mTokenParams {
                machine_secret_key: Some(Secret::new(webhook.secret_key)),
                seconds_until_expiration: Some(2.0),
                ..Default::default()
            };
            bapi::create_m2m_token(&cfg, &params).await.unwrap()
        };
        let expiration = short["expiration"].as_f64().unwrap();
        clock.set(real_now_ms());
        let short = short["token"].as_str().unwrap();
        assert!(matches!(
            v.verify(short, Mode::MachineAuth).await,
            Outcome::Verified { .. }
        ));
        let before = count();
        clock.set(expiration + 1.0);
        let _ = v.verify(short, Mode::MachineAuth).await;
        assert_eq!(
            count(),
            before + 1,
            "past its expiration the token is asked about again"
        );
        // Tenants never share entries: another credential asks the API itself.
        let other = verifier_with(
            RawOptions {
                machine_secret_key: Some("ak_other_tenant_o14".into()),
                ..raw
            },
            clock.clone(),
        );
        let answer = other.verify(&fresh, Mode::MachineAuth).await;
        let (_, code, status, _) = rejected(&answer);
        assert_eq!((code, status), ("secret-key-invalid", Some(401)));
        // The TTL is capped at 60 s.
        assert!(VerifyOptions::from_raw(RawOptions {
            opaque_cache_ttl_ms: Some(60_001.0),
            ..RawOptions::default()
        })
        .is_err());
        env.emu.shutdown().await;
    });
}

#[test]
fn o_14_the_signature_cache_never_skips_claims_nor_crosses_keys() {
    run(async {
        let clock = Arc::new(TestClock::new(NOW_MS));
        let pem_a = verifier_with(
            RawOptions {
                jwt_key: Some(A.spki_pem()),
                ..RawOptions::default()
            },
            clock.clone(),
        );
        let pem_b = verifier_with(
            RawOptions {
                jwt_key: Some(B.spki_pem()),
                ..RawOptions::default()
            },
            clock.clone(),
        );
        let t = tok(
            &h0(),
            &with(
                p0(),
                json!({"exp": NOW_S + 60.0, "jti": format!("mt_sigcache_{}", rand_u64())}),
            ),
        );
        for _ in 0..3 {
            assert_outcome(
                &pem_a.verify_local(&t, Mode::MachineAuth).unwrap(),
                ACCEPT,
                "cached",
            );
        }
        // Expiry since the signature was cached (fast-jwt CVE-2026-107719's class).
        clock.advance(66_000.0);
        assert_outcome(
            &pem_a.verify_local(&t, Mode::MachineAuth).unwrap(),
            Exp::Reject(M2M, TVF, EXPIRED),
            "expired after caching",
        );
        clock.set(NOW_MS);
        // Another key never profits from A's entry.
        assert_outcome(
            &pem_b.verify_local(&t, Mode::MachineAuth).unwrap(),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "B",
        );
        // The same signature over other bytes is not a hit (GHSA-rp9m-7r4c-75qg's class).
        let (input, sig) = t.rsplit_once('.').unwrap();
        let header = input.split('.').next().unwrap();
        let swapped = format!(
            "{header}.{}.{sig}",
            b64(with(p0(), json!({"sub": "mch_attacker"}))
                .to_string()
                .as_bytes())
        );
        assert_outcome(
            &pem_a.verify_local(&swapped, Mode::MachineAuth).unwrap(),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "payload swapped",
        );
        // The category and header rules still run on a hit.
        assert_outcome(
            &pem_a.verify_local(&t, Mode::MachineAuth).unwrap(),
            ACCEPT,
            "still fine",
        );
        // A rotated key: after the JWKS TTL the kid maps to B, and A's cached signature no longer counts.
        let long = tok(
            &h0(),
            &with(
                p0(),
                json!({"exp": NOW_S + 3600.0, "jti": format!("mt_rotation_{}", rand_u64())}),
            ),
        );
        let emu = jwks_server(&jwks_of(&[A.jwk(KID_A)])).await;
        let v = verifier_with(jwks_options(&emu), clock.clone());
        assert_outcome(&v.verify(&long, Mode::MachineAuth).await, ACCEPT, "JWKS A");
        assert_outcome(
            &v.verify(&long, Mode::MachineAuth).await,
            ACCEPT,
            "JWKS A, cached",
        );
        serve_json(
            &emu,
            Route::Jwks,
            200,
            &jwks_of(&[B.jwk(KID_A)]).to_string(),
        );
        clock.advance(300_001.0);
        assert_outcome(
            &v.verify(&long, Mode::MachineAuth).await,
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "kid now maps to B",
        );
        assert_eq!(emu.count(Route::Jwks), 2);
        emu.shutdown().await;
    });
}
