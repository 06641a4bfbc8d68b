'use strict'
// The package's diagnostics channels: one home for their names, and the check the hot paths make
// before doing anything for them. With no subscriber (and NODE_DEBUG off) that check is all a
// verification pays.

const dc = require('node:diagnostics_channel')
const { debugEnabled } = require('./debug.js')

/** A TracingChannel around every verification: start/end/asyncStart/asyncEnd/error. */
const VERIFY = 'clerk-m2m-native:verify'
/** One message per Backend API or JWKS request made by native code. */
const HTTP = 'clerk-m2m-native:http'
/** Token-provider refreshes: `refresh`, `refresh-failed`, `stale`. */
const TOKEN_PROVIDER = 'clerk-m2m-native:token-provider'

const verifyChannel = dc.tracingChannel(VERIFY)
const httpChannel = dc.channel(HTTP)
const tokenProviderChannel = dc.channel(TOKEN_PROVIDER)

// TracingChannel#hasSubscribers is newer than Node 20.0: ask its five channels.
const { start, end, asyncStart, asyncEnd, error } = verifyChannel

/** True when a verification must be observed: a subscriber on the verify or http channel, or the debug log. */
function observing() {
  return debugEnabled || start.hasSubscribers || asyncEnd.hasSubscribers || httpChannel.hasSubscribers || error.hasSubscribers || end.hasSubscribers || asyncStart.hasSubscribers
}

/** The names, as the package exports them (`diagnosticsChannels`). */
const diagnosticsChannels = Object.freeze({ verify: VERIFY, http: HTTP, tokenProvider: TOKEN_PROVIDER })

/** True when a request of the M2M client must be observed: an http subscriber, or the debug log. */
function observingRequests() {
  return debugEnabled || httpChannel.hasSubscribers
}

module.exports = { VERIFY, HTTP, TOKEN_PROVIDER, diagnosticsChannels, verifyChannel, httpChannel, tokenProviderChannel, observing, observingRequests }
