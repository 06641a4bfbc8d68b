//! The shared JWT decoder: `decodeJwt` of `@clerk/backend`, with a size ceiling.
//!
//! One pass over the token: the ceiling is checked first (before any base64 or
//! JSON work, so a hostile 10 MB header costs nothing), then the three
//! segments are split, base64url-decoded with the reference's loose rules and
//! parsed as JSON (see [`crate::json`]). Verification reuses the result, so a
//! token is decoded once per call.

use crate::base64url;
use crate::json;
use serde_json::Value;

/// Default ceiling on a token's length in bytes. Node's default
/// `http.maxHeaderSize` is 16 KiB, so no real bearer token is larger.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Why a token could not be decoded. Messages are the reference's, verbatim,
/// except [`DecodeError::TooLarge`], which the reference does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("Invalid JWT form. The token is larger than {limit} bytes.")]
    TooLarge { limit: usize },
    #[error("Invalid JWT form. A JWT consists of three parts separated by dots.")]
    NotThreeParts,
    #[error("Invalid JWT form. The header, payload, or signature could not be decoded.")]
    Undecodable,
}

/// A decoded JWT. Header and payload are any JSON value, exactly as
/// `JSON.parse` would have produced them (they may be `null`, arrays…).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedJwt<'t> {
    pub header: Value,
    pub payload: Value,
    pub signature: Vec<u8>,
    /// The original segment texts (padding included), as `raw.*` in the reference.
    pub raw_header: &'t str,
    pub raw_payload: &'t str,
    pub raw_signature: &'t str,
}

impl<'t> DecodedJwt<'t> {
    /// The bytes that were signed: `raw.header + '.' + raw.payload`.
    pub fn signing_input(&self, token: &'t str) -> &'t str {
        let end = self.raw_header.len() + 1 + self.raw_payload.len();
        token.get(..end).unwrap_or(token)
    }
}

/// Splits into exactly three dot-separated segments, as `split('.')` + length check.
pub fn split3(token: &str) -> Option<(&str, &str, &str)> {
    let mut parts = token.splitn(4, '.');
    let header = parts.next()?;
    let payload = parts.next()?;
    let signature = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    Some((header, payload, signature))
}

/// Decodes with the default ceiling.
pub fn decode(token: &str) -> Result<DecodedJwt<'_>, DecodeError> {
    decode_with_limit(token, DEFAULT_MAX_TOKEN_BYTES)
}

/// Decodes `token`, refusing anything longer than `max_bytes` before doing any work.
pub fn decode_with_limit(token: &str, max_bytes: usize) -> Result<DecodedJwt<'_>, DecodeError> {
    if token.len() > max_bytes {
        return Err(DecodeError::TooLarge { limit: max_bytes });
    }
    let (raw_header, raw_payload, raw_signature) = split3(token).ok_or(DecodeError::NotThreeParts)?;
    let header = parse_json_segment(raw_header).ok_or(DecodeError::Undecodable)?;
    let payload = parse_json_segment(raw_payload).ok_or(DecodeError::Undecodable)?;
    let signature = base64url::decode_loose(raw_signature).ok_or(DecodeError::Undecodable)?;
    Ok(DecodedJwt { header, payload, signature, raw_header, raw_payload, raw_signature })
}

/// Base64url, then `JSON.parse`; the bytes go through a stack buffer when they fit.
fn parse_json_segment(raw: &str) -> Option<serde_json::Value> {
    let mut buf = [0u8; 1024];
    match base64url::decode_loose_into(raw, &mut buf) {
        base64url::Decoded::Bytes(bytes) => json::parse_segment(bytes),
        base64url::Decoded::Invalid => None,
        base64url::Decoded::TooLarge => json::parse_segment(&base64url::decode_loose(raw)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(s: &str) -> String {
        base64url::encode(s.as_bytes())
    }

    #[test]
    fn decodes_a_well_formed_token() {
        let token = format!("{}.{}.{}", b64(r#"{"alg":"RS256"}"#), b64(r#"{"sub":"mch_1"}"#), base64url::encode(&[1, 2, 3]));
        let d = decode(&token).expect("decodes");
        assert_eq!(d.header, json!({"alg": "RS256"}));
        assert_eq!(d.payload, json!({"sub": "mch_1"}));
        assert_eq!(d.signature, vec![1, 2, 3]);
        assert_eq!(d.signing_input(&token), format!("{}.{}", d.raw_header, d.raw_payload));
    }

    #[test]
    fn three_parts_rule() {
        for t in ["", "null", "42", "a.b", "a.b.c.d", "...."] {
            assert_eq!(decode(t), Err(DecodeError::NotThreeParts), "{t:?}");
        }
    }

    #[test]
    fn empty_signature_and_padding_decode() {
        let d = decode("e30.e30.").expect("empty signature is zero bytes");
        assert!(d.signature.is_empty());
        let d = decode("e30=.e30==.").expect("trailing padding is stripped");
        assert_eq!(d.raw_header, "e30=");
        assert_eq!(decode("bnVsbA.bnVsbA.").map(|d| (d.header, d.payload)), Ok((Value::Null, Value::Null)));
    }

    #[test]
    fn undecodable_segments() {
        for t in ["aaa.bbb.ccc", "e30.e30.Q", "e30.e30.QR", "e3+.e30.", "e30.ew.", "..", "e30..", "e30.e30.a b"] {
            assert_eq!(decode(t), Err(DecodeError::Undecodable), "{t:?}");
        }
        assert_eq!(decode("YWJj.YWJj.YWJj"), Err(DecodeError::Undecodable), "`abc` is not JSON");
    }

    #[test]
    fn ceiling_applies_before_anything_else() {
        let huge = "a".repeat(DEFAULT_MAX_TOKEN_BYTES + 1);
        assert_eq!(decode(&huge), Err(DecodeError::TooLarge { limit: DEFAULT_MAX_TOKEN_BYTES }));
        assert_eq!(decode_with_limit("e30.e30.", 7), Err(DecodeError::TooLarge { limit: 7 }));
        assert!(decode_with_limit("e30.e30.", 8).is_ok());
    }

    #[test]
    fn messages_are_the_reference_ones() {
        assert_eq!(DecodeError::NotThreeParts.to_string(), "Invalid JWT form. A JWT consists of three parts separated by dots.");
        assert_eq!(DecodeError::Undecodable.to_string(), "Invalid JWT form. The header, payload, or signature could not be decoded.");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,200}") {
            let _ = decode(&s);
        }
    }
}
