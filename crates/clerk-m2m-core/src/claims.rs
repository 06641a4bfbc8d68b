//! Clerk's JWT header and claim rules (`jwt/assertions.ts` of `@clerk/backend@3.25.0`).
//!
//! One small function per rule, each returning the reference's exact
//! [`TokenVerificationError`] (reason, message, action). Values are read from
//! the decoded JSON as `Option<FieldRef>` (`None` = JS `undefined`; a borrowed
//! string or any other JSON value, so the verifier's borrowed decoder needs no
//! copy) and printed with [`crate::js`] so messages match byte for byte. Each
//! rule keeps its `Option<&Value>` form (`assert_*_claim`, `assert_header_*`) for
//! the tests and fuzz targets (feature `test-hooks`), which read `serde_json::Value`s. Time checks take an
//! injected [`Clock`] and read it once per check, as the reference reads
//! `Date.now()` once per check.
//!
//! Deliberate divergences (README "Differences"):
//! * **Dates beyond the JS `Date` range fail closed** (catalogue J-86, J-88,
//!   J-89; W2). The reference converts `exp`/`nbf`/`iat` with
//!   `new Date(0).setUTCSeconds(x)`, which is NaN beyond ±8.64e12 s, and every
//!   comparison with NaN is false, so `exp: -1e13` never expires and
//!   `nbf`/`iat: 1e13` are never "in the future". Here such a value is taken
//!   for what it is, a date before or after every representable date: an `exp`
//!   in the far past is expired, an `nbf`/`iat` in the far future is rejected
//!   (same reasons as the reference; the message names the raw claim because
//!   no date can be printed). Far-future `exp` and far-past `nbf`/`iat` still
//!   pass, as in the reference (J-84).
//! * `exp: 1e400` (J-87) never reaches these rules: the decoder rejects numbers
//!   beyond the f64 range (see [`crate::json`]). Were a non-finite value to
//!   arrive here, it is treated by its sign like any out-of-range value.
//! * Header values echoed before the signature is checked (`typ`, `alg`) are
//!   escaped and truncated to 64 characters (W10, see [`crate::redact`]); short
//!   printable values print exactly as in the reference.

use crate::clock::Clock;
use crate::errors::{action, Reason, TokenVerificationError};
use crate::js::{self, json_stringify, number_to_string, set_utc_seconds_ms, time_clip, to_utc_string};
use crate::json::FieldRef;
use crate::keys::JwtAlgorithm;
use crate::redact::echo_untrusted;
use serde_json::Value;

/// `DEFAULT_CLOCK_SKEW_IN_MS`.
pub const DEFAULT_CLOCK_SKEW_MS: f64 = 5_000.0;

/// `verifyJwt`'s skew: the option when it is a finite number (so `0` and
/// negative values are honoured), else 5000 ms.
pub fn resolve_clock_skew(clock_skew_ms: Option<f64>) -> f64 {
    match clock_skew_ms {
        Some(v) if v.is_finite() => v,
        _ => DEFAULT_CLOCK_SKEW_MS,
    }
}

fn ensure_clerk_jwt(reason: Reason, message: String) -> TokenVerificationError {
    TokenVerificationError::new(reason, message).with_action(action::ENSURE_CLERK_JWT)
}

/// `JSON.stringify(value)`, `undefined` when absent (messages only: strings are copied).
pub fn stringify_field(value: Option<FieldRef<'_>>) -> String {
    match value {
        None => "undefined".to_owned(),
        Some(FieldRef::Json(v)) => json_stringify(v),
        Some(FieldRef::Str(s)) => json_stringify(&Value::String(s.to_owned())),
    }
}

/// `JSON.stringify` of an unsigned header value, escaped and truncated for messages.
fn echo_header_value(value: Option<FieldRef<'_>>) -> String {
    echo_untrusted(&stringify_field(value))
}

/// A JS truthiness test of a present or absent field.
fn is_truthy_field(value: Option<FieldRef<'_>>) -> bool {
    match value {
        Some(FieldRef::Str(s)) => !s.is_empty(),
        Some(FieldRef::Json(v)) => js::is_truthy(Some(v)),
        None => false,
    }
}

/// `assertHeaderType`. Without a `header_type` option, an absent `typ` passes
/// and a present one must be `JWT`; with it, `typ` must be one of the list
/// (an absent `typ` then fails). Strict equality: `jwt` ≠ `JWT`, numbers never match.
#[cfg(any(test, feature = "test-hooks"))]
pub fn assert_header_type<S: AsRef<str>>(typ: Option<&Value>, header_type: Option<&[S]>) -> Result<(), TokenVerificationError> {
    assert_header_type_field(typ.map(FieldRef::from), header_type)
}

/// [`assert_header_type`] of a borrowed field.
pub fn assert_header_type_field<S: AsRef<str>>(typ: Option<FieldRef<'_>>, header_type: Option<&[S]>) -> Result<(), TokenVerificationError> {
    let typ_str = typ.and_then(FieldRef::as_str);
    let (allowed, joined) = match header_type {
        None if typ.is_none() => return Ok(()),
        None => (typ_str == Some("JWT"), "JWT".to_owned()),
        Some(list) => (
            typ_str.is_some_and(|t| list.iter().any(|a| a.as_ref() == t)),
            list.iter().map(AsRef::as_ref).collect::<Vec<&str>>().join(", "),
        ),
    };
    if allowed {
        return Ok(());
    }
    Err(ensure_clerk_jwt(Reason::TokenInvalid, format!("Invalid JWT type {}. Expected \"{joined}\".", echo_header_value(typ))))
}

/// `assertHeaderAlgorithm`: exactly `RS256`, `RS384` or `RS512`.
#[cfg(any(test, feature = "test-hooks"))]
pub fn assert_header_algorithm(alg: Option<&Value>) -> Result<JwtAlgorithm, TokenVerificationError> {
    assert_header_algorithm_field(alg.map(FieldRef::from))
}

