import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { SourceBytes } from './formats/types.js'

/**
 * A file on disk as a reader's source, hashing (SHA-256) whatever the reader reads, so a file is read once
 * for both its text and its content hash. `sha256()` is null when the reader did not read it whole.
 */
export class HashingFileSource implements SourceBytes {
  readonly displayPath: string
  readonly sizeBytes: number
  private hash: Hash = createHash('sha256')
  private bytesHashed = 0

  constructor(path: string, sizeBytes: number) {
    this.displayPath = path
    this.sizeBytes = sizeBytes
  }

  async readAll(): Promise<Uint8Array> {
    const bytes = await readFile(this.displayPath)
    this.restartHash()
    this.hash.update(bytes)
    this.bytesHashed = bytes.length
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  async *stream(): AsyncIterable<Uint8Array> {
    this.restartHash()
    for await (const piece of createReadStream(this.displayPath, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      this.hash.update(piece)
      this.bytesHashed += piece.length
      yield piece
    }
  }

  sha256(): string | null {
    return this.bytesHashed === this.sizeBytes ? this.hash.copy().digest('hex') : null
  }

  private restartHash(): void {
    this.hash = createHash('sha256')
    this.bytesHashed = 0
  }
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) hash.update(piece)
  return hash.digest('hex')
}

export function sha256OfBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
