import { describe, expect, it } from 'vitest'
import { CLUSTER_CONNECTORS, formatCluster } from '../../../../src-main/core/dataset/formatCluster.js'
import { randomStream } from '../../../../src-main/core/train/random.js'

const documents = [
  { text: 'First abstract.', qaPairs: [{ question: 'Q1a?', answer: 'A1a.' }, { question: 'Q1b?', answer: 'A1b.' }] },
  { text: 'Second abstract.', qaPairs: [] },
  { text: 'Third abstract.', qaPairs: [{ question: 'Q3?', answer: 'A3.' }] },
]

describe('formatCluster', () => {
  it('puts all documents first, then every QA pair of the cluster after a connector', () => {
    const formatted = formatCluster(documents, randomStream(7))
    expect(formatted.text.startsWith('First abstract.\n\nSecond abstract.\n\nThird abstract.')).toBe(true)
    const afterContext = formatted.text.slice('First abstract.\n\nSecond abstract.\n\nThird abstract.'.length)
    const connector = CLUSTER_CONNECTORS.find((c) => afterContext.startsWith(c) && afterContext.slice(c.length).startsWith('Question: '))
    expect(connector).toBeDefined()
    const blocks = afterContext.slice(connector!.length).split('\n\n')
    expect(blocks).toEqual(formatted.qaPairs.map((qa) => `Question: ${qa.question}\nAnswer: ${qa.answer}`))
    expect([...formatted.qaPairs].sort((a, b) => a.question.localeCompare(b.question))).toEqual([
      { question: 'Q1a?', answer: 'A1a.' },
      { question: 'Q1b?', answer: 'A1b.' },
      { question: 'Q3?', answer: 'A3.' },
    ])
  })

  it('shuffles QA pairs across documents, reproducibly per seed', () => {
    const orders = new Set<string>()
    for (let seed = 0; seed < 30; seed++) orders.add(formatCluster(documents, randomStream(seed)).qaPairs.map((qa) => qa.question).join())
    expect(orders.size).toBeGreaterThan(1)
    expect(formatCluster(documents, randomStream(3))).toEqual(formatCluster(documents, randomStream(3)))
  })

  it('renders the same cluster as a conversation in the same QA order', () => {
    const { messages, qaPairs } = formatCluster(documents, randomStream(11))
    const [first, second, third] = qaPairs
    expect(messages).toEqual([
      { role: 'user', content: `First abstract.\n\nSecond abstract.\n\nThird abstract.\n\n${first!.question}` },
      { role: 'assistant', content: first!.answer },
      { role: 'user', content: second!.question },
      { role: 'assistant', content: second!.answer },
      { role: 'user', content: third!.question },
      { role: 'assistant', content: third!.answer },
    ])
  })

  it('leaves a cluster without QA as its documents alone, with no conversation', () => {
    expect(formatCluster([{ text: 'Only text.', qaPairs: [] }], randomStream(1))).toEqual({ text: 'Only text.', messages: null, qaPairs: [] })
  })
})
