//! Pure-Rust core of `clerk-m2m-native`.
//!
//! Everything that decides anything lives here, free of napi, so that it can be
//! tested with `cargo test` and fuzzed: token detection, the shared JWT decoder, Clerk's
//! JWT rules, keys, the JWKS cache, the Backend API client and the machine-token
//! router ([`Verifier`]). The napi crate at the repository root only converts types
//! and maps errors.
//!
//! Parity target: `@clerk/backend@3.25.0`. Where that package mirrors a
//! JavaScript quirk (loose base64url, `TextDecoder`, `JSON.parse`, `Date`),
//! the module that reproduces it says so.
//!
//! The modules are private; what others use is the list below, by purpose. The Backend
//! API client ([`bapi`]), its HTTP layer ([`http`]) and the process-wide caches ([`jwks`],
//! [`sigcache`]) keep their own namespaces, so their names say which one they belong to.

mod base64url;
mod batch;
mod claims;
mod clock;
mod constants;
mod decode;
mod detect;
mod errors;
mod js;
mod json;
mod jwt;
mod keys;
mod m2m;
mod offload;
mod opaque;
mod options;
mod outcome;
mod outcome_counts;
mod redact;
mod resources;
mod secret;
mod verify;

pub mod bapi;
pub mod http;
pub mod jwks;
pub mod sigcache;
pub mod telemetry;

// Detection: synchronous, allocation-free.
pub use constants::{
    TokenType, API_KEY_PREFIX, JWT_CATEGORY_IGNORE, JWT_CATEGORY_JWT_TEMPLATE, JWT_CATEGORY_M2M_TOKEN, JWT_CATEGORY_SESSION_TOKEN, M2M_SUBJECT_PREFIX,
    M2M_TOKEN_PREFIX, OAUTH_ACCESS_TOKEN_TYPES, OAUTH_TOKEN_PREFIX,
};
pub use detect::{
    get_machine_token_type, is_jwt_format, is_m2m_jwt, is_machine_jwt, is_machine_token, is_machine_token_by_prefix, is_machine_token_type, is_oauth_jwt,
    is_token_type_accepted, AcceptsToken, UnknownMachineTokenType,
};

// The JWT decoder the verifier and `decodeJwt` share.
pub use decode::{decode, decode_with_limit, DecodeError, DecodedJwt, DEFAULT_MAX_TOKEN_BYTES};

// Verification: options, the verifier, batches, what they answer.
pub use batch::{BatchShare, BATCH_THREADS, CALLING_THREAD_MAX};
pub use js::value::JsValue;
pub use options::{OptionsError, RawOptions, VerifyOptions};
pub use outcome::{Outcome, VerifiedData, REUSE_MAX_MS, UNKNOWN_MACHINE_TOKEN_TYPE};
pub use outcome_counts::{process_outcomes, OutcomeCounts};
pub use resources::{IdPOAuthAccessToken, M2MToken};
pub use verify::{Answer, Mode, Verifier};

// Single verifications handed to worker threads when they overlap (the caller's policy decides when).
pub use offload::{Delivered, Lane, LaneStats, LANE_MAX};

// Errors: the reference's values, and our reasons as codes.
pub use errors::{
    action, ClerkApiError, ClerkApiResponseError, FailureReason, MachineErrorCode, MachineTokenVerificationError, Reason, TokenVerificationError, Transport,
    TransportKind,
};

// Keys and signatures.
pub use keys::{verify_signature, JwtAlgorithm, KeyError, RsaPublicKey, VerificationKey, MAX_PEM_BYTES, MAX_RSA_BITS, MIN_RSA_BITS};

// The M2M token API client.
pub use m2m::{api_error_to_json, internal_error_json, outcome_json, parse_params, M2mClient, RawM2mClientOptions};

// Time and secrets.
pub use clock::{Clock, FixedClock, SystemClock};
pub use secret::Secret;

/// The movable clock of the test addon (`test-hooks`): see [`clock::test_clock`].
#[cfg(feature = "test-hooks")]
pub use clock::test_clock;

/// Panics injected into offloaded verifications (`test-hooks`): see [`offload::test_panic`].
#[cfg(feature = "test-hooks")]
pub use offload::test_panic;

/// Internals the crate's own integration tests, benches and fuzz targets reach into, with the
/// `test-hooks` feature only: not an API.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub mod internals {
    pub mod base64url {
        pub use crate::base64url::{decode_loose, encode, is_valid_loose};
    }
    pub mod claims {
        pub use crate::claims::*;
    }
    pub mod json {
        pub use crate::json::{parse_segment, probe_string_field, FieldProbe};
    }
    pub mod redact {
        pub use crate::redact::{echo_untrusted, secret_prefix};
    }
    pub use crate::decode::{decode_view, split3, Scratch};
    pub use crate::detect::classify_jwt;
    pub use crate::keys::decode_base64_lenient;
    pub use crate::resources::APIKey;
}
