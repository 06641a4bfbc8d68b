'use strict'
// The constants of @clerk/backend@3.25.0 (tokens/machine.ts, tokens/jwtCategories.ts, tokens/tokenTypes.ts).

const M2M_TOKEN_PREFIX = 'mt_'
const M2M_SUBJECT_PREFIX = 'mch_'
const OAUTH_TOKEN_PREFIX = 'oat_'
const API_KEY_PREFIX = 'ak_'
const OAUTH_ACCESS_TOKEN_TYPES = Object.freeze(['at+jwt', 'application/at+jwt'])

const JWT_CATEGORY_SESSION_TOKEN = 'cl_B7d4PD111AAA'
const JWT_CATEGORY_JWT_TEMPLATE = 'cl_B7d4PD222AAA'
const JWT_CATEGORY_M2M_TOKEN = 'cl_B7d4PD333AAA'
const JWT_CATEGORY_IGNORE = 'cl_I7d4PD111III'

const TokenType = Object.freeze({
  SessionToken: 'session_token',
  ApiKey: 'api_key',
  M2MToken: 'm2m_token',
  OAuthToken: 'oauth_token',
})

module.exports = {
  M2M_TOKEN_PREFIX,
  M2M_SUBJECT_PREFIX,
  OAUTH_TOKEN_PREFIX,
  API_KEY_PREFIX,
  OAUTH_ACCESS_TOKEN_TYPES,
  JWT_CATEGORY_SESSION_TOKEN,
  JWT_CATEGORY_JWT_TEMPLATE,
  JWT_CATEGORY_M2M_TOKEN,
  JWT_CATEGORY_IGNORE,
  TokenType,
}
