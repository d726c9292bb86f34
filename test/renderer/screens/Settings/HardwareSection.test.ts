import { render, screen, within } from '@testing-library/svelte'
import { describe, expect, it, vi } from 'vitest'
import SettingsScreen from '../../../../src-renderer/src/screens/Settings/SettingsScreen.svelte'
import type { ComputePath, HardwareReport } from '../../../../src-main/shared/types/app'
import { SettingsState } from '../../../../src-renderer/src/state/settings.svelte'
import { fakeClient } from '../../support/fakeClient'
import { makeHardware } from '../../support/fixtures'

function renderHardware(hardware: HardwareReport | null) {
  return render(SettingsScreen, { settings: { computeThreads: 'auto', offline: true }, hardware, appInfo: null, saving: false, error: null, onSave: vi.fn() })
}

const path = (p: Partial<ComputePath> & Pick<ComputePath, 'runtime' | 'backend' | 'label'>): ComputePath => ({
  available: false,
  reason: null,
  install: null,
  missingLibraries: [],
  devices: [],
  ...p,
})

const cpuOnly = makeHardware({
  summary: 'CPU only: no GPU path is usable (llama.cpp: CUDA, Vulkan unusable, Metal not on this platform; ONNX Runtime: WebGPU, CUDA unusable, DirectML, CoreML not on this platform).',
  computePaths: [
    path({ runtime: 'llama.cpp', backend: 'cpu', label: 'CPU', available: true }),
    path({ runtime: 'llama.cpp', backend: 'cuda', label: 'CUDA', reason: 'CUDA is not available: missing libcuda.so.1 (the NVIDIA driver).', install: 'Install the NVIDIA driver.' }),
    path({ runtime: 'llama.cpp', backend: 'metal', label: 'Metal', reason: 'Metal is not available on linux x64: llama.cpp uses Metal only on Macs with Apple silicon.' }),
    path({ runtime: 'onnxruntime', backend: 'cpu', label: 'CPU', available: true }),
    path({ runtime: 'onnxruntime', backend: 'directml', label: 'DirectML', reason: 'DirectML is not available on linux x64: onnxruntime-node ships its DirectML provider for Windows only.' }),
  ],
})

describe('Settings › Hardware', () => {
  it('shows a loading state while the probes run', () => {
    renderHardware(null)
    const region = within(screen.getByRole('region', { name: 'Hardware' }))
    expect(region.getByText('Reading hardware…')).toBeInTheDocument()
    expect(region.getByRole('status')).toHaveTextContent(/llama\.cpp .*ONNX Runtime .*separate processes/)
  })

  it('states CPU only, the device per stage, and each GPU path with its reason and what to install', () => {
    renderHardware(cpuOnly)
    const region = within(screen.getByRole('region', { name: 'Hardware' }))
    expect(region.getByTestId('hardware-summary')).toHaveTextContent(/^CPU only: no GPU path is usable/)
    expect(within(region.getByRole('list', { name: 'Devices per stage' })).getAllByRole('listitem').map((li) => li.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'Generation: CPU (llama.cpp)',
      'Embedding: CPU (llama.cpp)',
      'Training: CPU (ONNX Runtime)',
    ])
    const llama = within(region.getByRole('table', { name: /llama\.cpp backends/ }))
    expect(llama.getAllByRole('row').map((r) => within(r).getByRole('rowheader').textContent)).toEqual(['CPU', 'CUDA', 'Metal'])
    const cuda = within(llama.getByTestId('path-llama.cpp-cuda'))
    expect(cuda.getByText('Not used')).toBeInTheDocument()
    expect(cuda.getByText('CUDA is not available: missing libcuda.so.1 (the NVIDIA driver).')).toBeInTheDocument()
    expect(cuda.getByText('To use it: Install the NVIDIA driver.')).toBeInTheDocument()
    expect(within(llama.getByTestId('path-llama.cpp-cpu')).getByText('Usable')).toBeInTheDocument()
    const ort = within(region.getByRole('table', { name: /ONNX Runtime backends/ }))
    const dml = within(ort.getByTestId('path-onnxruntime-directml'))
    expect(dml.getByText(/Windows only/)).toBeInTheDocument()
    expect(dml.queryByText(/To use it/)).toBeNull()
    expect(region.getByText('None usable.')).toBeInTheDocument()
  })

  it('shows the GPU names and VRAM llama.cpp reports, and the GPU each stage uses', () => {
    renderHardware(
      makeHardware({
        summary: 'Generation and embedding on CUDA (RTX 4090), training on CPU (…).',
        accelerators: [{ name: 'RTX 4090 · llama.cpp', kind: 'cuda', memoryBytes: 24 * 1024 ** 3 }],
        computePaths: [path({ runtime: 'llama.cpp', backend: 'cuda', label: 'CUDA', available: true, devices: [{ name: 'RTX 4090', vramTotalBytes: 24 * 1024 ** 3 }] })],
        stages: [
          { stage: 'generation', runtime: 'llama.cpp', backend: 'cuda', device: 'CUDA (RTX 4090)' },
          { stage: 'embedding', runtime: 'llama.cpp', backend: 'cuda', device: 'CUDA (RTX 4090)' },
          { stage: 'training', runtime: 'onnxruntime', backend: 'cpu', device: 'CPU' },
        ],
      }),
    )
    const region = within(screen.getByRole('region', { name: 'Hardware' }))
    expect(region.getByTestId('path-llama.cpp-cuda')).toHaveTextContent(/^CUDA\s*Usable\s*RTX 4090\s*· 24\.0 GB VRAM$/)
    expect(region.getByText(/^RTX 4090 · llama\.cpp \(cuda\), 24\.0 GB$/)).toBeInTheDocument()
    expect(within(region.getByRole('list', { name: 'Devices per stage' })).getAllByRole('listitem')[0]).toHaveTextContent('Generation: CUDA (RTX 4090)')
  })
})

describe('SettingsState while the hardware probes run', () => {
  it('has the settings before the hardware report arrives, then the report', async () => {
    let deliver: (report: HardwareReport) => void = () => {}
    const state = new SettingsState(
      fakeClient({
        getSettings: async () => ({ computeThreads: 'auto', offline: true }),
        getAppInfo: async () => ({ name: 'Lectern', version: '0.1.0', shell: 'browser-bridge', platform: 'linux', arch: 'x64', versions: {} }),
        getHardwareReport: () => new Promise<HardwareReport>((resolve) => (deliver = resolve)),
      }).client,
    )
    const loading = state.load()
    await vi.waitFor(() => expect(state.settings).toEqual({ computeThreads: 'auto', offline: true }))
    expect(state.hardware).toBeNull()
    deliver(cpuOnly)
    await loading
    expect(state.hardware?.summary).toMatch(/^CPU only/)
  })
})
