import cjs from './fastify.js'

export const {
  machineAuthPlugin,
  requireMachine,
  getMachine,
} = cjs

export default cjs
