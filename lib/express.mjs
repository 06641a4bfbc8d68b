import cjs from './express.js'

export const {
  requireMachine,
  machineAuth,
  getMachine,
} = cjs

export default cjs
