import js from '@eslint/js'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import importX from 'eslint-plugin-import-x'
import svelte from 'eslint-plugin-svelte'
import globals from 'globals'
import tseslint from 'typescript-eslint'
import { LAYERS, NATIVE_PACKAGES } from './layers.config.js'

const NODE_BUILTINS = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'url', 'util', 'http', 'net']

/** Import bans by the kind of packages a layer may use. */
function packageBans(kind) {
  const electron = { group: ['electron'], message: 'Only src-main/index.ts, src-main/electron/** and src-main/preload/** may import electron.' }
  const node = { group: NODE_BUILTINS, message: 'This layer runs outside Node (renderer, sandboxed preload or shared contract).' }
  const native = { group: NATIVE_PACKAGES, message: 'Native packages load only in the main process (core).' }
  switch (kind) {
    case 'none':
      return [electron, node, native]
    case 'node':
      return [electron]
    case 'electron':
      return []
    case 'preload':
      return [node, native, { group: ['zod'], message: 'The sandboxed preload is one dependency-free file.' }]
    case 'renderer':
      return [electron, node, native]
    default:
      throw new Error(`unknown package kind ${kind}`)
  }
}

const folderOf = (glob) => './' + glob.replace(/\/\*\*$/, '')

/**
 * import-x/no-restricted-paths zones: each layer's files may not import from layers outside its list. When a
 * forbidden layer's folder holds nested layers (core holds model), those that are allowed are excepted.
 */
function layerZones() {
  const folders = LAYERS.flatMap((layer) => layer.files.map((glob) => ({ layer, folder: folderOf(glob) })))
  return LAYERS.flatMap((layer) =>
    LAYERS.filter((other) => other !== layer && !layer.mayImport.includes(other.name)).flatMap((other) =>
      layer.files.flatMap((target) =>
        other.files.map((from) => {
          const fromFolder = folderOf(from)
          const except = folders
            .filter((f) => f.folder.startsWith(fromFolder + '/') && (f.layer === layer || layer.mayImport.includes(f.layer.name)))
            .map((f) => '.' + f.folder.slice(fromFolder.length))
          return {
            target: folderOf(target),
            from: fromFolder,
            ...(except.length ? { except } : {}),
            message: `Bad layering: ${layer.name} may import only from ${layer.mayImport.join(', ')}, not ${other.name}.`,
          }
        }),
      ),
    ),
  )
}

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', '.lectern-dev/**', 'build/makeIcons.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs', '.svelte'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['tsconfig.node.json', 'tsconfig.web.json'], noWarnOnMultipleProjects: true })],
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='only']", message: 'Focused tests hide the rest of the suite.' }],
    },
  },
  {
    files: ['src-renderer/**/*.svelte', 'src-renderer/**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    files: ['src-renderer/**', 'src-main/devbridge/browser/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['src-main/**', 'src-renderer/**'],
    rules: { 'import-x/no-restricted-paths': ['error', { zones: layerZones() }] },
  },
  ...LAYERS.map((layer) => ({
    files: layer.files.map((glob) => (glob.endsWith('**') ? `${glob}/*` : glob)),
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: packageBans(layer.packages) }] },
  })),
  {
    // The browser stand-in for the preload runs in the page: same bans as the preload.
    files: ['src-main/devbridge/browser/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: packageBans('renderer') }] },
  },
  {
    files: ['src-main/core/**'],
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
)
