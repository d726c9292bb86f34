import { describe, expect, it } from 'vitest'
import { describeJsonValue, stringField } from '../../../../src-main/core/io/jsonlLines.js'

describe('describeJsonValue', () => {
  it('names every JSON value, and a missing one, without failing', () => {
    expect(describeJsonValue(undefined)).toBe('nothing (the field is missing)')
    expect(describeJsonValue(null)).toBe('null')
    expect(describeJsonValue([1])).toBe('an array')
    expect(describeJsonValue({ a: 1 })).toBe('an object')
    expect(describeJsonValue(3)).toBe('a number (3)')
    expect(describeJsonValue('x'.repeat(100))).toBe(`a string (${JSON.stringify('x'.repeat(100)).slice(0, 40)})`)
  })

  it('lets stringField report a missing field', () => {
    expect(() => stringField(undefined, '`answer`', (reason) => new Error(reason))).toThrow('`answer` must be a string, got nothing (the field is missing)')
  })
})
