// Loads @clerk/backend@3.25.0, including the detectors it does not export
// (isM2MJwt, getMachineTokenType). Same method as __test__/helpers/oracle.ts:
// the package is copied, one `export { … }` line is appended to
// its machine-token chunk, and the copy is imported. The copy lives in
// node_modules/.cache so it still resolves @clerk/shared from the project.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

const CHUNK = 'chunk-WJJ2QJZH.mjs'
const EXTRA = ['isM2MJwt', 'getMachineTokenType', 'isJwtFormat', 'isMachineJwt']
const EXPECTED_VERSION = '3.25.0'

export function referenceVersion(root) {
  const require = createRequire(join(root, 'package.json'))
  return JSON.parse(readFileSync(require.resolve('@clerk/backend/package.json'), 'utf8')).version
}

function prepare(root) {
  const require = createRequire(join(root, 'package.json'))
  const pkgJson = require.resolve('@clerk/backend/package.json')
  const version = referenceVersion(root)
  if (version !== EXPECTED_VERSION) throw new Error(`expected @clerk/backend@${EXPECTED_VERSION}, found ${version}`)
  const cacheRoot = join(root, 'node_modules', '.cache', 'clerk-m2m-bench')
  const dir = join(cacheRoot, `backend-${version}`)
  if (existsSync(join(dir, 'dist', CHUNK))) return dir
  mkdirSync(cacheRoot, { recursive: true })
  const tmp = mkdtempSync(join(cacheRoot, 'tmp-'))
  cpSync(dirname(pkgJson), tmp, { recursive: true })
  const chunk = join(tmp, 'dist', CHUNK)
  const src = readFileSync(chunk, 'utf8')
  if (!src.includes('function isM2MJwt(')) throw new Error('reference chunk layout changed')
  writeFileSync(chunk, `${src}\nexport { ${EXTRA.join(', ')} };\n`)
  try {
    renameSync(tmp, dir)
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true })
    if (!existsSync(join(dir, 'dist', CHUNK))) throw err
  }
  return dir
}

/** `{ verifyMachineAuthToken, isM2MJwt, getMachineTokenType, version }` of the reference. */
export async function loadReference(root) {
  const internal = await import('@clerk/backend/internal')
  const detectors = await import(pathToFileURL(join(prepare(root), 'dist', CHUNK)).href)
  return {
    version: referenceVersion(root),
    verifyMachineAuthToken: internal.verifyMachineAuthToken,
    isM2MJwt: detectors.isM2MJwt,
    getMachineTokenType: detectors.getMachineTokenType,
  }
}
