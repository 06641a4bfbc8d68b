//! The security catalogue (docs/SECURITY.md, "The adversarial catalogue") as executable tests: the
//! rows about the core's semantics, run through the public router ([`Verifier`]) with a fixed
//! clock, real RSA keys and, for JWKS and opaque tokens, the in-process emulator on 127.0.0.1.
//!
//! Every test is named after its row (`j_01_…` is row J-01), which the catalogue census
//! (`scripts/census.mjs`) reads. One file a chapter of the catalogue, with the shared
//! fixtures in `fixtures.rs`. Rows that need the JS surface
//! (rejected promises, JS objects, child processes, RSS) are in `__test__/catalogue.test.ts`,
//! `__test__/resources.bounds.test.ts` and `__test__/canary.test.ts`; J-73 is in `wycheproof.rs`.
//!
//! Unless a row says otherwise, a token is checked in PEM mode and in JWKS mode (a shared
//! emulator serving key A), with `verifyMachineAuthToken` and `verifyM2MToken` semantics
//! ([`Mode::MachineAuth`] / [`Mode::M2MOnly`]); `verify_local`, when it answers, must agree
//! with the full `verify`.

// Counts every assertion for the catalogue census (scripts/census.mjs); before everything else.
#[macro_use]
#[path = "../census/mod.rs"]
mod census;
#[path = "../common/mod.rs"]
mod common;
mod fixtures;

/// 2.1 Algorithm attacks
mod algorithms;
/// 2.2 kid and header-embedded keys
mod kid;
/// 2.3 JSON shape, duplicates, encodings
mod json_shape;
/// 2.4 Size / DoS
mod size;
/// 2.5 base64url and signature bytes
mod encoding;
/// 2.6 Time claims
mod time_claims;
/// 2.7 sub, cat, typ, framing
mod framing;
/// 2.8 Key material
mod key_material;
/// 3.3 JWKS endpoint
mod jwks_endpoint;
/// 4. Opaque tokens
mod opaque;
/// 5. Native-addon rows, core halves (the JS halves are in __test__/)
mod native;
