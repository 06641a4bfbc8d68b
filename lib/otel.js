'use strict'
// `clerk-m2m-native/otel`: OpenTelemetry spans from the package's diagnostics channels.
//
//   clerk_m2m.verify   one span per verification (INTERNAL), a child of whatever span is active
//   clerk_m2m.http     one span per Backend API / JWKS request native code made for it (CLIENT),
//                      a child of its verification, drawn with the request's own start and end;
//                      for an M2M client call (createToken…), a child of the active span
//
// Attribute names follow the OpenTelemetry semantic conventions where one exists
// (`http.request.method`, `http.response.status_code`, `url.template`, `error.type`,
// `http.request.resend_count`); the package's own are under `clerk_m2m.`. Nothing secret is
// available to this module: the channels carry fingerprints, codes and route templates only.
//
// `@opentelemetry/api` is an optional peer dependency, loaded when `instrument()` is called.

const { verifyChannel, httpChannel } = require('./observe/channels.js')

const INSTRUMENTATION_NAME = 'clerk-m2m-native'
const INSTRUMENTATION_VERSION = require('../package.json').version

function loadApi() {
  try {
    return require('@opentelemetry/api')
  } catch (e) {
    const err = new Error("clerk-m2m-native/otel needs '@opentelemetry/api' (an optional peer dependency): npm install @opentelemetry/api", { cause: e })
    err.code = 'otel-api-missing'
    throw err
  }
}

/** Sets the attributes whose value is known (OpenTelemetry drops undefined, but says so in debug logs). */
function setDefined(span, attributes) {
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined && v !== null) span.setAttribute(k, v)
}

/**
 * Subscribes to the channels and turns them into spans until `disable()` is called.
 * Options: `tracerProvider` (default: the global one registered with `@opentelemetry/api`).
 */
function instrument(options = {}) {
  const api = loadApi()
  const { SpanKind, SpanStatusCode, context, trace } = api
  const provider = options && options.tracerProvider ? options.tracerProvider : trace
  const tracer = provider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION)
  /** Verification context → its span, while it is open. */
  const spans = new WeakMap()

  const verifyHandlers = {
    start(ctx) {
      const span = tracer.startSpan('clerk_m2m.verify', { kind: SpanKind.INTERNAL }, context.active())
      setDefined(span, { 'clerk_m2m.mode': ctx.mode, 'clerk_m2m.token.fingerprint': ctx.fingerprint, 'clerk_m2m.jwt.kid': ctx.kid, 'clerk_m2m.source': ctx.source })
      spans.set(ctx, span)
    },
    end() {},
    asyncStart() {},
    error(ctx) {
      const span = spans.get(ctx)
      if (span === undefined) return
      // The rejection's own message ('Unknown machine token type'): no token text in it.
      if (ctx.error instanceof Error) span.recordException({ name: ctx.error.name, message: ctx.error.message })
    },
    asyncEnd(ctx) {
      const span = spans.get(ctx)
      if (span === undefined) return
      spans.delete(ctx)
      setDefined(span, {
        'clerk_m2m.source': ctx.source,
        'clerk_m2m.token.type': ctx.tokenType,
        'clerk_m2m.outcome': ctx.outcome,
        'clerk_m2m.machine.id': ctx.machineId,
        'clerk_m2m.error.code': ctx.code,
        'clerk_m2m.error.reason': ctx.reason,
        'clerk_m2m.error.transport': ctx.transport,
        'clerk_m2m.http.requests': ctx.httpRequests,
      })
      if (ctx.outcome !== 'verified') {
        span.setAttribute('error.type', ctx.code ?? ctx.outcome ?? 'error')
        span.setStatus({ code: SpanStatusCode.ERROR, message: ctx.reason ?? ctx.code })
      }
      span.end()
    },
  }

  function onHttp(msg) {
    const parent = msg.verify ? spans.get(msg.verify) : undefined
    const parentContext = parent ? trace.setSpan(context.active(), parent) : context.active()
    const span = tracer.startSpan('clerk_m2m.http', { kind: SpanKind.CLIENT, startTime: msg.startedAt }, parentContext)
    setDefined(span, {
      'http.request.method': msg.method,
      'url.template': msg.route,
      'http.response.status_code': msg.status,
      'http.request.resend_count': msg.attempts > 1 ? msg.attempts - 1 : undefined,
      'clerk_m2m.http.attempts': msg.attempts,
      'clerk_m2m.http.retry_after': msg.retryAfter,
      'clerk_m2m.operation': msg.operation,
    })
    const errorType = msg.error ?? (typeof msg.status === 'number' && msg.status >= 400 ? String(msg.status) : undefined)
    if (errorType !== undefined) {
      span.setAttribute('error.type', errorType)
      span.setStatus({ code: SpanStatusCode.ERROR })
    }
    span.end(msg.startedAt + msg.durationMs)
  }

  verifyChannel.subscribe(verifyHandlers)
  httpChannel.subscribe(onHttp)
  let enabled = true
  return {
    /** Stops making spans; spans of verifications still in flight are not ended (and so not exported). */
    disable() {
      if (!enabled) return
      enabled = false
      verifyChannel.unsubscribe(verifyHandlers)
      httpChannel.unsubscribe(onHttp)
    },
  }
}

module.exports = { instrument, INSTRUMENTATION_NAME }
