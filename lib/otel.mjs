import cjs from './otel.js'

export const { instrument, INSTRUMENTATION_NAME } = cjs

export default cjs
