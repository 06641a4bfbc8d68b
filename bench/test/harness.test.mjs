// Tests of the harness's own logic (statistics, parsing, token pools, target
// arithmetic, the chart): `node --test bench/test/`. No addon needed.
import assert from 'node:assert/strict'
import { verify } from 'node:crypto'
import { test } from 'node:test'
import { parseOpensslSpeed } from '../lib/openssl.mjs'
import { latencySummary, mdTable, quantile, summarize, fmtRatio } from '../lib/stats.mjs'
import { renderChart } from '../lib/svg.mjs'
import { evaluateTargets } from '../lib/targets.mjs'
import { generateBenchKey, m2mClaims, signClaims, signPool, splitForFloor, tamperPayload, tamperSignature } from '../lib/tokens.mjs'

test('quantiles interpolate between closest ranks', () => {
  assert.equal(quantile([3, 1, 2], 0.5), 2)
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5)
  assert.equal(quantile([10, 20], 0.25), 12.5)
  assert.ok(Number.isNaN(quantile([], 0.5)))
  const s = summarize([5, 1, 4, 2, 3])
  assert.deepEqual([s.min, s.p25, s.median, s.p75, s.max, s.n], [1, 2, 3, 4, 5, 5])
  const l = latencySummary(Array.from({ length: 101 }, (_, i) => i))
  assert.equal(l.p50, 50)
  assert.equal(l.p99, 99)
  assert.equal(l.max, 100)
})

test('markdown tables escape pipes and align numbers', () => {
  const t = mdTable(['a', 'b'], [['x|y', '1']], ['l', 'r'])
  assert.equal(t, '| a | b |\n| --- | ---: |\n| x\\|y | 1 |')
  assert.equal(fmtRatio(7.004), '7.00×')
  assert.equal(fmtRatio(NaN), 'n/a')
})

test('openssl speed output is parsed by column name (1.1/3.0 and 3.2+ layouts)', () => {
  const v30 = '                  sign    verify    sign/s verify/s\nrsa 2048 bits 0.001166s 0.000036s    857.5  27953.7\n'
  assert.deepEqual(parseOpensslSpeed(v30), { verifyPerSec: 27953.7, signPerSec: 857.5 })
  const v32 =
    '                   sign    verify    encrypt   decrypt   sign/s verify/s  encr./s  decr./s\n' +
    'rsa  2048 bits 0.000702s 0.000020s 0.000021s 0.000695s   1424.6  49839.5  47917.9   1438.4\n'
  assert.deepEqual(parseOpensslSpeed(v32), { verifyPerSec: 49839.5, signPerSec: 1424.6 })
  assert.equal(parseOpensslSpeed('rsa 2048 bits 1 2 3 4\n'), null)
  assert.equal(parseOpensslSpeed('Doing 2048 bits private rsa sign ops for 3s\n'), null)
})

test('token pools are distinct, valid, and tampering breaks the signature', async () => {
  const key = generateBenchKey('ins_test')
  const nowSec = Math.floor(Date.now() / 1000)
  const pool = await signPool({ key, start: 0, count: 300, nowSec, salt: 't1' })
  assert.equal(pool.length, 300)
  assert.equal(new Set(pool).size, 300)
  // Ids stay distinct across base-62 digit-length boundaries (61 → 62, 3843 → 3844).
  const jti = (i) => m2mClaims({ kid: 'k', index: i, salt: 's', nowSec }).payload.jti
  const ids = [0, 1, 61, 62, 63, 3843, 3844, 238327, 238328].map(jti)
  assert.equal(new Set(ids).size, ids.length)
  for (const id of ids) assert.equal(id.length, 30)
  const ok = (t) => {
    const { data, sig } = splitForFloor(t)
    return verify('sha256', data, key.publicKey, sig)
  }
  assert.ok(ok(pool[0]))
  assert.ok(ok(pool[299]))
  assert.equal(ok(tamperPayload(pool[0])), false)
  assert.equal(ok(tamperSignature(pool[0])), false)
  const { header, payload } = m2mClaims({ kid: key.kid, index: 1, salt: 'x', nowSec: nowSec - 7200, ttlSec: 3600 })
  const expired = signClaims(header, payload, key.privateKey)
  assert.ok(ok(expired))
  assert.ok(JSON.parse(Buffer.from(expired.split('.')[1], 'base64url')).exp < nowSec)
})

