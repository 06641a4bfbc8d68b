'use strict'
// What edge runtimes and browsers get (the `edge-light`, `workerd` and `browser` export
// conditions): a native addon cannot load there, and napi's loader would fail on `fs` with an
// unrelated message. This says so at import time.

const error = new Error(
  'clerk-m2m-native needs the Node.js runtime: it is a native addon, which edge runtimes (Vercel Edge, ' +
    'Cloudflare Workers) and browsers cannot load. In Next.js, add `export const runtime = "nodejs"` to the ' +
    'route or page, and list the package in `serverExternalPackages`.',
)
error.name = 'UnsupportedRuntimeError'
error.code = 'ERR_CLERK_M2M_NATIVE_RUNTIME'
throw error
