/**
 * Element types a safetensors header may name, with the bytes per element. The names are the format's own
 * (huggingface/safetensors `Dtype`); all are little-endian. The F8 types are carried by name only: we can
 * copy their bytes but do not convert them.
 */
export const SAFETENSORS_DTYPES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
} as const satisfies Record<string, number>

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES

export const SAFETENSORS_DTYPE_NAMES = Object.keys(SAFETENSORS_DTYPES) as SafetensorsDtype[]

export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(SAFETENSORS_DTYPES, value)
}

/** Bytes per element of `dtype`. */
export function safetensorsDtypeBytes(dtype: SafetensorsDtype): number {
  return SAFETENSORS_DTYPES[dtype]
}
