import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/commands/**/*.test.ts'],
          testTimeout: 30_000,
          // Vitest's default, one worker fewer than CPUs, is one worker on a 2-core CI machine: the
          // files ran one after another, the other core idle while a worker waited on the CLI it spawned.
          maxWorkers: availableParallelism(),
          // A worker reuses its module graph from file to file instead of importing src/ afresh for each
          // (about 40% of test/unit's CPU time). Safe here: no test mocks a module or stubs a global, src/
          // keeps only load-once caches at module level, and the one test that sets process.env restores it.
          isolate: false,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Without the fleet the suites skip; under CI=true the run fails here instead.
          globalSetup: ['test/integration/helpers/fleet-gate.ts'],
          // The fleet is one shared set of hosts: integration files run one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
})
