// Loads the reference, @clerk/backend@3.25.0, including the helpers it does not
// export. Its bundled chunk is copied next to the tests and one extra export
// statement is appended; the copy still resolves
// @clerk/shared from the project's node_modules.
import { cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)
const root = resolve(__dirname, '..', '..')
const oracleDir = join(root, '__test__', '.oracle', 'backend')
const CHUNK = 'chunk-WJJ2QJZH.mjs'
const JWT_CHUNK = 'chunk-SEYNRELD.mjs'
const EXTRA = [
  'isJwtFormat',
  'isOAuthJwt',
  'isM2MJwt',
  'isMachineJwt',
  'getMachineTokenType',
  'isMachineTokenType',
  'loadClerkJwkFromPem',
  'M2MToken',
  'IdPOAuthAccessToken',
]

/** Prepares the patched copy once (atomic rename, so parallel workers are safe). */
export function prepareOracle(): string {
  if (existsSync(join(oracleDir, 'dist', CHUNK))) return oracleDir
  const pkgJson = require.resolve('@clerk/backend/package.json')
  const version = JSON.parse(readFileSync(pkgJson, 'utf8')).version
  if (version !== '3.25.0') throw new Error(`expected @clerk/backend@3.25.0, found ${version}`)
  const tmp = mkdtempSync(join(root, '__test__', '.oracle-tmp-'))
  cpSync(dirname(pkgJson), tmp, { recursive: true })
  const chunk = join(tmp, 'dist', CHUNK)
  const src = readFileSync(chunk, 'utf8')
  if (!src.includes('function isM2MJwt(')) throw new Error('reference chunk layout changed')
  writeFileSync(chunk, `${src}\nexport { ${EXTRA.join(', ')} };\n`)
  try {
    rmSync(dirname(oracleDir), { recursive: true, force: true })
    require('node:fs').mkdirSync(dirname(oracleDir), { recursive: true })
    renameSync(tmp, oracleDir)
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true })
    if (!existsSync(join(oracleDir, 'dist', CHUNK))) throw err
  }
  return oracleDir
}

export interface OracleMachine {
  isJwtFormat(t: unknown): boolean
  isOAuthJwt(t: unknown): boolean
  isM2MJwt(t: unknown): boolean
  isMachineJwt(t: unknown): boolean
  isMachineTokenByPrefix(t: unknown): boolean
  isMachineToken(t: unknown): boolean
  getMachineTokenType(t: unknown): string
  isMachineTokenType(t: unknown): boolean
  isTokenTypeAccepted(t: unknown, a: unknown): boolean
  verifyMachineAuthToken(t: string, o: Record<string, unknown>): Promise<any>
  loadClerkJwkFromPem(p: { kid?: string; pem: string }): any
  M2MToken: any
  IdPOAuthAccessToken: any
  TokenType: Record<string, string>
}

/** The reference's machine-token module, with its private helpers exposed. */
export async function loadOracle(): Promise<OracleMachine> {
  const dir = prepareOracle()
  const mod = await import(pathToFileURL(join(dir, 'dist', CHUNK)).href)
  return mod as OracleMachine
}

/** The reference's non-throwing `decodeJwt`/`verifyJwt`. */
export async function loadOracleJwt(): Promise<{ decodeJwt: (t: string) => any; verifyJwt: (t: string, o: any) => Promise<any> }> {
  const dir = prepareOracle()
  const mod = await import(pathToFileURL(join(dir, 'dist', JWT_CHUNK)).href)
  const names = Object.keys(mod)
  const decodeJwt = mod.decodeJwt ?? mod[names.find((n) => n.startsWith('decodeJwt')) as string]
  const verifyJwt = mod.verifyJwt ?? mod[names.find((n) => n.startsWith('verifyJwt')) as string]
  return { decodeJwt, verifyJwt }
}
