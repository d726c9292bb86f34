import { resolve } from 'node:path'
import { clusterParamsSchema, type ClusterSummary } from '../../shared/types/comprehension.js'
import { parseIntegerOption, parseNumberOption, print, requireDir, withProject, type CliCommand } from '../CliContext.js'
import { table } from '../format.js'
import { runProjectJob, validatedParams } from '../runProjectJob.js'

const USAGE = [
  'lectern cluster <dir> [--embedder <gguf>] [--threshold 0.7] [--max-docs N] [--max-tokens N] [--seed N]',
  '      [--kmeans K] [--contexts N] [--threads N] [--json]',
].join('\n')

export const clusterCommand: CliCommand = {
  name: 'cluster',
  summary: 'Embed the chunks and group related ones (extended reading context; optional k-means view)',
  usage: USAGE,
  options: {
    embedder: { type: 'string' },
    threshold: { type: 'string' },
    'max-docs': { type: 'string' },
    'max-tokens': { type: 'string' },
    seed: { type: 'string' },
    kmeans: { type: 'string' },
    contexts: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(positionals, values, context) {
    const dir = requireDir(positionals, this.usage)
    const embedder = values['embedder']
    const params = validatedParams(
      clusterParamsSchema,
      {
        embedder: typeof embedder === 'string' ? resolve(embedder) : undefined,
        threshold: parseNumberOption(values['threshold'], 'threshold'),
        maxDocs: parseIntegerOption(values['max-docs'], 'max-docs', 1, 1000),
        maxTokens: parseIntegerOption(values['max-tokens'], 'max-tokens', 16, 1_000_000),
        seed: parseIntegerOption(values['seed'], 'seed', 0, 2 ** 31 - 1),
        kMeans: parseIntegerOption(values['kmeans'], 'kmeans', 2, 10_000),
        contexts: parseIntegerOption(values['contexts'], 'contexts', 1, 64),
      },
      { kMeans: 'kmeans' },
    )
    return withProject(dir, (project) =>
      runProjectJob<ClusterSummary>(project, context, values, { kind: 'cluster', params }, (s) =>
        print(
          context,
          table([
            ['Embeddings', `${s.embedded} chunks embedded now, ${s.reusedEmbeddings} reused (${s.seconds.embed.toFixed(1)} s)`],
            ['Clusters', `${s.clusters} clusters, ${s.multiMemberClusters} with more than one chunk, largest ${s.largestCluster} (${s.seconds.cluster.toFixed(1)} s)`],
            ...(s.kMeansRunId === null ? [] : [['k-means', `view stored as run ${s.kMeansRunId}`]]),
          ]),
        ),
      ),
    )
  },
}
