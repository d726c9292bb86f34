/**
 * Model files run to many gigabytes, so readers and writers never take a whole file as one buffer: they
 * read ranges from a `ByteSource` and append to a `ByteSink`. Files back them in the app
 * (core/io/fileBytes.ts); memory backs them in tests.
 */
export interface ByteSource {
  /** What to name in error messages: usually the file path. */
  readonly name: string
  readonly sizeBytes: number
  /** Exactly `length` bytes from `offset`; rejects if the range runs past the end. */
  read(offset: number, length: number): Promise<Uint8Array>
}

export interface ByteSink {
  readonly name: string
  /** Bytes accepted so far. */
  readonly position: number
  write(chunk: Uint8Array): Promise<void>
  /** Flushes and releases the sink; idempotent. */
  close(): Promise<void>
}

export class MemoryByteSource implements ByteSource {
  readonly name: string
  private readonly bytes: Uint8Array

  constructor(bytes: Uint8Array, name = 'memory') {
    this.bytes = bytes
    this.name = name
  }

  get sizeBytes(): number {
    return this.bytes.length
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length) {
      throw new RangeError(`${this.name}: read of ${length} bytes at ${offset} runs past the end (${this.bytes.length} bytes)`)
    }
    return this.bytes.subarray(offset, offset + length)
  }
}

/** Collects everything written; `bytes()` joins it. For tests and small in-memory results. */
export class MemoryByteSink implements ByteSink {
  readonly name: string
  private readonly chunks: Uint8Array[] = []
  private written = 0

  constructor(name = 'memory') {
    this.name = name
  }

  get position(): number {
    return this.written
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.chunks.push(chunk.slice())
    this.written += chunk.length
  }

  async close(): Promise<void> {}

  bytes(): Uint8Array {
    const out = new Uint8Array(this.written)
    let at = 0
    for (const chunk of this.chunks) {
      out.set(chunk, at)
      at += chunk.length
    }
    return out
  }
}
