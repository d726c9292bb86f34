import { createHash, type Hash } from 'node:crypto'
import type { ByteSink } from '../model/io/bytes.js'
import type { FileByteSink } from './fileBytes.js'

/** Passes bytes to a file sink and hashes them on the way. */
export class HashingSink implements ByteSink {
  readonly name: string
  readonly file: FileByteSink
  private readonly hash: Hash = createHash('sha256')

  constructor(name: string, file: FileByteSink) {
    this.name = name
    this.file = file
  }

  get position(): number {
    return this.file.position
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk)
    await this.file.write(chunk)
  }

  close(): Promise<void> {
    return this.file.close()
  }

  /** The file's name, size and SHA-256; call once, after the last write. */
  result(): { name: string; bytes: number; sha256: string } {
    return { name: this.name, bytes: this.file.position, sha256: this.hash.digest('hex') }
  }
}
