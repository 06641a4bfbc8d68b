// Types of the public entry point. Detection signatures come from the
// generated binding typings (../index.d.ts); the rest is declared here.

export {
  isJwtFormat,
  isOAuthJwt,
  isM2MJwt,
  isMachineJwt,
  isMachineTokenByPrefix,
  isMachineToken,
  getMachineTokenType,
  isMachineTokenType,
  isTokenTypeAccepted,
} from '../index'

export declare const M2M_TOKEN_PREFIX: 'mt_'
export declare const M2M_SUBJECT_PREFIX: 'mch_'
export declare const OAUTH_TOKEN_PREFIX: 'oat_'
export declare const API_KEY_PREFIX: 'ak_'
export declare const OAUTH_ACCESS_TOKEN_TYPES: readonly ['at+jwt', 'application/at+jwt']
export declare const JWT_CATEGORY_SESSION_TOKEN: 'cl_B7d4PD111AAA'
export declare const JWT_CATEGORY_JWT_TEMPLATE: 'cl_B7d4PD222AAA'
export declare const JWT_CATEGORY_M2M_TOKEN: 'cl_B7d4PD333AAA'
export declare const JWT_CATEGORY_IGNORE: 'cl_I7d4PD111III'

export declare const TokenType: {
  readonly SessionToken: 'session_token'
  readonly ApiKey: 'api_key'
  readonly M2MToken: 'm2m_token'
  readonly OAuthToken: 'oauth_token'
}
export type TokenType = (typeof TokenType)[keyof typeof TokenType]
export type MachineTokenType = 'api_key' | 'm2m_token' | 'oauth_token'

export { createM2MClient } from './m2m'
export type { M2MClient } from './m2m'
export type { M2MClientOptions, CreateM2MTokenParams, RevokeM2MTokenParams, ListM2MTokensParams, VerifyM2MTokenParams, PaginatedM2MTokens } from './m2m'

export { M2MToken } from './m2m'
export { processStats, metricsText, diagnosticsChannels } from './observability'
export type { ProcessStats, OutcomeCounts, VerifyChannelContext, HttpChannelMessage, TokenProviderChannelMessage } from './observability'
export {
  verifyMachineAuthToken,
  verifyM2MToken,
  createM2MVerifier,
  MachineTokenVerificationError,
  MachineTokenVerificationErrorCode,
  TokenVerificationErrorAction,
  ClerkAPIError,
  ClerkAPIResponseError,
  isClerkAPIResponseError,
  InvalidOptionsError,
  ClerkTransportError,
  IdPOAuthAccessToken,
  APIKey,
} from './verify'
export type { M2MVerifier, M2MVerifierOptions, M2MVerifierStats, VerifyMachineTokenOptions, MachineAuthResult, MachineTokenResult, MachineTokenVerificationErrorCodeValue, OAuthActor, FailureReasonValue, TransportFailureCode } from './verify'
