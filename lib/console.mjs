import cjs from './console.js'

export const {
  M2MAuthError,
  M2MAuthErrorCode,
  M2MConfigError,
  getM2MToken,
  isM2MConfigured,
  getExpectedMachineId,
  verifyM2MToken,
  authenticateM2MRequest,
  createM2MTokenProvider,
} = cjs

export default cjs
