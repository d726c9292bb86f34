import { gguf } from '@huggingface/gguf'
import { expect } from 'vitest'
import { GGUF_VALUE_TYPES, type GgufHeader, type GgufValue } from '../../src-main/core/model/gguf/ggufTypes.js'
import { ggmlType } from '../../src-main/core/model/tensorTypes.js'

/** How @huggingface/gguf represents a value: bigints for 64-bit integers, plain arrays for arrays. */
function asHuggingFace(value: GgufValue): unknown {
  if (value.type !== 'array') return value.value
  return value.elementType === 'array' ? value.value.map(asHuggingFace) : value.value
}

/**
 * Parses `path` with @huggingface/gguf (an independent reader) and expects the same metadata, value types,
 * tensor infos and data offset as our own header says.
 */
export async function expectHuggingFaceGgufAgrees(path: string, ours: Pick<GgufHeader, 'metadata' | 'tensors' | 'dataOffset'>): Promise<void> {
  const parsed = await gguf(path, { allowLocalFile: true, typedMetadata: true })
  expect(parsed.typedMetadata.version.value).toBe(3)
  for (const [key, value] of ours.metadata) {
    const theirs = parsed.typedMetadata[key]
    expect(theirs, key).toBeDefined()
    expect(theirs!.type, key).toBe(GGUF_VALUE_TYPES.indexOf(value.type))
    if (value.type === 'f32') expect(theirs!.value as number, key).toBeCloseTo(value.value, 6)
    else if (value.type === 'array' && value.elementType === 'f32') expect((theirs!.value as number[]).map((v) => Math.fround(v)), key).toEqual(value.value.map(Math.fround))
    else expect(theirs!.value, key).toEqual(asHuggingFace(value))
  }
  expect(parsed.tensorInfos.map((t) => ({ name: t.name, shape: t.shape.map(Number), type: t.dtype, offset: Number(t.offset) }))).toEqual(
    ours.tensors.map((t) => ({ name: t.name, shape: t.shape, type: ggmlType(t.type.name).id, offset: t.offset })),
  )
  expect(parsed.tensorDataOffset).toBe(BigInt(ours.dataOffset))
}
