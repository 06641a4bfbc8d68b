//! Machine-token detection, exactly as `@clerk/backend@3.25.0`'s `tokens/machine.ts`.
//!
//! Detection runs synchronously on the JavaScript thread for every request, so
//! it does only what the answer needs and allocates nothing: the two dots are
//! found with `memchr`; each of header and payload is base64url-decoded (SIMD)
//! into an uninitialised stack buffer, which also checks its alphabet, and
//! probed for the one field that matters (`typ` or `sub`) while being
//! validated as `JSON.parse` would; the signature segment is checked (SIMD)
//! without being decoded. `isM2MJwt` reads the payload first and stops there
//! unless `sub` starts with `mch_`; `isOAuthJwt` starts with the header.
//! Functions take bytes (`&str` works too): the napi binding hands over the
//! argument's UTF-8 without making a `String`. Tokens above the size ceiling
//! are never JWTs here (see README).

use crate::base64url::{self, Decoded};
use crate::constants::*;
use crate::decode::DEFAULT_MAX_TOKEN_BYTES;
use crate::json;
use std::mem::MaybeUninit;

/// The failure of `getMachineTokenType`: the reference throws `Error('Unknown machine token type')`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Unknown machine token type")]
pub struct UnknownMachineTokenType;

/// `/^[a-zA-Z0-9\-_]+\.[a-zA-Z0-9\-_]+\.[a-zA-Z0-9\-_]+$/.test(token)`.
pub fn is_jwt_format(token: impl AsRef<[u8]>) -> bool {
    // Verification runs this on every call too. The dots by memchr; the third
    // segment holding a third dot fails the alphabet test.
    segments(token.as_ref(), usize::MAX).is_some_and(|s| all_base64url(s.header) & all_base64url(s.payload) & all_base64url(s.signature))
}

/// `A–Z a–z 0–9 - _` only. Without an early exit, so that the loop is vectorised.
fn all_base64url(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |bad, &b| bad | u8::from(!is_base64url(b))) == 0
}

fn is_base64url(b: u8) -> bool {
    // `| 0x20` folds A–Z onto a–z and maps no other byte into a–z.
    ((b | 0x20).wrapping_sub(b'a') < 26) | (b.wrapping_sub(b'0') < 10) | (b == b'-') | (b == b'_')
}

/// The three non-empty segments of `xxx.yyy.zzz`, split at the first two dots.
/// The rest of the format (the alphabet, no third dot) is left to the callers.
struct Segments<'t> {
    header: &'t [u8],
    payload: &'t [u8],
    signature: &'t [u8],
}

fn segments(token: &[u8], max_bytes: usize) -> Option<Segments<'_>> {
    if token.len() > max_bytes {
        return None;
    }
    let (header, rest) = token.split_at(memchr::memchr(b'.', token)?);
    let rest = rest.get(1..)?;
    let (payload, signature) = rest.split_at(memchr::memchr(b'.', rest)?);
    let signature = signature.get(1..)?;
    (!header.is_empty() && !payload.is_empty() && !signature.is_empty()).then_some(Segments { header, payload, signature })
}

/// Largest decoded segment of a token under the default ceiling (16 KiB of
/// base64url), so no default-ceiling call ever falls back to the heap.
const SEGMENT_BUFFER: usize = DEFAULT_MAX_TOKEN_BYTES / 4 * 3 + 3;

/// Decodes one segment (unpadded base64url, which also enforces the format's
/// alphabet) and reports whether its last `field` is a string passing `test`;
/// `None` where the segment is not base64url or not JSON (the reference's
/// `decodeJwt` throws, so the token is no JWT of any kind).
fn probe_segment(segment: &[u8], field: &str, test: impl Fn(&str) -> bool) -> Option<bool> {
    let mut buf = [MaybeUninit::<u8>::uninit(); SEGMENT_BUFFER];
    match base64url::decode_unpadded_into(segment, &mut buf) {
        Decoded::Bytes(bytes) => json::probe_str_field(bytes, field, test),
        Decoded::Invalid => None,
        // Only for a caller's ceiling above the default (classify_jwt's `max_bytes`).
        Decoded::TooLarge => json::probe_str_field(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(segment).ok()?, field, test),
    }
}

fn is_oauth_typ(typ: &str) -> bool {
    OAUTH_ACCESS_TOKEN_TYPES.contains(&typ)
}

fn is_m2m_sub(sub: &str) -> bool {
    sub.starts_with(M2M_SUBJECT_PREFIX)
}

/// What one decode of a JWT-shaped token says about its machine class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JwtClass {
    /// `header.typ` is `at+jwt` or `application/at+jwt`.
    pub oauth: bool,
    /// `payload.sub` is a string starting with `mch_`.
    pub m2m: bool,
}

