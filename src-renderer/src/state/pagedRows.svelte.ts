import { SvelteMap, SvelteSet } from 'svelte/reactivity'

export interface RowsPage<T> {
  total: number
  rows: T[]
}

export interface PagedRowsOptions<T> {
  pageSize: number
  /** Reads rows offset…offset+limit of the current query. */
  fetchPage: (offset: number, limit: number) => Promise<RowsPage<T>>
  onError: (error: unknown) => void
  /** How many pages stay cached; the ones farthest from the rows last asked for go first. */
  maxPages?: number
}

const DEFAULT_MAX_PAGES = 12

interface StagedPages<T> {
  pages: Map<number, readonly T[]>
  /** The total the latest answer gave; null until one came. */
  total: number | null
}

/**
 * A long list read from a paged API a page at a time: a view asks for the rows it shows (`ensure`), the missing
 * pages are fetched and cached, and memory stays bounded by dropping the pages farthest from that window.
 */
export class PagedRows<T> {
  total = $state(0)
  /** Whether the current query has answered once (until then `total` is not known). */
  loaded = $state(false)
  /** Counts the times the list started over (a new query), so a view can go back to its top. */
  resets = $state(0)
  private readonly pages = new SvelteMap<number, readonly T[]>()
  /** Pages being fetched for the current generation. */
  private readonly pending = new SvelteSet<number>()
  /** Bumped whenever answers already asked for must be dropped (a new query, a refresh). */
  private generation = 0
  /**
   * While a refresh runs, the pages it (and any scrolling meanwhile) fetched, shown all at once when it ends: a row
   * that moved to another page must not show on both an old and a new page (its id would repeat).
   */
  private staged: StagedPages<T> | null = null
  private window = { first: 0, last: 0 }
  private readonly options: Required<PagedRowsOptions<T>>

  constructor(options: PagedRowsOptions<T>) {
    this.options = { maxPages: DEFAULT_MAX_PAGES, ...options }
  }

  get pageSize(): number {
    return this.options.pageSize
  }

  /** The row at `index`, or undefined while its page is not loaded. */
  at(index: number): T | undefined {
    const { pageSize } = this.options
    return this.pages.get(Math.floor(index / pageSize))?.[index % pageSize]
  }

  /** How many pages are cached now. */
  get cachedPages(): number {
    return this.pages.size
  }

  /** Fetches the pages that hold rows first…last (inclusive) and are not cached or on their way. */
  ensure(first: number, last: number): Promise<void> {
    this.window = { first, last }
    const { pageSize } = this.options
    const loads: Promise<void>[] = []
    for (let page = Math.floor(first / pageSize); page <= Math.floor(Math.max(first, last) / pageSize); page++) {
      if (!this.pages.has(page) && !this.pending.has(page) && !this.staged?.pages.has(page)) loads.push(this.load(page))
    }
    return Promise.all(loads).then(() => undefined)
  }

  /** Starts over from the first page, for a new query; the old total stands until the new one is known. */
  reset(): Promise<void> {
    this.startGeneration()
    this.pages.clear()
    this.resets++
    return this.ensure(0, 0)
  }

  /** Forgets every row and the total. */
  clear(): void {
    this.startGeneration()
    this.pages.clear()
    this.total = 0
    this.loaded = false
    this.window = { first: 0, last: 0 }
    this.resets++
  }

  /** Fetches the cached and wanted pages again (the rows changed under the same query), keeping the view where it is. */
  async refresh(): Promise<void> {
    this.startGeneration()
    const generation = this.generation
    const { pageSize } = this.options
    const pages = [...this.pages.keys()]
    for (let page = Math.floor(this.window.first / pageSize); page <= Math.floor(this.window.last / pageSize); page++) if (!pages.includes(page)) pages.push(page)
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- nothing shows staged pages until they are swapped in
    const staged: StagedPages<T> = { pages: new Map(), total: null }
    this.staged = staged
    await Promise.all(pages.map((page) => this.load(page)))
    if (generation !== this.generation) return
    this.staged = null
    // A page that failed to load is left out, to be fetched again when the view asks for it.
    this.pages.clear()
    for (const [page, rows] of staged.pages) this.pages.set(page, rows)
    if (staged.total !== null) {
      this.total = staged.total
      this.loaded = true
    }
    this.dropFarPages()
  }

  /** Puts `row` in place of the cached rows that `matches` picks. */
  replace(matches: (row: T) => boolean, row: T): void {
    for (const pages of this.staged ? [this.pages, this.staged.pages] : [this.pages]) {
      for (const [page, rows] of pages) {
        if (rows.some(matches)) pages.set(page, rows.map((r) => (matches(r) ? row : r)))
      }
    }
  }

  private startGeneration(): void {
    this.generation++
    this.pending.clear()
    this.staged = null
  }

  private async load(page: number): Promise<void> {
    const generation = this.generation
    this.pending.add(page)
    try {
      const { pageSize, fetchPage } = this.options
      const answer = await fetchPage(page * pageSize, pageSize)
      if (generation !== this.generation) return
      if (this.staged) {
        this.staged.pages.set(page, answer.rows)
        this.staged.total = answer.total
        return
      }
      this.total = answer.total
      this.loaded = true
      this.pages.set(page, answer.rows)
      this.dropFarPages()
    } catch (error) {
      if (generation === this.generation) this.options.onError(error)
    } finally {
      if (generation === this.generation) this.pending.delete(page)
    }
  }

  /** Keeps the `maxPages` pages nearest the window last asked for. */
  private dropFarPages(): void {
    const { maxPages, pageSize } = this.options
    if (this.pages.size <= maxPages) return
    const center = (this.window.first + this.window.last) / 2 / pageSize
    const farthestFirst = [...this.pages.keys()].sort((a, b) => Math.abs(b - center) - Math.abs(a - center))
    for (const page of farthestFirst.slice(0, this.pages.size - maxPages)) this.pages.delete(page)
  }
}
