// Compiled by `npm run typecheck`: the verification API as a TypeScript service uses it.
import {
  verifyMachineAuthToken,
  verifyM2MToken,
  MachineTokenVerificationError,
  MachineTokenVerificationErrorCode,
  M2MToken,
  type VerifyMachineTokenOptions,
} from 'clerk-m2m-native'

export async function whoCalled(authorization: string | undefined): Promise<string | null> {
  const token = authorization?.replace(/^Bearer /, '') ?? ''
  const options: VerifyMachineTokenOptions = { jwtKey: process.env.CLERK_JWT_KEY, secretKey: process.env.CLERK_SECRET_KEY, timeoutMs: 2000 }
  const result = await verifyMachineAuthToken(token, options)
  if (result.errors) {
    const err: MachineTokenVerificationError = result.errors[0]
    if (err.code === MachineTokenVerificationErrorCode.UnexpectedError) throw new Error(err.getFullMessage())
    return null
  }
  if (result.tokenType === 'm2m_token') {
    const data: M2MToken = result.data
    return data.subject
  }
  return result.data.subject
}

export async function m2mOnly(token: string): Promise<string[] | undefined> {
  const { data, errors } = await verifyM2MToken(token, { jwtKey: 'pem' })
  return errors ? undefined : data.scopes
}
