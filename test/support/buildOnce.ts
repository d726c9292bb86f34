import { build } from 'electron-vite'

/**
 * Builds main, preload, CLI and renderer bundles once per test run, so integration and end-to-end tests
 * exercise the same files the app ships. Both projects list this setup; the second call finds it done.
 */
export default async function buildOnce(): Promise<void> {
  if (process.env['LECTERN_TEST_BUILT'] === '1') return
  await build({ configFile: new URL('../../electron.vite.config.ts', import.meta.url).pathname, logLevel: 'warn' })
  process.env['LECTERN_TEST_BUILT'] = '1'
}
