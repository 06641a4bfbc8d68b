'use strict'
// What a verification tells its observers (lib/verify.js calls in here only while
// `observing()` is true): the `clerk-m2m-native:verify` TracingChannel around it, one
// `clerk-m2m-native:http` message per request native code made for it, and the debug line.
//
// The context describes the verification without carrying it: a short fingerprint of the token
// (never the token), the JWT's `kid`, where the answer came from, the token type, and on failure
// the code and the machine-readable reason; the machine id on success. The result object itself
// is not put on the context (it can hold claims): subscribers get what an operator needs.

const crypto = require('node:crypto')
const { performance } = require('node:perf_hooks')
const { verifyChannel, httpChannel } = require('./channels.js')
const { debugVerify, debugHttp } = require('./debug.js')

/** A short, one-way name for a token: 12 hex digits of its SHA-256 (enough to correlate, useless to replay). */
function fingerprint(token) {
  return sha256Hex(token).slice(0, 12)
}

// crypto.hash (Node ≥ 20.12) is the one-shot form: about half the cost of a Hash object.
const sha256Hex = typeof crypto.hash === 'function' ? (s) => crypto.hash('sha256', s, 'hex') : (s) => crypto.createHash('sha256').update(s).digest('hex')

const MAX_HEADER_CHARS = 1024
const KID_SHAPE = /^[A-Za-z0-9_.:-]{1,64}$/

/** The `kid` of a JWT's header, when the token is one and the kid looks like one (it is attacker-controlled text). */
function kidOf(token) {
  const dot = token.indexOf('.')
  if (dot <= 0 || dot > MAX_HEADER_CHARS) return undefined
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'))
    const kid = header !== null && typeof header === 'object' ? header.kid : undefined
    if (kid === undefined) return undefined
    return typeof kid === 'string' && KID_SHAPE.test(kid) ? kid : 'invalid'
  } catch {
    return undefined
  }
}

function newContext(token, m2mOnly, source) {
  return {
    mode: m2mOnly ? 'm2m' : 'machine',
    fingerprint: fingerprint(token),
    kid: kidOf(token),
    source,
    tokenType: undefined,
    outcome: undefined,
    code: undefined,
    reason: undefined,
    transport: undefined,
    machineId: undefined,
    httpRequests: 0,
    durationMs: undefined,
    startedAt: Date.now(),
  }
}

/** Fills the context from a settled result `{ data, tokenType, errors }`. */
function describeResult(ctx, result) {
  ctx.tokenType = result.tokenType
  if (result.errors) {
    const e = result.errors[0]
    ctx.outcome = 'rejected'
    ctx.code = e.code
    ctx.reason = e.reason
    if (e.cause && typeof e.cause.code === 'string') ctx.transport = e.cause.code
  } else {
    ctx.outcome = 'verified'
    if (result.tokenType === 'm2m_token' && result.data && typeof result.data.subject === 'string') ctx.machineId = result.data.subject
  }
}

/** The settled error's description (an Error the call rejects with: unroutable, internal). */
function describeError(ctx, err) {
  ctx.outcome = err && err.message === 'Unknown machine token type' ? 'unroutable' : 'error'
  ctx.code = ctx.outcome === 'unroutable' ? 'unroutable' : (err && typeof err.code === 'string' ? err.code : 'error')
}

function settle(ctx, t0) {
  ctx.durationMs = performance.now() - t0
}

/**
 * `verifier.verify(token, m2mOnly)` traced: `verifier.verify` is called with the context as its
 * third argument, so it says where the answer came from (`reuse`, `local`, `offload`, `remote`) and routes a
 * network call through {@link remote}.
 */
function traceVerify(verifier, token, m2mOnly) {
  const ctx = newContext(token, m2mOnly, undefined)
  const { start, end, asyncStart, asyncEnd, error } = verifyChannel
  const t0 = performance.now()
  return start.runStores(ctx, () => {
    let promise
    try {
      promise = verifier.verify(token, m2mOnly, ctx)
    } finally {
      end.publish(ctx)
    }
    return promise.then(
      (result) => {
        settle(ctx, t0)
        describeResult(ctx, result)
        asyncStart.publish(ctx)
        asyncEnd.publish(ctx)
        debugVerify(ctx)
        return result
      },
      (err) => {
        settle(ctx, t0)
        describeError(ctx, err)
        ctx.error = err
        error.publish(ctx)
        asyncStart.publish(ctx)
        asyncEnd.publish(ctx)
        debugVerify(ctx)
        throw err
      },
    )
  })
}

/** The network path, traced: the outcome text, after one http message per request it made. */
function remote(nativeVerifier, token, m2mOnly, ctx) {
  return nativeVerifier.verifyRemoteTraced(token, m2mOnly).then(([outcomeJson, eventsJson]) => {
    let events = []
    try {
      events = JSON.parse(eventsJson)
    } catch {
      // Native code always sends a JSON array; nothing to report otherwise.
    }
    for (const e of events) publishHttp(e, ctx)
    return outcomeJson
  })
}

/**
 * An M2M client call (`createToken`, `revokeToken`, `list`, `verifyOpaque`) traced: the outcome
 * text, after one http message per request it made (with `operation`, and no `verify`).
 */
function clientCall(nativeClient, operation, arg, machineSecretKey) {
  return nativeClient.callTraced(operation, arg, machineSecretKey).then(([outcomeJson, eventsJson]) => {
    let events = []
    try {
      events = JSON.parse(eventsJson)
    } catch {
      // Native code always sends a JSON array; nothing to report otherwise.
    }
    for (const e of events) publishHttp(e, undefined, operation)
    return outcomeJson
  })
}

/**
 * One `clerk-m2m-native:http` message; `verify` is the context of the verification that made it,
 * `operation` the M2M client call that made it (one of the two, or neither).
 */
function publishHttp(e, verifyContext, operation) {
  const message = {
    method: e.method,
    route: e.route,
    status: e.status ?? undefined,
    attempts: e.attempts,
    startedAt: e.startedAt,
    durationMs: e.durationMs,
    retryAfter: e.retryAfter ?? undefined,
    error: e.error ?? undefined,
    verify: verifyContext,
    operation,
  }
  if (verifyContext) verifyContext.httpRequests += 1
  if (httpChannel.hasSubscribers) httpChannel.publish(message)
  debugHttp(message)
}

/**
 * A batch traced: one verify context per token (source `batch`), started together and settled
 * when the batch settles. `run()` resolves one result (or Error) per token.
 */
function traceBatch(tokens, m2mOnly, run) {
  const { start, end, asyncStart, asyncEnd, error } = verifyChannel
  const t0 = performance.now()
  const contexts = tokens.map((t) => newContext(t, m2mOnly, 'batch'))
  for (const ctx of contexts) {
    start.publish(ctx)
    end.publish(ctx)
  }
  const finish = (ctx, entry) => {
    settle(ctx, t0)
    if (entry instanceof Error) {
      describeError(ctx, entry)
      ctx.error = entry
      error.publish(ctx)
    } else {
      describeResult(ctx, entry)
    }
    asyncStart.publish(ctx)
    asyncEnd.publish(ctx)
    debugVerify(ctx)
  }
  return run().then(
    (results) => {
      results.forEach((r, i) => finish(contexts[i], r))
      return results
    },
    (err) => {
      for (const ctx of contexts) finish(ctx, err)
      throw err
    },
  )
}

module.exports = { traceVerify, traceBatch, remote, clientCall, fingerprint, kidOf }
