import { resolve } from 'node:path'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'electron-vite'

const fromRoot = (path: string): string => resolve(import.meta.dirname, path)

export default defineConfig({
  main: {
    build: {
      rolldownOptions: {
        // The CLI is built with the main process so both share one copy of core and the job worker.
        input: { index: fromRoot('src-main/index.ts'), cli: fromRoot('src-main/cli/main.ts') },
      },
    },
  },
  preload: {
    build: {
      rolldownOptions: {
        input: { index: fromRoot('src-main/preload/index.ts') },
        // A sandboxed preload must be one CommonJS file.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: fromRoot('src-renderer'),
    base: './',
    build: { minify: true, rolldownOptions: { input: { index: fromRoot('src-renderer/index.html') } } },
    plugins: [svelte({ configFile: fromRoot('svelte.config.js') })],
  },
})