/// [`assert_header_algorithm`] of a borrowed field.
pub fn assert_header_algorithm_field(alg: Option<FieldRef<'_>>) -> Result<JwtAlgorithm, TokenVerificationError> {
    if let Some(found) = alg.and_then(FieldRef::as_str).and_then(JwtAlgorithm::from_name) {
        return Ok(found);
    }
    Err(ensure_clerk_jwt(
        Reason::TokenInvalidAlgorithm,
        format!("Invalid JWT algorithm {}. Supported: RS256,RS384,RS512.", echo_header_value(alg)),
    ))
}

/// `assertSubClaim`: `sub` must be a string.
#[cfg(any(test, feature = "test-hooks"))]
pub fn assert_sub_claim(sub: Option<&Value>) -> Result<(), TokenVerificationError> {
    assert_sub_field(sub.map(FieldRef::from))
}

/// [`assert_sub_claim`] of a borrowed field.
pub fn assert_sub_field(sub: Option<FieldRef<'_>>) -> Result<(), TokenVerificationError> {
    if matches!(sub, Some(FieldRef::Str(_))) {
        return Ok(());
    }
    Err(ensure_clerk_jwt(
        Reason::TokenVerificationFailed,
        format!("Subject claim (sub) is required and must be a string. Received {}.", stringify_field(sub)),
    ))
}

/// Whether `[value].flat().filter(truthy)` is empty for a claim.
fn flat_truthy_is_empty(value: Option<FieldRef<'_>>) -> bool {
    match value {
        Some(FieldRef::Json(Value::Array(items))) => !items.iter().any(|v| js::is_truthy(Some(v))),
        other => !is_truthy_field(other),
    }
}

/// `[option].flat().filter(truthy)` for a list option: drops empty strings.
fn non_empty<S: AsRef<str>>(list: &[S]) -> Vec<&str> {
    list.iter().map(AsRef::as_ref).filter(|s| !s.is_empty()).collect()
}

/// `JSON.stringify` of a list of strings.
fn json_list(list: &[&str]) -> String {
    json_stringify(&Value::Array(list.iter().map(|s| Value::String((*s).to_owned())).collect()))
}

