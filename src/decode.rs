//! `decodeJwt`: the core's decoder (the one verification uses) for `clerk-m2m-native inspect`,
//! so what the CLI shows agrees with the detectors and the verifier.

use crate::convert::{failure, invalid_arg};
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Header and payload of a JWT, UNVERIFIED, as the JSON text `[header, payload]` (key order kept).
/// Throws (`code: 'InvalidArg'`) with the reference's message when the token does not decode.
#[napi(catch_unwind)]
pub fn decode_jwt(token: String) -> Result<String> {
    let decoded = clerk_m2m_core::decode(&token).map_err(invalid_arg)?;
    serde_json::to_string(&(&decoded.header, &decoded.payload)).map_err(failure)
}
