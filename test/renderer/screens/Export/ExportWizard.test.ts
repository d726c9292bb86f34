import { screen, waitFor, within } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Api } from '../../../../src-main/shared/api'
import type { JobSummary } from '../../../../src-main/shared/types/jobs'
import { deferred } from '../../support/fakeClient'
import { makeExport, makeExportJob, makeRun, makeVerification, renderWizard, SHA_GGUF } from './exportFixtures'

const typeSelect = (): HTMLSelectElement => screen.getByRole('combobox', { name: 'Weight type' })
const optionValues = (select: HTMLSelectElement): string[] => [...select.options].map((o) => o.value)
const folderInput = (): HTMLElement => screen.getByRole('textbox', { name: 'Output folder' })
const running = (message: string): Partial<JobSummary> => ({ state: 'running', progress: { done: 12, total: 24, fraction: 0.5, message, etaSeconds: 30 } })

describe('ExportWizard: run and options', () => {
  it('lists the runs, selects the newest finished one and disables those still training', async () => {
    renderWizard({ listRuns: async () => [makeRun({ runId: 'run-14', jobId: '14', state: 'running', steps: null, finalLoss: null }), makeRun()] })
    const select = await screen.findByRole<HTMLSelectElement>('combobox', { name: 'Training run' })
    expect(select).toHaveValue('run-12')
    const options = within(select).getAllByRole<HTMLOptionElement>('option')
    expect(options.map((o) => o.textContent)).toEqual(['run-14: MoRA r8 on qwen2.5-0.5b.gguf · running', 'run-12: MoRA r8 on qwen2.5-0.5b.gguf · 200 steps · loss 1.235'])
    expect(options[0]).toBeDisabled()
    expect(options[1]).not.toBeDisabled()
  })

  it('says to train first when there is no run, and cannot start', async () => {
    renderWizard({ listRuns: async () => [] })
    expect(await screen.findByTestId('export-run-none')).toHaveTextContent('No training runs yet')
    expect(screen.getByRole('button', { name: 'Export and verify' })).toBeDisabled()
  })

  it('defaults the weight type per format and offers only the float types for safetensors', async () => {
    renderWizard()
    await screen.findByRole('combobox', { name: 'Training run' })
    expect(screen.getByRole('radio', { name: /^GGUF/ })).toBeChecked()
    expect(typeSelect()).toHaveValue('q8_0')
    expect(optionValues(typeSelect())).toEqual(['f32', 'f16', 'bf16', 'q8_0', 'q4_k_m', 'q5_k_m'])
    await userEvent.selectOptions(typeSelect(), 'q4_k_m')

    await userEvent.click(screen.getByRole('radio', { name: /^Hugging Face folder/ }))
    expect(typeSelect()).toHaveValue('bf16')
    expect(optionValues(typeSelect())).toEqual(['f32', 'f16', 'bf16'])
    expect(screen.getByRole('textbox', { name: 'Folder name' })).toHaveAttribute('placeholder', 'run-12-bf16')

    await userEvent.click(screen.getByRole('radio', { name: /^Ollama/ }))
    expect(typeSelect()).toHaveValue('q4_k_m')

    await userEvent.click(screen.getByRole('radio', { name: /^Adapter only/ }))
    expect(screen.queryByRole('combobox', { name: 'Weight type' })).not.toBeInTheDocument()
    expect(screen.queryByRole('combobox', { name: 'Distributed trainer' })).not.toBeInTheDocument()

    await userEvent.click(screen.getByRole('radio', { name: /^Cluster bundle/ }))
    expect(screen.getByRole('combobox', { name: 'Distributed trainer' })).toHaveValue('accelerate-deepspeed')
  })

  it('refuses to start without an output folder, naming the field', async () => {
    const { calls } = renderWizard({ startJob: vi.fn() })
    await screen.findByRole('combobox', { name: 'Training run' })
    await userEvent.click(screen.getByRole('button', { name: 'Export and verify' }))
    expect(screen.getByTestId('error-export-folder')).toHaveTextContent('Choose the folder the export goes into')
    expect(folderInput()).toHaveAttribute('aria-invalid', 'true')
    expect(calls.startJob).not.toHaveBeenCalled()
  })

  it('refuses a LoRA-only trainer for a MoRA run', async () => {
    const { calls } = renderWizard({ startJob: vi.fn() })
    await screen.findByRole('combobox', { name: 'Training run' })
    await userEvent.click(screen.getByRole('radio', { name: /^Cluster bundle/ }))
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Distributed trainer' }), 'axolotl')
    await userEvent.type(folderInput(), '/home/me/bundles')
    await userEvent.click(screen.getByRole('button', { name: 'Export and verify' }))
    expect(screen.getByTestId('error-export-launcher')).toHaveTextContent('trains LoRA only')
    expect(calls.startJob).not.toHaveBeenCalled()
  })

  it('starts the export job with the run, format, type and the path in the chosen folder', async () => {
    const chooseDirectory = vi.fn<Api['chooseDirectory']>(async () => '/home/me/models')
    const startJob = vi.fn(async () => makeExportJob())
    renderWizard({ chooseDirectory, startJob })
    await screen.findByRole('combobox', { name: 'Training run' })
    await userEvent.selectOptions(typeSelect(), 'f16')
    await userEvent.click(screen.getByRole('button', { name: 'Choose folder…' }))
    expect(chooseDirectory).toHaveBeenCalledWith({ title: 'Choose the folder the export goes into' })
    await waitFor(() => expect(folderInput()).toHaveValue('/home/me/models'))
    await userEvent.click(screen.getByRole('button', { name: 'Export and verify' }))
    expect(startJob).toHaveBeenCalledWith({
      kind: 'export',
      params: { run: 'run-12', format: 'gguf', type: 'f16', out: '/home/me/models/run-12-f16.gguf', launcher: null, name: null },
    })
  })

  it('sends a bundle with its trainer, a typed name and the verification size, without a type', async () => {
    const startJob = vi.fn(async () => makeExportJob())
    renderWizard({ listRuns: async () => [makeRun({ method: 'lora' })], startJob }, { canBrowse: false })
    await screen.findByRole('combobox', { name: 'Training run' })
    expect(screen.queryByRole('button', { name: 'Choose folder…' })).not.toBeInTheDocument()
    await userEvent.click(screen.getByRole('radio', { name: /^Cluster bundle/ }))
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Distributed trainer' }), 'axolotl')
    await userEvent.type(folderInput(), '/home/me/bundles/')
    await userEvent.type(screen.getByRole('textbox', { name: 'Folder name' }), 'contracts-bundle')
    await userEvent.click(screen.getByText('Advanced'))
    await userEvent.type(screen.getByRole('textbox', { name: 'Model name (optional)' }), 'Contracts 0.5B')
    await userEvent.type(screen.getByRole('textbox', { name: 'Tokens compared in verification' }), '512')
    await userEvent.click(screen.getByRole('button', { name: 'Export and verify' }))
    expect(startJob).toHaveBeenCalledWith({
      kind: 'export',
      params: { run: 'run-12', format: 'bundle', type: null, out: '/home/me/bundles/contracts-bundle', launcher: 'axolotl', name: 'Contracts 0.5B', verifyTokens: 512 },
    })
  })

  it('shows a refused start as the error', async () => {
    renderWizard({ startJob: async () => Promise.reject(new Error('/home/me/models/run-12-q8_0.gguf already exists')) })
    await screen.findByRole('combobox', { name: 'Training run' })
    await userEvent.type(folderInput(), '/home/me/models')
    await userEvent.click(screen.getByRole('button', { name: 'Export and verify' }))
    expect(await screen.findByTestId('export-wizard-error')).toHaveTextContent('/home/me/models/run-12-q8_0.gguf already exists')
  })
})

