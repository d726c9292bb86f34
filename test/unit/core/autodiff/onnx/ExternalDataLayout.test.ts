import { describe, expect, it } from 'vitest'
import { ExternalDataLayout } from '../../../../../src-main/core/autodiff/onnx/ExternalDataLayout.js'
import { LecternError } from '../../../../../src-main/shared/errors.js'

describe('ExternalDataLayout', () => {
  it('places small tensors at 64-byte and large ones at 64 KiB offsets, in order, with the padding to stream', () => {
    const layout = new ExternalDataLayout('base.data')
    const a = layout.add({ name: 'a', elementType: 'float32', dims: [3] }) // 12 bytes
    const b = layout.add({ name: 'b', elementType: 'float64', dims: [2, 5] }) // 80 bytes
    const big = layout.add({ name: 'big', elementType: 'float32', dims: [512, 512] }) // 1 MiB
    const c = layout.add({ name: 'c', elementType: 'bool', dims: [] }) // scalar, 1 byte
    expect([a, b, big, c].map((e) => [e.offsetBytes, e.lengthBytes, e.paddingBeforeBytes])).toEqual([
      [0, 12, 0],
      [64, 80, 52],
      [65536, 1048576, 65536 - 144],
      [65536 + 1048576, 1, 0],
    ])
    expect(layout.totalBytes).toBe(65536 + 1048576 + 1)
    expect(layout.entries.map((e) => e.name)).toEqual(['a', 'b', 'big', 'c'])
    expect(big.location).toBe('base.data')
    expect(big.dims).toEqual([512, 512])
  })

  it('takes other alignments and thresholds', () => {
    const layout = new ExternalDataLayout('w.bin', { alignmentBytes: 8, largeAlignmentBytes: 4096, largeTensorMinBytes: 100 })
    layout.add({ name: 'a', elementType: 'int32', dims: [3] })
    expect(layout.add({ name: 'b', elementType: 'int64', dims: [1] }).offsetBytes).toBe(16)
    expect(layout.add({ name: 'c', elementType: 'int64', dims: [13] }).offsetBytes).toBe(4096)
  })

  it('refuses duplicate names, bad locations and bad alignments', () => {
    const layout = new ExternalDataLayout('w.bin')
    layout.add({ name: 'a', elementType: 'int32', dims: [3] })
    expect(() => layout.add({ name: 'a', elementType: 'int32', dims: [3] })).toThrow(/'a' is already in w.bin/)
    expect(() => layout.add({ name: 'n', elementType: 'int32', dims: [-1] })).toThrow(/bad dim -1/)
    for (const location of ['', '/abs/w.bin', '../w.bin', 'a/../../w.bin', 'C:w.bin', 'a\\b']) {
      expect(() => new ExternalDataLayout(location)).toThrow(LecternError)
    }
    expect(() => new ExternalDataLayout('w.bin', { alignmentBytes: 48 })).toThrow(/alignmentBytes must be a power of two/)
  })
})
