//! The Backend API client used by machine auth, over [`crate::http`]: a plain client, given a
//! [`BapiConfig`] (where and how to reach the API) by whoever uses it.
//!
//! Mirrors `@clerk/backend@3.25.0`'s `buildRequest` + `M2MTokenApi` +
//! `fetchJWKSFromBAPI`: same URLs, headers, bodies and error values
//! (`ClerkAPIResponseError`), so [`map_machine_error`] gives the same codes and
//! messages as `handleClerkAPIError`. Deliberate differences, each for safety:
//!
//! * every call has a deadline, capped bodies, no redirects, and retries only
//!   where [`crate::http`] allows them (the reference never times out, and retries
//!   JWKS five times on any error);
//! * JSON bodies are parsed whatever the `charset` parameter of
//!   `application/json` (the reference parses only the exact string and
//!   otherwise returns the text as data);
//! * a 2xx whose body is not a JSON object is an error, not a "success";
//! * path segments (ids) are percent-encoded (O-12), after the reference's
//!   `.`/`..` check.
//!
//! One file per seam: [`config`], [`url`] (`joinPaths`), [`error`] (error values and
//! their mapping), [`request`] (`buildRequest`: send, then read the answer), and the
//! endpoints: [`verify`] (opaque tokens), [`jwks`], [`m2m`] (the M2M token API).

mod config;
mod error;
mod jwks;
mod m2m;
mod request;
mod url;
mod verify;

pub use config::BapiConfig;
pub use error::{
    failure_reason, map_machine_error, not_found_message, unexpected_error, KIND_INVALID_REQUEST, KIND_INVALID_RESPONSE, KIND_MISSING_SECRET_KEY,
    MISSING_RESOURCE_ID_MESSAGE, MISSING_SECRET_KEY_MESSAGE,
};
pub use jwks::fetch_jwks;
pub use m2m::{create_m2m_token, create_m2m_token_body, list_m2m_tokens, list_m2m_tokens_url, revoke_m2m_token, CreateM2mTokenParams, ListM2mTokensParams, RevokeM2mTokenParams};
pub use url::{build_url, join_url, jwks_url};
pub use verify::{verify_api_key, verify_m2m_opaque, verify_m2m_opaque_with_key, verify_oauth_opaque};
