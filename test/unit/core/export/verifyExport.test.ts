import { describe, expect, it } from 'vitest'
import { distributionChecks, klDivergence, KL_TOLERANCE } from '../../../../src-main/core/export/verifyExport.js'
import type { DistributionComparison, ExportType } from '../../../../src-main/shared/types/export.js'

const comparison = (type: ExportType, d: Partial<DistributionComparison>): DistributionComparison => ({
  positions: 64,
  meanKl: 1e-5,
  maxKl: 1e-4,
  top1Agreement: 1,
  meanKlToBase: 0.5,
  adapterEffect: 0.5,
  tolerance: KL_TOLERANCE[type],
  ...d,
})
const failed = (type: ExportType, d: Partial<DistributionComparison>): string[] => distributionChecks(comparison(type, d), type).filter((c) => !c.passed).map((c) => c.name)

describe('distributionChecks', () => {
  it('passes an export that matches the adapter and is far from the base', () => {
    expect(failed('f16', {})).toEqual([])
    expect(failed('q4_k_m', { meanKl: 0.2 })).toEqual([])
  })

  it('fails an F16 export beyond its tolerance, whatever the distance to the base', () => {
    expect(failed('f16', { meanKl: 2e-3, meanKlToBase: 5 })).toEqual(['matches the trained adapter'])
  })

  it('accepts a quantized export whose error is small next to its distance from the base, and no more', () => {
    expect(failed('q4_k_m', { meanKl: 0.6, meanKlToBase: 8, adapterEffect: 8 })).toEqual([])
    expect(failed('q4_k_m', { meanKl: 0.9, meanKlToBase: 8, adapterEffect: 8 })).toEqual(['matches the trained adapter'])
  })

  it('fails garbage (far from both) and a merge that lost the adapter (at the base)', () => {
    expect(failed('q8_0', { meanKl: 6, meanKlToBase: 6, adapterEffect: 0.5 })).toEqual(['matches the trained adapter', 'differs from the base model'])
    expect(failed('f16', { meanKl: 0.5, meanKlToBase: 1e-6, adapterEffect: 0.5 })).toEqual(['matches the trained adapter', 'differs from the base model'])
  })

  it('fails an adapter that changes nothing, and does not judge one smaller than the rounding', () => {
    expect(failed('f16', { adapterEffect: 1e-9, meanKlToBase: 1e-9 })).toEqual(['differs from the base model'])
    expect(failed('q8_0', { meanKl: 1e-3, adapterEffect: 1e-3, meanKlToBase: 1e-3 })).toEqual([])
  })
})

describe('klDivergence', () => {
  it('is zero for equal distributions, positive otherwise, and finite where q underflowed to 0', () => {
    const p = Float64Array.from([0.5, 0.25, 0.25])
    expect(klDivergence(p, p)).toBe(0)
    expect(klDivergence(p, Float64Array.from([0.25, 0.5, 0.25]))).toBeCloseTo(0.5 * Math.log(2) + 0.25 * Math.log(0.5), 12)
    expect(Number.isFinite(klDivergence(p, Float64Array.from([1, 0, 0])))).toBe(true)
  })
})

describe('distributionChecks wording', () => {
  it('says which model the export is closer to', () => {
    const detail = (d: Partial<DistributionComparison>): string => distributionChecks(comparison('f16', d), 'f16').find((c) => c.name === 'differs from the base model')!.detail
    expect(detail({})).toMatch(/^closer to the adapted model/)
    expect(detail({ meanKl: 5, meanKlToBase: 1e-5 })).toMatch(/^closer to the base .*did not reach the file/)
  })
})
