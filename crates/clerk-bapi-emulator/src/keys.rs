//! RSA-2048 signing keys of an instance: generation, JWKS/PEM export, JWT signing and the
//! emulator's own JWT verification (used by `POST /m2m_tokens/verify` for JWT-format tokens).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _, UnparsedPublicKey};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{json, Map, Value};
use spki::der::pem::LineEnding;
use spki::der::EncodePem;
use std::fmt;

/// Why a key operation failed. Carries no key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// aws-lc could not generate a key pair.
    #[error("RSA key generation failed")]
    Generate,
    /// The public key could not be encoded as SPKI DER/PEM.
    #[error("public key encoding failed")]
    Encode,
    /// Signing failed (should not happen with a valid key).
    #[error("JWT signing failed")]
    Sign,
    /// The header or payload could not be serialized.
    #[error("JWT serialization failed")]
    Serialize,
    /// An imported private key is not an RSA key in PKCS#8 or PKCS#1 PEM that aws-lc accepts
    /// (2048–8192 bits).
    #[error("the private key is not an RSA key (2048-8192 bits) in PKCS#8 or PKCS#1 PEM")]
    InvalidPrivateKey,
}

/// Why a JWT does not verify against an instance's keys: what `POST /m2m_tokens/verify` folds
/// into one 404 and the dashboard's "inspect" spells out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtRejection {
    #[error("not a JWT: three base64url segments, the first two JSON objects")]
    Malformed,
    #[error("the header's alg is not RS256, RS384 or RS512")]
    UnsupportedAlgorithm,
    #[error("the header has no kid")]
    MissingKid,
    #[error("no live key of this instance has the token's kid (retired, or another instance's)")]
    UnknownKid,
    #[error("the signature does not match the key with the token's kid")]
    BadSignature,
}

impl JwtRejection {
    /// A stable code for the admin API and the dashboard.
    pub fn code(self) -> &'static str {
        match self {
            JwtRejection::Malformed => "malformed",
            JwtRejection::UnsupportedAlgorithm => "algorithm",
            JwtRejection::MissingKid => "kid-missing",
            JwtRejection::UnknownKid => "kid-unknown",
            JwtRejection::BadSignature => "signature",
        }
    }
}

/// RS256/RS384/RS512 as chosen by a JWT header's `alg` (anything else signs as RS256, so tests can
/// produce tokens whose header lies about the algorithm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RsaAlg {
    Rs256,
    Rs384,
    Rs512,
}

impl RsaAlg {
    fn from_header(header: &Value) -> RsaAlg {
        match header.get("alg").and_then(Value::as_str) {
            Some("RS384") => RsaAlg::Rs384,
            Some("RS512") => RsaAlg::Rs512,
            _ => RsaAlg::Rs256,
        }
    }

    fn signing(self) -> &'static signature::RsaSignatureEncoding {
        match self {
            RsaAlg::Rs256 => &signature::RSA_PKCS1_SHA256,
            RsaAlg::Rs384 => &signature::RSA_PKCS1_SHA384,
            RsaAlg::Rs512 => &signature::RSA_PKCS1_SHA512,
        }
    }

    fn verification(self) -> &'static signature::RsaParameters {
        match self {
            RsaAlg::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            RsaAlg::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            RsaAlg::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        }
    }
}

/// One RSA-2048 key pair with its `kid` and precomputed public forms.
pub struct SigningKey {
    kid: String,
    key_pair: KeyPair,
    public_key_pem: String,
    /// PKCS#1 `RSAPublicKey` DER, the form aws-lc verifies with.
    public_key_pkcs1: Vec<u8>,
    n: String,
    e: String,
}

impl fmt::Debug for SigningKey {
    /// Never prints the private key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key (CPU-heavy: call from a blocking context in async code).
    pub fn generate(kid: impl Into<String>) -> Result<SigningKey, KeyError> {
        let key_pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
        SigningKey::from_key_pair(kid.into(), key_pair)
    }