/// Decodes a JWT-format token just enough to classify it. `None` when the
/// token is not JWT-format, is over `max_bytes`, or does not decode.
pub fn classify_jwt(token: impl AsRef<[u8]>, max_bytes: usize) -> Option<JwtClass> {
    let s = segments(token.as_ref(), max_bytes)?;
    let oauth = probe_segment(s.header, "typ", is_oauth_typ)?;
    let m2m = probe_segment(s.payload, "sub", is_m2m_sub)?;
    base64url::is_valid_unpadded(s.signature).then_some(JwtClass { oauth, m2m })
}

fn class(token: &[u8]) -> JwtClass {
    classify_jwt(token, DEFAULT_MAX_TOKEN_BYTES).unwrap_or_default()
}

/// `isOAuthJwt`: the header first; the rest only has to decode.
pub fn is_oauth_jwt(token: impl AsRef<[u8]>) -> bool {
    let Some(s) = segments(token.as_ref(), DEFAULT_MAX_TOKEN_BYTES) else { return false };
    probe_segment(s.header, "typ", is_oauth_typ) == Some(true)
        && probe_segment(s.payload, "sub", |_| false).is_some()
        && base64url::is_valid_unpadded(s.signature)
}

/// `isM2MJwt`: the payload first; the rest only has to decode.
pub fn is_m2m_jwt(token: impl AsRef<[u8]>) -> bool {
    let Some(s) = segments(token.as_ref(), DEFAULT_MAX_TOKEN_BYTES) else { return false };
    probe_segment(s.payload, "sub", is_m2m_sub) == Some(true)
        && probe_segment(s.header, "typ", |_| false).is_some()
        && base64url::is_valid_unpadded(s.signature)
}

/// `isMachineJwt` = `isOAuthJwt || isM2MJwt`.
pub fn is_machine_jwt(token: impl AsRef<[u8]>) -> bool {
    let c = class(token.as_ref());
    c.oauth || c.m2m
}

/// `isMachineTokenByPrefix`: starts with `mt_`, `oat_` or `ak_` (case-sensitive).
pub fn is_machine_token_by_prefix(token: impl AsRef<[u8]>) -> bool {
    let token = token.as_ref();
    MACHINE_TOKEN_PREFIXES.iter().any(|p| token.starts_with(p.as_bytes()))
}

/// `isMachineToken` = by prefix, or an OAuth or M2M JWT.
pub fn is_machine_token(token: impl AsRef<[u8]>) -> bool {
    let token = token.as_ref();
    is_machine_token_by_prefix(token) || is_machine_jwt(token)
}

/// `getMachineTokenType`: first match wins (`mt_`/M2M JWT, `oat_`/OAuth JWT, `ak_`).
pub fn get_machine_token_type(token: impl AsRef<[u8]>) -> Result<TokenType, UnknownMachineTokenType> {
    let token = token.as_ref();
    if token.starts_with(M2M_TOKEN_PREFIX.as_bytes()) {
        return Ok(TokenType::M2MToken);
    }
    let c = class(token);
    if c.m2m {
        Ok(TokenType::M2MToken)
    } else if token.starts_with(OAUTH_TOKEN_PREFIX.as_bytes()) || c.oauth {
        Ok(TokenType::OAuthToken)
    } else if token.starts_with(API_KEY_PREFIX.as_bytes()) {
        Ok(TokenType::ApiKey)
    } else {
        Err(UnknownMachineTokenType)
    }
}

/// `isMachineTokenType`: exactly `api_key`, `m2m_token` or `oauth_token`.
pub fn is_machine_token_type(s: &str) -> bool {
    TokenType::from_str_exact(s).is_some_and(TokenType::is_machine)
}

