#!/usr/bin/env node
// Runs the Express receiver against a local Clerk Backend API emulator: node examples/express/run.mjs
// Exits 0 when every call ends as expected.
import { startServer } from './server.mjs'
import { main } from '../receiver-scenarios.mjs'

await main('Express', startServer)
