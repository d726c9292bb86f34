import { describe, expect, it } from 'vitest'
import { ADAPTER_TARGET_NAMES, TRAIN_DEVICES, trainParamsSchema } from '../../../../src-main/shared/types/train'
import { ADAPTER_TARGETS, EMPTY_TRAIN_FORM, formatGiB, toTrainParams, TRAIN_DEVICE_CHOICES, type TrainForm } from '../../../../src-renderer/src/screens/Train/trainOptions'

const form = (overrides: Partial<TrainForm> = {}): TrainForm => ({ ...EMPTY_TRAIN_FORM, base: '/m/base.gguf', ...overrides })

describe('trainOptions', () => {
  it('mirrors the lists of trainParamsSchema', () => {
    expect([...ADAPTER_TARGETS]).toEqual([...ADAPTER_TARGET_NAMES])
    expect([...TRAIN_DEVICE_CHOICES].sort()).toEqual([...TRAIN_DEVICES].sort())
  })

  it('gives parameters the schema accepts, with the defaults left to the run', () => {
    const { params, errors } = toTrainParams(form())
    expect(errors).toEqual({})
    const parsed = trainParamsSchema.parse(params)
    expect(parsed).toMatchObject({ base: '/m/base.gguf', data: null, method: 'mora', rank: 8, moraType: null, lr: null, steps: null, epochs: 1, seqLen: 256, device: 'cpu', checkpointEvery: 50 })

    const lora = trainParamsSchema.parse(
      toTrainParams(form({ method: 'lora', moraType: '1', dataSource: 'file', data: ' /d/train.jsonl ', lr: '1e-4', length: 'steps', steps: '20', targets: ['v', 'q'] })).params,
    )
    expect(lora).toMatchObject({ method: 'lora', moraType: null, data: '/d/train.jsonl', lr: 1e-4, steps: 20, targets: ['q', 'v'] })
    expect(trainParamsSchema.parse(toTrainParams(form({ moraType: '1' })).params).moraType).toBe(1)
  })

  it('names the field in each refusal', () => {
    const { params, errors } = toTrainParams(
      form({ base: ' ', rank: '0', seqLen: '4', batch: '1.5', gradAccum: '', lr: '0', length: 'steps', steps: 'x', targets: [], checkpointEvery: '-1', dataSource: 'file', data: '' }),
    )
    expect(params).toBeNull()
    expect(errors).toEqual({
      base: expect.stringMatching(/^Base model/),
      data: expect.stringMatching(/^Training data/),
      rank: 'Rank must be between 1 and 65536',
      seqLen: 'Sequence length must be between 8 and 32768',
      batch: 'Batch size must be a whole number',
      gradAccum: 'Gradient accumulation is required',
      lr: 'Learning rate must be above 0',
      steps: 'Steps must be a whole number',
      targets: expect.stringMatching(/^Targets/),
      checkpointEvery: 'Checkpoint interval must be between 1 and 1000000',
    })
    expect(toTrainParams(form({ epochs: '0' })).errors.epochs).toBe('Epochs must be above 0')
  })

  it('writes sizes in GiB or MiB', () => {
    expect(formatGiB(3 * 2 ** 30)).toBe('3.00 GiB')
    expect(formatGiB(512 * 2 ** 20)).toBe('512 MiB')
  })
})
