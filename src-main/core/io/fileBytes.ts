import { open, rename, rm, type FileHandle } from 'node:fs/promises'
import { LecternError } from '../../shared/errors.js'
import type { ByteSink, ByteSource } from '../model/io/bytes.js'

/** Random-access reads from a file; the file is never loaded whole. */
export class FileByteSource implements ByteSource {
  readonly name: string
  readonly sizeBytes: number
  private readonly handle: FileHandle

  private constructor(path: string, handle: FileHandle, sizeBytes: number) {
    this.name = path
    this.handle = handle
    this.sizeBytes = sizeBytes
  }

  static async open(path: string): Promise<FileByteSource> {
    const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
      const reason = error.code === 'ENOENT' ? 'file not found' : error.code === 'EISDIR' ? 'is a folder, not a file' : error.message
      throw new LecternError(error.code === 'ENOENT' ? 'not_found' : 'io', `${path}: ${reason}`, { file: path })
    })
    const { size } = await handle.stat()
    return new FileByteSource(path, handle, size)
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.sizeBytes) {
      throw new RangeError(`${this.name}: read of ${length} bytes at ${offset} runs past the end (${this.sizeBytes} bytes)`)
    }
    const buffer = new Uint8Array(length)
    let filled = 0
    while (filled < length) {
      const { bytesRead } = await this.handle.read(buffer, filled, length - filled, offset + filled)
      if (bytesRead === 0) throw new RangeError(`${this.name}: file shrank while reading at ${offset + filled}`)
      filled += bytesRead
    }
    return buffer
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined)
  }
}

export interface FileByteSinkOptions {
  /** Writes are gathered into blocks of this size. Defaults to `4 MiB`. */
  blockBytes?: number
}

/**
 * Appends to `<path>.partial` and renames it to `path` only on `commit()`, so a crash or a cancel never
 * leaves a half-written file under the real name, and an existing file is replaced only by a complete one.
 */
export class FileByteSink implements ByteSink {
  readonly name: string
  private readonly partialPath: string
  private readonly handle: FileHandle
  private readonly block: Uint8Array
  private blockFill = 0
  private written = 0
  private closed = false

  private constructor(path: string, handle: FileHandle, blockBytes: number) {
    this.name = path
    this.partialPath = `${path}.partial`
    this.handle = handle
    this.block = new Uint8Array(blockBytes)
  }

  static async create(path: string, options: FileByteSinkOptions = {}): Promise<FileByteSink> {
    const handle = await open(`${path}.partial`, 'w').catch((error: Error) => {
      throw new LecternError('io', `${path}: cannot write (${error.message})`, { file: path })
    })
    return new FileByteSink(path, handle, options.blockBytes ?? 4 * 1024 * 1024)
  }

  get position(): number {
    return this.written
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new Error(`${this.name}: write after close`)
    this.written += chunk.length
    if (chunk.length >= this.block.length) {
      await this.flush()
      await this.writeFully(chunk)
      return
    }
    if (this.blockFill + chunk.length > this.block.length) await this.flush()
    this.block.set(chunk, this.blockFill)
    this.blockFill += chunk.length
  }

  /** Finishes the file (closing it if still open) and moves it to its real name. */
  async commit(): Promise<void> {
    await this.close()
    await rename(this.partialPath, this.name)
  }

  /** Stops writing; the partial file is removed and nothing appears under the real name. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      await this.handle.close().catch(() => undefined)
    }
    await rm(this.partialPath, { force: true })
  }

  /** Flushes and closes `<path>.partial`; `commit()` then gives it its real name. */
  async close(): Promise<void> {
    if (this.closed) return
    await this.flush()
    await this.handle.sync()
    this.closed = true
    await this.handle.close()
  }

  private async flush(): Promise<void> {
    if (this.blockFill === 0) return
    await this.writeFully(this.block.subarray(0, this.blockFill))
    this.blockFill = 0
  }

  private async writeFully(bytes: Uint8Array): Promise<void> {
    let done = 0
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done)
      done += bytesWritten
    }
  }
}
