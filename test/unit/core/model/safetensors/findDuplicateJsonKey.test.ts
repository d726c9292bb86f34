import { describe, expect, it } from 'vitest'
import { findDuplicateJsonKey } from '../../../../../src-main/core/model/safetensors/findDuplicateJsonKey.js'

describe('findDuplicateJsonKey', () => {
  it('finds nothing in JSON without duplicates, even when values repeat key names', () => {
    expect(findDuplicateJsonKey('{"a":"a","b":{"a":1,"b":["a","a"]},"c":[{"a":1},{"a":2}]}')).toBeUndefined()
    expect(findDuplicateJsonKey('[1, "x", {"x": "x"}]')).toBeUndefined()
  })

  it('finds a duplicate at the top level and in nested objects, including objects inside arrays', () => {
    expect(findDuplicateJsonKey('{"a":1,"b":2,"a":3}')).toBe('a')
    expect(findDuplicateJsonKey('{"t":{"dtype":"U8","dtype":"F32"}}')).toBe('dtype')
    expect(findDuplicateJsonKey('{"list":[{"k":1},{"k":2,"k":3}]}')).toBe('k')
  })

  it('compares decoded keys, so escapes cannot hide a duplicate', () => {
    expect(findDuplicateJsonKey('{"w":1,"\\u0077":2}')).toBe('w')
    expect(findDuplicateJsonKey('{"a\\"b":1, "a\\u0022b":2}')).toBe('a"b')
  })

  it('is not fooled by braces, commas and escaped quotes inside strings', () => {
    expect(findDuplicateJsonKey('{"x":"}, \\"x\\": {","y":"\\\\"}')).toBeUndefined()
    expect(findDuplicateJsonKey('{"x":"]\\\\","x":1}')).toBe('x')
  })
})
