// `openssl speed rsa2048`: the single-core verify/s of the machine's OpenSSL,
// the physical limit the native verifier is compared against. OpenSSL 1.1/3.0
// print `sign verify sign/s verify/s`; 3.2+ add encrypt/decrypt columns, so the
// column is found by its header.
import { execFile } from 'node:child_process'

/** Parses the `rsa 2048 bits …` row of `openssl speed` output; null when absent. */
export function parseOpensslSpeed(text) {
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const row = lines[i].match(/^rsa\s+2048\s+bits?\s+(.*)$/)
    if (!row) continue
    const header = lines
      .slice(0, i)
      .reverse()
      .find((l) => l.includes('verify/s'))
    if (!header) continue
    const cols = header.trim().split(/\s+/)
    const vals = row[1].trim().split(/\s+/)
    const verifyIdx = cols.indexOf('verify/s')
    const signIdx = cols.indexOf('sign/s')
    const verify = Number(vals[verifyIdx])
    const sign = Number(vals[signIdx])
    if (Number.isFinite(verify) && verify > 0) return { verifyPerSec: verify, signPerSec: Number.isFinite(sign) ? sign : NaN }
  }
  return null
}

/** Runs `openssl speed -seconds N rsa2048`; resolves { available, version, verifyPerSec, signPerSec } . */
export function opensslSpeed(seconds) {
  const run = (args, timeout) =>
    new Promise((resolve) =>
      execFile('openssl', args, { timeout, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ err, out: `${stdout}\n${stderr}` })),
    )
  return (async () => {
    const v = await run(['version'], 10_000)
    if (v.err) return { available: false, reason: v.err.code === 'ENOENT' ? 'openssl is not installed' : String(v.err.message) }
    const r = await run(['speed', '-seconds', String(seconds), 'rsa2048'], (seconds * 6 + 30) * 1000)
    const parsed = parseOpensslSpeed(r.out)
    if (!parsed) return { available: false, version: v.out.trim(), reason: `could not parse \`openssl speed\` output${r.err ? ` (${r.err.message})` : ''}` }
    return { available: true, version: v.out.trim(), seconds, ...parsed }
  })()
}
