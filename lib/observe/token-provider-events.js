'use strict'
// `clerk-m2m-native:token-provider` messages: a refresh that minted a token (`refresh`), one that
// failed (`refresh-failed`), and a cached token served after a failed refresh (`stale`). A token
// is named by its fingerprint only; an error by its code and status.

const { tokenProviderChannel } = require('./channels.js')
const { debugEnabled, debugTokenProvider } = require('./debug.js')
const { fingerprint } = require('./verify-events.js')

/** True when a message would be read: the hot `getToken()` path checks this first. */
const observed = () => debugEnabled || tokenProviderChannel.hasSubscribers

function publish(message) {
  if (tokenProviderChannel.hasSubscribers) tokenProviderChannel.publish(message)
  debugTokenProvider(message)
}

function refreshed(current, durationMs) {
  if (!observed()) return
  publish({ event: 'refresh', fingerprint: fingerprint(current.token), expiresAt: current.expiresAt, durationMs })
}

function refreshFailed(err, durationMs, nextAttemptAt) {
  if (!observed()) return
  const code = err && typeof err.code === 'string' ? err.code : undefined
  const status = err && typeof err.status === 'number' ? err.status : undefined
  const retryAfter = err && typeof err.retryAfter === 'number' ? err.retryAfter : undefined
  publish({ event: 'refresh-failed', code, status, retryAfter, durationMs, nextAttemptAt })
}

function servedStale(current) {
  if (!observed()) return
  publish({ event: 'stale', fingerprint: fingerprint(current.token), expiresAt: current.expiresAt })
}

module.exports = { refreshed, refreshFailed, servedStale }
