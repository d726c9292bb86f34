import type { Readable } from 'node:stream'
import yauzl from 'yauzl'
import { DEFAULT_EXTRACTION_LIMITS, type ExtractionLimits, type SourceBytes } from '../formats/types.js'
import { UnreadableFileError } from '../formats/UnreadableFileError.js'

/** One member of a zip archive, as its central directory declares it. */
export interface ZipEntryInfo {
  /** Path inside the archive, `/`-separated; directories end in `/`. */
  name: string
  compressedSizeBytes: number
  uncompressedSizeBytes: number
  isDirectory: boolean
}

/** A member that is listed but never read, and why (the caller records it beside the archive). */
export interface RejectedZipEntry {
  name: string
  reason: string
}

/** A readable member: usable wherever a `SourceBytes` is, with `displayPath` `archive.zip!/inner/path`. */
export interface ZipMember extends ZipEntryInfo, SourceBytes {}

/** What went wrong with a whole archive, so that readers of zip-based formats can word their own reason. */
export type ZipArchiveErrorKind = 'not_zip' | 'damaged' | 'bomb' | 'too_many_entries' | 'io'

export class ZipArchiveError extends UnreadableFileError {
  readonly kind: ZipArchiveErrorKind

  constructor(displayPath: string, kind: ZipArchiveErrorKind, reason: string, options: { cause?: unknown } = {}) {
    super(displayPath, reason, options)
    this.name = 'ZipArchiveError'
    this.kind = kind
  }
}

/**
 * Bytes that archives sharing this object may still inflate, counted as they stream. Pass the parent archive's
 * budget to a nested archive so that nesting cannot multiply `maxArchiveBytes`.
 */
export interface InflateBudget {
  remainingBytes: number
}

export interface ZipArchiveOptions {
  /** Path shown in errors and in members' `displayPath`. Defaults to the file path (`open`) or `'archive.zip'`. */
  displayPath?: string
  /** Defaults to `DEFAULT_EXTRACTION_LIMITS`. */
  limits?: ExtractionLimits
  /** Defaults to a fresh budget of `limits.maxArchiveBytes`. */
  inflateBudget?: InflateBudget
  signal?: AbortSignal | undefined
}

/** Members smaller than this are exempt from the ratio check: tiny runs of zeros legitimately compress ~1000:1. */
const RATIO_CHECK_MIN_BYTES = 1024 * 1024

const ENCRYPTED_FLAG = 0x1

interface ListedEntry {
  info: ZipEntryInfo
  entry: yauzl.Entry
}

/**
 * A zip archive opened for reading with the extraction limits enforced: the central directory is checked as a
 * whole when the archive opens (entry count, declared sizes, compression ratios), and every read counts the bytes
 * actually inflated, because headers can lie.
 */
export class ZipArchive {
  readonly displayPath: string
  /** Members skipped because of their name (path traversal) or encryption; they cannot be read. */
  readonly rejectedEntries: readonly RejectedZipEntry[]
  private readonly zipFile: yauzl.ZipFile
  private readonly listed: ListedEntry[]
  private readonly byName: Map<string, ListedEntry>
  /** Shared with nested archives opened from this one's members (pass it as their `inflateBudget`). */
  readonly inflateBudget: InflateBudget
  private readonly limits: ExtractionLimits
  private readonly signal: AbortSignal | undefined
  private closed = false

  private constructor(
    zipFile: yauzl.ZipFile,
    listed: ListedEntry[],
    rejected: RejectedZipEntry[],
    displayPath: string,
    limits: ExtractionLimits,
    budget: InflateBudget,
    signal: AbortSignal | undefined,
  ) {
    this.zipFile = zipFile
    this.listed = listed
    this.byName = new Map(listed.map((item) => [item.info.name, item]))
    this.rejectedEntries = rejected
    this.displayPath = displayPath
    this.limits = limits
    this.inflateBudget = budget
    this.signal = signal
  }

  /** Opens a zip file on disk; only the central directory is read until members are. */
  static async open(filePath: string, options: ZipArchiveOptions = {}): Promise<ZipArchive> {
    const displayPath = options.displayPath ?? filePath
    const zipFile = await new Promise<yauzl.ZipFile>((resolve, reject) => {
      yauzl.open(filePath, yauzlOptions(), (error, opened) => (error ? reject(error) : resolve(opened)))
    }).catch((error: unknown) => {
      throw openError(displayPath, error)
    })
    return ZipArchive.create(zipFile, displayPath, options)
  }

