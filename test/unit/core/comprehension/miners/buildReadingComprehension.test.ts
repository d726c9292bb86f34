import { describe, expect, it } from 'vitest'
import { buildReadingComprehension } from '../../../../../src-main/core/comprehension/miners/buildReadingComprehension.js'

const GOLDEN_TEXT = [
  'Soil microbes shape how plants take up nutrients from the ground. Mycorrhizal fungi extend the reach of plant roots far into the surrounding soil. Therefore, plants with fungal partners absorb more phosphorus than plants without them. Some farmers add fungal spores to their fields every spring. However, the spores rarely survive in soil that has been tilled many times.',
  '',
  'Nitrification is defined as the conversion of atmospheric nitrogen into ammonia by bacteria. Legumes host these bacteria inside small nodules on their roots. Moreover, the nodules supply the bacteria with sugars made during photosynthesis. The yield of the maize crop fell sharply in the dry year. Due to the lack of rain during the months when the plants were flowering.',
  '',
  'The final chapter of the field guide talks about methods for measuring soil carbon. Crop rotation restores soil structure over several growing seasons. In other words, a field that alternates crops keeps its soil loose, porous and rich in organic matter. ',
].join('\n')
const GOLDEN_DOCUMENT = { key: 'doc-1', text: GOLDEN_TEXT, title: 'How soil life feeds crops' }
const GOLDEN_OPTIONS = { domain: 'agronomy', domainKeywords: new Set(['nitrification', 'atmospheric', 'nitrogen', 'ammonia', 'bacteria', 'phosphorus']) }

// Generated once with seed 7 and checked by eye against domain-rc.md §1.4: summarize+completion wrapper (no title
// in `first`, cut between sentences 4 and 5, the title question last), then an intro, then four shuffled type blocks
// of "question answer" items separated by blank lines, with one template per family.
const GOLDEN_RC_TEXT = [
  'Here is the first part of an article about agronomy: Soil microbes shape how plants take up nutrients from the ground. Mycorrhizal fungi extend the reach of plant roots far into the surrounding soil. Therefore, plants with fungal partners absorb more phosphorus than plants without them. Some farmers add fungal spores to their fields every spring.',
  '',
  'How would you continue the article? However, the spores rarely survive in soil that has been tilled many times.',
  '',
  'Nitrification is defined as the conversion of atmospheric nitrogen into ammonia by bacteria. Legumes host these bacteria inside small nodules on their roots. Moreover, the nodules supply the bacteria with sugars made during photosynthesis. The yield of the maize crop fell sharply in the dry year. Due to the lack of rain during the months when the plants were flowering.',
  '',
  'The final chapter of the field guide talks about methods for measuring soil carbon. Crop rotation restores soil structure over several growing seasons. In other words, a field that alternates crops keeps its soil loose, porous and rich in organic matter. ',
  '',
  'What was this article about? How soil life feeds crops',
  'Now answer the following questions:',
  '',
  'Restate this sentence in other words: Crop rotation restores soil structure over several growing seasons. a field that alternates crops keeps its soil loose, porous and rich in organic matter.',
  '',
  'Write a sentence whose meaning contrasts with "Some farmers add fungal spores to their fields every spring.". the spores rarely survive in soil that has been tilled many times.',
  '',
  'Q: What follows from "Mycorrhizal fungi extend the reach of plant roots far into the surrounding soil."? A: plants with fungal partners absorb more phosphorus than plants without them.',
  '',
  'The yield of the maize crop fell sharply in the dry year.',
  'Cause: the lack of rain during the months when the plants were flowering.',
  '',
  'Given that Mycorrhizal fungi extend the reach of plant roots far into the surrounding soil. Does it follow that Plants with fungal partners absorb more phosphorus than plants without them.',
  '- Yes',
  '- No',
  '- Maybe Yes',
  '',
  'Given that Some farmers add fungal spores to their fields every spring. Does it follow that The spores rarely survive in soil that has been tilled many times.',
  '- Yes',
  '- No',
  '- Maybe No',
  '',
  'Given that Legumes host these bacteria inside small nodules on their roots. Does it follow that The nodules supply the bacteria with sugars made during photosynthesis.',
  '- Yes',
  '- No',
  '- Maybe Maybe',
  '',
  'Q: What is meant by Nitrification? A: the conversion of atmospheric nitrogen into ammonia by bacteria.',
  '',
  'The final chapter of the field guide talks about? methods for measuring soil carbon.',
  '',
  'Nitrification is defined as the conversion of atmospheric nitrogen into ammonia by bacteria.',
  'What are the key agronomy words here? nitrification, atmospheric, nitrogen',
].join('\n')

