// The interleaved-rounds runner. A workload runs R rounds; in each round every
// implementation runs once, in an order rotated by one position per round
// (A B C, B C A, C A B, …), so slow drifts of the shared machine (other jobs,
// thermal state, the emulator's allocator) hit every implementation alike.
// Throughput comes from whole rounds timed as one; per-operation latency is
// sampled only in every `latencyEvery`-th round (timing each call costs ~50 ns,
// which would otherwise bias the fastest implementations) — except for network
// workloads (`latencyAlways`), where that cost is noise.
//
// A round of an implementation that returns a rejected result or throws aborts
// the workload: a measurement of an implementation that is failing is no
// measurement.
import { performance } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { latencySummary, summarize } from './stats.mjs'

setFlagsFromString('--expose_gc')
/** A full collection between implementations keeps one's garbage out of the next one's timing. */
export const collectGarbage = runInNewContext('gc')

/**
 * After a forced collection V8 keeps sweeping on its background threads for a
 * few milliseconds; without a pause that work lands in the next round and
 * takes the second core from whoever runs then (measured: one-at-a-time rows
 * at ~145% process CPU, multi-threaded rows starved). Waits, at most `maxMs`,
 * until the process has been nearly idle for one short interval.
 */
export async function settleAfterGarbage(maxMs = 60) {
  const start = performance.now()
  while (performance.now() - start < maxMs) {
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await new Promise((resolve) => setTimeout(resolve, 2))
    const cpu = process.cpuUsage(cpu0)
    const busy = (cpu.user + cpu.system) / 1000 / (performance.now() - t0)
    if (busy < 0.15) return
  }
}

class RejectedResult extends Error {}

function check(impl, result, where) {
  if (!impl.ok(result)) {
    const detail = result?.errors?.[0]?.message ?? JSON.stringify(result)?.slice(0, 200)
    throw new RejectedResult(`${impl.name} rejected a valid token during ${where}: ${detail}`)
  }
}

async function roundSequential(impl, inputs, start, n, lat) {
  const fn = impl.verify
  const len = inputs.length
  if (impl.sync) {
    if (lat) {
      for (let i = 0; i < n; i++) {
        const s = performance.now()
        const r = fn(inputs[(start + i) % len])
        lat.push(performance.now() - s)
        check(impl, r, 'a round')
      }
    } else {
      for (let i = 0; i < n; i++) check(impl, fn(inputs[(start + i) % len]), 'a round')
    }
    return
  }
  if (lat) {
    for (let i = 0; i < n; i++) {
      const s = performance.now()
      const r = await fn(inputs[(start + i) % len])
      lat.push(performance.now() - s)
      check(impl, r, 'a round')
    }
  } else {
    for (let i = 0; i < n; i++) check(impl, await fn(inputs[(start + i) % len]), 'a round')
  }
}

/** `n` operations as consecutive `Promise.all` batches of `batchSize` (or `impl.verifyBatch`). */
async function roundBatches(impl, inputs, start, n, lat, batchSize) {
  const len = inputs.length
  for (let done = 0; done < n; done += batchSize) {
    const batch = []
    for (let i = done; i < Math.min(n, done + batchSize); i++) batch.push(inputs[(start + i) % len])
    const t0 = performance.now()
    let results
    if (impl.verifyBatch) {
      results = await impl.verifyBatch(batch)
      if (lat) {
        const t = performance.now() - t0
        for (let i = 0; i < batch.length; i++) lat.push(t)
      }
    } else if (lat) {
      results = await Promise.all(
        batch.map((x) =>
          impl.verify(x).then((r) => {
            lat.push(performance.now() - t0)
            return r
          }),
        ),
      )
    } else {
      results = await Promise.all(batch.map(impl.verify))
    }
    if (results.length !== batch.length) throw new RejectedResult(`${impl.name} returned ${results.length} results for ${batch.length} tokens`)
    for (const r of results) check(impl, r, 'a batch')
  }
}

/** `n` operations by `concurrency` closed-loop workers sharing one queue. */
async function roundConcurrent(impl, inputs, start, n, lat, concurrency) {
  const len = inputs.length
  let next = 0
  const worker = async () => {
    while (next < n) {
      const i = next++
      const s = performance.now()
      const r = await impl.verify(inputs[(start + i) % len])
      if (lat) lat.push(performance.now() - s)
      check(impl, r, 'a concurrent round')
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker))
}

function runRound(w, impl, inputs, start, n, lat) {
  switch (w.kind) {
    case 'batch':
      return roundBatches(impl, inputs, start, n, lat, w.batchSize)
    case 'concurrent':
      return roundConcurrent(impl, inputs, start, n, lat, w.concurrency)
    default:
      return roundSequential(impl, inputs, start, n, lat)
  }
}