    /// Generates an RSA-2048 key from `rng` (deterministic for a seeded one: `--seed`). The
    /// `rsa` crate searches the primes; aws-lc signs with the result, imported as PKCS#8.
    pub fn generate_from_rng<R: rand::CryptoRng + ?Sized>(kid: impl Into<String>, rng: &mut R) -> Result<SigningKey, KeyError> {
        use rsa::pkcs8::EncodePrivateKey;
        let private = rsa::PrivateKey::new(rng, 2048).map_err(|_| KeyError::Generate)?;
        let pkcs8 = private.to_pkcs8_der().map_err(|_| KeyError::Encode)?;
        let key_pair = KeyPair::from_pkcs8(pkcs8.as_bytes()).map_err(|_| KeyError::Generate)?;
        SigningKey::from_key_pair(kid.into(), key_pair)
    }

    /// Imports an RSA private key from PEM (`PRIVATE KEY` = PKCS#8, `RSA PRIVATE KEY` = PKCS#1),
    /// so tests can have the emulator serve and sign with a key they also hold.
    pub fn from_private_key_pem(kid: impl Into<String>, pem: &str) -> Result<SigningKey, KeyError> {
        let (label, der) = spki::der::pem::decode_vec(pem.trim().as_bytes()).map_err(|_| KeyError::InvalidPrivateKey)?;
        let key_pair = match label {
            "PRIVATE KEY" => KeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => KeyPair::from_der(&der),
            _ => return Err(KeyError::InvalidPrivateKey),
        }
        .map_err(|_| KeyError::InvalidPrivateKey)?;
        SigningKey::from_key_pair(kid.into(), key_pair)
    }

    fn from_key_pair(kid: String, key_pair: KeyPair) -> Result<SigningKey, KeyError> {
        let public = key_pair.public_key();
        let spki_der = public.as_der().map_err(|_| KeyError::Encode)?;
        let spki = spki::SubjectPublicKeyInfoRef::try_from(spki_der.as_ref()).map_err(|_| KeyError::Encode)?;
        let public_key_pem = spki.to_pem(LineEnding::LF).map_err(|_| KeyError::Encode)?;
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let public_key_pkcs1 = public.as_ref().to_vec();
        Ok(SigningKey { kid, key_pair, public_key_pem, public_key_pkcs1, n, e })
    }

    /// The private key as PKCS#8 PEM, for `--state FILE` (which is written owner-only).
    pub fn private_key_pem(&self) -> Result<String, KeyError> {
        let der: aws_lc_rs::encoding::Pkcs8V1Der<'_> = self.key_pair.as_der().map_err(|_| KeyError::Encode)?;
        spki::der::pem::encode_string("PRIVATE KEY", LineEnding::LF, der.as_ref()).map_err(|_| KeyError::Encode)
    }

    /// The key id served in JWKS and stamped into JWT headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`), the form Clerk's dashboard shows as `CLERK_JWT_KEY`.
    pub fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    /// The JWK exactly as Clerk's `/v1/jwks` serves it (key order `use, kty, kid, alg, n, e`).
    pub fn jwk(&self) -> Value {
        json!({ "use": "sig", "kty": "RSA", "kid": self.kid, "alg": "RS256", "n": self.n, "e": self.e })
    }

    /// Signs `header.payload` (both serialized as given, key order preserved) with the RSA
    /// algorithm named by `header.alg` (RS384/RS512, otherwise RS256).
    pub fn sign_jwt(&self, header: &Value, payload: &Value) -> Result<String, KeyError> {
        let header_json = serde_json::to_vec(header).map_err(|_| KeyError::Serialize)?;
        let payload_json = serde_json::to_vec(payload).map_err(|_| KeyError::Serialize)?;
        let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header_json), URL_SAFE_NO_PAD.encode(payload_json));
        let alg = RsaAlg::from_header(header);
        let mut sig = vec![0u8; self.key_pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.key_pair
            .sign(alg.signing(), &rng, signing_input.as_bytes(), &mut sig)
            .map_err(|_| KeyError::Sign)?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }

    fn verify(&self, alg: RsaAlg, message: &[u8], sig: &[u8]) -> bool {
        UnparsedPublicKey::new(alg.verification(), &self.public_key_pkcs1).verify(message, sig).is_ok()
    }
}