  /** Opens a zip archive held in memory (a DOCX, an EPUB, a zip nested in a zip). */
  static async fromBytes(bytes: Uint8Array, options: ZipArchiveOptions = {}): Promise<ZipArchive> {
    const displayPath = options.displayPath ?? 'archive.zip'
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const zipFile = await new Promise<yauzl.ZipFile>((resolve, reject) => {
      yauzl.fromBuffer(buffer, yauzlOptions(), (error, opened) => (error ? reject(error) : resolve(opened)))
    }).catch((error: unknown) => {
      throw openError(displayPath, error)
    })
    return ZipArchive.create(zipFile, displayPath, options)
  }

  private static async create(zipFile: yauzl.ZipFile, displayPath: string, options: ZipArchiveOptions): Promise<ZipArchive> {
    const { limits = DEFAULT_EXTRACTION_LIMITS, signal } = options
    const budget = options.inflateBudget ?? { remainingBytes: limits.maxArchiveBytes }
    try {
      if (zipFile.entryCount > limits.maxArchiveEntries) {
        throw new ZipArchiveError(displayPath, 'too_many_entries', `archive lists ${zipFile.entryCount} entries, limit ${limits.maxArchiveEntries}`)
      }
      const listed: ListedEntry[] = []
      const rejected: RejectedZipEntry[] = []
      let declaredTotalBytes = 0
      for await (const entry of zipFile.eachEntry()) {
        signal?.throwIfAborted()
        const info = describeEntry(entry)
        const nameProblem = unsafeNameReason(info.name)
        if (nameProblem !== undefined) {
          rejected.push({ name: info.name, reason: nameProblem })
          continue
        }
        if ((entry.generalPurposeBitFlag & ENCRYPTED_FLAG) !== 0) {
          rejected.push({ name: info.name, reason: 'encrypted archive member' })
          continue
        }
        checkCompressionRatio(displayPath, info, limits)
        if (info.uncompressedSizeBytes > limits.maxFileBytes) {
          rejected.push({ name: info.name, reason: `member too large: ${info.uncompressedSizeBytes} bytes, limit ${limits.maxFileBytes}` })
          continue
        }
        declaredTotalBytes += info.uncompressedSizeBytes
        if (declaredTotalBytes > limits.maxArchiveBytes) {
          throw new ZipArchiveError(
            displayPath,
            'bomb',
            `archive bomb: members would inflate to at least ${declaredTotalBytes} bytes, limit ${limits.maxArchiveBytes}`,
          )
        }
        if (!info.isDirectory && (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)) {
          rejected.push({ name: info.name, reason: `unsupported compression method ${entry.compressionMethod}` })
          continue
        }
        listed.push({ info, entry })
      }
      return new ZipArchive(zipFile, listed, rejected, displayPath, limits, budget, signal)
    } catch (error) {
      zipFile.close()
      if (error instanceof UnreadableFileError || isAbort(error)) throw error
      throw new ZipArchiveError(displayPath, 'damaged', `damaged zip archive (${messageOf(error)})`, { cause: error })
    }
  }

  /** Closes the file (after any streams still open end). Safe to call more than once. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.zipFile.close()
  }

  /** Every member that may be read, directories included, in central-directory order. */
  entries(): ZipEntryInfo[] {
    return this.listed.map((item) => ({ ...item.info }))
  }

  has(name: string): boolean {
    return this.byName.has(name)
  }

  /** The member's whole content. Throws `UnreadableFileError` when it is missing, rejected, or lies about its size. */
  async readEntry(name: string): Promise<Uint8Array> {
    const item = this.requireEntry(name)
    const pieces: Uint8Array[] = []
    let totalBytes = 0
    for await (const piece of this.streamEntry(item)) {
      pieces.push(piece)
      totalBytes += piece.byteLength
    }
    const whole = new Uint8Array(totalBytes)
    let offset = 0
    for (const piece of pieces) {
      whole.set(piece, offset)
      offset += piece.byteLength
    }
    return whole
  }

  /** The member's content in pieces, inflated as it is read. */
  openStream(name: string): AsyncIterable<Uint8Array> {
    return this.streamEntry(this.requireEntry(name))
  }

  /** The readable file members (directories left out), each usable as the `SourceBytes` of a format reader. */
  async *iterateEntries(): AsyncGenerator<ZipMember> {
    for (const item of this.listed) {
      if (item.info.isDirectory) continue
      yield this.member(item)
    }
  }

  private member(item: ListedEntry): ZipMember {
    return {
      ...item.info,
      displayPath: `${this.displayPath}!/${item.info.name}`,
      sizeBytes: item.info.uncompressedSizeBytes,
      readAll: () => this.readEntry(item.info.name),
      stream: () => this.streamEntry(item),
    }
  }

