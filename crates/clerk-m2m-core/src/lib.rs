//! Pure-Rust core of `clerk-m2m-native`.
//!
//! Everything that decides anything lives here, free of napi, so that it can be
//! tested with `cargo test` and fuzzed: token detection ([`detect`]), the shared
//! JWT decoder ([`decode`]), Clerk's JWT rules ([`jwt`], [`claims`]), keys
//! ([`keys`]), the JWKS cache ([`jwks`]), the Backend API client ([`http`],
//! [`bapi`]) and the machine-token router ([`verify`]). The napi crate at the
//! repository root only converts types and maps errors.
//!
//! Parity target: `@clerk/backend@3.25.0`. Where that package mirrors a
//! JavaScript quirk (loose base64url, `TextDecoder`, `JSON.parse`, `Date`),
//! the module that reproduces it says so.

pub mod bapi;
pub mod batch;
pub mod base64url;
pub mod claims;
pub mod clock;
pub mod constants;
pub mod decode;
pub mod detect;
pub mod errors;
pub mod http;
pub mod js;
pub mod json;
pub mod opaque;
pub mod outcome;
pub mod jwt;
pub mod jwks;
pub mod keys;
pub mod m2m;
pub mod options;
pub mod redact;
pub mod resources;
pub mod secret;
pub mod sigcache;
pub mod verify;

pub use constants::TokenType;
pub use decode::{decode, decode_with_limit, DecodeError, DecodedJwt, DEFAULT_MAX_TOKEN_BYTES};
