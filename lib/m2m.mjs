import cjs from './m2m.js'

export const { createM2MClient, M2MClient, M2MToken } = cjs

export default cjs