describe('ExportWizard: progress and verification', () => {
  it('shows progress with a cancel button, then the passed verification report with its figures and SHA-256s', async () => {
    const listExports = vi.fn<Api['listExports']>(async () => [])
    const start = deferred<JobSummary>()
    const { emit } = renderWizard({ listExports, startJob: () => start.promise })
    await screen.findByRole('combobox', { name: 'Training run' })
    await userEvent.type(folderInput(), '/home/me/models')
    await userEvent.click(screen.getByRole('button', { name: 'Export and verify' }))
    expect(screen.getByRole('button', { name: 'Exporting…' })).toBeDisabled()
    start.resolve(makeExportJob({ state: 'queued' }))

    emit('onJobUpdate', makeExportJob(running('Merging tensor 12 of 24')))
    expect(await screen.findByTestId('export-message')).toHaveTextContent('Merging tensor 12 of 24')
    expect(screen.getByRole('progressbar', { name: 'Export progress' })).toHaveAttribute('aria-valuenow', '50')
    expect(screen.getByRole('combobox', { name: 'Training run' })).toBeDisabled()
    expect(screen.getByRole('button', { name: 'Cancel export' })).toBeEnabled()
    expect(screen.queryByTestId('verification-report')).not.toBeInTheDocument()

    listExports.mockResolvedValue([makeExport()])
    emit('onJobUpdate', makeExportJob({ state: 'succeeded' }))
    const report = await screen.findByTestId('verification-report')
    expect(report).toHaveAttribute('data-passed', 'true')
    expect(within(report).getByTestId('verification-verdict')).toHaveTextContent('Verified')
    expect(within(report).getAllByTestId('verification-check')).toHaveLength(3)
    expect(within(report).getByTestId('verify-mean-kl')).toHaveTextContent('4.20e-5 nats (accepted up to 1.00e-3)')
    expect(within(report).getByTestId('verify-max-kl')).toHaveTextContent('9.00e-4 nats')
    expect(within(report).getByTestId('verify-top1')).toHaveTextContent('99.2%')
    expect(within(report).getByTestId('verify-kl-base')).toHaveTextContent('0.0312 nats')
    expect(within(report).getByTestId('verify-tensors')).toHaveTextContent('24')
    expect(within(report).getByTestId('verify-max-diff')).toHaveTextContent('4.90e-4')
    expect(within(report).getByTestId('verify-changed')).toHaveTextContent('14')
    expect(screen.getByTestId('export-status')).toHaveTextContent('Verified')
    expect(screen.getByTestId('export-sha')).toHaveTextContent(SHA_GGUF)
    expect(screen.getByTestId('export-file')).toHaveTextContent('530.0 MB')
    expect(screen.queryByRole('button', { name: 'Cancel export' })).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Export and verify' })).toBeEnabled()
  })

  it('shows a failed verification with the failing check and the error, and no way to use the export as verified', async () => {
    const failed = makeExport({
      status: 'failed',
      error: 'verification failed: the export equals the base model',
      verification: makeVerification({
        passed: false,
        checks: [
          { name: 'Matches the trained model', passed: true, detail: 'mean KL 2.00e-4' },
          { name: 'Differs from the base', passed: false, detail: 'mean KL to base 0 (the adapter was lost in the merge)' },
        ],
        distributions: { positions: 256, meanKl: 0.0002, maxKl: 0.004, top1Agreement: 0.871, meanKlToBase: 0, adapterEffect: 0.03, tolerance: 0.001 },
      }),
    })
    renderWizard({ listJobs: async () => [makeExportJob(running('Verifying'))], listExports: vi.fn<Api['listExports']>().mockResolvedValueOnce([]).mockResolvedValue([failed]) }).emit(
      'onJobUpdate',
      makeExportJob({ state: 'failed', error: { code: 'export_failed', message: 'verification failed: the export equals the base model' } as JobSummary['error'] }),
    )
    const report = await screen.findByTestId('verification-report')
    expect(report).toHaveAttribute('data-passed', 'false')
    expect(within(report).getByTestId('verification-verdict')).toHaveTextContent('Verification failed')
    const checks = within(report).getAllByTestId('verification-check')
    expect(checks[1]).toHaveAttribute('data-passed', 'false')
    expect(within(checks[1]!).getByLabelText('Failed')).toHaveTextContent('✗')
    expect(checks[1]).toHaveTextContent('the adapter was lost in the merge')
    expect(within(report).getByTestId('verify-top1')).toHaveTextContent('87.1%')
    expect(screen.getByTestId('export-status')).toHaveTextContent('Failed')
    // The same failure is said once: by the failed job, not again by its export's card.
    expect(screen.getAllByRole('alert').filter((alert) => /the export equals the base model/.test(alert.textContent ?? ''))).toHaveLength(1)
    expect(screen.queryByTestId('export-error')).not.toBeInTheDocument()
  })

  it('says an interrupted export left nothing behind and offers no folder to show', async () => {
    const interrupted = makeExport({ status: 'interrupted', files: [], verification: null })
    const { emit } = renderWizard({ listJobs: async () => [makeExportJob(running('Writing'))], listExports: vi.fn<Api['listExports']>().mockResolvedValueOnce([]).mockResolvedValue([interrupted]) })
    await screen.findByTestId('export-message')
    emit('onJobUpdate', makeExportJob({ state: 'cancelled' }))
    expect(await screen.findByTestId('export-status')).toHaveTextContent('Interrupted: nothing was left behind')
    expect(screen.queryByRole('button', { name: 'Show in folder' })).not.toBeInTheDocument()
  })

  it('shows the export in its folder, and says where it is when there is no file manager', async () => {
    const showInFolder = vi.fn<Api['showInFolder']>().mockResolvedValueOnce(true).mockResolvedValueOnce(false)
    renderWizard({ listJobs: async () => [makeExportJob({ state: 'succeeded' })], listExports: async () => [makeExport()], showInFolder })
    // A finished job is not followed on load: the export is listed among the run's exports.
    const earlier = await screen.findByTestId('earlier-export')
    await userEvent.click(within(earlier).getByText(/gguf Q8_0/))
    await userEvent.click(within(earlier).getByRole('button', { name: 'Show in folder' }))
    expect(showInFolder).toHaveBeenCalledWith({ path: '/home/me/models/run-12-q8_0.gguf' })
    expect(screen.queryByTestId('no-file-manager')).not.toBeInTheDocument()
    await userEvent.click(within(earlier).getByRole('button', { name: 'Show in folder' }))
    expect(await screen.findByTestId('no-file-manager')).toHaveTextContent('the export is at /home/me/models/run-12-q8_0.gguf')
  })

  it('lists only the selected run’s earlier exports', async () => {
    renderWizard({
      listRuns: async () => [makeRun({ runId: 'run-13', jobId: '13' }), makeRun()],
      listExports: async () => [makeExport({ id: 2, runId: 'run-13', path: '/m/run-13.gguf' }), makeExport()],
    })
    expect(await screen.findByTestId('earlier-export')).toHaveTextContent('/m/run-13.gguf')
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Training run' }), 'run-12')
    expect(screen.getByTestId('earlier-export')).toHaveTextContent('/home/me/models/run-12-q8_0.gguf')
  })
})
