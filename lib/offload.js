'use strict'
// When a verification leaves the event loop: the JS side of the offload policy.
//
// A lone call verifies on the calling thread, as it always has: no thread hop, no
// extra promise. When calls overlap, the RSA work goes to the core's worker threads
// (one per core, at most 8: crates/clerk-m2m-core/src/offload.rs) so that the loop
// keeps serving; a call overlaps when
//   - answers handed to the workers are still pending, or
//   - another call already verified on the loop in this synchronous turn
//     (`Promise.all(tokens.map(verify))`), or
//   - another callback of this event-loop iteration already verified on the loop (an
//     HTTP service: each request is its own callback, and several arrive per iteration
//     under load). Calls that follow each other through `await` in one callback are
//     sequential, not overlapping: they stay on the loop.
// The workers answer in submission order; one wake-up drains every answer ready by then
// in one crossing, and each is settled exactly as the calling thread would settle it
// (`settle`, lib/verify.js). Bounded: a lane holds at most `laneMax` pending answers
// (LANE_MAX in the core); past it, calls verify on the loop again.

const native = require('./native.js')
// The timers module's own functions, not the globals: test suites that fake timers replace the
// globals, and offloaded calls must still start and settle.
const { setImmediate, setInterval } = require('node:timers')

/** Calls handed over and not yet settled, oldest first (the order the lane answers in). */
const waiting = []
let lane = null
/** Holds the process open while answers are pending (the lane's wake-up does not). */
let keepAlive = null

// "Already verified on the loop" in this synchronous turn / this callback / this loop iteration.
let inTurn = false
let inCallback = false
let inIteration = false
const endTurn = () => {
  inTurn = false
}
const endCallback = () => {
  inCallback = false
}
const endIteration = () => {
  inIteration = false
}

/** Records a verification on the loop (each reset is scheduled once, when its flag goes up). */
function onLoop() {
  if (!inTurn) {
    inTurn = true
    queueMicrotask(endTurn)
  }
  if (!inCallback) {
    inCallback = true
    process.nextTick(endCallback)
  }
  if (!inIteration) {
    inIteration = true
    setImmediate(endIteration)
  }
}

// Idle worker threads are woken once per event-loop iteration (the check phase), for every
// call handed over in it: each wake-up is a futex call (and on a VM an interrupt to another
// core), a few µs of loop time that one request each would pay.
let startPending = false
const startWorkers = () => {
  startPending = false
  lane.start()
}

const overlaps = () => waiting.length > 0 || inTurn || (inIteration && !inCallback)

/** What the lane hands back for a verification that panicked in its worker thread (a bug). */
function internalError() {
  const e = new Error('clerk-m2m-native: a verification failed on a worker thread (an internal error; please report it)')
  e.code = 'GenericFailure'
  return e
}

function settle(entry, answer) {
  try {
    if (answer === '!') entry.reject(internalError())
    else entry.resolve(entry.verifier.settle(entry.map, entry.token, entry.m2mOnly, answer === '' ? null : answer, entry.native, entry.ctx, 'offload'))
  } catch (e) {
    entry.reject(e)
  }
}

/** The lane's wake-up: every answer ready, in order. */
function onReady() {
  const answers = lane.drain()
  for (let i = 0; i < answers.length; i++) settle(waiting.shift(), answers[i])
  if (waiting.length === 0) keepAlive.unref()
}

/**
 * A promise of the result when this call overlaps others and a worker thread takes it;
 * `undefined` when the caller should verify on the loop (it is then counted as such).
 * `verifier` is lib/verify.js's Verifier; `map` its reuse map for `m2mOnly`; `ctx` the
 * verify channel's context when the call is observed.
 */
function offload(verifier, map, token, m2mOnly, ctx) {
  if (!overlaps()) {
    onLoop()
    return undefined
  }
  if (lane === null) lane = new native.NativeOffload(onReady)
  if (!lane.submit(verifier.native, token, m2mOnly)) {
    onLoop()
    return undefined
  }
  verifier.offloaded += 1
  if (!startPending) {
    startPending = true
    setImmediate(startWorkers)
  }
  if (waiting.length === 0) {
    if (keepAlive === null) keepAlive = setInterval(() => {}, 2 ** 30)
    keepAlive.ref()
  }
  return new Promise((resolve, reject) => {
    waiting.push({ verifier, native: verifier.native, map, token, m2mOnly, ctx, resolve, reject })
  })
}

/** The lane's counters: handed over, refused (lane full), answered, pending; its bound and the pool's threads. */
function offloadStats() {
  const s = lane === null ? { submitted: 0, refused: 0, delivered: 0, inFlight: 0, laneMax: null, threads: null } : lane.stats()
  return { ...s, waiting: waiting.length }
}

module.exports = { offload, offloadStats }
