import cjs from './hono.js'

export const {
  requireMachine,
  machineAuth,
} = cjs

export default cjs
