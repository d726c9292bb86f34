import { describe, expect, it } from 'vitest'
import { DEFAULT_CORPUS_SETTINGS, importParamsSchema } from '../../../../src-main/shared/types/corpus'
import { DEFAULT_SETTINGS_HINT, EMPTY_OPTIONS, toImportParams, type ImportOptionsForm } from '../../../../src-renderer/src/screens/Import/importOptions'

const form = (overrides: Partial<ImportOptionsForm>): ImportOptionsForm => ({ ...EMPTY_OPTIONS, ...overrides })

describe('toImportParams', () => {
  it.each([
    ['no options', [], {}],
    ['all options', ['/a', '/b'], { chunkTokens: '256', overlapTokens: '32', nearDuplicateThreshold: '0.9', textField: 'body' }],
    ['smallest chunk', ['/a'], { chunkTokens: '16', overlapTokens: '0' }],
    ['chunk too small', ['/a'], { chunkTokens: '15' }],
    ['chunk too large', ['/a'], { chunkTokens: '32769' }],
    ['largest chunk', ['/a'], { chunkTokens: '32768' }],
    ['fractional chunk', ['/a'], { chunkTokens: '100.5' }],
    ['negative overlap', ['/a'], { overlapTokens: '-1' }],
    ['overlap alone', ['/a'], { overlapTokens: '32767' }],
    ['overlap equal to chunk', ['/a'], { chunkTokens: '64', overlapTokens: '64' }],
    ['threshold 0', ['/a'], { nearDuplicateThreshold: '0' }],
    ['threshold 1', ['/a'], { nearDuplicateThreshold: '1' }],
    ['threshold not a number', ['/a'], { nearDuplicateThreshold: 'high' }],
    ['long text field', ['/a'], { textField: 'x'.repeat(201) }],
    ['blank path only', ['   '], {}],
    ['overlong path', ['/' + 'a'.repeat(4096)], {}],
  ] as const)('agrees with importParamsSchema: %s', (_name, rawPaths, fields) => {
    const paths = rawPaths.length === 0 ? ['/docs'] : [...rawPaths]
    const { params, errors } = toImportParams(paths, form(fields))
    const expected = importParamsSchema.safeParse({
      paths: paths.map((p) => p.trim()).filter(Boolean),
      ...Object.fromEntries(
        Object.entries(fields)
          .filter(([key]) => key !== 'textField')
          .map(([key, value]) => [key, Number(value)]),
      ),
      ...('textField' in fields ? { textField: fields.textField } : {}),
    })
    expect(params !== null).toBe(expected.success)
    if (expected.success) {
      expect(params).toEqual(expected.data)
      expect(errors).toEqual({})
    } else {
      expect(Object.keys(errors).length).toBeGreaterThan(0)
    }
  })

  it('names the field at fault', () => {
    expect(toImportParams([], EMPTY_OPTIONS).errors).toEqual({ paths: 'Choose at least one file or folder' })
    expect(toImportParams(['/a'], form({ chunkTokens: '64', overlapTokens: '64' })).errors).toEqual({ overlapTokens: 'Overlap must be smaller than the chunk size' })
    expect(toImportParams(['/a'], form({ chunkTokens: 'abc' })).errors).toEqual({ chunkTokens: 'Chunk size must be a whole number' })
  })

  it('shows the real defaults as placeholders', () => {
    expect(DEFAULT_SETTINGS_HINT).toEqual({
      chunkTokens: DEFAULT_CORPUS_SETTINGS.chunkTokens,
      overlapTokens: DEFAULT_CORPUS_SETTINGS.overlapTokens,
      nearDuplicateThreshold: DEFAULT_CORPUS_SETTINGS.nearDuplicateThreshold,
    })
  })
})
