import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { createRawSnippet } from 'svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { RowHeights } from '../../../src-renderer/src/components/RowHeights'
import VirtualRows from '../../../src-renderer/src/components/VirtualRows.svelte'

const ROW_HEIGHT = 30

interface RowsOptions {
  resetKey?: unknown
  rowKey?: (index: number) => string | number
  /** A row's cell, drawn for its index and key. */
  cell?: (index: number, key: string | number) => string
  selected?: (index: number) => boolean
}

function renderRows(count: number, options: RowsOptions = {}) {
  const onRange = vi.fn<(first: number, last: number) => void>()
  const rowKey = options.rowKey ?? ((index: number) => index)
  const cell = options.cell ?? ((index: number) => `<div role="gridcell">Row ${index}</div>`)
  const props = {
    count,
    resetKey: options.resetKey ?? 0,
    label: 'Numbers',
    estimatedRowHeight: ROW_HEIGHT,
    columns: '1fr',
    rowKey,
    onRange,
    selected: options.selected,
    header: createRawSnippet(() => ({ render: () => '<div role="columnheader">Number</div>' })),
    row: createRawSnippet((index: () => number) => ({ render: () => cell(index(), rowKey(index())) })),
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
    expect(spacers).toHaveLength(1)
    expect(spacers[0]!.style.height).toBe(`${(10_000 - 26) * ROW_HEIGHT}px`)
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
    const { grid, props, rerender } = renderRows(10_000, { resetKey: 'first query' })
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

/**
 * jsdom lays nothing out and has no ResizeObserver: this one reports each observed row at `heightOf` it, after the
 * frame a browser would report it in, and like the real one reports a row again only when it is observed anew.
 */
function observeRowsAs(heightOf: (element: HTMLElement) => number): void {
  class ReportingResizeObserver {
    private readonly observed = new Set<Element>()
    constructor(private readonly callback: ResizeObserverCallback) {}
    observe(element: HTMLElement): void {
      this.observed.add(element)
      setTimeout(() => {
        if (!this.observed.has(element)) return
        const entry = { target: element, borderBoxSize: [{ blockSize: heightOf(element), inlineSize: 100 }] }
        this.callback([entry as unknown as ResizeObserverEntry], this as unknown as ResizeObserver)
      })
    }
    unobserve(element: Element): void {
      this.observed.delete(element)
    }
    disconnect(): void {
      this.observed.clear()
    }
  }
  vi.stubGlobal('ResizeObserver', ReportingResizeObserver)
}

const range = (first: number, last: number): number[] => Array.from({ length: last - first + 1 }, (_, i) => first + i)

describe('VirtualRows: measured rows', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  // Rows of 50 px in the 600 px viewport: rows 0–11 in view, 0–17 with the overscan (30 px rows would give 0–25).
  const MEASURED = 50

  it('keeps the measured heights when only the number of rows changes', async () => {
    observeRowsAs(() => MEASURED)
    const { props, rerender, shownIndices } = renderRows(10_000)
    await waitFor(() => expect(shownIndices()).toEqual(range(0, 17)))
    await rerender({ ...props, count: 10_001 })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(shownIndices()).toEqual(range(0, 17))
  })

  it('measures the rows still drawn again when the list starts over', async () => {
    observeRowsAs(() => MEASURED)
    const { props, rerender, shownIndices } = renderRows(10_000, { resetKey: 'first query' })
    await waitFor(() => expect(shownIndices()).toEqual(range(0, 17)))
    await rerender({ ...props, resetKey: 'second query' })
    expect(shownIndices()).toEqual(range(0, 25))
    await waitFor(() => expect(shownIndices()).toEqual(range(0, 17)))
  })

  it('measures a row again when it moves to another index', async () => {
    // Items 0–4 are 200 px high, the rest 50 px; then the first five items go and the others move up five rows.
    observeRowsAs((element) => (Number(element.querySelector<HTMLElement>('[data-key]')!.dataset['key']) < 5 ? 200 : MEASURED))
    const cell = (_index: number, key: string | number): string => `<div role="gridcell" data-key="${key}">Item ${key}</div>`
    let shift = 0
    const { props, rerender, shownIndices } = renderRows(10_000, { cell, rowKey: (index) => index + shift })
    await waitFor(() => expect(shownIndices()).toEqual(range(0, 8)))
    shift = 5
    await rerender({ ...props, count: 9_995, rowKey: (index: number) => index + shift })
    await waitFor(() => expect(shownIndices()).toEqual(range(0, 17)))
    expect(screen.getAllByRole('gridcell')[0]).toHaveTextContent('Item 5')
  })
})

describe('VirtualRows: keyboard and focus', () => {
  const withButton = (index: number): string => `<div role="gridcell"><button type="button">Open ${index}</button></div>`

  it('moves focus into the active row with Enter or F2, and back to the grid with Escape', async () => {
    const { grid } = renderRows(10_000, { cell: withButton })
    grid.focus()
    await userEvent.keyboard('{ArrowDown}{ArrowDown}{Enter}')
    expect(screen.getByRole('button', { name: 'Open 2' })).toHaveFocus()
    await userEvent.keyboard('{Escape}')
    expect(grid).toHaveFocus()
    await userEvent.keyboard('{ArrowDown}{F2}')
    expect(screen.getByRole('button', { name: 'Open 3' })).toHaveFocus()
  })

  it('keeps the active row, and the control focused in it, drawn when it is scrolled far out of view', async () => {
    const { grid, shownIndices } = renderRows(10_000, { cell: withButton })
    grid.focus()
    await userEvent.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}{Enter}')
    const button = screen.getByRole('button', { name: 'Open 3' })
    const viewport = grid.querySelector<HTMLElement>('.viewport')!
    await fireEvent.wheel(viewport)
    viewport.scrollTop = 5_000 * ROW_HEIGHT
    await fireEvent.scroll(viewport)
    expect(shownIndices()).toEqual([3, ...range(4_994, 5_025)])
    expect(button).toHaveFocus()
    expect(button.isConnected).toBe(true)
    // The spacers stand in for exactly the rows not drawn, so every drawn row sits at its own offset.
    const spacers = [...grid.querySelectorAll<HTMLElement>('.space')].map((spacer) => parseFloat(spacer.style.height))
    expect(spacers).toEqual([3 * ROW_HEIGHT, (4_994 - 4) * ROW_HEIGHT, (10_000 - 5_026) * ROW_HEIGHT])
    expect(grid).toHaveAttribute('aria-activedescendant', screen.getAllByRole('row')[1]!.id)
  })

  it('is one tab stop: Tab leaves it, Shift+Tab comes back to the grid rather than to a row drawn below the view', async () => {
    const { grid } = renderRows(10_000, { cell: withButton })
    const after = document.body.appendChild(document.createElement('button'))
    after.textContent = 'After'
    grid.focus()
    await userEvent.tab()
    expect(after).toHaveFocus()
    await userEvent.tab({ shift: true })
    expect(grid).toHaveFocus()
    await userEvent.click(screen.getByRole('button', { name: 'Open 4' }))
    expect(screen.getByRole('button', { name: 'Open 4' })).toHaveFocus()
    after.remove()
  })

  it('draws each row once even when the keys it is given repeat', () => {
    const { shownIndices } = renderRows(100, { rowKey: (index) => Math.floor(index / 2) })
    expect(shownIndices()).toEqual(range(0, 25))
  })

  it('marks the selected row with aria-selected', () => {
    const { rows } = renderRows(100, { selected: (index) => index === 2 })
    expect(rows()[2]).toHaveAttribute('aria-selected', 'true')
    expect(rows()[1]).toHaveAttribute('aria-selected', 'false')
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

  it('keeps the measured heights of the rows it keeps when resized', () => {
    const heights = new RowHeights(10, 20)
    heights.set(2, 50)
    heights.set(8, 70)
    heights.resize(12)
    expect(heights.count).toBe(12)
    expect(heights.total()).toBe(50 + 70 + 10 * 20)
    expect(heights.offsetOf(9)).toBe(8 * 20 + 50 - 20 + 70)
    heights.resize(5)
    expect(heights.total()).toBe(4 * 20 + 50)
    expect(heights.indexAt(69)).toBe(2)
  })
})
