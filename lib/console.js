'use strict'
// clerk-m2m-native/console: machine-to-machine auth for an application made of services that send
// (webhook handlers, workers) and services that receive (an API), configured through environment
// variables. This file is the subpath's entry; each concern has its own module:
//
//   service-env.js     the environment conventions (CLERK_M2M_TOKEN_<SERVICE>, …) and M2MConfigError
//   auth-error.js      M2MAuthError and the mapping from the core's failure reasons to its codes
//   machine-auth.js    verification for a receiver: acceptsToken, flags, sender and scope checks
//   bearer.js          the Authorization header of any framework's request
//   request-auth.js    request authentication that never throws (used by the adapters and tRPC)
//   auth-response.js   the one table from a failure to an HTTP answer (status, headers, body)
//   token-provider.js  short-lived tokens for senders
//
// No message of these modules ever contains a token or a secret.

const { M2MConfigError, getM2MToken, isM2MConfigured, getExpectedMachineId, serviceEnvName } = require('./service-env.js')
const { M2MAuthError, M2MAuthErrorCode } = require('./auth-error.js')
const { verifyM2MToken } = require('./machine-auth.js')
const { createMachineAuthenticator, authenticateMachineRequest, authenticateM2MRequest } = require('./request-auth.js')
const { machineAuthErrorResponse } = require('./auth-response.js')
const { createM2MTokenProvider } = require('./token-provider.js')

module.exports = {
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
  // Shared with the CLI (not part of the documented API).
  serviceEnvName,
}
