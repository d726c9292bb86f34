import { join } from 'node:path'
import type { ImportSummary } from '../../../shared/types/corpus.js'
import { importCorpus } from '../../corpus/importCorpus.js'
import { PreparerPool, WorkerPreparer } from '../../corpus/SourcePreparer.js'
import { tokenCounterForModel } from '../../corpus/tokenCounterForModel.js'
import { openProjectDb } from '../../db/openProjectDb.js'
import { PROJECT_DB_FILE } from '../../project/Project.js'
import type { JobHandler } from '../JobContext.js'

/** More preparation threads than this wait for the one writer anyway. */
const MAX_PREPARER_THREADS = 4

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

/**
 * An import runs in a worker with its own connection to the project database. It needs no checkpoint of its
 * own: a resumed (or repeated) import walks the same paths and passes over every file already recorded.
 */
export const runImportJob: JobHandler<'import'> = async (context): Promise<ImportSummary> => {
  const { paths, chunkTokens, overlapTokens, nearDuplicateThreshold, tokenizerModel, textField, maxFileMiB } = context.params
  const db = await openProjectDb(join(context.projectDir, PROJECT_DB_FILE))
  try {
    const countTokens = tokenizerModel ? await tokenCounterForModel(tokenizerModel) : undefined
    const summary = await importCorpus(db, paths, {
      settings: { chunkTokens, overlapTokens, nearDuplicateThreshold, tokenizerModel },
      countTokens,
      textField,
      limits: maxFileMiB === undefined ? undefined : { maxFileBytes: maxFileMiB * 1024 * 1024 },
      signal: context.signal,
      log: context.log,
      // Reading and chunking the next files in other threads while this one writes: one helper, more when the
      // user allows more threads (a helper for every thread beyond the writer's, at most four).
      startPreparer: context.startHelperWorker
        ? (config) => {
            const helpers = Math.max(1, Math.min(MAX_PREPARER_THREADS, context.threads - 1))
            return new PreparerPool(Array.from({ length: helpers }, () => new WorkerPreparer(context.startHelperWorker!('corpusPreparer'), config)))
          }
        : undefined,
      onProgress: (p) => {
        if (p.phase === 'importing') {
          context.progress(p.bytesDone, Math.max(p.bytesTotal, 1), `${p.filesDone} of ${p.filesTotal} files · ${formatMiB(p.bytesDone)} of ${formatMiB(p.bytesTotal)} · ${p.chunks} chunks`)
          context.metrics({ filesDone: p.filesDone, filesTotal: p.filesTotal, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, chunks: p.chunks })
        } else {
          context.progress(0, 0, p.phase === 'scanning' ? `Scanning… ${p.filesTotal} files found` : p.phase === 'rechunking' ? 'Re-chunking the corpus with the new settings…' : 'Preparing…')
        }
      },
    })
    const { files } = summary
    context.log(
      `Imported ${files.added} new and ${files.updated} changed file(s), ${files.unchanged} unchanged, ${files.empty} empty, ${files.skipped} skipped, ${files.failed} failed: ` +
        `${summary.documents} documents, ${summary.chunks} chunks (${summary.exactDuplicateChunks} exact and ${summary.nearDuplicateChunks} near duplicates)`,
    )
    return summary
  } finally {
    db.close()
  }
}
