import type { ClusterInfo, ClusterRunInfo } from '../../shared/types/comprehension.js'
import type { ComprehensionStore } from '../comprehension/ComprehensionStore.js'
import { clusterTopTerms } from './kMeans.js'

/** A page of the latest run of `kind`, largest clusters first, each labelled with its distinctive words. */
export function listClusterPage(store: ComprehensionStore, kind: 'extend' | 'kmeans', offset: number, limit: number): { run: ClusterRunInfo | null; total: number; clusters: ClusterInfo[] } {
  const run = store.latestClusterRun(kind)
  if (run === null) return { run, total: 0, clusters: [] }
  const page = store.listClusters(run.id, offset, limit)
  const terms = clusterTopTerms(page.clusters.map((c) => store.clusterTexts(run.id, c.cluster)), { termsPerCluster: 6 })
  return { run, total: page.total, clusters: page.clusters.map((c, i) => ({ ...c, terms: terms[i] ?? [] })) }
}
