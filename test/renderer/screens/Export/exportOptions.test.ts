import { describe, expect, it } from 'vitest'
import * as shared from '../../../../src-main/shared/types/export'
import {
  CLUSTER_LAUNCHERS,
  DEFAULT_EXPORT_TYPE,
  EMPTY_EXPORT_FORM,
  EXPORT_FORMATS,
  EXPORT_TYPES,
  formatSmall,
  joinPath,
  SAFETENSORS_EXPORT_TYPES,
  toExportParams,
  typesFor,
  withFormat,
  type ExportForm,
} from '../../../../src-renderer/src/screens/Export/exportOptions'
import { makeRun } from './exportFixtures'

const form = (patch: Partial<ExportForm> = {}): ExportForm => ({ ...EMPTY_EXPORT_FORM, folder: '/home/me/models', ...patch })

describe('export options', () => {
  it('keeps the renderer’s lists in step with the contract', () => {
    expect(EXPORT_FORMATS).toEqual(shared.EXPORT_FORMATS)
    expect(EXPORT_TYPES).toEqual(shared.EXPORT_TYPES)
    expect(SAFETENSORS_EXPORT_TYPES).toEqual(shared.SAFETENSORS_EXPORT_TYPES)
    expect(DEFAULT_EXPORT_TYPE).toEqual(shared.DEFAULT_EXPORT_TYPE)
    expect(CLUSTER_LAUNCHERS).toEqual(shared.CLUSTER_LAUNCHERS)
  })

  it('builds parameters the schema accepts for every format with its default type', () => {
    for (const format of EXPORT_FORMATS) {
      const { params, errors } = toExportParams(withFormat(form(), format), makeRun({ method: 'lora' }))
      expect(errors).toEqual({})
      const parsed = shared.exportParamsSchema.safeParse(params)
      expect(parsed.success, `${format}: ${parsed.error?.message}`).toBe(true)
    }
    expect(toExportParams(withFormat(form(), 'adapter'), makeRun()).params).toMatchObject({ type: null, launcher: null, out: '/home/me/models/run-12-adapter' })
  })

  it('refuses a safetensors export at Q4_K_M, as the schema does', () => {
    const bad = form({ format: 'safetensors', type: 'q4_k_m' })
    const { params, errors } = toExportParams(bad, makeRun())
    expect(params).toBeNull()
    expect(errors.type).toBe('A Hugging Face folder export is f32, f16, bf16; q4_k_m is not one of them')
    expect(typesFor('safetensors')).not.toContain('q4_k_m')
    expect(shared.exportParamsSchema.safeParse({ run: 'run-12', format: 'safetensors', type: 'q4_k_m', out: '/x' }).success).toBe(false)
  })

  it('needs a finished run, a folder and a plain name', () => {
    expect(toExportParams(form(), null).errors.run).toBe('Choose a finished training run')
    expect(toExportParams(form(), makeRun({ state: 'running' })).errors.run).toBe('Run run-12 has not finished training')
    expect(toExportParams(form({ folder: '  ' }), makeRun()).errors.folder).toBe('Choose the folder the export goes into')
    expect(toExportParams(form({ outName: 'sub/model.gguf' }), makeRun()).errors.outName).toMatch(/without folders/)
    expect(toExportParams(form({ verifyTokens: '8' }), makeRun()).errors.verifyTokens).toBe('Verification tokens must be between 16 and 8192')
  })

  it('joins with the folder’s own separator', () => {
    expect(joinPath('/home/me/models/', 'a.gguf')).toBe('/home/me/models/a.gguf')
    expect(joinPath('C:\\Users\\me\\models', 'a.gguf')).toBe('C:\\Users\\me\\models\\a.gguf')
  })

  it('writes small figures in exponent form', () => {
    expect(formatSmall(0.000042)).toBe('4.20e-5')
    expect(formatSmall(0.0312)).toBe('0.0312')
    expect(formatSmall(0)).toBe('0')
  })
})
