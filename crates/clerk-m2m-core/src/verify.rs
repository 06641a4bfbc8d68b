//! `verifyMachineAuthToken` and `verifyM2MToken`: the machine-token router.
//!
//! Routing follows `@clerk/backend@3.25.0` exactly (JWT shape first, then the
//! `mt_`/`oat_`/`ak_` prefixes, else "Unknown machine token type"). What is new
//! is the split between [`Verifier::verify_local`], which settles on the
//! calling thread everything that needs no network (every local rejection, a
//! PEM key, a warm JWKS entry), and [`Verifier::verify`], the full async path.
//! Both produce the same [`Outcome`] for the same token; the binding tries the
//! first and falls back to the second, so the common case never hops threads.

use crate::bapi::{self, BapiConfig};
use crate::claims;
use crate::clock::{Clock, SystemClock};
use crate::constants::*;
use crate::decode::{decode_with_limit, DecodedJwt};
use crate::detect::is_jwt_format;
use crate::errors::{MachineErrorCode, MachineTokenVerificationError};
use crate::jsfmt;
use crate::jwks::{self, JwksScope};
use crate::jwt::{self, MachineJwtOptions};
use crate::keys::VerificationKey;
use crate::options::VerifyOptions;
use crate::redact::echo_untrusted;
use crate::resources::{IdPOAuthAccessToken, M2MToken};
use serde_json::{json, Value};
use std::sync::Arc;

/// Which public function is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `verifyMachineAuthToken`: every machine token type.
    MachineAuth,
    /// `verifyM2MToken`: M2M JWTs and `mt_` tokens only; anything else is `token-invalid`.
    M2MOnly,
}

/// A successful verification's data.
#[derive(Debug, Clone, PartialEq)]
pub enum VerifiedData {
    M2MJwt(M2MToken),
    OAuthJwt(IdPOAuthAccessToken),
    /// The Backend API's JSON answer, deserialised by the JS layer like the reference's `deserialize`.
    Api(Value),
}

/// The settled result of one verification.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Verified { token_type: TokenType, data: VerifiedData },
    Rejected { token_type: TokenType, error: MachineTokenVerificationError },
    /// The reference throws `Error('Unknown machine token type')`.
    Unroutable,
}

pub const UNKNOWN_MACHINE_TOKEN_TYPE: &str = "Unknown machine token type";
const NOT_AN_M2M_TOKEN: &str = "The token is not an M2M token: expected an M2M JWT (sub starting with 'mch_') or an opaque token starting with 'mt_'.";

impl Outcome {
    fn rejected(token_type: TokenType, code: MachineErrorCode, message: impl Into<String>) -> Self {
        Outcome::Rejected { token_type, error: MachineTokenVerificationError::new(code, message) }
    }

    /// The compact form the JS layer turns into `{ data, tokenType, errors }`.
    pub fn to_json(&self) -> Value {
        match self {
            Outcome::Verified { token_type, data } => {
                let (kind, data) = match data {
                    VerifiedData::M2MJwt(t) => ("m2m", t.to_json()),
                    VerifiedData::OAuthJwt(t) => ("oauth", t.to_json()),
                    VerifiedData::Api(v) => ("api", v.clone()),
                };
                json!({ "tokenType": token_type.as_str(), "kind": kind, "data": data })
            }
            Outcome::Rejected { token_type, error } => json!({
                "tokenType": token_type.as_str(),
                "error": {
                    "code": error.code.as_str(),
                    "message": error.message,
                    "status": error.status,
                    "action": error.action,
                },
            }),
            Outcome::Unroutable => json!({ "throw": UNKNOWN_MACHINE_TOKEN_TYPE }),
        }
    }

    pub fn to_json_string(&self) -> String {
        self.to_json().to_string()
    }
}