  private requireEntry(name: string): ListedEntry {
    if (this.closed) throw new Error(`ZipArchive ${this.displayPath} is closed`)
    const item = this.byName.get(name)
    if (item !== undefined) return item
    const rejected = this.rejectedEntries.find((entry) => entry.name === name)
    throw new UnreadableFileError(`${this.displayPath}!/${name}`, rejected ? `cannot read: ${rejected.reason}` : 'not in the archive')
  }

  private async *streamEntry(item: ListedEntry): AsyncGenerator<Uint8Array> {
    const memberPath = `${this.displayPath}!/${item.info.name}`
    const declaredBytes = item.info.uncompressedSizeBytes
    const stream = await new Promise<Readable>((resolve, reject) => {
      this.zipFile.openReadStream(item.entry, (error, opened) => (error ? reject(error) : resolve(opened)))
    }).catch((error: unknown) => {
      throw new UnreadableFileError(memberPath, `damaged archive member (${messageOf(error)})`, { cause: error })
    })
    let inflatedBytes = 0
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        this.signal?.throwIfAborted()
        inflatedBytes += chunk.byteLength
        this.inflateBudget.remainingBytes -= chunk.byteLength
        if (inflatedBytes > declaredBytes) throw lyingSizeError(this.displayPath, item.info.name, declaredBytes)
        if (this.inflateBudget.remainingBytes < 0) {
          throw new ZipArchiveError(
            this.displayPath,
            'bomb',
            `archive bomb: ${item.info.name} pushes the bytes inflated past the limit of ${this.limits.maxArchiveBytes}`,
          )
        }
        yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      }
    } catch (error) {
      if (error instanceof UnreadableFileError || isAbort(error)) throw error
      // yauzl checks the inflated length against the header before we see the excess bytes.
      if (/too many bytes in the stream/.test(messageOf(error))) throw lyingSizeError(this.displayPath, item.info.name, declaredBytes)
      throw new UnreadableFileError(memberPath, `damaged archive member (${messageOf(error)})`, { cause: error })
    } finally {
      stream.destroy()
    }
  }
}

function yauzlOptions(): yauzl.Options {
  // Names are decoded by us (decodeStrings: false) because yauzl fails the whole archive on a bad name, and we
  // skip just that member.
  return { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }
}

function describeEntry(entry: yauzl.Entry): ZipEntryInfo {
  // With decodeStrings off, fileName holds the raw bytes; strictFileNames keeps backslashes for us to refuse.
  const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true)
  return {
    name,
    compressedSizeBytes: entry.compressedSize,
    uncompressedSizeBytes: entry.uncompressedSize,
    isDirectory: name.endsWith('/'),
  }
}

/** Why a member name could escape the extraction folder, or undefined when it is safe. */
export function unsafeNameReason(name: string): string | undefined {
  if (name.includes('\0')) return 'unsafe name: contains a NUL character'
  if (name.includes('\\')) return 'unsafe name: contains a backslash'
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return 'unsafe name: absolute path'
  if (name.split('/').includes('..')) return 'unsafe name: contains a ".." segment'
  if (name === '') return 'unsafe name: empty'
  return undefined
}

function checkCompressionRatio(displayPath: string, info: ZipEntryInfo, limits: ExtractionLimits): void {
  if (info.uncompressedSizeBytes <= RATIO_CHECK_MIN_BYTES) return
  const ratio = info.uncompressedSizeBytes / Math.max(info.compressedSizeBytes, 1)
  if (ratio <= limits.maxCompressionRatio) return
  throw new ZipArchiveError(
    displayPath,
    'bomb',
    `archive bomb: ${info.name} would inflate ${info.compressedSizeBytes} bytes to ${info.uncompressedSizeBytes} bytes ` +
      `(ratio ${Math.round(ratio)}:1, limit ${limits.maxCompressionRatio}:1)`,
  )
}

function lyingSizeError(displayPath: string, name: string, declaredBytes: number): ZipArchiveError {
  return new ZipArchiveError(displayPath, 'bomb', `archive bomb: ${name} inflates past its declared size of ${declaredBytes} bytes`)
}

function openError(displayPath: string, error: unknown): ZipArchiveError {
  const message = messageOf(error)
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (typeof code === 'string' && /^E(?!RR_)[A-Z]+$/.test(code)) {
    return new ZipArchiveError(displayPath, 'io', `cannot read the file (${message})`, { cause: error })
  }
  if (/end of central directory record signature not found/i.test(message)) {
    return new ZipArchiveError(displayPath, 'not_zip', `not a zip archive (${message})`, { cause: error })
  }
  return new ZipArchiveError(displayPath, 'damaged', `damaged zip archive (${message})`, { cause: error })
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError'
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
