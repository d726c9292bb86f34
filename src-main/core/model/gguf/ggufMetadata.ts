import { LecternError } from '../../../shared/errors.js'
import type { GgufMetadata, GgufValue } from './ggufTypes.js'

/** Typed reads of metadata keys with errors that name the file and the key. */
export class GgufMetadataReader {
  readonly fileName: string
  readonly metadata: GgufMetadata

  constructor(fileName: string, metadata: GgufMetadata) {
    this.fileName = fileName
    this.metadata = metadata
  }

  has(key: string): boolean {
    return this.metadata.has(key)
  }

  string(key: string): string {
    const value = this.required(key)
    if (value.type !== 'string') this.wrongType(key, 'a string', value)
    return value.value
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined
  }

  /** Any integer or float type, returned as a number (u64 values above 2^53 are refused). */
  number(key: string): number {
    const value = this.required(key)
    switch (value.type) {
      case 'u64':
      case 'i64':
        if (value.value > BigInt(Number.MAX_SAFE_INTEGER) || value.value < BigInt(Number.MIN_SAFE_INTEGER)) {
          return this.fail(`metadata ${key} = ${value.value} is out of range`)
        }
        return Number(value.value)
      case 'bool':
      case 'string':
      case 'array':
        return this.wrongType(key, 'a number', value)
      default:
        return value.value
    }
  }

  optionalNumber(key: string): number | undefined {
    return this.has(key) ? this.number(key) : undefined
  }

  bool(key: string): boolean {
    const value = this.required(key)
    if (value.type !== 'bool') this.wrongType(key, 'a boolean', value)
    return value.value
  }

  optionalBool(key: string): boolean | undefined {
    return this.has(key) ? this.bool(key) : undefined
  }

  stringArray(key: string): string[] {
    const value = this.required(key)
    if (value.type !== 'array' || value.elementType !== 'string') this.wrongType(key, 'an array of strings', value)
    return value.value as string[]
  }

  numberArray(key: string): number[] {
    const value = this.required(key)
    if (value.type !== 'array' || value.elementType === 'string' || value.elementType === 'bool' || value.elementType === 'array') {
      this.wrongType(key, 'an array of numbers', value)
    }
    return (value.value as (number | bigint)[]).map(Number)
  }

  optionalNumberArray(key: string): number[] | undefined {
    return this.has(key) ? this.numberArray(key) : undefined
  }

  fail(message: string): never {
    throw new LecternError('invalid_model_file', `${this.fileName}: ${message}`, { file: this.fileName })
  }

  private required(key: string): GgufValue {
    const value = this.metadata.get(key)
    if (value === undefined) this.fail(`required metadata key ${key} is missing`)
    return value
  }

  private wrongType(key: string, expected: string, value: GgufValue): never {
    const actual = value.type === 'array' ? `an array of ${value.elementType}` : `a ${value.type}`
    this.fail(`metadata ${key} should be ${expected} but is ${actual}`)
  }
}
