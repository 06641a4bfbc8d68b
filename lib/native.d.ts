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
} from '../index'
export type { NativeEmulatorOptions, NativeM2MClientOptions, NativeOffloadStats, NativeVerifierStats, NativeVerifyOptions } from '../index'
