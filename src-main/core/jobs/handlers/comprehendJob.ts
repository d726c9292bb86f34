import { join } from 'node:path'
import type { ComprehendSummary } from '../../../shared/types/comprehension.js'
import { ComprehensionStore } from '../../comprehension/ComprehensionStore.js'
import { LlamaQaGenerator } from '../../comprehension/generate/LlamaQaGenerator.js'
import { OpenAiQaGenerator } from '../../comprehension/generate/OpenAiQaGenerator.js'
import type { QaGenerator } from '../../comprehension/generate/QaGenerator.js'
import { defaultContextCount } from '../../llm/loadLlamaModel.js'
import { resolveFilters } from '../../comprehension/generate/checkQaPair.js'
import { generateQaPairs, mineCorpus, type ComprehensionProgress } from '../../comprehension/runComprehension.js'
import { openProjectDb } from '../../db/openProjectDb.js'
import { PROJECT_DB_FILE } from '../../project/Project.js'
import type { JobContext, JobHandler } from '../JobContext.js'

async function openGenerator(context: JobContext<'comprehend'>): Promise<QaGenerator> {
  const { generator, endpoint, endpointModel, timeoutSeconds, contexts, pairs, filters, asciiOnly } = context.params
  const { maxQuestionChars, maxAnswerChars } = resolveFilters(filters)
  const caps = { questionMaxChars: maxQuestionChars, answerMaxChars: maxAnswerChars }
  // Room for every pair at its length caps (a token per character at worst) plus the JSON around them.
  const maxOutputTokens = 32 + pairs * (maxQuestionChars + maxAnswerChars + 24)
  if (endpoint !== null) {
    return new OpenAiQaGenerator({ endpoint, model: endpointModel ?? 'default', timeoutMs: timeoutSeconds * 1000, slots: contexts ?? undefined, apiKey: process.env.LECTERN_ENDPOINT_KEY, maxOutputTokens, ...caps })
  }
  // The schema guarantees a generator path when there is no endpoint.
  return LlamaQaGenerator.create({
    modelPath: generator ?? '',
    contexts: contexts ?? Math.min(context.threads, defaultContextCount()),
    timeoutMs: timeoutSeconds * 1000,
    maxOutputTokens,
    contextSize: 2048 + maxOutputTokens,
    bannedTokenPolicy: asciiOnly ? 'nonAscii' : 'none',
    ...caps,
  })
}

function progressMessage(mode: 'regex' | 'llm', p: ComprehensionProgress): string {
  if (mode === 'regex') return `${p.done} of ${p.total} chunks · ${p.produced} tasks mined`
  return `${p.done} of ${p.total} chunks · ${p.produced} pairs kept, ${p.rejected} rejected${p.failed > 0 ? `, ${p.failed} chunks failed` : ''}`
}

/**
 * Mining or question generation over the project's active chunks. No checkpoint is needed: every chunk's result
 * is stored as it completes, and a resumed run takes the chunks that have none.
 */
export const runComprehendJob: JobHandler<'comprehend'> = async (context): Promise<ComprehendSummary> => {
  const { params } = context
  const db = await openProjectDb(join(context.projectDir, PROJECT_DB_FILE))
  try {
    const store = new ComprehensionStore(db)
    const runOptions = {
      limit: params.limit,
      signal: context.signal,
      onProgress: (p: ComprehensionProgress) => {
        context.progress(p.done, Math.max(p.total, 1), progressMessage(params.mode, p))
        context.metrics({ done: p.done, total: p.total, produced: p.produced, rejected: p.rejected, failed: p.failed, outputTokens: p.outputTokens })
      },
    }
    let result: Omit<ComprehendSummary, 'totals' | 'mode'>
    if (params.mode === 'regex') {
      result = await mineCorpus(store, { ...runOptions, seed: params.seed, domain: params.domain, preview: params.preview })
      context.log(`Mined ${result.produced} tasks from ${result.processed} chunks; ${result.remaining} chunks left`)
    } else {
      const generator = await openGenerator(context)
      context.log(`Generating ${params.pairs} pairs per chunk with ${generator.description} (${generator.slots} at a time)`)
      try {
        result = await generateQaPairs(store, generator, { ...runOptions, ...params })
      } finally {
        await generator.close()
      }
      const failures = Object.entries(result.failed).map(([status, n]) => `${n} ${status}`)
      context.log(
        `${result.processed} chunks: ${result.produced} pairs kept, ${result.rejected} rejected` +
          (failures.length > 0 ? `, chunks failed: ${failures.join(', ')}` : '') +
          (result.tokensPerSecond === null ? '' : `; ${result.tokensPerSecond.toFixed(1)} output tokens/s`),
        failures.length > 0 ? 'warn' : 'info',
      )
    }
    return { mode: params.mode, ...result, totals: store.totals() }
  } finally {
    db.close()
  }
}
