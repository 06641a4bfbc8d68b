// Generated from native.d.ts by scripts/dual-types.mjs (the typings of the ESM entry); do not edit.
// Types of clerk-m2m-native/native: the raw napi binding (generated ../index.d.ts) without its
// internal test hooks. Most code wants the main entry point instead.
export {
  decodeJwt,
  getMachineTokenType,
  isJwtFormat,
  isM2MJwt,
  isMachineJwt,
  isMachineToken,
  isMachineTokenByPrefix,
  isMachineTokenType,
  isOAuthJwt,
  isTokenTypeAccepted,
  NativeEmulator,
  NativeM2MClient,
  NativeOffload,
  NativeVerifier,
  processStatsJson,
  startNativeEmulator,
} from '../index.js'
export type { NativeEmulatorOptions, NativeM2MClientOptions, NativeOffloadStats, NativeVerifierStats, NativeVerifyOptions } from '../index.js'
