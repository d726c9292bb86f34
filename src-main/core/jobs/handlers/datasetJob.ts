import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LecternError } from '../../../shared/errors.js'
import type { DatasetMode, DatasetSummary } from '../../../shared/types/comprehension.js'
import type { CorpusSettings } from '../../../shared/types/corpus.js'
import { ComprehensionStore } from '../../comprehension/ComprehensionStore.js'
import { mineCorpus } from '../../comprehension/runComprehension.js'
import { CorpusStore } from '../../corpus/CorpusStore.js'
import { buildDataset } from '../../dataset/buildDataset.js'
import { DATASET_BUILD_FILE, projectDatasetDir } from '../../dataset/datasetFiles.js'
import { datasetTokenizer } from '../../dataset/datasetTokenizer.js'
import { readInstructionMix } from '../../dataset/readInstructionMix.js'
import { exportDataset } from '../../dataset/writeDataset.js'
import { openProjectDb } from '../../db/openProjectDb.js'
import { PROJECT_DB_FILE } from '../../project/Project.js'
import type { JobHandler } from '../JobContext.js'

/**
 * Builds the project's training set in `artifacts/dataset` (what `lectern train` reads by default): the mined
 * texts and/or the clusters with their generated QA, general instructions at the requested ratio, a held-out
 * share of source documents, packed to the sequence length. Chunks not yet mined are mined first (no model
 * needed), so regex mode always covers the whole corpus. The build replaces the previous one atomically.
 */
export const runDatasetJob: JobHandler<'dataset'> = async (context): Promise<DatasetSummary> => {
  const { params } = context
  const db = await openProjectDb(join(context.projectDir, PROJECT_DB_FILE))
  try {
    const store = new ComprehensionStore(db)
    const chunks = store.activeChunks()
    if (chunks.length === 0) throw new LecternError('invalid_argument', 'The corpus has no chunks yet: import documents first (lectern import)')
    let pairs = store.acceptedPairsByChunk()
    const mode: DatasetMode = params.mode ?? (pairs.size > 0 ? 'both' : 'regex')
    if (mode === 'llm' && pairs.size === 0) throw new LecternError('invalid_argument', 'No generated QA pairs are kept yet: run lectern comprehend --mode llm first, or build with --mode regex')

    if (mode !== 'llm' && store.countPending('regex') > 0) {
      context.progress(0, 0, 'Mining the chunks not mined yet…')
      const mined = await mineCorpus(store, { seed: params.seed, domain: null, limit: null, preview: null, signal: context.signal, onProgress: (p) => context.progress(p.done, p.total, `Mining: ${p.done} of ${p.total} chunks`) })
      context.log(`Mined ${mined.processed} chunks that had no reading-comprehension text yet`)
      pairs = store.acceptedPairsByChunk()
    }
    context.signal.throwIfAborted()

    const tokenizerPath = params.tokenizer ?? new CorpusStore(db).settings<CorpusSettings>()?.tokenizerModel ?? null
    const tokenizer = await datasetTokenizer(tokenizerPath)
    if (tokenizerPath === null) context.log('No tokenizer chosen: sequences are sized by the token estimate (pass --tokenizer <base model> for exact packing)', 'warn')
    const instructions = params.mix === null ? null : await readInstructionMix(params.mix, { signal: context.signal })
    const rcTexts = mode === 'llm' ? new Map<number, string>() : store.activeRcTexts()
    const run = store.latestClusterRun('extend')
    if ((mode === 'llm' || mode === 'both') && run === null) context.log('No clusters yet (lectern cluster): each passage is its own reading context', 'warn')

    context.progress(0, 0, 'Packing sequences…')
    const dir = projectDatasetDir(context.projectDir)
    const built = await buildDataset(
      {
        documents: chunks.map((chunk) => ({ id: chunk.id, sourceId: chunk.documentId, text: chunk.text, tokenCount: chunk.tokenCount, rcText: rcTexts.get(chunk.id) ?? '' })),
        clusters: run === null ? null : store.clusterMembers(run.id),
        qaPairs: pairs,
        mode,
        instructions,
        ratio: params.ratio,
        heldOutFraction: params.heldout,
        seqLen: params.seqLen,
        seed: params.seed,
        countTokens: tokenizer.countTokens,
        splitText: tokenizer.splitText,
        eosText: tokenizer.eosText,
        ...(tokenizer.renderChat ? { renderChat: tokenizer.renderChat } : {}),
      },
      dir,
    )
    const exported = params.out === null ? null : params.out
    if (exported !== null) await exportDataset(dir, exported, params.format)
    const summary: DatasetSummary = {
      dir,
      sequences: built.sequences,
      seqLen: built.seqLen,
      tokens: { regex: built.tokens.regexRc, llm: built.tokens.llmRc, instructions: built.tokens.instruction, total: built.tokens.total },
      items: { regex: built.items.regexRc, llm: built.items.llmRc, instructions: built.items.instruction },
      achievedRatio: built.ratio.generalTokens > 0 ? built.ratio.domainTokens / built.ratio.generalTokens : null,
      heldOut: { documents: built.heldOut.documents, tokens: built.heldOut.tokens, qaPairs: built.heldOut.qaPairs },
      fillRatio: built.fillRatio,
      tokenizer: tokenizer.name,
      exported,
    }
    await writeFile(join(dir, DATASET_BUILD_FILE), JSON.stringify(summary, null, 2))
    context.log(`Built ${summary.sequences} sequences of ${summary.seqLen} tokens (${(summary.fillRatio * 100).toFixed(1)}% full) in ${dir}${exported ? `; exported to ${exported}` : ''}`)
    context.progress(1, 1, `${summary.sequences} sequences built`)
    return summary
  } finally {
    db.close()
  }
}
