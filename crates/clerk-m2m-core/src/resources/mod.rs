//! The resources a verification returns: `M2MToken`, `IdPOAuthAccessToken`
//! and `APIKey` of `@clerk/backend@3.25.0` (`api/resources/*.ts`).
//!
//! Fields hold JavaScript values ([`JsValue`]), because the reference passes
//! much through untyped: a string `aud` becomes the `scopes` *string* (J-43),
//! `fromJSON` maps whatever the Backend API sent (`expiration: null`, missing
//! fields → `undefined`), and `iat * 1000` is `NaN` without `iat`. Each resource's
//! `fields()` are its camelCase keys in the reference's field order, serialised for the
//! JS layer by [`crate::js::value::Fields`].
//!
//! Deliberate divergences (README "Differences"):
//! * a signed M2M JWT whose `scopes` claim is neither a string nor
//!   `null`/absent (e.g. `5`, `["a"]`), or an OAuth JWT whose `scope` is, is a
//!   `token-verification-failed` error here; the reference throws a
//!   `TypeError` out of the promise (J-43, W1);
//! * a custom claim named `__proto__` is dropped from `claims`, as the
//!   reference's assignment drops it, but it never becomes the prototype of
//!   `claims` (J-42);
//! * a payload that is not an object is read as an object without members
//!   (the reference throws reading from `null`).

#[cfg(any(test, feature = "test-hooks"))]
mod api_key;
mod m2m_token;
mod oauth_token;
mod payload;

#[cfg(any(test, feature = "test-hooks"))]
pub use api_key::APIKey;
pub use m2m_token::M2MToken;
pub use oauth_token::IdPOAuthAccessToken;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use serde_json::Value;

    const NOW: FixedClock = FixedClock(1_666_648_250_000.0);

    proptest::proptest! {
        #[test]
        fn from_jwt_payload_never_panics(text in r#"\{("(sub|scopes|aud|exp|iat|jti|scp|scope|act|__proto__|1)":(null|true|1e300|-0|"a b"|\[1\]|\{"sub":"x"\}),){0,8}"z":0\}"#) {
            if let Ok(payload) = serde_json::from_str::<Value>(&text) {
                if let Ok(t) = M2MToken::from_jwt_payload(&payload, Some(f64::NAN), &NOW) { let _ = t.to_json(); }
                if let Ok(t) = IdPOAuthAccessToken::from_jwt_payload(&payload, None, &NOW) { let _ = t.to_json(); }
                let _ = M2MToken::from_json(&payload).to_json();
                let _ = IdPOAuthAccessToken::from_json(&payload).to_json();
                let _ = APIKey::from_json(&payload).to_json();
            }
        }
    }
}
