// The targets of issues 6 and 16, evaluated from one run's results. Each target
// names the two measurements it compares, so the table can show both numbers;
// `issue` says which issue set it (issue 16 raised detection from 2× to 10×).

const find = (wl, pred) => wl?.results.find(pred)
const primary = (wl) => find(wl, (r) => r.family === 'native' && r.name === 'clerk-m2m-native')
const reference = (wl) => find(wl, (r) => r.family === 'reference')
const fastestLib = (wl) =>
  wl?.results.filter((r) => r.family === 'js-lib').reduce((best, r) => (!best || r.rate.median > best.rate.median ? r : best), null)

function ratioTarget(id, title, num, den, min, { numLabel, denLabel, issue = 6 } = {}) {
  const value = num && den ? num.value / den.value : NaN
  return {
    id,
    issue,
    title,
    goal: `≥ ${min}×`,
    numerator: num && { label: numLabel ?? num.label, value: num.value },
    denominator: den && { label: denLabel ?? den.label, value: den.value },
    ratio: value,
    measured: Number.isFinite(value),
    pass: Number.isFinite(value) && value >= min,
  }
}

const rateOf = (r, label) => r && { label: label ?? r.name, value: r.rate.median }

/** `num − den ≤ max` (in the unit of both), e.g. event-loop µs per request above the ceiling's. */
function differenceTarget(id, title, num, den, max, { unit, issue }) {
  const value = num && den ? num.value - den.value : NaN
  return {
    id,
    issue,
    kind: 'difference',
    title,
    goal: `≤ +${max} ${unit}`,
    numerator: num && { ...num, unit },
    denominator: den && { ...den, unit },
    ratio: value,
    measured: Number.isFinite(value),
    pass: Number.isFinite(value) && value <= max,
  }
}

