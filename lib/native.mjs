// ESM entry of clerk-m2m-native/native: the raw binding (CommonJS, loaded through native.js).
import binding from './native.js'

export const {
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
} = binding

export default binding