async function timed(w, impl, inputs, start, n, lat) {
  // A row may change process-wide state for its own rounds only (a diagnostics_channel subscriber), outside the timing.
  impl.enter?.()
  try {
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await runRound(w, impl, inputs, start, n, lat)
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000 }
  } finally {
    impl.leave?.()
  }
}

/**
 * Runs workload `w`:
 *   { id, title, kind: 'sequential' | 'batch' | 'concurrent', impls, inputs, warmInputs?,
 *     opsPerRound?: number (fixed: every implementation sees the same inputs in the same order)
 *     | undefined (calibrated per implementation to ~targetMs per round),
 *     batchSize?, concurrency?, latencyAlways?, distinct?: true (inputs must never repeat),
 *     rounds? (overrides cfg.rounds) }
 * with `cfg` = { rounds, latencyEvery, targetMs, warmMs, log }.
 */
export async function runWorkload(w, baseCfg) {
  const cfg = w.rounds ? { ...baseCfg, rounds: w.rounds } : baseCfg
  const impls = w.impls.map((impl) => ({
    impl,
    inputs: impl.prepare ? impl.prepare(impl.pool ?? w.inputs) : (impl.pool ?? w.inputs),
    warm: impl.prepare ? impl.prepare(w.warmInputs ?? w.inputs) : (w.warmInputs ?? w.inputs),
    ops: w.opsPerRound,
    rates: [],
    cpu: [],
    cpuPerOp: [],
    lat: [],
    cursor: 0,
  }))
  const latencyRounds = w.latencyAlways ? 0 : Math.floor(cfg.rounds / cfg.latencyEvery)
  for (const s of impls) {
    if (w.distinct && w.opsPerRound * cfg.rounds > s.inputs.length) {
      throw new Error(`${w.id}/${s.impl.name}: ${w.opsPerRound * cfg.rounds} operations need as many distinct inputs, have ${s.inputs.length}`)
    }
  }

  // Warm-up (interleaved too) and, for calibrated workloads, the per-implementation round size.
  for (let pass = 0; pass < 2; pass++) {
    for (const s of impls) {
      collectGarbage()
      let n = Math.min(s.warm.length, w.warmOps ?? 200)
      if (w.kind === 'batch') n = Math.max(w.batchSize, n - (n % w.batchSize))
      const { ms } = await timed(w, s.impl, s.warm, pass * n, n, null)
      if (pass === 1 && s.ops === undefined) {
        let extra = n
        let total = ms
        while (total < cfg.warmMs) {
          extra = Math.ceil(extra * 2)
          total += (await timed(w, s.impl, s.warm, 0, extra, null)).ms
          n += extra
        }
        const rate = (n / total) * 1000
        s.ops = Math.max(w.minOps ?? 50, Math.round((rate * cfg.targetMs) / 1000))
        if (w.kind === 'batch') s.ops = Math.max(w.batchSize, s.ops - (s.ops % w.batchSize))
      }
    }
  }

  for (let r = 0; r < cfg.rounds; r++) {
    const sampleLatency = w.latencyAlways || r % cfg.latencyEvery === cfg.latencyEvery - 1
    for (let k = 0; k < impls.length; k++) {
      const s = impls[(k + r) % impls.length]
      const start = w.opsPerRound !== undefined ? r * w.opsPerRound : s.cursor
      collectGarbage()
      await settleAfterGarbage()
      const lat = sampleLatency ? [] : null
      const { ms, cpuMs } = await timed(w, s.impl, s.inputs, start, s.ops, lat)
      s.cursor = start + s.ops
      if (lat) s.lat.push(...lat)
      if (!sampleLatency || w.latencyAlways) {
        s.rates.push((s.ops / ms) * 1000)
        s.cpu.push(cpuMs / ms)
        s.cpuPerOp.push((cpuMs * 1000) / s.ops)
      }
    }
    cfg.log?.(`  ${w.id}: round ${r + 1}/${cfg.rounds}${sampleLatency && !w.latencyAlways ? ' (latency)' : ''}`)
  }

  return {
    id: w.id,
    title: w.title,
    kind: w.kind,
    rounds: cfg.rounds,
    throughputRounds: cfg.rounds - latencyRounds,
    results: impls.map((s) => ({
      name: s.impl.name,
      family: s.impl.family,
      note: s.impl.note,
      opsPerRound: s.ops,
      rate: summarize(s.rates),
      cpu: summarize(s.cpu).median,
      cpuUsPerOp: summarize(s.cpuPerOp).median,
      latency: latencySummary(s.lat),
    })),
  }
}
