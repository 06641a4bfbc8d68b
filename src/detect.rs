//! The detection exports: synchronous, on the JS thread, with the token read onto the stack
//! ([`StrArg`]) and no allocation.

use crate::convert::{accepts_token, failure};
use crate::str_arg::StrArg;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// True iff `token` has the JWT shape `xxx.yyy.zzz` in the base64url alphabet (no padding, no whitespace).
#[napi(catch_unwind, ts_args_type = "token: string")]
pub fn is_jwt_format(token: StrArg) -> Result<bool> {
    token.with_utf8(|t| clerk_m2m_core::is_jwt_format(t))
}

/// True iff `token` is a decodable JWT whose header `typ` is `at+jwt` or `application/at+jwt`.
#[napi(catch_unwind, js_name = "isOAuthJwt", ts_args_type = "token: string")]
pub fn is_oauth_jwt(token: StrArg) -> Result<bool> {
    token.with_utf8_head(|t| clerk_m2m_core::is_oauth_jwt(t))
}

/// True iff `token` is a decodable JWT whose `sub` is a string starting with `mch_`.
#[napi(catch_unwind, js_name = "isM2MJwt", ts_args_type = "token: string")]
pub fn is_m2m_jwt(token: StrArg) -> Result<bool> {
    token.with_utf8_head(|t| clerk_m2m_core::is_m2m_jwt(t))
}

/// `isOAuthJwt(token) || isM2MJwt(token)`, decoding once.
#[napi(catch_unwind, ts_args_type = "token: string")]
pub fn is_machine_jwt(token: StrArg) -> Result<bool> {
    token.with_utf8_head(|t| clerk_m2m_core::is_machine_jwt(t))
}

/// True iff `token` starts with `mt_`, `oat_` or `ak_`.
#[napi(catch_unwind, ts_args_type = "token: string")]
pub fn is_machine_token_by_prefix(token: StrArg) -> Result<bool> {
    token.with_utf8_head(|t| clerk_m2m_core::is_machine_token_by_prefix(t))
}

/// True iff `token` is a machine token by prefix, or an OAuth or M2M JWT.
#[napi(catch_unwind, ts_args_type = "token: string")]
pub fn is_machine_token(token: StrArg) -> Result<bool> {
    token.with_utf8_head(|t| clerk_m2m_core::is_machine_token(t))
}

/// The machine token type of `token`; throws `Error('Unknown machine token type')` otherwise.
#[napi(catch_unwind, ts_args_type = "token: string", ts_return_type = "'m2m_token' | 'oauth_token' | 'api_key'")]
pub fn get_machine_token_type(token: StrArg) -> Result<&'static str> {
    token
        .with_utf8_head(|t| clerk_m2m_core::get_machine_token_type(t))?
        .map(|t| t.as_str())
        .map_err(failure)
}

/// True iff `type` is exactly `api_key`, `m2m_token` or `oauth_token`.
#[napi(catch_unwind, ts_args_type = "type: string", ts_return_type = "type is 'api_key' | 'm2m_token' | 'oauth_token'")]
pub fn is_machine_token_type(r#type: String) -> bool {
    clerk_m2m_core::is_machine_token_type(&r#type)
}

/// `isTokenTypeAccepted(tokenType, acceptsToken)`: `'any'` accepts every type; an array is a plain list.
#[napi(
    catch_unwind,
    ts_args_type = "tokenType: 'session_token' | 'api_key' | 'm2m_token' | 'oauth_token' | null | undefined, acceptsToken: 'any' | 'session_token' | 'api_key' | 'm2m_token' | 'oauth_token' | Array<'session_token' | 'api_key' | 'm2m_token' | 'oauth_token'>"
)]
pub fn is_token_type_accepted(token_type: Option<String>, accepts: Either<String, Vec<String>>) -> bool {
    clerk_m2m_core::is_token_type_accepted(token_type.as_deref(), &accepts_token(&accepts))
}
