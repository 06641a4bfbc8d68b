import cjs from './next.js'

export const {
  withMachine,
} = cjs

export default cjs
