import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/commands/**/*.test.ts'],
          testTimeout: 30_000,
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