/** `byId`: workload id → result; `openssl`: { available, verifyPerSec }; `rss`: { native, reference }. */
export function evaluateTargets(byId, openssl, rss) {
  const out = []
  for (const [id, label] of [
    ['pem', 'PEM'],
    ['jwks', 'warm JWKS'],
  ]) {
    const wl = byId[id]
    const me = primary(wl)
    out.push(ratioTarget(`${id}-vs-reference`, `${label}, distinct tokens, one at a time: vs @clerk/backend`, rateOf(me), rateOf(reference(wl)), 7))
    const lib = fastestLib(wl)
    out.push(ratioTarget(`${id}-vs-fastest-js`, `${label}, distinct tokens: vs fastest JS library (${lib?.name ?? 'n/a'})`, rateOf(me), rateOf(lib), 1.2))
    out.push(
      ratioTarget(
        `${id}-vs-openssl`,
        `${label}, distinct tokens: vs openssl speed rsa2048 verify/s, 1 core`,
        rateOf(me),
        openssl?.available ? { label: 'openssl speed', value: openssl.verifyPerSec } : null,
        0.8,
      ),
    )
  }

  const batch = byId.batch
  const bestBatch = batch?.results
    .filter((r) => r.family === 'native')
    .reduce((best, r) => (!best || r.rate.median > best.rate.median ? r : best), null)
  out.push(ratioTarget('batch-vs-sequential', `Batches of 64 in flight (${bestBatch?.name ?? 'n/a'}): vs own one-at-a-time PEM rate`, rateOf(bestBatch), rateOf(primary(byId.pem), 'clerk-m2m-native, PEM one at a time'), 1.6))
  // One at a time inside the batch workload's own rounds when it ran (same phase of the machine), else the PEM workload's rate.
  const sequentialInBatch = batch?.results.find((r) => r.family === 'native-sequential')
  out.push(
    ratioTarget(
      'batch-dropin-vs-sequential',
      `64 drop-in calls in flight (Promise.all): vs own one-at-a-time PEM rate${sequentialInBatch ? ' (same rounds)' : ''}`,
      rateOf(primary(batch)),
      sequentialInBatch ? rateOf(sequentialInBatch, 'clerk-m2m-native, one at a time (same rounds)') : rateOf(primary(byId.pem), 'clerk-m2m-native, PEM one at a time'),
      1.7,
      { issue: 16 },
    ),
  )

  const same = byId.same
  out.push(ratioTarget('same-vs-reference', 'Same token repeated (cache hit): vs @clerk/backend', rateOf(primary(same)), rateOf(reference(same)), 40))
  out.push(
    ratioTarget(
      'same-vs-fast-jwt-cache',
      'Same token repeated: vs fast-jwt with its cache',
      rateOf(primary(same)),
      rateOf(find(same, (r) => r.family === 'js-lib-cache')),
      1,
    ),
  )

  for (const fn of ['isM2MJwt', 'getMachineTokenType']) {
    const wl = byId[`detect-${fn}`]
    out.push(ratioTarget(`detect-${fn}`, `Detection, ${fn} on M2M JWTs: vs reference`, rateOf(primary(wl)), rateOf(reference(wl)), 10, { issue: 16 }))
  }

  const e2e = byId['e2e-distinct']
  const loopOf = (r, label) => r && { label: label ?? r.name, value: r.loopUsPerReq.median }
  const ceiling = (wl) => find(wl, (r) => r.family === 'ceiling')
  out.push(
    differenceTarget('e2e-loop-distinct', 'End to end, distinct tokens: event-loop time per request above the no-verification service', loopOf(primary(e2e)), loopOf(ceiling(e2e)), 15, {
      unit: 'µs',
      issue: 16,
    }),
  )
  out.push(ratioTarget('e2e-rps-distinct', 'End to end, distinct tokens: requests/s vs @clerk/backend', rateOf(primary(e2e)), rateOf(reference(e2e)), 4, { issue: 16 }))
  const e2eSame = byId['e2e-same']
  out.push(ratioTarget('e2e-rps-same', 'End to end, one token repeated: requests/s vs the no-verification service', rateOf(primary(e2eSame)), rateOf(ceiling(e2eSame)), 0.9, { issue: 16 }))

  const c64 = byId['opaque-c64']
  const meOpaque = primary(c64)
  const refOpaque = reference(c64)
  const t = ratioTarget('opaque-c64-throughput', 'Opaque, concurrency 64: throughput vs @clerk/backend', rateOf(meOpaque), rateOf(refOpaque), 1)
  out.push(t)
  const p99Me = meOpaque?.latency.p99
  const p99Ref = refOpaque?.latency.p99
  out.push({
    id: 'opaque-c64-p99',
    issue: 6,
    title: 'Opaque, concurrency 64: p99 latency lower than @clerk/backend',
    goal: '< 1× (ref p99)',
    numerator: meOpaque && { label: 'clerk-m2m-native p99 ms', value: p99Me, unit: 'ms' },
    denominator: refOpaque && { label: '@clerk/backend p99 ms', value: p99Ref, unit: 'ms' },
    ratio: p99Me / p99Ref,
    measured: Number.isFinite(p99Me / p99Ref),
    pass: Number.isFinite(p99Me) && Number.isFinite(p99Ref) && p99Me < p99Ref,
  })

  const rssMe = rss?.native?.end?.rss
  const rssRef = rss?.reference?.end?.rss
  out.push({
    id: 'rss',
    issue: 6,
    title: `RSS after ${rss?.native?.count?.toLocaleString('en-US') ?? '100,000'} verifications (caches on): ≤ @clerk/backend`,
    goal: '≤ 1× (ref RSS)',
    numerator: rssMe !== undefined && { label: 'clerk-m2m-native RSS', value: rssMe, unit: 'bytes' },
    denominator: rssRef !== undefined && { label: '@clerk/backend RSS', value: rssRef, unit: 'bytes' },
    ratio: rssMe / rssRef,
    measured: Number.isFinite(rssMe / rssRef),
    pass: Number.isFinite(rssMe) && Number.isFinite(rssRef) && rssMe <= rssRef,
  })
  return out
}