/// Where a token goes after the local checks.
enum Route<'t> {
    Done(Outcome),
    M2MJwt(DecodedJwt<'t>),
    OAuthJwt(DecodedJwt<'t>),
    Opaque(TokenType),
}

/// How the JWT key is found.
enum KeySource {
    /// `jwtKey`, parsed once: strictly networkless.
    Pem(VerificationKey),
    /// `secretKey`: the instance JWKS, through the shared cache.
    Jwks,
    /// Neither: `Failed to resolve JWK during verification.`
    None,
}

/// A verifier bound to one option set (keys parsed, scope computed once).
pub struct Verifier {
    options: VerifyOptions,
    bapi: BapiConfig,
    scope: JwksScope,
    key_source: KeySource,
    clock: Arc<dyn Clock>,
}

impl Verifier {
    pub fn new(options: VerifyOptions) -> Self {
        Self::with_clock(options, Arc::new(SystemClock))
    }

    pub fn with_clock(options: VerifyOptions, clock: Arc<dyn Clock>) -> Self {
        let key_source = match (&options.jwt_key, &options.secret_key) {
            (Some(pem), _) => KeySource::Pem(VerificationKey::from_pem(pem)),
            (None, Some(_)) => KeySource::Jwks,
            (None, None) => KeySource::None,
        };
        Verifier { bapi: BapiConfig::from_verify_options(&options), scope: JwksScope::for_options(&options), key_source, options, clock }
    }

    pub fn options(&self) -> &VerifyOptions {
        &self.options
    }

    fn jwt_options(&self) -> MachineJwtOptions<'_> {
        MachineJwtOptions { audience: &self.options.audience, clock_skew_ms: self.options.clock_skew_in_ms }
    }

    /// The routing of `verifyMachineAuthToken` up to the first point that may need a key or the network.
    fn route<'t>(&self, token: &'t str, mode: Mode) -> Route<'t> {
        let max = self.options.max_token_bytes;
        if is_jwt_format(token) {
            let decoded = match decode_with_limit(token, max) {
                Ok(d) => d,
                Err(e) => return Route::Done(Outcome::rejected(TokenType::M2MToken, MachineErrorCode::TokenInvalid, e.to_string())),
            };
            // A `null` or non-object payload/header has no `sub`/`typ` (the reference throws a TypeError here).
            if let Some(Value::String(sub)) = jsfmt::get(&decoded.payload, "sub") {
                if sub.starts_with(M2M_SUBJECT_PREFIX) {
                    return Route::M2MJwt(decoded);
                }
            }
            if mode == Mode::M2MOnly {
                return Route::Done(Outcome::rejected(TokenType::M2MToken, MachineErrorCode::TokenInvalid, NOT_AN_M2M_TOKEN));
            }
            let typ = jsfmt::get(&decoded.header, "typ");
            if let Some(Value::String(t)) = typ {
                if OAUTH_ACCESS_TOKEN_TYPES.contains(&t.as_str()) {
                    return Route::OAuthJwt(decoded);
                }
            }
            let shown = match typ {
                None | Some(Value::Null) => "missing".to_owned(),
                Some(v) => echo_untrusted(&jsfmt::to_js_string(v)),
            };
            let message = format!(
                "Invalid JWT type: {shown}. Expected one of: {} for OAuth, or sub starting with 'mch_' for M2M",
                OAUTH_ACCESS_TOKEN_TYPES.join(", ")
            );
            return Route::Done(Outcome::rejected(TokenType::OAuthToken, MachineErrorCode::TokenVerificationFailed, message));
        }
        let token_type = if token.starts_with(M2M_TOKEN_PREFIX) {
            TokenType::M2MToken
        } else if token.starts_with(OAUTH_TOKEN_PREFIX) {
            TokenType::OAuthToken
        } else if token.starts_with(API_KEY_PREFIX) {
            TokenType::ApiKey
        } else if mode == Mode::M2MOnly {
            return Route::Done(Outcome::rejected(TokenType::M2MToken, MachineErrorCode::TokenInvalid, NOT_AN_M2M_TOKEN));
        } else {
            return Route::Done(Outcome::Unroutable);
        };
        if mode == Mode::M2MOnly && token_type != TokenType::M2MToken {
            return Route::Done(Outcome::rejected(TokenType::M2MToken, MachineErrorCode::TokenInvalid, NOT_AN_M2M_TOKEN));
        }
        if token.len() > max {
            // Never sent: no real opaque token is this large, and a flood of them must cost nothing.
            return Route::Done(Outcome::rejected(token_type, MachineErrorCode::TokenInvalid, format!("Invalid machine token. The token is larger than {max} bytes.")));
        }
        Route::Opaque(token_type)
    }

    fn finish_jwt(&self, token: &str, decoded: &DecodedJwt<'_>, key: &VerificationKey, oauth: bool) -> Outcome {
        let clock = self.clock.as_ref();
        if oauth {
            match jwt::verify_oauth_jwt_with_key(token, decoded, key, &self.jwt_options(), clock) {
                Ok(t) => Outcome::Verified { token_type: TokenType::OAuthToken, data: VerifiedData::OAuthJwt(t) },
                Err(error) => Outcome::Rejected { token_type: TokenType::OAuthToken, error },
            }
        } else {
            match jwt::verify_m2m_jwt_with_key(token, decoded, key, &self.jwt_options(), clock) {
                Ok(t) => Outcome::Verified { token_type: TokenType::M2MToken, data: VerifiedData::M2MJwt(t) },
                Err(error) => Outcome::Rejected { token_type: TokenType::M2MToken, error },
            }
        }
    }

    /// The key-independent part of a JWT route: the M2M category check comes before any key work.
    fn jwt_precheck(decoded: &DecodedJwt<'_>, oauth: bool) -> Option<Outcome> {
        if oauth {
            return None;
        }
        jwt::check_m2m_category(decoded).err().map(|error| Outcome::Rejected { token_type: TokenType::M2MToken, error })
    }

    fn no_key(oauth: bool) -> Outcome {
        let token_type = if oauth { TokenType::OAuthToken } else { TokenType::M2MToken };
        Outcome::Rejected { token_type, error: jwt::failed_to_resolve_jwk_error() }
    }

    /// Answers without the network when it can; `None` means "needs the network: call [`Verifier::verify`]".
    pub fn verify_local(&self, token: &str, mode: Mode) -> Option<Outcome> {
        let (decoded, oauth) = match self.route(token, mode) {
            Route::Done(o) => return Some(o),
            Route::Opaque(_) => return None,
            Route::M2MJwt(d) => (d, false),
            Route::OAuthJwt(d) => (d, true),
        };
        if let Some(o) = Self::jwt_precheck(&decoded, oauth) {
            return Some(o);
        }
        match &self.key_source {
            KeySource::Pem(key) => Some(self.finish_jwt(token, &decoded, key, oauth)),
            KeySource::None => Some(Self::no_key(oauth)),
            KeySource::Jwks if self.options.skip_jwks_cache => None,
            KeySource::Jwks => {
                let kid = jsfmt::get(&decoded.header, "kid");
                let jwk = jwks::global().try_get_cached(&self.scope, kid, self.clock.now_ms())?;
                Some(self.finish_jwt(token, &decoded, &VerificationKey::from_jwk(&jwk), oauth))
            }
        }
    }

    /// The full verification, network included.
    pub async fn verify(&self, token: &str, mode: Mode) -> Outcome {
        let (decoded, oauth) = match self.route(token, mode) {
            Route::Done(o) => return o,
            Route::Opaque(token_type) => return self.verify_opaque(token, token_type).await,
            Route::M2MJwt(d) => (d, false),
            Route::OAuthJwt(d) => (d, true),
        };
        if let Some(o) = Self::jwt_precheck(&decoded, oauth) {
            return o;
        }
        let token_type = if oauth { TokenType::OAuthToken } else { TokenType::M2MToken };
        match &self.key_source {
            KeySource::Pem(key) => self.finish_jwt(token, &decoded, key, oauth),
            KeySource::None => Self::no_key(oauth),
            KeySource::Jwks => {
                let kid = jsfmt::get(&decoded.header, "kid");
                let fetched = jwks::global().get_key(&self.scope, &self.bapi, kid, self.options.skip_jwks_cache, self.clock.as_ref()).await;
                match fetched {
                    Ok(jwk) => self.finish_jwt(token, &decoded, &VerificationKey::from_jwk(&jwk), oauth),
                    Err(e) => Outcome::Rejected { token_type, error: jwt::machine_error(e) },
                }
            }
        }
    }

    async fn verify_opaque(&self, token: &str, token_type: TokenType) -> Outcome {
        let answer = match token_type {
            TokenType::M2MToken => bapi::verify_m2m_opaque(&self.bapi, token).await,
            TokenType::OAuthToken => bapi::verify_oauth_opaque(&self.bapi, token).await,
            _ => bapi::verify_api_key(&self.bapi, token).await,
        };
        let data = match answer {
            Ok(data) => data,
            Err(err) => {
                let error = bapi::map_machine_error(token_type, &err, bapi::not_found_message(token_type));
                return Outcome::Rejected { token_type, error };
            }
        };
        if token_type == TokenType::OAuthToken {
            if let Err(e) = claims::assert_oauth_audience_claim(jsfmt::get(&data, "aud"), &self.options.audience) {
                return Outcome::Rejected { token_type, error: jwt::machine_error(e) };
            }
        }
        if let Some(message) = revoked_or_expired(&data, token_type) {
            return Outcome::rejected(token_type, MachineErrorCode::TokenInvalid, message);
        }
        Outcome::Verified { token_type, data: VerifiedData::Api(data) }
    }
}

/// A 200 answer can still describe a dead token (`revoked`/`expired` set): the
/// reference returns it as valid data; we reject it (README, O-09).
fn revoked_or_expired(data: &Value, token_type: TokenType) -> Option<String> {
    let noun = match token_type {
        TokenType::M2MToken => "Machine token",
        TokenType::OAuthToken => "OAuth token",
        _ => "API key",
    };
    if jsfmt::get(data, "revoked") == Some(&Value::Bool(true)) {
        Some(format!("{noun} has been revoked."))
    } else if jsfmt::get(data, "expired") == Some(&Value::Bool(true)) {
        Some(format!("{noun} has expired."))
    } else {
        None
    }
}