/// The `acceptsToken` argument of `isTokenTypeAccepted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptsToken<'a> {
    /// The string `'any'`.
    Any,
    /// A single value (any string; only exact matches count).
    One(&'a str),
    /// An array (where `'any'` is *not* special).
    List(Vec<&'a str>),
}

/// `isTokenTypeAccepted(tokenType, acceptsToken)`; `None` is a falsy `tokenType`.
pub fn is_token_type_accepted(token_type: Option<&str>, accepts: &AcceptsToken<'_>) -> bool {
    let Some(t) = token_type.filter(|t| !t.is_empty()) else { return false };
    match accepts {
        AcceptsToken::Any => true,
        AcceptsToken::One(one) => *one == t,
        AcceptsToken::List(list) => list.contains(&t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::prop_oneof;

    fn jwt(header: &str, payload: &str) -> String {
        format!("{}.{}.{}", base64url::encode(header.as_bytes()), base64url::encode(payload.as_bytes()), base64url::encode(&[7; 256]))
    }

    #[test]
    fn jwt_format_regex() {
        for (t, want) in [
            ("a.b.c", true),
            ("mt_a.b.c", true),
            ("header.payload.signature", true),
            ("a..c", false),
            ("a.b.", false),
            (".b.c", false),
            ("a.b.c=", false),
            ("a.b.c\n", false),
            ("\na.b.c", false),
            ("ä.b.c", false),
            ("a.b", false),
            ("a.b.c.d", false),
            ("a.b+.c", false),
            ("", false),
        ] {
            assert_eq!(is_jwt_format(t), want, "{t:?}");
        }
    }

    #[test]
    fn detection_matrix_of_the_spec() {
        let m2m_jwt = jwt(r#"{"typ":"JWT"}"#, r#"{"sub":"mch_1"}"#);
        let m2m_oauth_typ = jwt(r#"{"typ":"at+jwt"}"#, r#"{"sub":"mch_1"}"#);
        let oauth = jwt(r#"{"typ":"at+jwt"}"#, r#"{"sub":"user_1"}"#);
        let oauth_app = jwt(r#"{"typ":"application/at+jwt"}"#, r#"{}"#);
        let upper = jwt(r#"{"typ":"AT+JWT"}"#, r#"{}"#);
        let session = jwt(r#"{"typ":"JWT"}"#, r#"{"sub":"user_1"}"#);
        let null_header = jwt("null", r#"{"sub":"mch_1"}"#);
        let null_payload = jwt(r#"{"typ":"at+jwt"}"#, "null");
        let padded = format!("{m2m_jwt}=");

        type Row<'a> = (&'a str, bool, bool, bool, bool, bool, Option<TokenType>);
        let rows: [Row; 12] = [
            ("mt_x", false, false, false, true, true, Some(TokenType::M2MToken)),
            ("oat_x", false, false, false, true, true, Some(TokenType::OAuthToken)),
            ("ak_x", false, false, false, true, true, Some(TokenType::ApiKey)),
            (&m2m_jwt, true, false, true, false, true, Some(TokenType::M2MToken)),
            (&m2m_oauth_typ, true, true, true, false, true, Some(TokenType::M2MToken)),
            (&oauth, true, true, false, false, true, Some(TokenType::OAuthToken)),
            (&oauth_app, true, true, false, false, true, Some(TokenType::OAuthToken)),
            (&upper, true, false, false, false, false, None),
            (&session, true, false, false, false, false, None),
            (&null_header, true, false, true, false, true, Some(TokenType::M2MToken)),
            (&null_payload, true, true, false, false, true, Some(TokenType::OAuthToken)),
            (&padded, false, false, false, false, false, None),
        ];
        for (t, fmt, oauth, m2m, prefix, machine, ty) in rows {
            assert_eq!(is_jwt_format(t), fmt, "isJwtFormat {t}");
            assert_eq!(is_oauth_jwt(t), oauth, "isOAuthJwt {t}");
            assert_eq!(is_m2m_jwt(t), m2m, "isM2MJwt {t}");
            assert_eq!(is_machine_token_by_prefix(t), prefix, "byPrefix {t}");
            assert_eq!(is_machine_token(t), machine, "isMachineToken {t}");
            assert_eq!(is_machine_jwt(t), oauth || m2m, "isMachineJwt {t}");
            assert_eq!(get_machine_token_type(t).ok(), ty, "getMachineTokenType {t}");
        }
    }

    #[test]
    fn unknown_types_throw_the_reference_message() {
        for t in ["", "MT_x", "mch_x", "unknown_prefix_token", "M2M_token_value", "API_KEY_value"] {
            let err = get_machine_token_type(t).expect_err(t);
            assert_eq!(err.to_string(), "Unknown machine token type");
        }
    }

    #[test]
    fn undecodable_signature_segment_is_not_a_jwt() {
        // Header and payload fine, signature has non-canonical trailing bits.
        let t = format!("{}.{}.QR", base64url::encode(br#"{}"#), base64url::encode(br#"{"sub":"mch_1"}"#));
        assert!(!is_m2m_jwt(&t));
        let t = format!("{}.{}.QQ", base64url::encode(br#"{}"#), base64url::encode(br#"{"sub":"mch_1"}"#));
        assert!(is_m2m_jwt(&t));
    }

    #[test]
    fn header_must_be_json_even_for_m2m_detection() {
        let t = format!("{}.{}.QQ", base64url::encode(b"{"), base64url::encode(br#"{"sub":"mch_1"}"#));
        assert!(!is_m2m_jwt(&t));
    }

    #[test]
    fn size_ceiling_is_applied() {
        let pad = "a".repeat(DEFAULT_MAX_TOKEN_BYTES);
        let t = jwt("{}", &format!(r#"{{"sub":"mch_1","pad":"{pad}"}}"#));
        assert!(!is_m2m_jwt(&t));
        assert_eq!(classify_jwt(&t, usize::MAX), Some(JwtClass { oauth: false, m2m: true }));
    }

    #[test]
    fn machine_token_type_and_acceptance() {
        assert!(is_machine_token_type("api_key"));
        assert!(is_machine_token_type("m2m_token"));
        assert!(is_machine_token_type("oauth_token"));
        assert!(!is_machine_token_type("session_token"));
        assert!(!is_machine_token_type("any"));

        assert!(is_token_type_accepted(Some("session_token"), &AcceptsToken::Any));
        assert!(!is_token_type_accepted(None, &AcceptsToken::Any));
        assert!(!is_token_type_accepted(Some(""), &AcceptsToken::Any));
        assert!(is_token_type_accepted(Some("api_key"), &AcceptsToken::List(vec!["api_key", "m2m_token"])));
        assert!(!is_token_type_accepted(Some("session_token"), &AcceptsToken::List(vec!["api_key", "m2m_token"])));
        assert!(!is_token_type_accepted(Some("m2m_token"), &AcceptsToken::List(vec!["any"])));
        assert!(!is_token_type_accepted(Some("m2m_token"), &AcceptsToken::List(vec![])));
        assert!(!is_token_type_accepted(Some("api_key"), &AcceptsToken::One("m2m_token")));
        assert!(is_token_type_accepted(Some("m2m_token"), &AcceptsToken::One("m2m_token")));
    }

    proptest::proptest! {
        #[test]
        fn detectors_never_panic(s in "\\PC{0,300}") {
            let _ = (is_jwt_format(&s), is_machine_token(&s), get_machine_token_type(&s));
        }

        #[test]
        fn jwt_format_table_agrees_with_the_regex_definition(s in "[a-c_.=+ \\-é]{0,12}") {
            // `/^[a-zA-Z0-9\-_]+\.[a-zA-Z0-9\-_]+\.[a-zA-Z0-9\-_]+$/`, spelled out.
            let parts: Vec<&str> = s.split('.').collect();
            let want = parts.len() == 3
                && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            proptest::prop_assert_eq!(is_jwt_format(&s), want);
        }

        #[test]
        fn early_exits_answer_what_the_full_classification_does(
            h in prop_oneof![r#"\{"typ":"(at\+jwt|JWT|application/at\+jwt)"\}"#, "[ -~]{0,16}"],
            p in prop_oneof![r#"\{"sub":"(mch_1|user_1|mch)"\}"#, "[ -~]{0,16}"],
            sig in prop_oneof!["[A-Za-z0-9_-]{1,6}", "[A-Za-z0-9_.=+ -]{0,6}"],
        ) {
            // isM2MJwt reads the payload first and isOAuthJwt the header first; both
            // must still reject whatever makes the token no JWT at all.
            let t = format!("{}.{}.{}", base64url::encode(h.as_bytes()), base64url::encode(p.as_bytes()), sig);
            let c = classify_jwt(&t, DEFAULT_MAX_TOKEN_BYTES).unwrap_or_default();
            proptest::prop_assert_eq!(is_m2m_jwt(&t), c.m2m);
            proptest::prop_assert_eq!(is_oauth_jwt(&t), c.oauth);
            proptest::prop_assert_eq!(is_machine_jwt(&t), c.m2m || c.oauth);
            if classify_jwt(&t, DEFAULT_MAX_TOKEN_BYTES).is_some() {
                proptest::prop_assert!(is_jwt_format(&t));
            }
        }

        #[test]
        fn any_bytes_are_answered_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            // The binding hands over bytes; non-UTF-8 ones are never a JWT or a prefix match.
            let _ = (is_jwt_format(&bytes), is_machine_token(&bytes), get_machine_token_type(&bytes), classify_jwt(&bytes, 64));
            if std::str::from_utf8(&bytes).is_err() {
                proptest::prop_assert!(!is_jwt_format(&bytes));
            }
        }

        #[test]
        fn classify_agrees_with_full_decode(h in "[ -~]{0,20}", p in "[ -~]{0,20}") {
            let t = jwt(&h, &p);
            let full = crate::decode::decode(&t).ok().map(|d| JwtClass {
                oauth: d.header.get("typ").and_then(|v| v.as_str()).is_some_and(|t| OAUTH_ACCESS_TOKEN_TYPES.contains(&t)),
                m2m: d.payload.get("sub").and_then(|v| v.as_str()).is_some_and(|s| s.starts_with(M2M_SUBJECT_PREFIX)),
            });
            proptest::prop_assert_eq!(classify_jwt(&t, DEFAULT_MAX_TOKEN_BYTES), full);
        }
    }
}
