// Tests of the harness's own logic (statistics, parsing, token pools, target
// arithmetic, the chart, the end-to-end workload's metrics): `node --test bench/test/`.
// No addon needed.
import assert from 'node:assert/strict'
import { verify } from 'node:crypto'
import { test } from 'node:test'
import { parseOpensslSpeed } from '../lib/openssl.mjs'
import { latencySummary, mdTable, quantile, summarize, fmtRatio } from '../lib/stats.mjs'
import { renderChart } from '../lib/svg.mjs'
import { evaluateTargets } from '../lib/targets.mjs'
import { parseLoadResult, planSlices, roundAmount, serviceWindow, summarizeRounds } from '../lib/e2e/metrics.mjs'
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
      ['clerk-m2m-native', 'native', 500],
      ['@clerk/backend', 'reference', 50],
    ]),
    'detect-getMachineTokenType': wl('d2', [
      ['clerk-m2m-native', 'native', 499],
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
  assert.equal(t['detect-isM2MJwt'].pass, true) // 10× exactly (issue 16's threshold)
  assert.equal(t['detect-getMachineTokenType'].pass, false) // 9.98×
  assert.equal(t['detect-isM2MJwt'].issue, 16)
  assert.equal(t['batch-dropin-vs-sequential'].numerator.value, 40000) // the drop-in row, not verifyMany
  assert.equal(t['batch-dropin-vs-sequential'].pass, false) // 1.33× < 1.7×
  assert.equal(t['opaque-c64-throughput'].pass, true) // equal is "no slower"
  assert.equal(t['opaque-c64-p99'].pass, false) // equal is not "lower"
  assert.equal(t.rss.pass, true) // equal is "no more"
  // With a one-at-a-time row inside the batch workload's own rounds, the drop-in's ratio uses it.
  const sameRounds = { ...byId, batch: wl('batch', [['clerk-m2m-native', 'native', 40000], ['clerk-m2m-native, one at a time', 'native-sequential', 20000]]) }
  const t2 = Object.fromEntries(evaluateTargets(sameRounds, { available: true, verifyPerSec: 35000 }, rss).map((x) => [x.id, x]))
  assert.equal(t2['batch-dropin-vs-sequential'].denominator.value, 20000)
  assert.equal(t2['batch-dropin-vs-sequential'].pass, true) // 2×
  assert.equal(t2['batch-vs-sequential'].numerator.value, 40000) // the one-at-a-time row is never the "best batch"
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

// ---- the end-to-end workload's arithmetic (bench/lib/e2e/metrics.mjs) ----

const snap = ({ served, active, idle, user, system = 0, now, accepted = served, rejected = 0, failed = 0 }) => ({
  served,
  accepted,
  rejected,
  failed,
  elu: { active, idle, utilization: active / (active + idle) },
  cpu: { user, system },
  now,
})

test('service window: event-loop and CPU time per request from two snapshots', () => {
  // 2,000 requests; the loop was busy 30 ms and idle 70 ms; 50 ms of CPU (µs counters) over 100 ms of wall time.
  const w = serviceWindow(
    snap({ served: 500, active: 1000, idle: 4000, user: 2_000_000, system: 500_000, now: 10_000 }),
    snap({ served: 2500, active: 1030, idle: 4070, user: 2_040_000, system: 510_000, now: 10_100 }),
  )
  assert.equal(w.requests, 2000)
  assert.equal(w.loopUsPerReq, 15) // 30 ms ÷ 2,000
  assert.equal(w.loopUtilization, 0.3) // of the window, not since process start (1000/5000 = 0.2 before)
  assert.equal(w.cpuUsPerReq, 25) // (40,000 + 10,000) µs ÷ 2,000
  assert.equal(w.cpuShare, 0.5)
  assert.equal(w.accepted, 2000)
  assert.throws(() => serviceWindow(snap({ served: 5, active: 1, idle: 1, user: 1, now: 1 }), snap({ served: 5, active: 2, idle: 2, user: 2, now: 2 })), /no request/)
  assert.throws(() => serviceWindow(snap({ served: 1, active: 9, idle: 1, user: 1, now: 1 }), snap({ served: 2, active: 2, idle: 2, user: 2, now: 2 })), /backwards/)
})

const cannon = (over = {}) => ({
  '2xx': 1000,
  non2xx: 0,
  errors: 0,
  timeouts: 0,
  resets: 0,
  duration: 0.52,
  latency: { p50: 2, p99: 7, max: 9 },
  statusCodeStats: { 200: { count: 1000 } },
  ...over,
})

test('load results: rate from the traffic window, float latencies preferred, failures refused', () => {
  const r = parseLoadResult(cannon({ trafficSeconds: 0.5, responseTimesMs: { n: 1000, p50: 1.25, p99: 6.5, max: 8.75 } }), { expected: 1000 })
  assert.deepEqual(r, { requests: 1000, seconds: 0.5, rate: 2000, p50: 1.25, p99: 6.5, max: 8.75 })
  // Without the load generator's own window and times: autocannon's rounded duration and histogram.
  const plain = parseLoadResult(cannon())
  assert.equal(plain.rate, 1000 / 0.52)
  assert.equal(plain.p99, 7)
  assert.throws(() => parseLoadResult(cannon({ non2xx: 3, '2xx': 997, statusCodeStats: { 200: { count: 997 }, 401: { count: 3 } } })), /3 non-2xx answers \(200: 997, 401: 3\)/)
  assert.throws(() => parseLoadResult(cannon({ errors: 2, timeouts: 1 })), /2 connection errors, 1 timeouts/)
  assert.throws(() => parseLoadResult(cannon(), { expected: 1024 }), /1000 answers where 1024 requests were due/)
  assert.throws(() => parseLoadResult(cannon({ '2xx': 0, duration: 0 })), /measured nothing/)
  assert.throws(() => parseLoadResult(null), /no result/)
  // The harness's request hook must have built every request, and no more than the round's tokens.
  assert.equal(parseLoadResult(cannon({ tokensUsed: 1000 }), { expected: 1000 }).requests, 1000)
  assert.throws(() => parseLoadResult(cannon({ tokensUsed: 0 })), /0 requests built by the harness for 1000 answered/)
  assert.throws(() => parseLoadResult(cannon({ tokensUsed: 1001 }), { expected: 1000 }), /1001 tokens taken for 1000 requests/)
})

test('rounds summarise to medians with spread; round sizes and token slices never overlap', () => {
  const s = summarizeRounds([
    { rate: 100, p50: 1, p99: 5, max: 9, loopUsPerReq: 30, loopUtilization: 0.9, cpuUsPerReq: 40, cpuShare: 1.1, requests: 10 },
    { rate: 300, p50: 3, p99: 4, max: 7, loopUsPerReq: 10, loopUtilization: 0.5, cpuUsPerReq: 20, cpuShare: 0.9, requests: 10 },
    { rate: 200, p50: 2, p99: 6, max: 8, loopUsPerReq: 20, loopUtilization: 0.7, cpuUsPerReq: 30, cpuShare: 1.0, requests: 10 },
  ])
  assert.deepEqual([s.rate.median, s.rate.min, s.rate.max, s.rate.p25], [200, 100, 300, 150])
  assert.deepEqual(s.latency, { p50: 2, p99: 5, max: 9 })
  assert.equal(s.loopUsPerReq.median, 20)
  assert.equal(s.cpuUsPerReq.median, 30)
  assert.equal(s.loopUtilization, 0.7)
  assert.equal(s.requests, 30)

  const opts = { seconds: 0.5, connections: 32, min: 512, max: 8000 }
  assert.equal(roundAmount(10_000, opts), 4992) // 5,000 → a multiple of 32
  assert.equal(roundAmount(100, opts), 512) // at least `min`
  assert.equal(roundAmount(1e6, opts), 8000) // at most `max`
  assert.equal(roundAmount(NaN, opts), 512)

  const plan = planSlices(
    [
      { name: 'a', pool: 'p', amount: 100 },
      { name: 'ceiling', pool: 'p', amount: 400, cycle: true },
    ],
    3,
    { p: 300 },
  )
  assert.deepEqual(plan.a, [
    { pool: 'p', start: 0 },
    { pool: 'p', start: 100 },
    { pool: 'p', start: 200 },
  ])
  assert.deepEqual(plan.ceiling.map((x) => x.start), [0, 100, 200]) // 0, 400 % 300, 800 % 300
  assert.throws(() => planSlices([{ name: 'a', pool: 'p', amount: 101 }], 3, { p: 300 }), /need 303 tokens, pool p has 300/)
  assert.throws(() => planSlices([{ name: 'a', pool: 'q', amount: 1 }], 1, { p: 1 }), /no pool named q/)
})

test('e2e targets: loop time is a difference, rates are ratios', () => {
  const e2e = (rows) => ({
    results: rows.map(([name, family, rate, loop]) => ({ name, family, rate: rate === undefined ? undefined : { median: rate }, loopUsPerReq: { median: loop } })),
  })
  const byId = {
    'e2e-distinct': e2e([
      ['no verification (ceiling)', 'ceiling', 24000, 30],
      ['@clerk/backend', 'reference', 3000, 300],
      ['clerk-m2m-native', 'native', 12000, 45],
      ['clerk-m2m-native createM2MVerifier', 'native', 99999, 1],
    ]),
    'e2e-same': e2e([
      ['no verification (ceiling)', 'ceiling', 24000, 30],
      ['clerk-m2m-native', 'native', 21600, 31],
    ]),
  }
  const t = Object.fromEntries(evaluateTargets(byId, { available: false }, null).map((x) => [x.id, x]))
  assert.equal(t['e2e-loop-distinct'].ratio, 15) // 45 − 30 µs, the drop-in row
  assert.equal(t['e2e-loop-distinct'].pass, true) // "at most 15 µs above"
  assert.equal(t['e2e-loop-distinct'].kind, 'difference')
  assert.equal(t['e2e-rps-distinct'].ratio, 4)
  assert.equal(t['e2e-rps-distinct'].pass, true)
  assert.equal(t['e2e-rps-same'].ratio, 0.9)
  assert.equal(t['e2e-rps-same'].pass, true)
  byId['e2e-distinct'].results[2].loopUsPerReq.median = 45.5
  byId['e2e-same'].results[1].rate.median = 21599
  const t2 = Object.fromEntries(evaluateTargets(byId, { available: false }, null).map((x) => [x.id, x]))
  assert.equal(t2['e2e-loop-distinct'].pass, false)
  assert.equal(t2['e2e-rps-same'].pass, false)
})
