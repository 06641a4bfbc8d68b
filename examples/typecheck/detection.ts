// Compiled by `npm run typecheck` (tsc --noEmit): proves the published typings are usable.
import { getMachineTokenType, isM2MJwt, isMachineToken, isTokenTypeAccepted, TokenType, M2M_TOKEN_PREFIX, type MachineTokenType } from 'clerk-m2m-native'

const header = 'Bearer mt_abc'
const token = header.slice('Bearer '.length)
if (isMachineToken(token)) {
  const t: 'm2m_token' | 'oauth_token' | 'api_key' = getMachineTokenType(token)
  const m: MachineTokenType = t
  const accepted: boolean = isTokenTypeAccepted(m, [TokenType.M2MToken])
  console.log(accepted, isM2MJwt(token), token.startsWith(M2M_TOKEN_PREFIX))
}
