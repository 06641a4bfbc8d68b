import cjs from './index.js'

export const {
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
  isJwtFormat,
  isOAuthJwt,
  isM2MJwt,
  isMachineJwt,
  isMachineTokenByPrefix,
  isMachineToken,
  getMachineTokenType,
  isMachineTokenType,
  isTokenTypeAccepted,
  createM2MClient,
} = cjs

export default cjs
