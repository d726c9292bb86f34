import { FileByteSink, FileByteSource } from '../io/fileBytes.js'
import { readSafetensors, readTensorAsFloat32 } from '../model/safetensors/readSafetensors.js'
import { writeSafetensors } from '../model/safetensors/writeSafetensors.js'

export interface NamedTensor {
  shape: readonly number[]
  data: Float32Array
}

/** Writes float32 tensors as one safetensors file, atomically (`.partial`, then renamed). */
export async function saveTensors(path: string, tensors: ReadonlyMap<string, NamedTensor>, metadata: Record<string, string> = {}): Promise<void> {
  const list = [...tensors].map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: t.data }))
  const sink = await FileByteSink.create(path)
  try {
    await writeSafetensors(sink, list, {
      metadata: { format: 'pt', ...metadata },
      tensorData: (info) => {
        const { data } = tensors.get(info.name)!
        return Promise.resolve(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
      },
    })
    await sink.commit()
  } catch (error) {
    await sink.abort()
    throw error
  }
}

/** Every tensor of a safetensors file as float32, with the file's `__metadata__`. */
export async function loadTensors(path: string): Promise<{ tensors: Map<string, NamedTensor>; metadata: Record<string, string> }> {
  const source = await FileByteSource.open(path)
  try {
    const header = await readSafetensors(source)
    const tensors = new Map<string, NamedTensor>()
    for (const info of header.tensors) tensors.set(info.name, { shape: info.shape, data: await readTensorAsFloat32(source, info) })
    return { tensors, metadata: header.metadata }
  } finally {
    await source.close()
  }
}
