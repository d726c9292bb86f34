import type { GgmlTypeInfo } from '../tensorTypes.js'

/** GGUF metadata value types, by their id in the file. */
export const GGUF_VALUE_TYPES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'] as const
export type GgufValueTypeName = (typeof GGUF_VALUE_TYPES)[number]
export type GgufScalarTypeName = Exclude<GgufValueTypeName, 'array'>
export type GgufNumberTypeName = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'
export type GgufBigIntTypeName = 'u64' | 'i64'

/** A metadata value with its exact GGUF type, so a copied key is written back as it was read. */
export type GgufValue =
  | { type: GgufNumberTypeName; value: number }
  | { type: GgufBigIntTypeName; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | GgufArray

export type GgufArray =
  | { type: 'array'; elementType: GgufNumberTypeName; value: number[] }
  | { type: 'array'; elementType: GgufBigIntTypeName; value: bigint[] }
  | { type: 'array'; elementType: 'bool'; value: boolean[] }
  | { type: 'array'; elementType: 'string'; value: string[] }
  | { type: 'array'; elementType: 'array'; value: GgufArray[] }

/** Metadata in file order. */
export type GgufMetadata = Map<string, GgufValue>

export interface GgufTensorInfo {
  name: string
  /** Dimensions with ne0 (the contiguous one) first, as GGUF stores them. */
  shape: number[]
  type: GgmlTypeInfo
  /** Offset from the start of the data section, as stored. */
  offset: number
  /** Offset from the start of the file. */
  absoluteOffset: number
  byteLength: number
  elementCount: number
}

export interface GgufHeader {
  version: 2 | 3
  metadata: GgufMetadata
  tensors: GgufTensorInfo[]
  alignment: number
  /** File offset where the tensor data section starts. */
  dataOffset: number
}

export const GGUF_MAGIC = 'GGUF'
export const GGUF_DEFAULT_ALIGNMENT = 32
/** ggml tensors have at most four dimensions. */
export const GGML_MAX_DIMS = 4
