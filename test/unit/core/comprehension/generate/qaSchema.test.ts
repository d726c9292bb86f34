import { describe, expect, it } from 'vitest'
import { buildQaPrompt, DEFAULT_QA_DOMAIN } from '../../../../../src-main/core/comprehension/generate/qaPrompt.js'
import { codePointLength, parseQaOutput, qaJsonSchema, qaObjectJsonSchema } from '../../../../../src-main/core/comprehension/generate/qaSchema.js'

describe('parseQaOutput', () => {
  it('reads a bare JSON list', () => {
    const parsed = parseQaOutput('[{"question":"What is measured?","answer":"Blood pressure."}]')
    expect(parsed).toEqual({ pairs: [{ question: 'What is measured?', answer: 'Blood pressure.' }], error: null, dropped: 0 })
  })

  it('strips code fences and prose around the list', () => {
    const raw = 'Sure! Here they are:\n```json\n[\n {"question": "Who?", "answer": "The nurses."},\n {"question": "When?", "answer": "In 2010."}\n]\n```\nHope this helps.'
    expect(parseQaOutput(raw).pairs).toEqual([
      { question: 'Who?', answer: 'The nurses.' },
      { question: 'When?', answer: 'In 2010.' },
    ])
  })

  it('takes the first [ to the last ] when text surrounds the list without fences', () => {
    expect(parseQaOutput('Answer: [{"question":"Q [1]?","answer":"A"}] done').pairs).toEqual([{ question: 'Q [1]?', answer: 'A' }])
  })

  it('accepts the list wrapped in an object, and a single pair object', () => {
    expect(parseQaOutput('{"pairs":[{"question":"Q","answer":"A"}]}').pairs).toHaveLength(1)
    expect(parseQaOutput('{"questions":[{"question":"Q","answer":"A"}]}').pairs).toHaveLength(1)
    expect(parseQaOutput('{"question":"Q","answer":"A"}').pairs).toEqual([{ question: 'Q', answer: 'A' }])
  })

  it('drops items that are not usable and keeps the rest', () => {
    const raw = JSON.stringify([{ question: 'Q1', answer: 'A1' }, { question: 'Q2' }, { question: '  ', answer: 'A3' }, 'text', { question: 'Q5', answer: 5 }, { question: ' Q6 ', answer: ' A6 ' }])
    const parsed = parseQaOutput(raw)
    expect(parsed.pairs).toEqual([
      { question: 'Q1', answer: 'A1' },
      { question: 'Q6', answer: 'A6' },
    ])
    expect(parsed.dropped).toBe(4)
    expect(parsed.error).toBeNull()
  })

  it('reports why nothing came out', () => {
    expect(parseQaOutput('').error).toMatch(/empty/)
    expect(parseQaOutput('I cannot answer that.').error).toMatch(/no JSON list/)
    expect(parseQaOutput('[{"question": "Q", "answer": "unterminated').error).toMatch(/no JSON list/)
    expect(parseQaOutput('[]').error).toMatch(/list is empty/)
    expect(parseQaOutput('42').error).toMatch(/neither a list/)
    expect(parseQaOutput('[{"q":"x"}]').error).toMatch(/none of the 1 items/)
  })

  it('counts length limits in code points, so emoji and astral characters do not count double', () => {
    const question = '😀'.repeat(10)
    expect(question.length).toBe(20)
    expect(codePointLength(question)).toBe(10)
    const raw = JSON.stringify([{ question, answer: 'ok' }])
    expect(parseQaOutput(raw, { pairs: 1, questionMaxChars: 10 }).pairs).toHaveLength(1)
    expect(parseQaOutput(raw, { pairs: 1, questionMaxChars: 9 }).pairs).toHaveLength(0)
  })

  it('keeps at most the number of pairs asked for', () => {
    const raw = JSON.stringify([1, 2, 3].map((i) => ({ question: `Q${i}`, answer: `A${i}` })))
    const parsed = parseQaOutput(raw, { pairs: 2 })
    expect(parsed.pairs.map((p) => p.question)).toEqual(['Q1', 'Q2'])
    expect(parsed.dropped).toBe(1)
  })

  it('keeps broken UTF-8 replacement characters for the filters to judge', () => {
    expect(parseQaOutput('[{"question":"Wh\uFFFD?","answer":"A"}]').pairs[0]?.question).toBe('Wh\uFFFD?')
  })
})

describe('qaJsonSchema', () => {
  it('is a top-level list of 1..N objects with two capped strings and no number fields', () => {
    const schema = qaJsonSchema({ pairs: 4, questionMaxChars: 50, answerMaxChars: 70 })
    expect(schema).toMatchObject({ type: 'array', minItems: 1, maxItems: 4 })
    expect(schema.items.properties.question).toEqual({ type: 'string', minLength: 1, maxLength: 50 })
    expect(schema.items.properties.answer).toEqual({ type: 'string', minLength: 1, maxLength: 70 })
    expect(JSON.stringify(schema)).not.toMatch(/"(integer|number)"/)
    expect(qaObjectJsonSchema({ pairs: 2 }).properties.pairs.maxItems).toBe(2)
  })
})

describe('buildQaPrompt', () => {
  it('puts the passage first and asks for N pairs about the domain as a JSON list', () => {
    const prompt = buildQaPrompt('  Aspirin thins the blood.  ', { pairs: 3, domain: 'biomedicine' })
    expect(prompt.startsWith('Aspirin thins the blood.\n\n')).toBe(true)
    expect(prompt).toContain('3 questions')
    expect(prompt).toContain('about biomedicine')
    expect(prompt).toMatch(/JSON list/)
    expect(prompt).toContain('"question"')
    expect(prompt).toContain('"answer"')
    expect(buildQaPrompt('x', { pairs: 1 })).toContain(`one question that help a reader understand the passage above about ${DEFAULT_QA_DOMAIN}`)
  })
})
