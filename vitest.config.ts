import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['__test__/**/*.test.ts'],
    // forks: addon errors must stay same-realm (vm pools break `instanceof Error`).
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // expect.poll waits for a browser page or a server under a loaded CI machine: 1 s (the default) is
    // too short while the other test files run; a passing poll returns as soon as it passes.
    expect: { poll: { timeout: 10_000 } },
    // The catalogue census: records which row tests ran and asserted (scripts/census.mjs).
    setupFiles: ['__test__/helpers/census.ts'],
    includeTaskLocation: true,
  },
})