const rate = (median, p25 = median, p75 = median) => ({ median, p25, p75, min: p25, max: p75, n: 3 })
const wl = (id, rows) => ({ id, title: id, results: rows.map(([name, family, r, p99]) => ({ name, family, rate: rate(r), latency: { p99 } })) })

test('targets divide the right rows and apply each threshold', () => {
  const byId = {
    pem: wl('pem', [
      ['clerk-m2m-native', 'native', 30000],
      ['clerk-m2m-native createM2MVerifier', 'native', 99999],
      ['@clerk/backend', 'reference', 4000],
      ['jose jwtVerify', 'js-lib', 9000],
      ['jsonwebtoken', 'js-lib', 25000],
      ['node:crypto verify (floor)', 'floor', 50000],
    ]),
    jwks: wl('jwks', [
      ['clerk-m2m-native', 'native', 20000],
      ['@clerk/backend', 'reference', 4000],
      ['fast-jwt', 'js-lib', 17000],
    ]),
    batch: wl('batch', [
      ['clerk-m2m-native', 'native', 40000],
      ['clerk-m2m-native verifyMany', 'native', 50000],
    ]),
    same: wl('same', [
      ['clerk-m2m-native', 'native', 160000],
      ['@clerk/backend', 'reference', 4000],
      ['fast-jwt (cache on)', 'js-lib-cache', 150000],
    ]),
    'detect-isM2MJwt': wl('d1', [
      ['clerk-m2m-native', 'native', 100],
      ['@clerk/backend', 'reference', 50],
    ]),
    'detect-getMachineTokenType': wl('d2', [
      ['clerk-m2m-native', 'native', 99],
      ['@clerk/backend', 'reference', 50],
    ]),
    'opaque-c64': wl('o', [
      ['clerk-m2m-native', 'native', 1000, 10],
      ['@clerk/backend', 'reference', 1000, 10],
    ]),
  }
  const rss = { native: { count: 100000, end: { rss: 100 } }, reference: { end: { rss: 100 } } }
  const t = Object.fromEntries(evaluateTargets(byId, { available: true, verifyPerSec: 35000 }, rss).map((x) => [x.id, x]))
  assert.equal(t['pem-vs-reference'].ratio, 7.5)
  assert.equal(t['pem-vs-reference'].pass, true)
  assert.equal(t['pem-vs-fastest-js'].denominator.value, 25000) // the fastest library, not the first
  assert.equal(t['pem-vs-fastest-js'].pass, true) // 1.2× exactly
  assert.equal(t['pem-vs-openssl'].pass, true) // 30000/35000 = 0.857
  assert.equal(t['jwks-vs-reference'].pass, false) // 5×
  assert.equal(t['jwks-vs-openssl'].pass, false) // 0.571
  assert.equal(t['batch-vs-sequential'].numerator.value, 50000) // best batch row of the package
  assert.equal(t['batch-vs-sequential'].denominator.value, 30000) // the drop-in's PEM one-at-a-time rate
  assert.equal(t['batch-vs-sequential'].pass, true)
  assert.equal(t['same-vs-reference'].pass, true) // 40×
  assert.equal(t['same-vs-fast-jwt-cache'].pass, true)
  assert.equal(t['detect-isM2MJwt'].pass, true)
  assert.equal(t['detect-getMachineTokenType'].pass, false) // 1.98×
  assert.equal(t['opaque-c64-throughput'].pass, true) // equal is "no slower"
  assert.equal(t['opaque-c64-p99'].pass, false) // equal is not "lower"
  assert.equal(t.rss.pass, true) // equal is "no more"
  const missing = evaluateTargets({}, { available: false }, null)
  assert.ok(missing.every((x) => x.pass === false && x.measured === false))
})

test('the chart is well-formed SVG with one bar per measured row', () => {
  const svg = renderChart({
    title: 'a <b> & c',
    subtitle: 's',
    groups: [
      { title: 'g1', results: [{ name: 'clerk-m2m-native', family: 'native', rate: rate(30000, 25000, 32000) }, { name: 'x', family: 'js-lib', rate: rate(900) }] },
      { title: 'g2', results: [{ name: 'y', family: 'reference', rate: rate(NaN) }] },
    ],
  })
  assert.ok(svg.startsWith('<svg '))
  assert.ok(svg.trimEnd().endsWith('</svg>'))
  assert.ok(svg.includes('a &lt;b&gt; &amp; c'))
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 2) // NaN rows get a label but no bar
  assert.ok(svg.includes('>30k<'))
})
