import { fireEvent, render, screen } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { createRawSnippet } from 'svelte'
import { describe, expect, it, vi } from 'vitest'
import { RowHeights } from '../../../src-renderer/src/components/RowHeights'
import VirtualRows from '../../../src-renderer/src/components/VirtualRows.svelte'

const ROW_HEIGHT = 30

function renderRows(count: number, resetKey: unknown = 0) {
  const onRange = vi.fn<(first: number, last: number) => void>()
  const props = {
    count,
    resetKey,
    label: 'Numbers',
    estimatedRowHeight: ROW_HEIGHT,
    columns: '1fr',
    rowKey: (index: number) => index,
    onRange,
    header: createRawSnippet(() => ({ render: () => '<div role="columnheader">Number</div>' })),
    row: createRawSnippet((index: () => number) => ({ render: () => `<div role="gridcell">Row ${index()}</div>` })),
  }
  const result = render(VirtualRows, props)
  const grid = screen.getByRole('grid', { name: 'Numbers' })
  const rows = (): HTMLElement[] => screen.getAllByRole('row').filter((row) => row.dataset['index'] !== undefined)
  const shownIndices = (): number[] => rows().map((row) => Number(row.dataset['index']))
  return { ...result, props, onRange, grid, rows, shownIndices }
}

describe('VirtualRows', () => {
  it('renders only the rows in view plus the overscan, with spacers standing in for the rest', () => {
    const { grid, rows, shownIndices, onRange } = renderRows(10_000)
    // jsdom lays nothing out, so the viewport counts as 600 px: rows 0–19 of 30 px, plus 6 below.
    expect(shownIndices()).toEqual(Array.from({ length: 26 }, (_, i) => i))
    expect(grid).toHaveAttribute('aria-rowcount', '10001')
    expect(rows()[3]).toHaveAttribute('aria-rowindex', '5')
    expect(onRange).toHaveBeenLastCalledWith(0, 25)
    const spacers = grid.querySelectorAll<HTMLElement>('.space')
    expect(spacers[0]!.style.height).toBe('0px')
    expect(spacers[1]!.style.height).toBe(`${(10_000 - 26) * ROW_HEIGHT}px`)
  })

  it('shows the last row when scrolled to the end, and asks for that window', async () => {
    const { grid, shownIndices, onRange } = renderRows(10_000)
    const viewport = grid.querySelector<HTMLElement>('.viewport')!
    viewport.scrollTop = 10_000 * ROW_HEIGHT - 600
    await fireEvent.scroll(viewport)
    expect(shownIndices().at(-1)).toBe(9_999)
    expect(shownIndices().length).toBeLessThan(40)
    expect(onRange).toHaveBeenLastCalledWith(9_974, 9_999)
    expect(screen.getByText('Row 9999')).toBeInTheDocument()
  })

  it('moves the active row with the keyboard and scrolls it into view', async () => {
    const { grid, shownIndices } = renderRows(10_000)
    const viewport = grid.querySelector<HTMLElement>('.viewport')!
    const activeRow = (): HTMLElement | null => document.getElementById(grid.getAttribute('aria-activedescendant') ?? '')
    grid.focus()
    expect(activeRow()).toHaveTextContent('Row 0')

    await userEvent.keyboard('{ArrowDown}{ArrowDown}')
    expect(activeRow()).toHaveTextContent('Row 2')
    await userEvent.keyboard('{PageDown}')
    expect(activeRow()).toHaveTextContent('Row 21')
    expect(viewport.scrollTop).toBe(22 * ROW_HEIGHT - 600)

    await userEvent.keyboard('{End}')
    expect(activeRow()).toHaveTextContent('Row 9999')
    expect(viewport.scrollTop).toBe(10_000 * ROW_HEIGHT - 600)
    expect(shownIndices()).toContain(9_999)
    await userEvent.keyboard('{ArrowDown}')
    expect(activeRow()).toHaveTextContent('Row 9999')

    await userEvent.keyboard('{PageUp}{ArrowUp}')
    expect(activeRow()).toHaveTextContent('Row 9979')
    await userEvent.keyboard('{Home}')
    expect(activeRow()).toHaveTextContent('Row 0')
    expect(viewport.scrollTop).toBe(0)
  })

  it('goes back to the top and the first row when the list starts over', async () => {
    const { grid, props, rerender } = renderRows(10_000, 'first query')
    grid.focus()
    await userEvent.keyboard('{End}')
    await rerender({ ...props, resetKey: 'second query' })
    expect(grid.querySelector<HTMLElement>('.viewport')!.scrollTop).toBe(0)
    expect(document.getElementById(grid.getAttribute('aria-activedescendant') ?? '')).toHaveTextContent('Row 0')
  })

  it('renders nothing but the header for an empty list', () => {
    const { rows, grid, onRange } = renderRows(0)
    expect(rows()).toEqual([])
    expect(grid).not.toHaveAttribute('aria-activedescendant')
    expect(onRange).not.toHaveBeenCalled()
  })
})

describe('RowHeights', () => {
  it('finds offsets and the row at an offset, with measured rows replacing the estimate', () => {
    const heights = new RowHeights(1_000, 20)
    expect(heights.total()).toBe(20_000)
    expect(heights.indexAt(0)).toBe(0)
    expect(heights.indexAt(39)).toBe(1)
    expect(heights.indexAt(40)).toBe(2)
    expect(heights.indexAt(-5)).toBe(0)
    expect(heights.indexAt(1e9)).toBe(999)

    expect(heights.set(1, 100)).toBe(true)
    expect(heights.set(1, 100)).toBe(false)
    expect(heights.offsetOf(2)).toBe(120)
    expect(heights.indexAt(119)).toBe(1)
    expect(heights.indexAt(120)).toBe(2)
    expect(heights.total()).toBe(20_080)
    expect(heights.offsetOf(1_000)).toBe(20_080)
  })
})
