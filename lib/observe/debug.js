'use strict'
// NODE_DEBUG=clerk-m2m-native: one line per verification, per HTTP request and per token-provider
// refresh, through util.debuglog. Lines are built from the observation contexts only (codes,
// route templates, fingerprints), never from a token, key or secret; when the log is off
// nothing is formatted.

const { debuglog } = require('node:util')

const log = debuglog('clerk-m2m-native')
/** Read once: NODE_DEBUG is fixed when the process starts. */
const debugEnabled = log.enabled === true

const ms = (n) => (typeof n === 'number' ? `${n.toFixed(1)}ms` : '-')

function debugVerify(ctx) {
  if (!debugEnabled) return
  const what = ctx.outcome === 'verified' ? `ok machine=${ctx.machineId ?? '-'}` : `${ctx.outcome} code=${ctx.code ?? '-'} reason=${ctx.reason ?? '-'}`
  log('verify %s type=%s source=%s kid=%s fp=%s %s %s', ctx.mode, ctx.tokenType ?? '-', ctx.source ?? '-', ctx.kid ?? '-', ctx.fingerprint, what, ms(ctx.durationMs))
}

function debugHttp(e) {
  if (!debugEnabled) return
  log('http %s %s status=%s attempts=%d retryAfter=%s error=%s %s%s', e.method, e.route, e.status ?? '-', e.attempts, e.retryAfter ?? '-', e.error ?? '-', ms(e.durationMs), e.operation ? ` op=${e.operation}` : '')
}

function debugTokenProvider(m) {
  if (!debugEnabled) return
  log('token-provider %s fp=%s expiresAt=%s code=%s %s', m.event, m.fingerprint ?? '-', m.expiresAt ?? '-', m.code ?? '-', ms(m.durationMs))
}

module.exports = { debugEnabled, debugVerify, debugHttp, debugTokenProvider }
