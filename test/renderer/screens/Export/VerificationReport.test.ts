import { render, screen } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import VerificationReport from '../../../../src-renderer/src/screens/Export/VerificationReport.svelte'
import { makeVerification } from './exportFixtures'

/** The check names and the quantized rule of src-main/core/export/verifyExport.ts distributionChecks. */
const quantized = (passed: boolean, meanKl: number) =>
  makeVerification({
    passed,
    checks: [
      { name: 'matches the trained adapter', passed, detail: `mean KL(adapted ‖ exported) ${meanKl}; Q8_0 allows 5.00e-2` },
      { name: 'differs from the base model', passed: true, detail: 'distance to the base 2.00e+0' },
    ],
    distributions: { positions: 64, meanKl, maxKl: 0.4, top1Agreement: 0.9, meanKlToBase: 2, adapterEffect: 1.9, tolerance: 0.05 },
  })

describe('VerificationReport', () => {
  it('marks the mean KL by the check itself: a quantized export above the tolerance but small next to the base distance passes', () => {
    render(VerificationReport, { verification: quantized(true, 0.12) })
    const meanKl = screen.getByTestId('verify-mean-kl')
    expect(meanKl).toHaveAttribute('data-passed', 'true')
    expect(meanKl).not.toHaveClass('bad')
    expect(meanKl).toHaveTextContent('0.1200 nats (accepted up to 0.0500, or, quantized, up to a tenth of the distance to the base)')
  })

  it('marks the mean KL bad when the check failed', () => {
    render(VerificationReport, { verification: quantized(false, 0.4) })
    const meanKl = screen.getByTestId('verify-mean-kl')
    expect(meanKl).toHaveAttribute('data-passed', 'false')
    expect(meanKl).toHaveClass('bad')
    expect(meanKl).toHaveTextContent('0.4000 nats (accepted up to 0.0500)')
  })

  it('falls back to the tolerance when the report has no such check', () => {
    render(VerificationReport, { verification: makeVerification() })
    expect(screen.getByTestId('verify-mean-kl')).toHaveAttribute('data-passed', 'true')
    expect(screen.getByTestId('verify-mean-kl')).toHaveTextContent('4.20e-5 nats (accepted up to 1.00e-3)')
  })
})