/// Base64url that tolerates `=` padding, as Clerk's servers do.
const LENIENT_B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A JWT's header and payload as decoded, whether or not its signature verifies.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedJwt {
    pub header: Map<String, Value>,
    pub payload: Map<String, Value>,
}

/// A JWT whose signature was checked against one of the given keys.
pub type VerifiedJwt = DecodedJwt;

/// True if `token` has the three-segment shape of a JWT (the emulator routes it to JWT checks).
pub fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let three = matches!((parts.next(), parts.next(), parts.next(), parts.next()), (Some(a), Some(b), Some(_), None) if !a.is_empty() && !b.is_empty());
    three && token.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
}

/// The three segments of a JWT, its header and payload decoded (nothing verified).
fn split(token: &str) -> Result<(&str, &str, &str, DecodedJwt), JwtRejection> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtRejection::Malformed);
    };
    let json = |segment: &str| -> Result<Map<String, Value>, JwtRejection> {
        let bytes = LENIENT_B64URL.decode(segment).map_err(|_| JwtRejection::Malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| JwtRejection::Malformed)
    };
    Ok((h, p, s, DecodedJwt { header: json(h)?, payload: json(p)? }))
}

/// Decodes `token` without checking anything (the dashboard shows what a pasted token says).
pub fn decode_jwt(token: &str) -> Result<DecodedJwt, JwtRejection> {
    split(token).map(|(_, _, _, decoded)| decoded)
}

