import cjs from './console.js'

export const {
  M2MAuthError,
  M2MAuthErrorCode,
  M2MConfigError,
  getM2MToken,
  isM2MConfigured,
  getExpectedMachineId,
  verifyM2MToken,
  authenticateMachineRequest,
  authenticateM2MRequest,
  createMachineAuthenticator,
  machineAuthErrorResponse,
  createM2MTokenProvider,
} = cjs

export default cjs
