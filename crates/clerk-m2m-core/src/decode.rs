//! The shared JWT decoder: `decodeJwt` of `@clerk/backend`, with a size ceiling.
//!
//! One pass over the token: the ceiling is checked first (before any base64 or
//! JSON work, so a hostile 10 MB header costs nothing), then the three
//! segments are split, base64url-decoded with the reference's loose rules and
//! parsed as JSON (see [`crate::json`]). Verification reuses the result, so a
//! token is decoded once per call.
//!
//! Two results of the same pass: [`DecodedJwt`] holds the header and payload as
//! `serde_json::Value`s (what `decodeJwt` hands to JavaScript), [`JwtView`] holds
//! their top-level members borrowed from a caller's [`Scratch`] (the verifier's hot
//! path: no map, no copy of a key or an escape-free string, the signature on the
//! stack). Both accept and reject exactly the same tokens.

use crate::base64url;
use crate::json::{self, Members};
use serde_json::Value;
use std::mem::MaybeUninit;

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
/// The dots are found with `memchr` (SIMD), as detection finds them: `splitn` walked the
/// ~850 bytes of a token a byte-pair at a time (1.4k instructions of a verification).
pub fn split3(token: &str) -> Option<(&str, &str, &str)> {
    let bytes = token.as_bytes();
    let first = memchr::memchr(b'.', bytes)?;
    let second = first + 1 + memchr::memchr(b'.', bytes.get(first + 1..)?)?;
    if memchr::memchr(b'.', bytes.get(second + 1..)?).is_some() {
        return None;
    }
    // '.' is ASCII, so both cuts are on character boundaries.
    Some((token.get(..first)?, token.get(first + 1..second)?, token.get(second + 1..)?))
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

/// A decoded JWT for verification: the header's and the payload's top-level members, borrowed
/// from the token's [`Scratch`] where they have no escapes, and the signature's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtView<'t, 'b> {
    pub header: Members<'b>,
    pub payload: Members<'b>,
    pub signature: &'b [u8],
    pub raw_header: &'t str,
    pub raw_payload: &'t str,
    pub raw_signature: &'t str,
}

/// Where [`decode_view`] puts a token's decoded bytes: uninitialised stack buffers sized for
/// real tokens (a Clerk M2M JWT's header decodes to ~100 bytes, its payload to ~350, an RSA
/// signature to 256–1024), and heap room only for what does not fit. One per verification,
/// on the caller's stack; nothing in it needs clearing.
pub struct Scratch {
    header: [MaybeUninit<u8>; 512],
    payload: [MaybeUninit<u8>; 2048],
    signature: [MaybeUninit<u8>; 1024],
    spill: [Vec<u8>; 3],
    lossy: [String; 2],
}

