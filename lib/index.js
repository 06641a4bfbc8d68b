'use strict'
// Public entry point (CommonJS). The ESM entry (index.mjs) re-exports this.

const { verifyMachineAuthToken, verifyM2MToken, createM2MVerifier } = require('./verify.js')
const errors = require('./errors.js')
const { M2MToken, IdPOAuthAccessToken, APIKey } = require('./resources.js')
const { createM2MClient } = require('./m2m.js')
const { processStats, metricsText } = require('./observe/metrics.js')
const { diagnosticsChannels } = require('./observe/channels.js')

module.exports = {
  ...require('./constants.js'),
  ...require('./detect.js'),
  verifyMachineAuthToken,
  verifyM2MToken,
  createM2MVerifier,
  createM2MClient,
  processStats,
  metricsText,
  diagnosticsChannels,
  MachineTokenVerificationError: errors.MachineTokenVerificationError,
  MachineTokenVerificationErrorCode: errors.MachineTokenVerificationErrorCode,
  TokenVerificationErrorAction: errors.TokenVerificationErrorAction,
  ClerkAPIError: errors.ClerkAPIError,
  ClerkAPIResponseError: errors.ClerkAPIResponseError,
  isClerkAPIResponseError: errors.isClerkAPIResponseError,
  InvalidOptionsError: errors.InvalidOptionsError,
  ClerkTransportError: errors.ClerkTransportError,
  M2MToken,
  IdPOAuthAccessToken,
  APIKey,
}
