import cjs from './emulator.js'

export const { startEmulator, emulatorCommand } = cjs

export default cjs
