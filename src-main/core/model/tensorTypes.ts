/**
 * GGML tensor types as GGUF stores them: the numeric id, and how many elements one block holds in how
 * many bytes (ggml's type traits). Ids are fixed by the format; unlisted ids are types we cannot read.
 */
export interface GgmlTypeInfo {
  id: number
  name: GgmlTypeName
  /** Elements per block; 1 for plain floats and integers. */
  blockSize: number
  /** Bytes per block. */
  blockBytes: number
}

export type GgmlTypeName =
  | 'F32'
  | 'F16'
  | 'Q4_0'
  | 'Q4_1'
  | 'Q5_0'
  | 'Q5_1'
  | 'Q8_0'
  | 'Q8_1'
  | 'Q2_K'
  | 'Q3_K'
  | 'Q4_K'
  | 'Q5_K'
  | 'Q6_K'
  | 'Q8_K'
  | 'I8'
  | 'I16'
  | 'I32'
  | 'I64'
  | 'F64'
  | 'BF16'

/** K-quant super-blocks hold 256 elements. */
export const QK_K = 256

export const GGML_TYPES: readonly GgmlTypeInfo[] = [
  { id: 0, name: 'F32', blockSize: 1, blockBytes: 4 },
  { id: 1, name: 'F16', blockSize: 1, blockBytes: 2 },
  { id: 2, name: 'Q4_0', blockSize: 32, blockBytes: 2 + 16 },
  { id: 3, name: 'Q4_1', blockSize: 32, blockBytes: 2 + 2 + 16 },
  { id: 6, name: 'Q5_0', blockSize: 32, blockBytes: 2 + 4 + 16 },
  { id: 7, name: 'Q5_1', blockSize: 32, blockBytes: 2 + 2 + 4 + 16 },
  { id: 8, name: 'Q8_0', blockSize: 32, blockBytes: 2 + 32 },
  { id: 9, name: 'Q8_1', blockSize: 32, blockBytes: 4 + 32 },
  { id: 10, name: 'Q2_K', blockSize: QK_K, blockBytes: QK_K / 16 + QK_K / 4 + 2 + 2 },
  { id: 11, name: 'Q3_K', blockSize: QK_K, blockBytes: QK_K / 8 + QK_K / 4 + 12 + 2 },
  { id: 12, name: 'Q4_K', blockSize: QK_K, blockBytes: 2 + 2 + 12 + QK_K / 2 },
  { id: 13, name: 'Q5_K', blockSize: QK_K, blockBytes: 2 + 2 + 12 + QK_K / 8 + QK_K / 2 },
  { id: 14, name: 'Q6_K', blockSize: QK_K, blockBytes: QK_K / 2 + QK_K / 4 + QK_K / 16 + 2 },
  { id: 15, name: 'Q8_K', blockSize: QK_K, blockBytes: 4 + QK_K + (QK_K / 16) * 2 },
  { id: 24, name: 'I8', blockSize: 1, blockBytes: 1 },
  { id: 25, name: 'I16', blockSize: 1, blockBytes: 2 },
  { id: 26, name: 'I32', blockSize: 1, blockBytes: 4 },
  { id: 27, name: 'I64', blockSize: 1, blockBytes: 8 },
  { id: 28, name: 'F64', blockSize: 1, blockBytes: 8 },
  { id: 30, name: 'BF16', blockSize: 1, blockBytes: 2 },
]

const BY_ID = new Map(GGML_TYPES.map((t) => [t.id, t]))
const BY_NAME = new Map(GGML_TYPES.map((t) => [t.name, t]))

export function ggmlTypeById(id: number): GgmlTypeInfo | undefined {
  return BY_ID.get(id)
}

export function ggmlType(name: GgmlTypeName): GgmlTypeInfo {
  const info = BY_NAME.get(name)
  if (!info) throw new Error(`unknown GGML type ${name}`)
  return info
}

/**
 * Bytes of a tensor of `elementCount` elements whose rows hold `rowLength` elements; null when the rows do not
 * divide into whole blocks (such a tensor cannot be stored in that type).
 */
export function tensorBytes(type: GgmlTypeInfo, elementCount: number, rowLength: number): number | null {
  if (rowLength % type.blockSize !== 0) return null
  return (elementCount / type.blockSize) * type.blockBytes
}
