import type { GgufMetadata } from '../../../../../src-main/core/model/gguf/ggufTypes.js'

/** Metadata with one value of every GGUF type, including nested and empty arrays. */
export function everyTypeMetadata(): GgufMetadata {
  return new Map([
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: 'Ünïcode ✓ model' }],
    ['t.u8', { type: 'u8', value: 255 }],
    ['t.i8', { type: 'i8', value: -128 }],
    ['t.u16', { type: 'u16', value: 65535 }],
    ['t.i16', { type: 'i16', value: -32768 }],
    ['t.u32', { type: 'u32', value: 4294967295 }],
    ['t.i32', { type: 'i32', value: -2147483648 }],
    ['t.f32', { type: 'f32', value: 1.5 }],
    ['t.f64', { type: 'f64', value: Math.PI }],
    ['t.bool', { type: 'bool', value: true }],
    ['t.u64', { type: 'u64', value: 18446744073709551615n }],
    ['t.i64', { type: 'i64', value: -9223372036854775808n }],
    ['t.strings', { type: 'array', elementType: 'string', value: ['<s>', '▁the', '', 'Ġworld'] }],
    ['t.i32s', { type: 'array', elementType: 'i32', value: [1, -2, 3] }],
    ['t.f32s', { type: 'array', elementType: 'f32', value: [0.5, -0.25] }],
    ['t.bools', { type: 'array', elementType: 'bool', value: [true, false] }],
    ['t.u64s', { type: 'array', elementType: 'u64', value: [0n, 1n << 40n] }],
    ['t.empty', { type: 'array', elementType: 'u8', value: [] }],
    ['t.nested', { type: 'array', elementType: 'array', value: [{ type: 'array', elementType: 'string', value: ['a'] }] }],
  ])
}
