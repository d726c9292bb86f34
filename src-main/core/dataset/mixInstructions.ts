import { LecternError } from '../../shared/errors.js'
import { type UniformRandom, shuffled } from '../comprehension/miners/seededChoice.js'

/** Domain (reading comprehension) to general-instruction tokens, e.g. AdaptLLM's 1:1 (biomedicine, law) or 1:2 (finance). */
export interface MixRatio {
  domain: number
  general: number
}

export const DEFAULT_MIX_RATIO: MixRatio = { domain: 1, general: 1 }

/** Parses "domain:general", e.g. "1:1", "1:2", "2:1" or "1:0.5". The domain part must be above 0; the general part may be 0. */
export function parseMixRatio(text: string): MixRatio {
  const match = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(text)
  const domain = Number(match?.[1])
  const general = Number(match?.[2])
  if (match === null || !Number.isFinite(domain) || !Number.isFinite(general)) {
    throw new LecternError('invalid_argument', `Mixing ratio "${text}": expected domain:general token counts such as "1:1" or "1:2"`)
  }
  if (domain <= 0) throw new LecternError('invalid_argument', `Mixing ratio "${text}": the domain part must be above 0`)
  return { domain, general }
}

export function formatMixRatio(ratio: MixRatio): string {
  return `${ratio.domain}:${ratio.general}`
}

export interface InstructionMix {
  /** Indices into the pool, in the order picked; an index repeats when the pool had to be cycled. */
  picks: number[]
  domainTokens: number
  /** The general tokens the ratio asks for. */
  targetTokens: number
  /** The general tokens picked. */
  generalTokens: number
  /** generalTokens / domainTokens (0 when there is no domain token), to compare with ratio.general / ratio.domain. */
  achievedGeneralPerDomain: number
  /** How many shuffled passes over the pool it took: above 1 when the pool is smaller than the target. */
  passes: number
}

/**
 * Picks general instruction items (given by their token counts) to reach `domainTokens · general / domain` tokens.
 * The pool is walked in a seeded shuffled order, pass after pass with a fresh shuffle when it is too small. An item
 * is taken when that brings the total closer to the target (so the result is within half an item of it) and the
 * walk stops once the target is reached or a whole pass adds nothing.
 */
export function mixInstructions(poolTokens: readonly number[], domainTokens: number, ratio: MixRatio, random: UniformRandom): InstructionMix {
  if (!(ratio.domain > 0) || !(ratio.general >= 0) || !Number.isFinite(ratio.general)) {
    throw new LecternError('invalid_argument', `Mixing ratio ${formatMixRatio(ratio)}: the domain part must be above 0 and the general part at least 0`)
  }
  poolTokens.forEach((tokens, i) => {
    if (!Number.isSafeInteger(tokens) || tokens < 0) throw new LecternError('invalid_argument', `Instruction ${i + 1} has ${tokens} tokens; expected an integer ≥ 0`)
  })
  const targetTokens = (domainTokens * ratio.general) / ratio.domain
  const picks: number[] = []
  let generalTokens = 0
  let passes = 0
  const indices = poolTokens.map((_, i) => i)
  while (generalTokens < targetTokens && indices.length > 0) {
    passes++
    let progressed = false
    for (const index of shuffled(random, indices)) {
      if (generalTokens >= targetTokens) break
      const tokens = poolTokens[index] ?? 0
      if (tokens === 0) continue
      const gap = targetTokens - generalTokens
      if (tokens - gap > gap) continue
      picks.push(index)
      generalTokens += tokens
      progressed = true
    }
    if (!progressed) break
  }
  return {
    picks,
    domainTokens,
    targetTokens,
    generalTokens,
    achievedGeneralPerDomain: domainTokens > 0 ? generalTokens / domainTokens : 0,
    passes,
  }
}
