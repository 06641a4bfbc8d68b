//! napi binding of `clerk-m2m-native`: the list of what it exports. Each export converts its
//! arguments (`convert.rs`), calls `clerk-m2m-core`, where all logic lives, and converts the
//! answer back; errors are mapped to napi errors with a `code`.
//!
//! Every synchronous export is `catch_unwind` and napi polls async work under `catch_unwind`,
//! so a bug can never abort the host process: a panic becomes a JS `Error`.

#![deny(clippy::all)]

mod convert;
mod decode;
mod detect;
mod emulator;
mod m2m_client;
mod observe;
mod offload;
mod str_arg;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod verifier;

pub use convert::{NativeM2MClientOptions, NativeOffloadStats, NativeVerifierStats, NativeVerifyOptions};
pub use decode::decode_jwt;
pub use detect::{
    get_machine_token_type, is_jwt_format, is_m2m_jwt, is_machine_jwt, is_machine_token, is_machine_token_by_prefix, is_machine_token_type, is_oauth_jwt,
    is_token_type_accepted,
};
pub use emulator::{start_native_emulator, NativeEmulator, NativeEmulatorOptions};
pub use m2m_client::NativeM2MClient;
pub use observe::process_stats_json;
pub use offload::NativeOffload;
#[cfg(feature = "test-hooks")]
pub use test_hooks::{freeze_clock, panic_next_offloads, panic_probe_async, panic_probe_sync};
pub use verifier::NativeVerifier;