/** A text with `count` entailment pairs, each separated by a filler sentence so that no match swallows the next. */
function manyEntailPairs(count: number): string {
  const parts = ['Intro.']
  for (let i = 0; i < count; i++) {
    parts.push(`Pair number ${i} begins with a premise that is long enough to match.`)
    parts.push(`Therefore, pair number ${i} ends with a hypothesis long enough to match as well.`)
    parts.push('Filler.')
  }
  return `${parts.join(' ')} `
}

describe('buildReadingComprehension', () => {
  it('yields the frozen golden text for a fixed document and seed', () => {
    const result = buildReadingComprehension(GOLDEN_DOCUMENT, 7, GOLDEN_OPTIONS)
    expect(result.text).toBe(GOLDEN_RC_TEXT)
    expect(result.wrapper).toBe('summarizeCompletion')
    expect(result.truncated).toBe(false)
    expect(result.matchCounts).toEqual({ entail: 1, contradict: 1, neutral: 1, causeEffect: 1, effectCause: 1, similar: 1, different: 1, definition: 1, topic: 1, keywords: 1 })
    expect(result.tasks.map((task) => `${task.type}/${task.subcategory}`)).toEqual([
      'paraphrase/similar', 'paraphrase/different', 'commonsense/causeEffect', 'commonsense/effectCause',
      'nli/entail', 'nli/contradict', 'nli/neutral', 'wordToText/definition', 'wordToText/topic', 'wordToText/keywords',
    ])
    expect(result.tasks[4]?.fields).toEqual({
      premise: 'Mycorrhizal fungi extend the reach of plant roots far into the surrounding soil.',
      hypothesis: 'Plants with fungal partners absorb more phosphorus than plants without them.',
      verbalizer: 'Therefore',
    })
  })

  it('keeps at most 2 items per subcategory, chosen by the seed', () => {
    const document = { key: 'many', text: manyEntailPairs(6) }
    const result = buildReadingComprehension(document, 3)
    expect(result.matchCounts.entail).toBe(6)
    // The same pairs also match cause-effect (its verbalizers are a subset of Entail's).
    expect(result.matchCounts.causeEffect).toBe(6)
    expect(result.tasks.filter((task) => task.subcategory === 'entail')).toHaveLength(2)
    expect(result.tasks.filter((task) => task.subcategory === 'causeEffect')).toHaveLength(2)
    expect(buildReadingComprehension(document, 3, { maxItemsPerSubcategory: 4 }).tasks.filter((task) => task.subcategory === 'entail')).toHaveLength(4)
  })

  it('is deterministic per (seed, key) and makes different choices for other seeds or keys', () => {
    const document = { key: 'many', text: manyEntailPairs(6), title: 'Pairs' }
    const first = buildReadingComprehension(document, 11)
    expect(buildReadingComprehension(document, 11)).toEqual(first)
    const otherSeeds = [12, 13, 14, 15].map((seed) => buildReadingComprehension(document, seed).text)
    expect(otherSeeds.some((text) => text !== first.text)).toBe(true)
    const otherKey = buildReadingComprehension({ ...document, key: 'other' }, 11).text
    const otherKeyAlternatives = ['a', 'b', 'c'].map((key) => buildReadingComprehension({ ...document, key }, 11).text)
    expect([otherKey, ...otherKeyAlternatives].some((text) => text !== first.text)).toBe(true)
    const chosenPremises = (seed: number): string[] => buildReadingComprehension(document, seed).tasks.filter((task) => task.subcategory === 'entail').map((task) => task.fields['premise'] ?? '')
    expect(new Set([1, 2, 3, 4, 5, 6].map((seed) => chosenPremises(seed).join('|'))).size).toBeGreaterThan(1)
  })

  it('wraps by what the document has: no title and one sentence gives the plain wrapper with no tasks', () => {
    const result = buildReadingComprehension({ key: 1, text: 'Just one short sentence.' }, 5)
    expect(result.wrapper).toBe('neither')
    expect(result.tasks).toEqual([])
    expect(result.text).toContain('Just one short sentence.')
    for (let seed = 0; seed < 20; seed++) {
      const titled = buildReadingComprehension({ key: 1, text: 'Just one short sentence.', title: 'A title' }, seed)
      expect(['summarize', 'neither']).toContain(titled.wrapper)
      const untitled = buildReadingComprehension({ key: 1, text: 'One sentence here. Another one there.' }, seed)
      expect(['completion', 'neither']).toContain(untitled.wrapper)
    }
  })

  it('collapses runs of spaces and truncates at a sentence end', () => {
    const result = buildReadingComprehension({ key: 2, text: 'First  sentence   here. Second sentence there. Third sentence is cut.' }, 1, { maxContextChars: 50 })
    expect(result.text).not.toMatch(/ {2}/)
    expect(result.truncated).toBe(true)
    expect(result.text).toContain('Second sentence there.')
    expect(result.text).not.toContain('Third')
  })
})
