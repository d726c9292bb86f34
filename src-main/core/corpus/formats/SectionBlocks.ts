import type { ExtractedBlock } from './types.js'

/** Paragraphs grouped into blocks, one per section: a section heading closes the block before it. */
export class SectionBlocks {
  private readonly blocks: ExtractedBlock[] = []
  private section: string | undefined
  private paragraphs: string[] = []

  addParagraph(text: string): void {
    this.paragraphs.push(text)
  }

  startSection(heading: string): void {
    this.closeBlock()
    this.section = heading || undefined
  }

  finish(): ExtractedBlock[] {
    this.closeBlock()
    return this.blocks
  }

  private closeBlock(): void {
    if (this.paragraphs.length === 0) return
    const block: ExtractedBlock = { text: this.paragraphs.join('\n\n') }
    if (this.section !== undefined) block.section = this.section
    this.blocks.push(block)
    this.paragraphs = []
  }
}
