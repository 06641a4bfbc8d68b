// The load generator of the end-to-end workload: autocannon in a process of its
// own (not the service's, not the harness's with its token pools and heaps).
// Forked by bench/lib/e2e/run-e2e.mjs; answers IPC requests:
//
//   { id, cmd: 'pool', name, file }        load a pool (one token a line) for later rounds
//   { id, cmd: 'run', url, connections, amount, pool, start, cycle }
//                                           `amount` requests, each with the next token of the pool
//                                           from `start` on (wrapping only when `cycle`)
//   { id, cmd: 'run', url, connections, duration, token }
//                                           `duration` seconds, the same token in every request
//
// and replies { id, result } (autocannon's result object, plus `tokensUsed` and
// `responseTimesMs`, percentiles of every response's time, and `trafficSeconds`)
// or { id, error }.
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import autocannon from 'autocannon'
import { quantileSorted } from '../stats.mjs'

const pools = new Map()

/**
 * One request's bytes per token, built before the round. autocannon rebuilds a
 * request (header objects, strings, a Buffer) for every call of a `setupRequest`
 * hook: measured here at ~10 µs of the load generator's CPU per request on top of
 * its ~15–25 µs, on the same two cores as the service. Handing it prebuilt bytes
 * (below) makes a distinct-token request cost the load generator what a
 * repeated one does. The bytes are what autocannon itself sends for a GET.
 */
function requestBytes(url, token) {
  const { host } = new URL(url)
  return Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\nauthorization: Bearer ${token}\r\n\r\n`)
}

function run(msg) {
  let tokens
  if (msg.token !== undefined) {
    tokens = [msg.token]
  } else {
    const pool = pools.get(msg.pool)
    if (!pool) throw new Error(`no pool ${msg.pool} loaded`)
    // This round's `amount` tokens from `start`; a cycling row (the ceiling) wraps around its pool.
    tokens = msg.cycle ? Array.from({ length: msg.amount }, (_, i) => pool[(msg.start + i) % pool.length]) : pool.slice(msg.start, msg.start + msg.amount)
    if (tokens.length < msg.amount) throw new Error(`pool ${msg.pool} has no ${msg.amount} tokens from ${msg.start}`)
  }
  const bytes = tokens.map((t) => requestBytes(msg.url, t))
  let cursor = 0
  let tokensUsed = 0
  const opts = {
    url: msg.url,
    connections: msg.connections,
    pipelining: 1,
    timeout: 20,
    // autocannon notices the end of a round (amount reached, duration over) on this
    // tick only; its default, 1 s, would leave the service idle for up to a second.
    sampleInt: 25,
    ...(msg.amount !== undefined ? { amount: msg.amount } : { duration: msg.duration }),
    // Each client sends what `getRequestBuffer` returns, once per request (autocannon 9's
    // httpClient); `tokensUsed` proves the hook ran for every request.
    setupClient: (client) => {
      client.getRequestBuffer = () => {
        tokensUsed++
        // Wraps only in duration mode (one token); an amount-mode round has one per request.
        return bytes[cursor++ % bytes.length]
      }
    },
  }
  // autocannon's `duration` is rounded to 10 ms and includes connecting, so the
  // window is taken from the responses too: first request sent to last answer.
  const times = []
  let first = Infinity
  let last = -Infinity
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => {
      if (err) return reject(err)
      const sorted = Float64Array.from(times).sort()
      const responseTimesMs = { n: sorted.length, p50: quantileSorted(sorted, 0.5), p99: quantileSorted(sorted, 0.99), max: sorted.at(-1) }
      resolve({ ...result, tokensUsed, responseTimesMs, trafficSeconds: (last - first) / 1000 })
    })
    instance.on('response', (_client, _status, _bytes, ms) => {
      const now = performance.now()
      times.push(ms)
      if (now - ms < first) first = now - ms
      last = now
    })
  })
}

process.on('message', async (msg) => {
  try {
    if (msg.cmd === 'pool') {
      pools.set(msg.name, readFileSync(msg.file, 'utf8').split('\n').filter(Boolean))
      process.send({ id: msg.id, result: { name: msg.name, size: pools.get(msg.name).length } })
    } else if (msg.cmd === 'run') {
      const result = await run(msg)
      // The request-rate and throughput histograms are sampled once a second: not used.
      delete result.requests
      delete result.throughput
      process.send({ id: msg.id, result })
    } else if (msg.cmd === 'stop') {
      process.exit(0)
    }
  } catch (err) {
    process.send({ id: msg.id, error: String(err?.stack ?? err) })
  }
})
process.on('disconnect', () => process.exit(0))
process.send({ ready: true })
