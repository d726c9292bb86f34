import { render, screen, waitFor } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { ChunkInfo, CorpusFileInfo } from '../../../../src-main/shared/types/corpus'
import CorpusFilesTable from '../../../../src-renderer/src/screens/Import/CorpusFilesTable.svelte'
import FileChunks from '../../../../src-renderer/src/screens/Import/FileChunks.svelte'
import { PagedRows } from '../../../../src-renderer/src/state/pagedRows.svelte'
import { makeChunk, makeFile } from '../../support/corpusFixtures'

function pagedOf<T>(items: T[]): PagedRows<T> {
  const rows = new PagedRows<T>({ pageSize: 50, fetchPage: async (offset, limit) => ({ total: items.length, rows: items.slice(offset, offset + limit) }), onError: vi.fn() })
  void rows.reset()
  return rows
}

const rowOf = (cell: HTMLElement): HTMLElement => cell.closest<HTMLElement>('[role="row"]')!

describe('selected rows of the import screen', () => {
  it('marks the file whose chunks are shown with aria-selected', async () => {
    const files = pagedOf<CorpusFileInfo>([makeFile({ id: 1, path: '/docs/a.txt' }), makeFile({ id: 2, path: '/docs/b.txt' })])
    const onSelect = vi.fn()
    const { rerender } = render(CorpusFilesTable, { files, filter: 'all', selectedId: null, onFilter: vi.fn(), onSelect })
    const open = await screen.findByRole('button', { name: 'Show chunks of /docs/b.txt' })
    expect(rowOf(open)).toHaveAttribute('aria-selected', 'false')
    await userEvent.click(open)
    expect(onSelect).toHaveBeenCalledWith(expect.objectContaining({ id: 2 }))
    await rerender({ selectedId: 2 })
    expect(rowOf(open)).toHaveAttribute('aria-selected', 'true')
    expect(rowOf(screen.getByRole('button', { name: 'Show chunks of /docs/a.txt' }))).toHaveAttribute('aria-selected', 'false')
  })

  it('marks the open chunk with aria-selected', async () => {
    const chunks = pagedOf<ChunkInfo>([makeChunk({ id: 100 }), makeChunk({ id: 101 })])
    render(FileChunks, { file: makeFile(), documents: [], chunks, selectedChunkId: 101, onSelectChunk: vi.fn(), onClose: vi.fn(), onRestoreDocument: vi.fn() })
    await waitFor(() => expect(rowOf(screen.getByRole('button', { name: 'Open chunk #101' }))).toHaveAttribute('aria-selected', 'true'))
    expect(rowOf(screen.getByRole('button', { name: 'Open chunk #100' }))).toHaveAttribute('aria-selected', 'false')
  })
})
