#!/usr/bin/env node
// Runs the Fastify receiver against a local Clerk Backend API emulator: node examples/fastify/run.mjs
// Exits 0 when every call ends as expected.
import { startServer } from './server.mjs'
import { main } from '../receiver-scenarios.mjs'

await main('Fastify', startServer)