impl Scratch {
    /// The buffers are `const` uninitialised elements: written as `[MaybeUninit::uninit(); N]`,
    /// the three were cleared with a 3.5 KiB `memset` on every call (seen in the profile).
    pub fn new() -> Self {
        Scratch {
            header: [const { MaybeUninit::uninit() }; 512],
            payload: [const { MaybeUninit::uninit() }; 2048],
            signature: [const { MaybeUninit::uninit() }; 1024],
            spill: [Vec::new(), Vec::new(), Vec::new()],
            lossy: [String::new(), String::new()],
        }
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

/// [`decode_with_limit`] for verification: the same checks in the same order, the same
/// errors, the result borrowed from `scratch` ([`JwtView`]).
pub fn decode_view<'t, 'b>(token: &'t str, max_bytes: usize, scratch: &'b mut Scratch) -> Result<JwtView<'t, 'b>, DecodeError> {
    if token.len() > max_bytes {
        return Err(DecodeError::TooLarge { limit: max_bytes });
    }
    let (raw_header, raw_payload, raw_signature) = split3(token).ok_or(DecodeError::NotThreeParts)?;
    let Scratch { header, payload, signature, spill: [header_spill, payload_spill, signature_spill], lossy: [header_text, payload_text] } = scratch;
    let header = members_of(raw_header, header, header_spill, header_text).ok_or(DecodeError::Undecodable)?;
    let payload = members_of(raw_payload, payload, payload_spill, payload_text).ok_or(DecodeError::Undecodable)?;
    let signature = segment_bytes(raw_signature, signature, signature_spill).ok_or(DecodeError::Undecodable)?;
    Ok(JwtView { header, payload, signature, raw_header, raw_payload, raw_signature })
}

/// A segment's bytes: in `stack` when they fit, else in `spill`; `None` where base64url fails.
fn segment_bytes<'b>(raw: &str, stack: &'b mut [MaybeUninit<u8>], spill: &'b mut Vec<u8>) -> Option<&'b [u8]> {
    match base64url::decode_loose_into_uninit(raw, stack) {
        base64url::Decoded::Bytes(bytes) => Some(bytes),
        base64url::Decoded::Invalid => None,
        base64url::Decoded::TooLarge => {
            *spill = base64url::decode_loose(raw)?;
            Some(spill)
        }
    }
}

/// Base64url, `TextDecoder` (lossy text kept in `lossy`), then the top-level members.
fn members_of<'b>(raw: &str, stack: &'b mut [MaybeUninit<u8>], spill: &'b mut Vec<u8>, lossy: &'b mut String) -> Option<Members<'b>> {
    let bytes = segment_bytes(raw, stack, spill)?;
    let text: &'b str = match json::text_decode(bytes) {
        std::borrow::Cow::Borrowed(text) => text,
        std::borrow::Cow::Owned(text) => {
            *lossy = text;
            lossy
        }
    };
    json::parse_members(text)
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

        /// `split3` is `split('.')` with exactly three parts, on any text (dots and multi-byte characters included).
        #[test]
        fn split3_is_split_into_three(s in "[a.é€😀]{0,12}") {
            let parts: Vec<&str> = s.split('.').collect();
            let expected = (parts.len() == 3).then(|| (parts[0], parts[1], parts[2]));
            proptest::prop_assert_eq!(split3(&s), expected);
        }
    }

    /// The borrowed decoder against the `Value` one: the same acceptance, the same members
    /// (values, and the order of keys), the same signature bytes.
    fn assert_view_matches(token: &str) {
        let mut scratch = Scratch::new();
        let view = decode_view(token, DEFAULT_MAX_TOKEN_BYTES, &mut scratch);
        let old = decode(token);
        match (old, view) {
            (Err(a), Err(b)) => assert_eq!(a, b, "{token}"),
            (Ok(old), Ok(view)) => {
                for (value, members) in [(&old.header, &view.header), (&old.payload, &view.payload)] {
                    // `Map`'s equality ignores order: compare the texts, which keep it.
                    let expected = match value {
                        Value::Object(map) => serde_json::to_string(map).expect("serialises"),
                        _ => "{}".to_owned(),
                    };
                    assert_eq!(serde_json::to_string(&members.to_map()).expect("serialises"), expected, "{token}");
                    for (key, field) in members.iter() {
                        assert_eq!(Some(field), crate::js::get(value, key).map(json::FieldRef::from), "{key} of {token}");
                    }
                }
                assert_eq!(old.signature, view.signature, "{token}");
                assert_eq!((old.raw_header, old.raw_payload, old.raw_signature), (view.raw_header, view.raw_payload, view.raw_signature));
            }
            (old, view) => panic!("decoders disagree on {token}: {old:?} vs {view:?}"),
        };
    }

    fn token_of(header: &[u8], payload: &[u8]) -> String {
        format!("{}.{}.{}", base64url::encode(header), base64url::encode(payload), base64url::encode(&[7; 256]))
    }

    #[test]
    fn the_borrowed_decoder_agrees_on_tricky_segments() {
        let header = br#"{"alg":"RS256","typ":"JWT","kid":"ins_1","cat":"cl_B7d4PD333AAA"}"#;
        let many: String = format!("{{{}}}", (0..40).map(|i| format!(r#""k{}":{i}"#, i % 37)).collect::<Vec<_>>().join(","));
        let payloads: Vec<Vec<u8>> = vec![
            br#"{"sub":"mch_1","exp":1,"sub":"user_1","aud":"a","exp":2}"#.to_vec(),
            br#"{"s\u0075b":"m\u0063h_1","\u00e9":"\u00e9\n\"","\ud83d\ude00":"\ud83d\ude00"}"#.to_vec(),
            br#"{"sub":"\ud800"}"#.to_vec(),
            br#"{"\udc00":1}"#.to_vec(),
            br#"{"exp":1e400}"#.to_vec(),
            br#"{"a":[1e400]}"#.to_vec(),
            br#"{"exp":-0,"nbf":1.0,"iat":1E2,"x":-0.0,"y":18446744073709551616,"z":-9223372036854775809,"w":0.1000000000000000055511151231257827}"#.to_vec(),
            br#"{"aud":["a",{"b":[null,true,{"c":{"c":1,"c":2}}]}],"nested":{"sub":"x","sub":"y"}}"#.to_vec(),
            b"\xEF\xBB\xBF{\"sub\":\"mch_1\"}".to_vec(),
            b"\xEF\xBB\xBF\xEF\xBB\xBF{\"sub\":\"mch_1\"}".to_vec(),
            b"{\"sub\":\"mch_\xFF\xFE\",\"\xC3\":1}".to_vec(),
            b"\xEF\xBB\xBF{\"sub\":\"mch_\xE2\x82\"}".to_vec(),
            br#"{"__proto__":{"a":1},"1":"x","0":"y","sub":"mch_1"}"#.to_vec(),
            br#"null"#.to_vec(),
            br#"[{"sub":"mch_1"}]"#.to_vec(),
            br#""mch_1""#.to_vec(),
            br#"1e400"#.to_vec(),
            br#"{"a":1} x"#.to_vec(),
            br#"{"a":1,}"#.to_vec(),
            br#"{}"#.to_vec(),
            b"".to_vec(),
            many.into_bytes(),
            format!(r#"{{"deep":{}{}}}"#, "[".repeat(127), "]".repeat(127)).into_bytes(),
            format!(r#"{{"deep":{}{}}}"#, "[".repeat(128), "]".repeat(128)).into_bytes(),
            format!(r#"{{"big":"{}"}}"#, "x".repeat(3000)).into_bytes(),
        ];
        for payload in &payloads {
            assert_view_matches(&token_of(header, payload));
            assert_view_matches(&token_of(payload, header));
        }
        let big_signature = format!("{}.{}.{}", base64url::encode(header), base64url::encode(b"{}"), base64url::encode(&[1; 2000]));
        for token in ["", "a.b", "e30.e30.", "e30=.e30==.", "e30.e30.Q", "e3+.e30.", "..", "YWJj.YWJj.YWJj", big_signature.as_str()] {
            assert_view_matches(token);
        }
        let huge = "a".repeat(DEFAULT_MAX_TOKEN_BYTES + 1);
        assert_view_matches(&huge);
    }

    #[test]
    fn the_borrowed_decoder_borrows() {
        let token = token_of(br#"{"alg":"RS256"}"#, br#"{"sub":"mch_1","s\u0075b2":"a\nb","aud":["x"]}"#);
        let mut scratch = Scratch::new();
        let view = decode_view(&token, DEFAULT_MAX_TOKEN_BYTES, &mut scratch).expect("decodes");
        let members: Vec<_> = view.payload.clone().into_iter().collect();
        assert!(matches!(&members[0], (std::borrow::Cow::Borrowed("sub"), json::Field::Str(std::borrow::Cow::Borrowed("mch_1")))));
        assert!(matches!(&members[1], (std::borrow::Cow::Owned(k), json::Field::Str(std::borrow::Cow::Owned(v))) if k == "sub2" && v == "a\nb"));
        assert_eq!(members[2].1, json::Field::Json(serde_json::json!(["x"])));
    }

    proptest::proptest! {
        /// Objects of the claim names Clerk reads (duplicates, escapes, odd numbers, nesting)
        /// and any text: both decoders agree.
        #[test]
        fn the_borrowed_decoder_agrees_on_generated_objects(
            text in r#"\{("(sub|s\\u0075b|aud|exp|nbf|iat|jti|scopes|__proto__|1|01|é)":(null|true|-0|1\.0|1E2|1e400|-1e-400|"mch_1"|"\\ud800"|"\\u00e9"|\[1,"a",\{"x":1,"x":2\}\]|\{"sub":"x"\}),){0,10}"z":0\}"#,
        ) {
            assert_view_matches(&token_of(br#"{"alg":"RS256"}"#, text.as_bytes()));
        }

        #[test]
        fn the_borrowed_decoder_agrees_on_any_bytes(header in proptest::collection::vec(proptest::num::u8::ANY, 0..40), payload in r#"[\[\]{}":,0-9a-z.eE+\- \\]{0,40}"#) {
            assert_view_matches(&token_of(&header, payload.as_bytes()));
        }
    }
}
