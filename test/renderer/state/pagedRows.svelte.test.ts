import { describe, expect, it, vi } from 'vitest'
import { PagedRows, type RowsPage } from '../../../src-renderer/src/state/pagedRows.svelte'
import { deferred } from '../support/fakeClient'

const TOTAL = 10_000

function numbers(options: { maxPages?: number } = {}) {
  let base = 0
  const fetchPage = vi.fn(async (offset: number, limit: number): Promise<RowsPage<number>> => ({
    total: TOTAL,
    rows: Array.from({ length: Math.min(limit, TOTAL - offset) }, (_, i) => base + offset + i),
  }))
  const onError = vi.fn()
  const rows = new PagedRows<number>({ pageSize: 10, fetchPage, onError, ...options })
  return { rows, fetchPage, onError, setBase: (value: number) => (base = value) }
}

describe('PagedRows', () => {
  it('fetches only the missing pages of a window, once each', async () => {
    const { rows, fetchPage } = numbers()
    await rows.ensure(5, 24)
    expect(fetchPage.mock.calls).toEqual([
      [0, 10],
      [10, 10],
      [20, 10],
    ])
    expect(rows.at(24)).toBe(24)
    expect(rows.at(30)).toBeUndefined()
    expect(rows.total).toBe(TOTAL)
    await Promise.all([rows.ensure(20, 31), rows.ensure(20, 31)])
    expect(fetchPage.mock.calls.map(([offset]) => offset)).toEqual([0, 10, 20, 30])
  })

  it('keeps at most maxPages pages, dropping the ones farthest from the window', async () => {
    const { rows } = numbers({ maxPages: 3 })
    await rows.ensure(0, 29)
    await rows.ensure(9_990, 9_999)
    expect(rows.cachedPages).toBe(3)
    expect(rows.at(9_999)).toBe(9_999)
    expect(rows.at(0)).toBeUndefined()
    expect(rows.at(25)).toBe(25)
  })

  it('drops answers for a query that was reset meanwhile', async () => {
    const slow = deferred<RowsPage<number>>()
    const fetchPage = vi.fn<(offset: number, limit: number) => Promise<RowsPage<number>>>().mockReturnValueOnce(slow.promise).mockResolvedValue({ total: 1, rows: [42] })
    const rows = new PagedRows<number>({ pageSize: 10, fetchPage, onError: vi.fn() })
    const older = rows.ensure(0, 0)
    await rows.reset()
    slow.resolve({ total: 5, rows: [1, 2, 3, 4, 5] })
    await older
    expect(rows.at(0)).toBe(42)
    expect(rows.total).toBe(1)
    expect(rows.resets).toBe(1)
  })

  it('refetches the held pages on refresh, and replaces a row in place', async () => {
    const { rows, fetchPage, setBase } = numbers()
    await rows.ensure(0, 15)
    setBase(100)
    await rows.refresh()
    expect(fetchPage.mock.calls.map(([offset]) => offset)).toEqual([0, 10, 0, 10])
    expect(rows.at(15)).toBe(115)
    rows.replace((n) => n === 115, -1)
    expect(rows.at(15)).toBe(-1)
    expect(rows.resets).toBe(0)
  })

  it('shows the refreshed pages together, so that a row moved to another page never shows twice', async () => {
    // Rows 0…19 hold ids 100…119; then id 100 is removed and every row moves up one place.
    const answers = [deferred<RowsPage<number>>(), deferred<RowsPage<number>>()]
    const fetchPage = vi
      .fn<(offset: number, limit: number) => Promise<RowsPage<number>>>()
      .mockImplementation(async (offset, limit) => ({ total: 20, rows: Array.from({ length: limit }, (_, i) => 100 + offset + i) }))
    const rows = new PagedRows<number>({ pageSize: 10, fetchPage, onError: vi.fn() })
    await rows.ensure(0, 19)
    fetchPage.mockReturnValueOnce(answers[0]!.promise).mockReturnValueOnce(answers[1]!.promise)
    const ids = (): (number | undefined)[] => Array.from({ length: 20 }, (_, index) => rows.at(index))
    const refreshed = rows.refresh()
    answers[0]!.resolve({ total: 19, rows: Array.from({ length: 10 }, (_, i) => 101 + i) })
    await new Promise((resolve) => setTimeout(resolve))
    expect(ids()).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i))
    expect(rows.total).toBe(20)
    await rows.ensure(0, 19)
    expect(fetchPage).toHaveBeenCalledTimes(4)
    answers[1]!.resolve({ total: 19, rows: Array.from({ length: 9 }, (_, i) => 111 + i) })
    await refreshed
    expect(ids().slice(0, 19)).toEqual(Array.from({ length: 19 }, (_, i) => 101 + i))
    expect(rows.total).toBe(19)
  })

  it('reports a failed fetch and fetches that page again when asked', async () => {
    const fetchPage = vi.fn<(offset: number, limit: number) => Promise<RowsPage<number>>>().mockRejectedValueOnce(new Error('database is locked')).mockResolvedValue({ total: 1, rows: [7] })
    const onError = vi.fn()
    const rows = new PagedRows<number>({ pageSize: 10, fetchPage, onError })
    await rows.ensure(0, 0)
    expect(onError).toHaveBeenCalledWith(new Error('database is locked'))
    expect(rows.loaded).toBe(false)
    await rows.ensure(0, 0)
    expect(rows.at(0)).toBe(7)
    expect(rows.loaded).toBe(true)
  })
})
