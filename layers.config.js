// @ts-check
/**
 * Who may import whom (specs/style.md, "Who may import whom"). eslint.config.js turns this table into
 * import rules, and test/unit/architecture/layers.test.ts fails when a source file belongs to no layer.
 */

/** @typedef {{ name: string, files: string[], mayImport: string[], packages: 'none' | 'node' | 'electron' | 'preload' | 'renderer' }} Layer */

// A file belongs to the most specific layer whose folder holds it (core/model is its own layer inside core).
// Whoever may import core may import its nested layers too.

/** @type {Layer[]} */
export const LAYERS = [
  { name: 'shared', files: ['src-main/shared/**'], mayImport: ['shared'], packages: 'none' },
  { name: 'core', files: ['src-main/core/**'], mayImport: ['shared', 'core', 'model', 'autodiff'], packages: 'node' },
  // Model files and the autodiff work on multi-GB data through byte sources and sinks the caller passes in:
  // no fs, no Node built-ins, so they stay testable and usable from any thread.
  { name: 'model', files: ['src-main/core/model/**'], mayImport: ['shared', 'model', 'autodiff'], packages: 'none' },
  { name: 'autodiff', files: ['src-main/core/autodiff/**'], mayImport: ['shared', 'autodiff', 'model'], packages: 'none' },
  { name: 'ipc', files: ['src-main/ipc/**'], mayImport: ['shared', 'core', 'model', 'autodiff', 'ipc'], packages: 'node' },
  { name: 'workers', files: ['src-main/workers/**'], mayImport: ['shared', 'core', 'model', 'autodiff', 'workers'], packages: 'node' },
  { name: 'cli', files: ['src-main/cli/**'], mayImport: ['shared', 'core', 'model', 'autodiff', 'cli', 'workers'], packages: 'node' },
  { name: 'devbridge', files: ['src-main/devbridge/**'], mayImport: ['shared', 'core', 'model', 'autodiff', 'ipc', 'devbridge', 'workers'], packages: 'node' },
  {
    name: 'electron',
    files: ['src-main/electron/**', 'src-main/index.ts', 'src-main/env.d.ts'],
    mayImport: ['shared', 'core', 'model', 'autodiff', 'ipc', 'workers', 'electron'],
    packages: 'electron',
  },
  { name: 'preload', files: ['src-main/preload/**'], mayImport: ['shared', 'preload'], packages: 'preload' },
  { name: 'renderer', files: ['src-renderer/**'], mayImport: ['shared', 'renderer'], packages: 'renderer' },
]

/** Packages that only the main process may load. */
export const NATIVE_PACKAGES = ['better-sqlite3', 'onnxruntime-node', 'node-llama-cpp']