/// Decodes `token` and verifies its signature with the key whose `kid` matches the header's
/// (`alg` must be RS256/RS384/RS512). Claims (exp, nbf) are left to the caller, which knows the
/// emulator clock.
pub fn verify_jwt(token: &str, keys: &[&SigningKey]) -> Result<VerifiedJwt, JwtRejection> {
    let (h, p, s, decoded) = split(token)?;
    let alg = match decoded.header.get("alg").and_then(Value::as_str) {
        Some("RS256") => RsaAlg::Rs256,
        Some("RS384") => RsaAlg::Rs384,
        Some("RS512") => RsaAlg::Rs512,
        _ => return Err(JwtRejection::UnsupportedAlgorithm),
    };
    let kid = decoded.header.get("kid").and_then(Value::as_str).ok_or(JwtRejection::MissingKid)?;
    let key = keys.iter().find(|k| k.kid() == kid).ok_or(JwtRejection::UnknownKid)?;
    let sig = LENIENT_B64URL.decode(s).map_err(|_| JwtRejection::Malformed)?;
    // `h` and `p` are slices of `token` separated by exactly one '.', so this is the signing input.
    let signing_input = token.get(..h.len() + 1 + p.len()).ok_or(JwtRejection::Malformed)?;
    if !key.verify(alg, signing_input.as_bytes(), &sig) {
        return Err(JwtRejection::BadSignature);
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// Key generation is slow-ish; share two keys across the tests of this module.
    fn keys() -> &'static (SigningKey, SigningKey) {
        static KEYS: OnceLock<(SigningKey, SigningKey)> = OnceLock::new();
        KEYS.get_or_init(|| (SigningKey::generate("ins_a").unwrap(), SigningKey::generate("ins_b").unwrap()))
    }

    #[test]
    fn jwk_shape_and_order() {
        let (a, _) = keys();
        let jwk = a.jwk();
        let order: Vec<&str> = jwk.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(order, ["use", "kty", "kid", "alg", "n", "e"]);
        assert_eq!(jwk["e"], "AQAB");
        // 2048-bit modulus = 256 bytes = 342 base64url chars without padding.
        assert_eq!(jwk["n"].as_str().unwrap().len(), 342);
        assert_eq!(a.kid(), "ins_a");
        assert!(!format!("{a:?}").contains("MII"));
    }

    #[test]
    fn pem_matches_the_reference_textual_derivation() {
        // @clerk/backend's loadClerkJwkFromPem strips fixed SPKI prefix/suffix text to get `n`.
        let (a, _) = keys();
        let pem = a.public_key_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.trim_end().ends_with("-----END PUBLIC KEY-----"));
        let flat: String = pem.lines().collect();
        let n = flat
            .replacen("-----BEGIN PUBLIC KEY-----", "", 1)
            .replacen("-----END PUBLIC KEY-----", "", 1)
            .replacen("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", "", 1)
            .replacen("IDAQAB", "", 1)
            .replace('+', "-")
            .replace('/', "_");
        assert_eq!(n, a.jwk()["n"].as_str().unwrap());
    }

    #[test]
    fn sign_then_verify_roundtrip_all_algs() {
        let (a, b) = keys();
        for alg in ["RS256", "RS384", "RS512"] {
            let header = json!({"alg": alg, "typ": "JWT", "kid": "ins_a"});
            let token = a.sign_jwt(&header, &json!({"sub": "mch_1"})).unwrap();
            let v = verify_jwt(&token, &[b, a]).unwrap();
            assert_eq!(v.payload["sub"], "mch_1");
            assert_eq!(v.header["alg"], alg);
            // The same token does not verify against the other key even if the kid is forged.
            assert!(verify_jwt(&token, &[b]).is_err());
        }
    }

    #[test]
    fn header_key_order_is_preserved() {
        let (a, _) = keys();
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": "ins_a", "cat": "cl_B7d4PD333AAA"});
        let token = a.sign_jwt(&header, &json!({})).unwrap();
        let h = token.split('.').next().unwrap();
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap();
        assert_eq!(raw, r#"{"alg":"RS256","typ":"JWT","kid":"ins_a","cat":"cl_B7d4PD333AAA"}"#);
    }

    #[test]
    fn verify_rejects_malformed_and_tampered() {
        let (a, _) = keys();
        let token = a.sign_jwt(&json!({"alg": "RS256", "kid": "ins_a"}), &json!({"sub": "mch_1"})).unwrap();
        let keys: [&SigningKey; 1] = [a];
        assert!(verify_jwt(&token, &keys).is_ok());
        // tampered payload
        let mut parts: Vec<&str> = token.split('.').collect();
        let other = URL_SAFE_NO_PAD.encode(br#"{"sub":"mch_2"}"#);
        parts[1] = &other;
        assert!(verify_jwt(&parts.join("."), &keys).is_err());
        // wrong segment counts, garbage, empty
        for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.", "mt_abc"] {
            assert!(verify_jwt(bad, &keys).is_err(), "{bad}");
        }
        // alg none / HS256 / missing kid / unknown kid
        for header in [json!({"alg": "none", "kid": "ins_a"}), json!({"alg": "HS256", "kid": "ins_a"}), json!({"alg": "RS256"}), json!({"alg": "RS256", "kid": "ins_x"})] {
            let t = a.sign_jwt(&header, &json!({})).unwrap();
            assert!(verify_jwt(&t, &keys).is_err(), "{header}");
        }
        // non-object payload
        let t = a.sign_jwt(&json!({"alg": "RS256", "kid": "ins_a"}), &json!([1])).unwrap();
        assert!(verify_jwt(&t, &keys).is_err());
        // Each failure has its own reason (what the dashboard's inspect reports).
        let reason = |header: Value, keys: &[&SigningKey]| verify_jwt(&a.sign_jwt(&header, &json!({})).unwrap(), keys).unwrap_err();
        assert_eq!(reason(json!({"alg": "HS256", "kid": "ins_a"}), &keys), JwtRejection::UnsupportedAlgorithm);
        assert_eq!(reason(json!({"alg": "RS256"}), &keys), JwtRejection::MissingKid);
        assert_eq!(reason(json!({"alg": "RS256", "kid": "ins_x"}), &keys), JwtRejection::UnknownKid);
        assert_eq!(verify_jwt(&parts.join("."), &keys).unwrap_err(), JwtRejection::BadSignature);
        assert_eq!(verify_jwt("a.b", &keys).unwrap_err(), JwtRejection::Malformed);
        assert_eq!(JwtRejection::BadSignature.code(), "signature");
        // decode_jwt reads what verify_jwt refuses.
        assert_eq!(decode_jwt(&parts.join(".")).unwrap().payload["sub"], "mch_2");
    }

    #[test]
    fn imports_pkcs8_and_pkcs1_pem() {
        use aws_lc_rs::encoding::AsDer;
        use spki::der::pem::{encode_string, LineEnding};
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let pkcs8 = pair.as_der().unwrap();
        let pem = encode_string("PRIVATE KEY", LineEnding::LF, pkcs8.as_ref()).unwrap();
        let imported = SigningKey::from_private_key_pem("ins_imp", &pem).unwrap();
        assert_eq!(imported.kid(), "ins_imp");
        // Same key: a token it signs verifies, and the modulus matches the pair's.
        let n = URL_SAFE_NO_PAD.encode(pair.public_key().modulus().big_endian_without_leading_zero());
        assert_eq!(imported.jwk()["n"], n.as_str());
        let token = imported.sign_jwt(&json!({"alg": "RS256", "kid": "ins_imp"}), &json!({})).unwrap();
        assert!(verify_jwt(&token, &[&imported]).is_ok());
        // PKCS#1 ("RSA PRIVATE KEY") is accepted too.
        let pkcs1 = pkcs1_from_pkcs8(pkcs8.as_ref());
        let pem1 = encode_string("RSA PRIVATE KEY", LineEnding::LF, &pkcs1).unwrap();
        assert_eq!(SigningKey::from_private_key_pem("k", &pem1).unwrap().jwk()["n"], n.as_str());
        // The PKCS#8 export (`--state`) imports back to the same key.
        let again = SigningKey::from_private_key_pem("ins_imp", &imported.private_key_pem().unwrap()).unwrap();
        assert_eq!(again.jwk(), imported.jwk());
        for bad in ["", "not a pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", imported.public_key_pem()] {
            assert_eq!(SigningKey::from_private_key_pem("k", bad).unwrap_err(), KeyError::InvalidPrivateKey);
        }
        let garbage = encode_string("PRIVATE KEY", LineEnding::LF, b"garbage").unwrap();
        assert_eq!(SigningKey::from_private_key_pem("k", &garbage).unwrap_err(), KeyError::InvalidPrivateKey);
    }

    /// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (the OCTET STRING at its end).
    fn pkcs1_from_pkcs8(pkcs8: &[u8]) -> Vec<u8> {
        use spki::der::{asn1::OctetStringRef, Decode, Reader, SliceReader};
        let mut outer = SliceReader::new(pkcs8).unwrap();
        outer
            .sequence(|r| {
                let _version = u8::decode(r)?;
                let _alg = spki::AlgorithmIdentifierRef::decode(r)?;
                Ok(OctetStringRef::decode(r)?.as_bytes().to_vec())
            })
            .unwrap()
    }

    #[test]
    fn looks_like_jwt_shapes() {
        assert!(looks_like_jwt("a.b.c"));
        assert!(looks_like_jwt("a.b."));
        assert!(!looks_like_jwt("mt_abc"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a.b.c.d"));
        assert!(!looks_like_jwt(".b.c"));
        assert!(!looks_like_jwt("a b.c.d"));
    }
}
