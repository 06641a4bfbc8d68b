// The service of the end-to-end workload: a small HTTP API in its own process
// that authenticates every request's `Authorization: Bearer <token>` the way
// an application would, and answers 200 with the caller's subject or 401.
// Forked by bench/lib/e2e/run-e2e.mjs with an IPC channel:
//
//   node bench/lib/e2e/service.mjs '{"auth":"native","framework":"node:http","pemFile":…,"root":…}'
//
// auth: none (the ceiling: same service, no verification) | reference
// (@clerk/backend's verifyMachineAuthToken) | native (this package's drop-in
// verifyMachineAuthToken, options object reused) | verifier (createM2MVerifier,
// built once). The parent asks for `snapshot` before and after each round and
// does the arithmetic (metrics.mjs): event-loop active time, process CPU and
// requests answered, all read inside this process.
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'

const cfg = JSON.parse(process.argv[2])

/** `(token) => Promise<result>` for each `auth`; null for the ceiling. */
async function authenticator({ auth, pemFile, root }) {
  const options = { jwtKey: readFileSync(pemFile, 'utf8') }
  const pkg = () => createRequire(join(root, 'package.json'))(join(root, 'lib', 'index.js'))
  switch (auth) {
    case 'none':
      return null
    case 'reference': {
      const { verifyMachineAuthToken } = await import('@clerk/backend/internal')
      return (token) => verifyMachineAuthToken(token, options)
    }
    case 'native': {
      const { verifyMachineAuthToken } = pkg()
      return (token) => verifyMachineAuthToken(token, options)
    }
    case 'verifier': {
      const verifier = pkg().createM2MVerifier(options)
      return (token) => verifier.verify(token)
    }
    default:
      throw new Error(`unknown auth ${auth}`)
  }
}

const counters = { served: 0, accepted: 0, rejected: 0, failed: 0 }
const CEILING_BODY = JSON.stringify({ subject: 'mch_anonymous_________________' })
const UNAUTHORIZED_BODY = JSON.stringify({ error: 'unauthorized' })

function bearer(header) {
  return typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : ''
}

/**
 * The request handler, framework-free: `(authorizationHeader, reply(status, body))`.
 * Every framework below adapts it, so rows differ only in the framework's own cost.
 */
function handlerFor(verify) {
  if (!verify) {
    return (_header, reply) => {
      counters.served++
      reply(200, CEILING_BODY)
    }
  }
  return (header, reply) => {
    const token = bearer(header)
    if (!token) {
      counters.served++
      counters.rejected++
      return reply(401, UNAUTHORIZED_BODY)
    }
    verify(token).then(
      (r) => {
        counters.served++
        if (r.errors) {
          counters.rejected++
          reply(401, UNAUTHORIZED_BODY)
        } else {
          counters.accepted++
          reply(200, JSON.stringify({ subject: r.data.subject }))
        }
      },
      () => {
        counters.served++
        counters.failed++
        reply(500, UNAUTHORIZED_BODY)
      },
    )
  }
}

/**
 * Frameworks the service can run on, each `(handle) => Promise<http.Server>` listening
 * on 127.0.0.1 with an ephemeral port. A Fastify row is one more entry here (its
 * adapter's preHandler in place of `handle`) and its name in run-e2e.mjs's FRAMEWORKS.
 */
const FRAMEWORKS = {
  'node:http': async (handle) => {
    const server = http.createServer((req, res) =>
      handle(req.headers.authorization, (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        res.end(body)
      }),
    )
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    return server
  },
}

function snapshot() {
  return { ...counters, elu: performance.eventLoopUtilization(), cpu: process.cpuUsage(), now: performance.now(), rss: process.memoryUsage.rss() }
}

const start = FRAMEWORKS[cfg.framework]
if (!start) throw new Error(`unknown framework ${cfg.framework} (have: ${Object.keys(FRAMEWORKS).join(', ')})`)
const server = await start(handlerFor(await authenticator(cfg)))
process.on('message', (msg) => {
  if (msg?.cmd === 'snapshot') process.send({ id: msg.id, snapshot: snapshot() })
  else if (msg?.cmd === 'stop') process.exit(0)
})
// The parent going away ends the service too (no orphan listening on a port).
process.on('disconnect', () => process.exit(0))
process.send({ ready: true, port: server.address().port })