/// `isArrayString`: a non-empty array of strings.
fn as_string_array(value: Option<FieldRef<'_>>) -> Option<Vec<&str>> {
    match value {
        Some(FieldRef::Json(Value::Array(items))) if !items.is_empty() => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// `assertAudienceClaim` (lenient). Passes when either the configured
/// audience or the token's `aud` is empty after dropping falsy entries, and
/// when `aud` is neither a string nor a non-empty array of strings.
#[cfg(any(test, feature = "test-hooks"))]
pub fn assert_audience_claim<S: AsRef<str>>(aud: Option<&Value>, audience: &[S]) -> Result<(), TokenVerificationError> {
    assert_audience_field(aud.map(FieldRef::from), audience)
}

/// [`assert_audience_claim`] of a borrowed field.
pub fn assert_audience_field<S: AsRef<str>>(aud: Option<FieldRef<'_>>, audience: &[S]) -> Result<(), TokenVerificationError> {
    // Nothing configured (the common case): no work, not even the list of expected audiences.
    if audience.iter().all(|a| a.as_ref().is_empty()) || flat_truthy_is_empty(aud) {
        return Ok(());
    }
    let expected = non_empty(audience);
    if let Some(FieldRef::Str(s)) = aud {
        if !expected.contains(&s) {
            return Err(ensure_clerk_jwt(
                Reason::TokenVerificationFailed,
                format!("Invalid JWT audience claim (aud) {}. Is not included in \"{}\".", stringify_field(aud), json_list(&expected)),
            ));
        }
    } else if let Some(list) = as_string_array(aud) {
        if !list.iter().any(|a| expected.contains(a)) {
            return Err(ensure_clerk_jwt(
                Reason::TokenVerificationFailed,
                format!("Invalid JWT audience claim array (aud) {}. Is not included in \"{}\".", stringify_field(aud), json_list(&expected)),
            ));
        }
    }
    Ok(())
}

/// `assertAuthorizedPartiesClaim`: with a non-empty list, `azp` must be truthy and listed.
#[cfg(any(test, feature = "test-hooks"))]
pub fn assert_authorized_parties_claim<S: AsRef<str>>(azp: Option<&Value>, authorized_parties: &[S]) -> Result<(), TokenVerificationError> {
    assert_authorized_parties_field(azp.map(FieldRef::from), authorized_parties)
}

/// [`assert_authorized_parties_claim`] of a borrowed field.
pub fn assert_authorized_parties_field<S: AsRef<str>>(azp: Option<FieldRef<'_>>, authorized_parties: &[S]) -> Result<(), TokenVerificationError> {
    if authorized_parties.is_empty() {
        return Ok(());
    }
    let listed = match azp {
        Some(FieldRef::Str(s)) if !s.is_empty() => authorized_parties.iter().any(|p| p.as_ref() == s),
        _ => false,
    };
    if listed {
        return Ok(());
    }
    let parties: Vec<&str> = authorized_parties.iter().map(AsRef::as_ref).collect();
    Err(TokenVerificationError::new(
        Reason::TokenInvalidAuthorizedParties,
        format!("Invalid JWT Authorized party claim (azp) {}. Expected \"{}\".", stringify_field(azp), parties.join(",")),
    ))
}

/// `assertIssuerClaim` (3.25.0): with a non-empty list, `iss` must be a listed string.
#[cfg(any(test, feature = "test-hooks"))]
pub fn assert_issuer_claim<S: AsRef<str>>(iss: Option<&Value>, issuer: &[S]) -> Result<(), TokenVerificationError> {
    assert_issuer_field(iss.map(FieldRef::from), issuer)
}

/// [`assert_issuer_claim`] of a borrowed field.
pub fn assert_issuer_field<S: AsRef<str>>(iss: Option<FieldRef<'_>>, issuer: &[S]) -> Result<(), TokenVerificationError> {
    if issuer.iter().all(|i| i.as_ref().is_empty()) {
        return Ok(());
    }
    let expected = non_empty(issuer);
    if matches!(iss, Some(FieldRef::Str(s)) if expected.contains(&s)) {
        return Ok(());
    }
    Err(ensure_clerk_jwt(
        Reason::TokenInvalidIssuer,
        format!("Invalid JWT issuer claim (iss) {}. Expected \"{}\".", stringify_field(iss), expected.join(",")),
    ))
}

/// A date claim converted as `new Date(0).setUTCSeconds(value)` would, with
/// the values JS cannot represent kept apart instead of collapsing to NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClaimDate {
    /// Milliseconds since the epoch (truncated to whole seconds).
    Ms(f64),
    /// Before every representable date (below −8.64e12 s, or −∞).
    FarPast,
    /// After every representable date (beyond 8.64e12 s, or +∞).
    FarFuture,
}

impl ClaimDate {
    /// Converts a claim in seconds. NaN (unreachable from JSON) counts as far
    /// past, which makes `exp` fail; for `nbf`/`iat` see [`ClaimDate::far_future_or_nan`].
    pub fn from_seconds(seconds: f64) -> Self {
        let ms = set_utc_seconds_ms(seconds);
        if !ms.is_nan() {
            ClaimDate::Ms(ms)
        } else if seconds > 0.0 {
            ClaimDate::FarFuture
        } else {
            ClaimDate::FarPast
        }
    }

    /// For `nbf`/`iat`: like [`ClaimDate::from_seconds`] but NaN counts as far
    /// future, so a NaN fails closed there too.
    fn far_future_or_nan(seconds: f64) -> Self {
        if seconds.is_nan() {
            ClaimDate::FarFuture
        } else {
            Self::from_seconds(seconds)
        }
    }
}

/// `new Date(Date.now())`: the clock reading, time-clipped.
fn now_ms(clock: &dyn Clock) -> f64 {
    time_clip(clock.now_ms())
}

fn expected_number(claim: &str, name: &str, value: Option<FieldRef<'_>>) -> TokenVerificationError {
    ensure_clerk_jwt(Reason::TokenVerificationFailed, format!("Invalid JWT {claim} claim ({name}) {}. Expected number.", stringify_field(value)))
}

/// `assertExpirationClaim`: `exp` is required and must be a number; expired
/// iff `exp_ms <= now - skew` (so exactly at the boundary is expired).
/// Diverges for dates before the JS range: expired (see module docs).
#[cfg(any(test, feature = "test-hooks"))]
pub fn assert_expiration_claim(exp: Option<&Value>, clock_skew_ms: f64, clock: &dyn Clock) -> Result<(), TokenVerificationError> {
    assert_expiration_field(exp.map(FieldRef::from), clock_skew_ms, clock)
}

/// [`assert_expiration_claim`] of a borrowed field.
pub fn assert_expiration_field(exp: Option<FieldRef<'_>>, clock_skew_ms: f64, clock: &dyn Clock) -> Result<(), TokenVerificationError> {
    let Some(seconds) = exp.and_then(FieldRef::as_f64) else {
        return Err(expected_number("expiry date", "exp", exp));
    };
    let now = now_ms(clock);
    let expiry = match ClaimDate::from_seconds(seconds) {
        ClaimDate::Ms(ms) if ms <= now - clock_skew_ms => to_utc_string(ms),
        ClaimDate::Ms(_) | ClaimDate::FarFuture => return Ok(()),
        ClaimDate::FarPast => format!("{} s (exp) is before the earliest representable date", number_to_string(seconds)),
    };
    Err(TokenVerificationError::new(
        Reason::TokenExpired,
        format!("JWT is expired. Expiry date: {expiry}, Current date: {}.", to_utc_string(now)),
    ))
}

/// `assertActivationClaim`: `nbf` is optional; a present non-number (even
/// `null`) fails; too early iff `nbf_ms > now + skew` (strictly).
/// Diverges for dates after the JS range: too early (see module docs).
#[cfg(any(test, feature = "test-hooks"))]
pub fn assert_activation_claim(nbf: Option<&Value>, clock_skew_ms: f64, clock: &dyn Clock) -> Result<(), TokenVerificationError> {
    assert_activation_field(nbf.map(FieldRef::from), clock_skew_ms, clock)
}

/// [`assert_activation_claim`] of a borrowed field.
pub fn assert_activation_field(nbf: Option<FieldRef<'_>>, clock_skew_ms: f64, clock: &dyn Clock) -> Result<(), TokenVerificationError> {
    let Some(value) = nbf else { return Ok(()) };
    let Some(seconds) = value.as_f64() else {
        return Err(expected_number("not before date", "nbf", nbf));
    };
    let now = now_ms(clock);
    let not_before = match ClaimDate::far_future_or_nan(seconds) {
        ClaimDate::Ms(ms) if ms > now + clock_skew_ms => to_utc_string(ms),
        ClaimDate::Ms(_) | ClaimDate::FarPast => return Ok(()),
        ClaimDate::FarFuture => format!("{} s (nbf) is after the latest representable date", number_to_string(seconds)),
    };
    Err(TokenVerificationError::new(
        Reason::TokenNotActiveYet,
        format!(
            "JWT cannot be used prior to not before date claim (nbf). Not before date: {not_before}; Current date: {};",
            to_utc_string(now)
        ),
    ))
}

/// `assertIssuedAtClaim`: `iat` is optional; a present non-number fails; in
/// the future iff `iat_ms > now + skew` (strictly).
/// Diverges for dates after the JS range: in the future (see module docs).
#[cfg(any(test, feature = "test-hooks"))]
pub fn assert_issued_at_claim(iat: Option<&Value>, clock_skew_ms: f64, clock: &dyn Clock) -> Result<(), TokenVerificationError> {
    assert_issued_at_field(iat.map(FieldRef::from), clock_skew_ms, clock)
}

/// [`assert_issued_at_claim`] of a borrowed field.
pub fn assert_issued_at_field(iat: Option<FieldRef<'_>>, clock_skew_ms: f64, clock: &dyn Clock) -> Result<(), TokenVerificationError> {
    let Some(value) = iat else { return Ok(()) };
    let Some(seconds) = value.as_f64() else {
        return Err(expected_number("issued at date", "iat", iat));
    };
    let now = now_ms(clock);
    let issued_at = match ClaimDate::far_future_or_nan(seconds) {
        ClaimDate::Ms(ms) if ms > now + clock_skew_ms => to_utc_string(ms),
        ClaimDate::Ms(_) | ClaimDate::FarPast => return Ok(()),
        ClaimDate::FarFuture => format!("{} s (iat) is after the latest representable date", number_to_string(seconds)),
    };
    Err(TokenVerificationError::new(
        Reason::TokenIatInTheFuture,
        format!("JWT issued at date claim (iat) is in the future. Issued at date: {issued_at}; Current date: {};", to_utc_string(now)),
    ))
}

/// `assertOAuthAudienceClaim` (3.25.0, OAuth paths only, after the
/// signature): with a configured audience, the token's `aud` must be a
/// non-empty string or a non-empty array of non-empty strings, and one of
/// them must be expected.
pub fn assert_oauth_audience_claim<S: AsRef<str>>(aud: Option<&Value>, audience: &[S]) -> Result<(), TokenVerificationError> {
    let expected = non_empty(audience);
    if expected.is_empty() {
        return Ok(());
    }
    let from_token: Option<Vec<&str>> = match aud {
        Some(v) if js::is_truthy(Some(v)) => match v {
            Value::Array(_) => as_string_array(Some(FieldRef::Json(v))),
            Value::String(s) => Some(vec![s.as_str()]),
            _ => None,
        },
        _ => None,
    };
    let Some(list) = from_token.filter(|l| l.iter().all(|a| !a.is_empty())) else {
        return Err(TokenVerificationError::new(
            Reason::TokenVerificationFailed,
            format!(
                "Invalid OAuth audience claim (aud) {}. Expected a non-empty string or a non-empty array of non-empty strings.",
                js::json_stringify_opt(aud)
            ),
        ));
    };
    if list.iter().any(|a| expected.contains(a)) {
        return Ok(());
    }
    Err(TokenVerificationError::new(
        Reason::TokenVerificationFailed,
        format!(
            "OAuth audience mismatch. Verification expected audience {}, but incoming token has aud {}.",
            json_list(&expected),
            js::json_stringify_opt(aud)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use serde_json::json;

    const ENSURE: Option<&str> = Some(action::ENSURE_CLERK_JWT);
    /// Mon, 24 Oct 2022 21:50:50 GMT: the reference suite's fixed time.
    const NOW_S: f64 = 1_666_648_250.0;
    const NOW: FixedClock = FixedClock(NOW_S * 1000.0);

    fn err(reason: Reason, message: &str, action: Option<&str>) -> TokenVerificationError {
        let e = TokenVerificationError::new(reason, message);
        match action {
            Some(a) => e.with_action(a),
            None => e,
        }
    }

    #[test]
    fn clock_skew_resolution() {
        assert_eq!(resolve_clock_skew(None), 5000.0);
        assert_eq!(resolve_clock_skew(Some(0.0)), 0.0);
        assert_eq!(resolve_clock_skew(Some(-1e9)), -1e9);
        assert_eq!(resolve_clock_skew(Some(1e308)), 1e308);
        assert_eq!(resolve_clock_skew(Some(f64::NAN)), 5000.0);
        assert_eq!(resolve_clock_skew(Some(f64::INFINITY)), 5000.0);
        assert_eq!(resolve_clock_skew(Some(f64::NEG_INFINITY)), 5000.0);
    }

    #[test]
    fn header_type_rule() {
        let none: Option<&[&str]> = None;
        let oauth: Option<&[&str]> = Some(&["at+jwt", "application/at+jwt"]);
        assert_eq!(assert_header_type(None, none), Ok(()));
        assert_eq!(assert_header_type(Some(&json!("JWT")), none), Ok(()));
        assert_eq!(
            assert_header_type(Some(&json!("at+jwt")), none),
            Err(err(Reason::TokenInvalid, r#"Invalid JWT type "at+jwt". Expected "JWT"."#, ENSURE))
        );
        assert_eq!(
            assert_header_type(Some(&json!("jwt")), none),
            Err(err(Reason::TokenInvalid, r#"Invalid JWT type "jwt". Expected "JWT"."#, ENSURE))
        );
        assert_eq!(assert_header_type(Some(&json!(null)), none).unwrap_err().message, r#"Invalid JWT type null. Expected "JWT"."#);
        assert_eq!(assert_header_type(Some(&json!(1)), none).unwrap_err().message, r#"Invalid JWT type 1. Expected "JWT"."#);
        assert_eq!(assert_header_type(Some(&json!(["JWT"])), none).unwrap_err().message, r#"Invalid JWT type ["JWT"]. Expected "JWT"."#);
        assert_eq!(assert_header_type(Some(&json!("at+jwt")), oauth), Ok(()));
        assert_eq!(assert_header_type(Some(&json!("application/at+jwt")), oauth), Ok(()));
        assert_eq!(
            assert_header_type(None, Some(&["at+jwt"][..])),
            Err(err(Reason::TokenInvalid, r#"Invalid JWT type undefined. Expected "at+jwt"."#, ENSURE))
        );
        assert_eq!(
            assert_header_type(Some(&json!("custom-type")), oauth).unwrap_err().message,
            r#"Invalid JWT type "custom-type". Expected "at+jwt, application/at+jwt"."#
        );
        assert_eq!(assert_header_type(Some(&json!("JWT")), oauth).unwrap_err().message, r#"Invalid JWT type "JWT". Expected "at+jwt, application/at+jwt"."#);
        let empty: Option<&[String]> = Some(&[]);
        assert_eq!(assert_header_type(Some(&json!("JWT")), empty).unwrap_err().message, r#"Invalid JWT type "JWT". Expected ""."#);
    }

    #[test]
    fn header_values_are_escaped_and_truncated() {
        let msg = assert_header_type(Some(&json!("a\u{202e}b")), None::<&[&str]>).unwrap_err().message;
        assert_eq!(msg, "Invalid JWT type \"a\\u{202e}b\". Expected \"JWT\".");
        let msg = assert_header_type(Some(&json!("x\ny")), None::<&[&str]>).unwrap_err().message;
        assert_eq!(msg, r#"Invalid JWT type "x\ny". Expected "JWT"."#);
        let long = "t".repeat(10_000);
        let msg = assert_header_algorithm(Some(&json!(long))).unwrap_err().message;
        assert!(msg.len() < 200, "{msg}");
        assert!(msg.ends_with("…. Supported: RS256,RS384,RS512."));
    }

    #[test]
    fn algorithm_rule() {
        assert_eq!(assert_header_algorithm(Some(&json!("RS256"))), Ok(JwtAlgorithm::RS256));
        assert_eq!(assert_header_algorithm(Some(&json!("RS384"))), Ok(JwtAlgorithm::RS384));
        assert_eq!(assert_header_algorithm(Some(&json!("RS512"))), Ok(JwtAlgorithm::RS512));
        let cases: [(Option<Value>, &str); 9] = [
            (Some(json!("none")), r#"Invalid JWT algorithm "none". Supported: RS256,RS384,RS512."#),
            (Some(json!("NONE")), r#"Invalid JWT algorithm "NONE". Supported: RS256,RS384,RS512."#),
            (Some(json!("HS256")), r#"Invalid JWT algorithm "HS256". Supported: RS256,RS384,RS512."#),
            (Some(json!("rs256")), r#"Invalid JWT algorithm "rs256". Supported: RS256,RS384,RS512."#),
            (Some(json!("RS256 ")), r#"Invalid JWT algorithm "RS256 ". Supported: RS256,RS384,RS512."#),
            (None, "Invalid JWT algorithm undefined. Supported: RS256,RS384,RS512."),
            (Some(json!(null)), "Invalid JWT algorithm null. Supported: RS256,RS384,RS512."),
            (Some(json!(123)), "Invalid JWT algorithm 123. Supported: RS256,RS384,RS512."),
            (Some(json!(["RS256"])), r#"Invalid JWT algorithm ["RS256"]. Supported: RS256,RS384,RS512."#),
        ];
        for (alg, message) in cases {
            assert_eq!(assert_header_algorithm(alg.as_ref()), Err(err(Reason::TokenInvalidAlgorithm, message, ENSURE)));
        }
    }

    #[test]
    fn sub_rule() {
        assert_eq!(assert_sub_claim(Some(&json!("mch_1"))), Ok(()));
        assert_eq!(assert_sub_claim(Some(&json!(""))), Ok(()));
        for (sub, shown) in [(None, "undefined"), (Some(json!(null)), "null"), (Some(json!(123)), "123"), (Some(json!(["mch_1"])), r#"["mch_1"]"#), (Some(json!({})), "{}")] {
            assert_eq!(
                assert_sub_claim(sub.as_ref()),
                Err(err(
                    Reason::TokenVerificationFailed,
                    &format!("Subject claim (sub) is required and must be a string. Received {shown}."),
                    ENSURE
                ))
            );
        }
    }

    #[test]
    fn lenient_audience_rule() {
        let none: [&str; 0] = [];
        let other = ["other"];
        // Nothing configured, or nothing in the token: pass.
        assert_eq!(assert_audience_claim(Some(&json!("x")), &none), Ok(()));
        assert_eq!(assert_audience_claim(Some(&json!("x")), &[""]), Ok(()));
        for aud in [None, Some(json!([])), Some(json!("")), Some(json!(null)), Some(json!([null, ""])), Some(json!(0))] {
            assert_eq!(assert_audience_claim(aud.as_ref(), &other), Ok(()), "{aud:?}");
        }
        // Non-string shapes pass.
        for aud in [json!(5), json!({"a": 1}), json!(["mch_1", 5]), json!(true)] {
            assert_eq!(assert_audience_claim(Some(&aud), &other), Ok(()), "{aud}");
        }
        assert_eq!(assert_audience_claim(Some(&json!("other")), &other), Ok(()));
        assert_eq!(assert_audience_claim(Some(&json!(["a", "other"])), &["x", "other"]), Ok(()));
        assert_eq!(
            assert_audience_claim(Some(&json!("oth")), &other),
            Err(err(Reason::TokenVerificationFailed, r#"Invalid JWT audience claim (aud) "oth". Is not included in "["other"]"."#, ENSURE))
        );
        assert_eq!(
            assert_audience_claim(Some(&json!(["mch_1xxxxx", "mch_2xxxxx"])), &["", "other"]),
            Err(err(
                Reason::TokenVerificationFailed,
                r#"Invalid JWT audience claim array (aud) ["mch_1xxxxx","mch_2xxxxx"]. Is not included in "["other"]"."#,
                ENSURE
            ))
        );
    }

    #[test]
    fn authorized_parties_rule() {
        let none: [&str; 0] = [];
        assert_eq!(assert_authorized_parties_claim(None, &none), Ok(()));
        assert_eq!(assert_authorized_parties_claim(Some(&json!("https://a")), &["https://a", "https://b"]), Ok(()));
        let cases = [
            (None, r#"Invalid JWT Authorized party claim (azp) undefined. Expected "https://a,https://b"."#),
            (Some(json!("")), r#"Invalid JWT Authorized party claim (azp) "". Expected "https://a,https://b"."#),
            (Some(json!("https://c")), r#"Invalid JWT Authorized party claim (azp) "https://c". Expected "https://a,https://b"."#),
            (Some(json!(["https://a"])), r#"Invalid JWT Authorized party claim (azp) ["https://a"]. Expected "https://a,https://b"."#),
        ];
        for (azp, message) in cases {
            assert_eq!(
                assert_authorized_parties_claim(azp.as_ref(), &["https://a", "https://b"]),
                Err(err(Reason::TokenInvalidAuthorizedParties, message, None))
            );
        }
    }

    #[test]
    fn issuer_rule() {
        let none: [&str; 0] = [];
        assert_eq!(assert_issuer_claim(None, &none), Ok(()));
        assert_eq!(assert_issuer_claim(None, &[""]), Ok(()));
        assert_eq!(assert_issuer_claim(Some(&json!("https://i")), &["https://i"]), Ok(()));
        assert_eq!(
            assert_issuer_claim(None, &["https://i", "", "https://j"]),
            Err(err(Reason::TokenInvalidIssuer, r#"Invalid JWT issuer claim (iss) undefined. Expected "https://i,https://j"."#, ENSURE))
        );
        assert_eq!(
            assert_issuer_claim(Some(&json!(["https://i"])), &["https://i"]).unwrap_err().message,
            r#"Invalid JWT issuer claim (iss) ["https://i"]. Expected "https://i"."#
        );
    }

    fn exp_at(offset_ms: f64, skew: f64) -> Result<(), TokenVerificationError> {
        // exp is in whole seconds; offsets are relative to now - skew.
        let exp = (NOW_S * 1000.0 - skew + offset_ms) / 1000.0;
        assert_expiration_claim(Some(&json!(exp)), skew, &NOW)
    }

    #[test]
    fn expiration_boundaries() {
        for skew in [0.0, 5000.0, -5000.0, 60_000.0] {
            assert_eq!(exp_at(0.0, skew).unwrap_err().reason, Reason::TokenExpired, "exactly at now-skew is expired (skew {skew})");
            assert_eq!(exp_at(-1000.0, skew).unwrap_err().reason, Reason::TokenExpired, "skew {skew}");
            assert_eq!(exp_at(1000.0, skew), Ok(()), "skew {skew}");
        }
        // Millisecond precision of the clock against whole seconds of exp.
        let exp = json!(NOW_S);
        assert!(assert_expiration_claim(Some(&exp), 0.0, &FixedClock(NOW_S * 1000.0)).is_err());
        assert!(assert_expiration_claim(Some(&exp), 0.0, &FixedClock(NOW_S * 1000.0 - 1.0)).is_ok(), "1 ms before");
        assert!(assert_expiration_claim(Some(&exp), 0.0, &FixedClock(NOW_S * 1000.0 + 1.0)).is_err(), "1 ms after");
        assert!(assert_expiration_claim(Some(&exp), 5000.0, &FixedClock(NOW_S * 1000.0 + 4999.0)).is_ok());
        assert!(assert_expiration_claim(Some(&exp), 5000.0, &FixedClock(NOW_S * 1000.0 + 5000.0)).is_err());
        // A fractional clock is truncated toward zero like `new Date(Date.now())`.
        assert!(assert_expiration_claim(Some(&exp), 0.0, &FixedClock(NOW_S * 1000.0 - 0.5)).is_ok());
        assert!(assert_expiration_claim(Some(&exp), 0.0, &FixedClock(NOW_S * 1000.0 + 0.5)).is_err());
        // Fractional exp is truncated toward zero: 0.9 s left counts as 0.
        assert!(assert_expiration_claim(Some(&json!(NOW_S + 0.9)), 0.0, &NOW).is_err());
        assert!(assert_expiration_claim(Some(&json!(NOW_S + 1.0)), 0.0, &NOW).is_ok());
    }

    #[test]
    fn expiration_messages() {
        assert_eq!(
            assert_expiration_claim(Some(&json!(NOW_S - 60.0)), 5000.0, &NOW),
            Err(err(Reason::TokenExpired, "JWT is expired. Expiry date: Mon, 24 Oct 2022 21:49:50 GMT, Current date: Mon, 24 Oct 2022 21:50:50 GMT.", None))
        );
        assert_eq!(
            assert_expiration_claim(Some(&json!(-1)), 5000.0, &NOW).unwrap_err().message,
            "JWT is expired. Expiry date: Wed, 31 Dec 1969 23:59:59 GMT, Current date: Mon, 24 Oct 2022 21:50:50 GMT."
        );
        for (exp, shown) in [(None, "undefined"), (Some(json!("123")), r#""123""#), (Some(json!(null)), "null"), (Some(json!(true)), "true"), (Some(json!([])), "[]"), (Some(json!({})), "{}")] {
            assert_eq!(
                assert_expiration_claim(exp.as_ref(), 5000.0, &NOW),
                Err(err(Reason::TokenVerificationFailed, &format!("Invalid JWT expiry date claim (exp) {shown}. Expected number."), ENSURE))
            );
        }
    }

    #[test]
    fn expiration_beyond_the_date_range() {
        // Far future: accepted, as the reference does (J-84).
        for exp in [json!(1e20), json!(9e12), json!(8.64e12), json!(f64::MAX)] {
            assert_eq!(assert_expiration_claim(Some(&exp), 5000.0, &NOW), Ok(()), "{exp}");
        }
        // Far past: DIVERGE (J-86) — the reference accepts, we reject as expired.
        assert_eq!(
            assert_expiration_claim(Some(&json!(-1e13)), 5000.0, &NOW),
            Err(err(
                Reason::TokenExpired,
                "JWT is expired. Expiry date: -10000000000000 s (exp) is before the earliest representable date, Current date: Mon, 24 Oct 2022 21:50:50 GMT.",
                None
            ))
        );
        assert!(assert_expiration_claim(Some(&json!(-8.64e12)), 5000.0, &NOW).unwrap_err().message.contains("-271821"));
        assert_eq!(ClaimDate::from_seconds(f64::NEG_INFINITY), ClaimDate::FarPast);
        assert_eq!(ClaimDate::from_seconds(f64::INFINITY), ClaimDate::FarFuture);
        assert_eq!(ClaimDate::from_seconds(f64::NAN), ClaimDate::FarPast);
        assert_eq!(ClaimDate::far_future_or_nan(f64::NAN), ClaimDate::FarFuture);
    }

    #[test]
    fn not_before_boundaries_and_messages() {
        assert_eq!(assert_activation_claim(None, 5000.0, &NOW), Ok(()));
        for skew in [0.0, 5000.0, -5000.0] {
            let at = json!((NOW_S * 1000.0 + skew) / 1000.0);
            assert_eq!(assert_activation_claim(Some(&at), skew, &NOW), Ok(()), "exactly at now+skew passes (skew {skew})");
            let after = json!((NOW_S * 1000.0 + skew + 1000.0) / 1000.0);
            assert_eq!(assert_activation_claim(Some(&after), skew, &NOW).unwrap_err().reason, Reason::TokenNotActiveYet, "skew {skew}");
        }
        let nbf = json!(NOW_S + 5.0);
        assert!(assert_activation_claim(Some(&nbf), 5000.0, &FixedClock(NOW_S * 1000.0)).is_ok());
        assert!(assert_activation_claim(Some(&nbf), 5000.0, &FixedClock(NOW_S * 1000.0 - 1.0)).is_err(), "1 ms before");
        assert!(assert_activation_claim(Some(&nbf), 5000.0, &FixedClock(NOW_S * 1000.0 + 1.0)).is_ok(), "1 ms after");
        assert_eq!(
            assert_activation_claim(Some(&json!(NOW_S + 60.0)), 5000.0, &NOW),
            Err(err(
                Reason::TokenNotActiveYet,
                "JWT cannot be used prior to not before date claim (nbf). Not before date: Mon, 24 Oct 2022 21:51:50 GMT; Current date: Mon, 24 Oct 2022 21:50:50 GMT;",
                None
            ))
        );
        assert_eq!(assert_activation_claim(Some(&json!(NOW_S + 4.0)), 5000.0, &NOW), Ok(()));
        for (nbf, shown) in [(json!("x"), r#""x""#), (json!(null), "null"), (json!(false), "false")] {
            assert_eq!(
                assert_activation_claim(Some(&nbf), 5000.0, &NOW),
                Err(err(Reason::TokenVerificationFailed, &format!("Invalid JWT not before date claim (nbf) {shown}. Expected number."), ENSURE))
            );
        }
        // DIVERGE (J-88): beyond the range in the future is rejected; far past passes.
        assert_eq!(
            assert_activation_claim(Some(&json!(1e13)), 5000.0, &NOW).unwrap_err().message,
            "JWT cannot be used prior to not before date claim (nbf). Not before date: 10000000000000 s (nbf) is after the latest representable date; Current date: Mon, 24 Oct 2022 21:50:50 GMT;"
        );
        assert_eq!(assert_activation_claim(Some(&json!(-1e13)), 5000.0, &NOW), Ok(()));
    }

    #[test]
    fn issued_at_boundaries_and_messages() {
        assert_eq!(assert_issued_at_claim(None, 5000.0, &NOW), Ok(()));
        for skew in [0.0, 5000.0, -5000.0] {
            let at = json!((NOW_S * 1000.0 + skew) / 1000.0);
            assert_eq!(assert_issued_at_claim(Some(&at), skew, &NOW), Ok(()), "skew {skew}");
            let after = json!((NOW_S * 1000.0 + skew + 1000.0) / 1000.0);
            assert_eq!(assert_issued_at_claim(Some(&after), skew, &NOW).unwrap_err().reason, Reason::TokenIatInTheFuture);
        }
        let iat = json!(NOW_S);
        assert!(assert_issued_at_claim(Some(&iat), 0.0, &FixedClock(NOW_S * 1000.0 - 1.0)).is_err(), "1 ms before");
        assert!(assert_issued_at_claim(Some(&iat), 0.0, &FixedClock(NOW_S * 1000.0)).is_ok());
        assert_eq!(
            assert_issued_at_claim(Some(&json!(NOW_S + 60.0)), 5000.0, &NOW),
            Err(err(
                Reason::TokenIatInTheFuture,
                "JWT issued at date claim (iat) is in the future. Issued at date: Mon, 24 Oct 2022 21:51:50 GMT; Current date: Mon, 24 Oct 2022 21:50:50 GMT;",
                None
            ))
        );
        assert_eq!(
            assert_issued_at_claim(Some(&json!("x")), 5000.0, &NOW),
            Err(err(Reason::TokenVerificationFailed, r#"Invalid JWT issued at date claim (iat) "x". Expected number."#, ENSURE))
        );
        // DIVERGE (J-89).
        assert_eq!(
            assert_issued_at_claim(Some(&json!(1e13)), 5000.0, &NOW).unwrap_err().message,
            "JWT issued at date claim (iat) is in the future. Issued at date: 10000000000000 s (iat) is after the latest representable date; Current date: Mon, 24 Oct 2022 21:50:50 GMT;"
        );
        assert_eq!(assert_issued_at_claim(Some(&json!(-1e13)), 5000.0, &NOW), Ok(()));
    }

    #[test]
    fn default_and_non_finite_skew_through_resolution() {
        let exp = json!(NOW_S - 4.0);
        for option in [None, Some(f64::NAN), Some(f64::INFINITY)] {
            assert_eq!(assert_expiration_claim(Some(&exp), resolve_clock_skew(option), &NOW), Ok(()), "{option:?} → 5 s");
        }
        assert!(assert_expiration_claim(Some(&exp), resolve_clock_skew(Some(0.0)), &NOW).is_err(), "0 honoured");
        // A hugely negative skew makes valid tokens expire (parity, J-90).
        assert!(assert_expiration_claim(Some(&json!(NOW_S + 3600.0)), resolve_clock_skew(Some(-1e9)), &NOW).is_err());
        assert!(assert_expiration_claim(Some(&json!(NOW_S - 3600.0)), resolve_clock_skew(Some(1e308)), &NOW).is_ok());
    }

    #[test]
    fn broken_clock_never_panics() {
        for now in [f64::NAN, f64::INFINITY, -1e300] {
            let clock = FixedClock(now);
            let _ = assert_expiration_claim(Some(&json!(1)), 5000.0, &clock);
            let _ = assert_activation_claim(Some(&json!(1)), 5000.0, &clock);
            let _ = assert_issued_at_claim(Some(&json!(1)), 5000.0, &clock);
        }
    }

    #[test]
    fn strict_oauth_audience_rule() {
        let none: [&str; 0] = [];
        assert_eq!(assert_oauth_audience_claim(None, &none), Ok(()));
        assert_eq!(assert_oauth_audience_claim(None, &[""]), Ok(()));
        assert_eq!(assert_oauth_audience_claim(Some(&json!("api")), &["api"]), Ok(()));
        assert_eq!(assert_oauth_audience_claim(Some(&json!(["x", "api"])), &["api", "other"]), Ok(()));
        let invalid = |shown: &str| {
            err(
                Reason::TokenVerificationFailed,
                &format!("Invalid OAuth audience claim (aud) {shown}. Expected a non-empty string or a non-empty array of non-empty strings."),
                None,
            )
        };
        let cases = [
            (None, "undefined"),
            (Some(json!("")), r#""""#),
            (Some(json!(null)), "null"),
            (Some(json!(0)), "0"),
            (Some(json!(5)), "5"),
            (Some(json!([])), "[]"),
            (Some(json!(["api", ""])), r#"["api",""]"#),
            (Some(json!(["api", 1])), r#"["api",1]"#),
            (Some(json!([["api"]])), r#"[["api"]]"#),
            (Some(json!({"a": "api"})), r#"{"a":"api"}"#),
        ];
        for (aud, shown) in cases {
            assert_eq!(assert_oauth_audience_claim(aud.as_ref(), &["api"]), Err(invalid(shown)), "{aud:?}");
        }
        assert_eq!(
            assert_oauth_audience_claim(Some(&json!(["a", "b"])), &["api", "", "x"]),
            Err(err(
                Reason::TokenVerificationFailed,
                r#"OAuth audience mismatch. Verification expected audience ["api","x"], but incoming token has aud ["a","b"]."#,
                None
            ))
        );
        assert_eq!(
            assert_oauth_audience_claim(Some(&json!("a")), &["api"]).unwrap_err().message,
            r#"OAuth audience mismatch. Verification expected audience ["api"], but incoming token has aud "a"."#
        );
    }

    proptest::proptest! {
        /// Around the boundary, the rule agrees with the reference's arithmetic.
        #[test]
        fn exp_rule_matches_reference_arithmetic(delta_ms in -4000i64..4000, skew in -10_000i64..10_000, exp_frac in 0.0f64..1.0) {
            let now = NOW_S * 1000.0 + delta_ms as f64;
            let exp = NOW_S + exp_frac;
            let expected_expired = exp.trunc() * 1000.0 <= now.trunc() - skew as f64;
            let got = assert_expiration_claim(Some(&json!(exp)), skew as f64, &FixedClock(now));
            proptest::prop_assert_eq!(got.is_err(), expected_expired);
        }

        #[test]
        fn nbf_iat_rules_match_reference_arithmetic(delta_ms in -10_000i64..10_000, skew in -10_000i64..10_000) {
            let now = NOW_S * 1000.0 + delta_ms as f64;
            let early = NOW_S * 1000.0 > now + skew as f64;
            proptest::prop_assert_eq!(assert_activation_claim(Some(&json!(NOW_S)), skew as f64, &FixedClock(now)).is_err(), early);
            proptest::prop_assert_eq!(assert_issued_at_claim(Some(&json!(NOW_S)), skew as f64, &FixedClock(now)).is_err(), early);
        }

        #[test]
        fn time_rules_never_panic(v in proptest::num::f64::ANY, now in proptest::num::f64::ANY, skew in proptest::num::f64::ANY) {
            let value = serde_json::Number::from_f64(v).map(Value::Number).unwrap_or(Value::Null);
            let clock = FixedClock(now);
            let _ = assert_expiration_claim(Some(&value), skew, &clock);
            let _ = assert_activation_claim(Some(&value), skew, &clock);
            let _ = assert_issued_at_claim(Some(&value), skew, &clock);
        }
    }
}
