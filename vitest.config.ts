import { svelte } from '@sveltejs/vite-plugin-svelte'
import { svelteTesting } from '@testing-library/svelte/vite'
import { defineConfig } from 'vitest/config'

const fromRoot = (path: string): string => new URL(path, import.meta.url).pathname

export default defineConfig({
  test: {
    allowOnly: false,
    projects: [
      {
        // Generous timeouts: CI machines may be loaded; speed is measured by the benchmarks, not by tests.
        test: { name: 'unit', environment: 'node', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        plugins: [svelte({ configFile: fromRoot('./svelte.config.js') }), svelteTesting()],
        test: {
          name: 'renderer',
          environment: 'jsdom',
          testTimeout: 20_000,
          include: ['test/renderer/**/*.test.ts'],
          setupFiles: ['test/renderer/setup.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          environment: 'node',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/buildOnce.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/buildOnce.ts'],
          testTimeout: 90_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
