//! Machine-token detection, exactly as `@clerk/backend@3.25.0`'s `tokens/machine.ts`.
//!
//! Detection runs synchronously on the JavaScript thread for every request, so
//! it does only what the answer needs: a format scan, one base64url decode of
//! header and payload, a validity check of the signature segment (no
//! allocation), and a streaming JSON probe for the one field that matters
//! (`typ` or `sub`), which still validates the whole segment as `JSON.parse`
//! would. Tokens above the size ceiling are never JWTs here (see README).

use crate::base64url;
use crate::constants::*;
use crate::decode::{split3, DEFAULT_MAX_TOKEN_BYTES};
use crate::json::{self, FieldProbe};

/// The failure of `getMachineTokenType`: the reference throws `Error('Unknown machine token type')`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Unknown machine token type")]
pub struct UnknownMachineTokenType;

/// `/^[a-zA-Z0-9\-_]+\.[a-zA-Z0-9\-_]+\.[a-zA-Z0-9\-_]+$/.test(token)`.
pub fn is_jwt_format(token: &str) -> bool {
    // One pass with a table (this runs on every verification): exactly two
    // dots, no empty segment, every other byte in the base64url alphabet.
    let bytes = token.as_bytes();
    let (mut dots, mut previous_was_dot) = (0u32, true);
    for &b in bytes {
        match JWT_FORMAT_CLASS[b as usize] {
            ALPHABET => previous_was_dot = false,
            DOT if !previous_was_dot => {
                dots += 1;
                previous_was_dot = true;
            }
            _ => return false,
        }
    }
    dots == 2 && !previous_was_dot
}

const OTHER: u8 = 0;
const ALPHABET: u8 = 1;
const DOT: u8 = 2;

/// Byte classes of [`is_jwt_format`]: `A–Z a–z 0–9 - _` and `.`.
static JWT_FORMAT_CLASS: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' {
            table[b] = ALPHABET;
        }
        b += 1;
    }
    table[b'.' as usize] = DOT;
    table
};

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
pub fn classify_jwt(token: &str, max_bytes: usize) -> Option<JwtClass> {
    if token.len() > max_bytes || !is_jwt_format(token) {
        return None;
    }
    let (h, p, s) = split3(token)?;
    if !base64url::is_valid_loose(s) {
        return None;
    }
    let header = base64url::decode_loose(h)?;
    let payload = base64url::decode_loose(p)?;
    let typ = json::probe_string_field(&header, "typ")?;
    let sub = json::probe_string_field(&payload, "sub")?;
    Some(JwtClass {
        oauth: matches!(typ, FieldProbe::String(ref t) if OAUTH_ACCESS_TOKEN_TYPES.contains(&t.as_str())),
        m2m: matches!(sub, FieldProbe::String(ref s) if s.starts_with(M2M_SUBJECT_PREFIX)),
    })
}

fn class(token: &str) -> JwtClass {
    classify_jwt(token, DEFAULT_MAX_TOKEN_BYTES).unwrap_or_default()
}

/// `isOAuthJwt`.
pub fn is_oauth_jwt(token: &str) -> bool {
    class(token).oauth
}

/// `isM2MJwt`.
pub fn is_m2m_jwt(token: &str) -> bool {
    class(token).m2m
}

/// `isMachineJwt` = `isOAuthJwt || isM2MJwt`.
pub fn is_machine_jwt(token: &str) -> bool {
    let c = class(token);
    c.oauth || c.m2m
}

/// `isMachineTokenByPrefix`: starts with `mt_`, `oat_` or `ak_` (case-sensitive).
pub fn is_machine_token_by_prefix(token: &str) -> bool {
    MACHINE_TOKEN_PREFIXES.iter().any(|p| token.starts_with(p))
}

/// `isMachineToken` = by prefix, or an OAuth or M2M JWT.
pub fn is_machine_token(token: &str) -> bool {
    is_machine_token_by_prefix(token) || is_machine_jwt(token)
}

/// `getMachineTokenType`: first match wins (`mt_`/M2M JWT, `oat_`/OAuth JWT, `ak_`).
pub fn get_machine_token_type(token: &str) -> Result<TokenType, UnknownMachineTokenType> {
    if token.starts_with(M2M_TOKEN_PREFIX) {
        return Ok(TokenType::M2MToken);
    }
    let c = class(token);
    if c.m2m {
        Ok(TokenType::M2MToken)
    } else if token.starts_with(OAUTH_TOKEN_PREFIX) || c.oauth {
        Ok(TokenType::OAuthToken)
    } else if token.starts_with(API_KEY_PREFIX) {
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
