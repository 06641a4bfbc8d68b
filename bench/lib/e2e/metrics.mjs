// Arithmetic of the end-to-end workload, kept free of processes and sockets so
// bench/test/ can check it: the service's counters between two snapshots, the
// load generator's result, the per-row summary over rounds, and how many
// requests a round gets.
import { summarize } from '../stats.mjs'

/**
 * What the service did between two of its snapshots (bench/lib/e2e/service.mjs
 * `snapshot()`): `elu` is `performance.eventLoopUtilization()` (cumulative idle
 * and active milliseconds), `cpu` is `process.cpuUsage()` (cumulative µs, every
 * thread of the process), `served` counts answered requests.
 */
export function serviceWindow(before, after) {
  const requests = after.served - before.served
  const activeMs = after.elu.active - before.elu.active
  const idleMs = after.elu.idle - before.elu.idle
  const cpuUs = after.cpu.user - before.cpu.user + (after.cpu.system - before.cpu.system)
  if (!(requests > 0)) throw new Error(`the service answered no request in the window (${requests})`)
  if (activeMs < 0 || idleMs < 0 || cpuUs < 0) throw new Error('service counters went backwards: snapshots out of order')
  return {
    requests,
    accepted: after.accepted - before.accepted,
    rejected: after.rejected - before.rejected,
    failed: after.failed - before.failed,
    // The event loop's busy time per request: what the target divides.
    loopUsPerReq: (activeMs * 1000) / requests,
    // Busy share of the loop over the window (ELU's own `utilization` of the delta).
    loopUtilization: activeMs + idleMs > 0 ? activeMs / (activeMs + idleMs) : NaN,
    cpuUsPerReq: cpuUs / requests,
    // Process CPU ÷ wall time of the window: above 1 means other threads worked too.
    cpuShare: after.now > before.now ? cpuUs / 1000 / (after.now - before.now) : NaN,
  }
}

/**
 * The parts of an autocannon result the harness uses, checked: a round with a
 * connection error, a timeout or a non-2xx answer is a failed measurement
 * (a rejected valid token, a crashed service), not a slow one.
 */
export function parseLoadResult(result, { expected } = {}) {
  if (!result || typeof result !== 'object') throw new Error('the load generator returned no result')
  const ok = Number(result['2xx'])
  const problems = []
  if (result.errors) problems.push(`${result.errors} connection errors`)
  if (result.timeouts) problems.push(`${result.timeouts} timeouts`)
  if (result.non2xx) problems.push(`${result.non2xx} non-2xx answers (${describeCodes(result.statusCodeStats)})`)
  if (result.resets) problems.push(`${result.resets} request pipeline resets`)
  if (expected !== undefined && ok !== expected) problems.push(`${ok} answers where ${expected} requests were due`)
  // loadgen.mjs counts the requests it supplied bytes for; fewer than were answered
  // means autocannon sent something else (its request hook was bypassed).
  if (result.tokensUsed !== undefined && result.tokensUsed < ok + (result.non2xx || 0)) {
    problems.push(`${result.tokensUsed} requests built by the harness for ${ok + (result.non2xx || 0)} answered`)
  }
  if (expected !== undefined && result.tokensUsed > expected) problems.push(`${result.tokensUsed} tokens taken for ${expected} requests`)
  if (problems.length) throw new Error(`load round failed: ${problems.join(', ')}`)
  // The traffic window (first request sent → last answer, loadgen.mjs) when there is
  // one; autocannon's `duration` is rounded to 10 ms and includes connecting.
  const seconds = result.trafficSeconds > 0 ? result.trafficSeconds : result.duration
  if (!(seconds > 0) || !(ok > 0)) throw new Error(`load round measured nothing (${seconds} s, ${ok} answers)`)
  // Percentiles of every response's time when the load generator sent them
  // (loadgen.mjs); autocannon's own histogram only has whole milliseconds.
  const lat = result.responseTimesMs?.n > 0 ? result.responseTimesMs : result.latency
  return { requests: ok, seconds, rate: ok / seconds, p50: lat.p50, p99: lat.p99, max: lat.max }
}

function describeCodes(stats) {
  if (!stats || typeof stats !== 'object') return 'no status breakdown'
  return Object.entries(stats)
    .map(([code, v]) => `${code}: ${v?.count ?? v}`)
    .join(', ')
}

/** One row's rounds → medians and spread, in the shape the report and targets read. */
export function summarizeRounds(samples) {
  const pick = (k) => samples.map((s) => s[k])
  const med = (k) => summarize(pick(k)).median
  return {
    rate: summarize(pick('rate')),
    latency: { p50: med('p50'), p99: med('p99'), max: Math.max(...pick('max')) },
    loopUsPerReq: summarize(pick('loopUsPerReq')),
    loopUtilization: med('loopUtilization'),
    cpuUsPerReq: summarize(pick('cpuUsPerReq')),
    cpuShare: med('cpuShare'),
    requests: pick('requests').reduce((a, b) => a + b, 0),
  }
}

/**
 * Requests per round for a row that measured `rate` req/s in calibration: about
 * `seconds` of load, a multiple of `connections` (each connection gets the same
 * share), within [min, max].
 */
export function roundAmount(rate, { seconds, connections, min, max }) {
  const raw = Number.isFinite(rate) && rate > 0 ? rate * seconds : min
  const clamped = Math.min(max, Math.max(min, raw))
  return Math.max(connections, Math.round(clamped / connections) * connections)
}

/**
 * Which tokens each round of each row sends. Rows that verify never get a token
 * twice: round r of a row takes the next `amount` tokens of that row's pool.
 * Rows that do not verify (the ceiling) may cycle a pool; they only need
 * realistic headers. Returns, per row, one { pool, start } per round.
 */
export function planSlices(rows, rounds, poolSizes) {
  const plan = {}
  for (const row of rows) {
    const size = poolSizes[row.pool]
    if (size === undefined) throw new Error(`${row.name}: no pool named ${row.pool}`)
    if (!row.cycle && row.amount * rounds > size) {
      throw new Error(`${row.name}: ${rounds} rounds of ${row.amount} distinct requests need ${row.amount * rounds} tokens, pool ${row.pool} has ${size}`)
    }
    plan[row.name] = Array.from({ length: rounds }, (_, r) => ({ pool: row.pool, start: row.cycle ? (r * row.amount) % size : r * row.amount }))
  }
  return plan
}
