import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rename, stat, unlink } from 'node:fs/promises'
import { LecternError } from '../../shared/errors.js'

export interface DownloadProgress {
  receivedBytes: number
  totalBytes: number | null
  /** Bytes kept from an earlier, interrupted attempt (this call's or a previous one's). */
  resumedFromBytes: number
}

export interface DownloadFileOptions {
  /** Lowercase hex SHA-256 the finished file must have; `null` skips the check. Defaults to `null`. */
  sha256?: string | null
  /** Cancels the download; the partial file is kept so a later call resumes it. */
  signal?: AbortSignal
  /** Called as bytes arrive, at most every `progressIntervalMs`, and once at the end. */
  onProgress?: (progress: DownloadProgress) => void
  /** Defaults to `250`. */
  progressIntervalMs?: number
  /** Requests tried before giving up; each retry resumes where the last stopped. Defaults to `4`. */
  attempts?: number
}

/**
 * Downloads `url` to `destination` over plain HTTP(S) with resume: bytes go to `<destination>.part`, and a retry
 * or a later call asks for the rest with a `Range` header (a server that ignores it sends the whole file, which
 * starts over). The finished file is checked against `sha256` before it is renamed into place; a mismatch
 * deletes it, since resuming would only repeat the same bytes.
 */
export async function downloadFile(url: string, destination: string, options: DownloadFileOptions = {}): Promise<DownloadProgress> {
  const { sha256 = null, signal, onProgress, progressIntervalMs = 250, attempts = 4 } = options
  const part = `${destination}.part`
  let resumedFromBytes = await sizeOf(part)
  let progress: DownloadProgress = { receivedBytes: resumedFromBytes, totalBytes: null, resumedFromBytes }
  let lastError: unknown = null
  for (let attempt = 0; attempt < attempts; attempt++) {
    throwIfCancelled(signal, url)
    const have = await sizeOf(part)
    if (attempt > 0) resumedFromBytes = have
    try {
      const done = await fetchInto(url, part, have, { signal, progressIntervalMs, onProgress: (p) => onProgress?.((progress = { ...p, resumedFromBytes })) })
      progress = { ...done, resumedFromBytes }
      lastError = null
      break
    } catch (error) {
      if (signal?.aborted) throw cancelled(url)
      if (error instanceof LecternError && error.code !== 'io') throw error
      lastError = error
    }
  }
  if (lastError !== null) {
    const reason = lastError instanceof Error ? lastError.message : String(lastError)
    throw new LecternError('io', `Downloading ${url} failed after ${attempts} attempts: ${reason}. What arrived is kept; download again to resume.`, { file: part })
  }
  if (sha256 !== null) {
    const actual = await sha256Of(part)
    if (actual !== sha256) {
      await unlink(part).catch(() => undefined)
      throw new LecternError('verification_failed', `${url}: the download's SHA-256 is ${actual}, expected ${sha256}; the file was deleted`, { file: destination })
    }
  }
  await rename(part, destination)
  onProgress?.(progress)
  return progress
}

async function fetchInto(
  url: string,
  part: string,
  have: number,
  options: { signal: AbortSignal | undefined; progressIntervalMs: number; onProgress: (p: Omit<DownloadProgress, 'resumedFromBytes'>) => void },
): Promise<Omit<DownloadProgress, 'resumedFromBytes'>> {
  let response: Response
  try {
    response = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, redirect: 'follow', ...(options.signal ? { signal: options.signal } : {}) })
  } catch (error) {
    throw new LecternError('io', `${url}: ${(error as Error).message}`, { cause: error })
  }
  let start = 0
  let totalBytes: number | null
  if (response.status === 206) {
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '')
    start = range ? Number(range[1]) : -1
    totalBytes = range && range[2] !== '*' ? Number(range[2]) : null
    if (start !== have) {
      await response.body?.cancel()
      throw new LecternError('io', `${url}: the server resumed at byte ${start}, not ${have}`)
    }
  } else if (response.status === 416 && have > 0) {
    // Nothing left to send: the part file already holds the whole file.
    await response.body?.cancel()
    return { receivedBytes: have, totalBytes: have }
  } else if (response.ok) {
    const length = response.headers.get('content-length')
    totalBytes = length === null ? null : Number(length)
  } else {
    await response.body?.cancel()
    const code = response.status >= 500 || response.status === 429 ? 'io' : 'not_found'
    throw new LecternError(code, `${url}: the server answered HTTP ${response.status} ${response.statusText}`)
  }
  if (response.body === null) throw new LecternError('io', `${url}: the response has no body`)
  const file = await open(part, start > 0 ? 'a' : 'w')
  let received = start
  let lastReport = 0
  try {
    for await (const chunk of response.body) {
      await file.write(chunk)
      received += chunk.byteLength
      const now = Date.now()
      if (now - lastReport >= options.progressIntervalMs) {
        lastReport = now
        options.onProgress({ receivedBytes: received, totalBytes })
      }
    }
  } catch (error) {
    throw new LecternError('io', `${url}: the connection broke after ${received} bytes (${(error as Error).message})`, { cause: error })
  } finally {
    await file.close()
  }
  if (totalBytes !== null && received !== totalBytes) {
    throw new LecternError('io', `${url}: the connection closed after ${received} of ${totalBytes} bytes`)
  }
  return { receivedBytes: received, totalBytes: totalBytes ?? received }
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then((s) => s.size, () => 0)
}

function cancelled(url: string): LecternError {
  return new LecternError('cancelled', `Download of ${url} cancelled; what arrived is kept so it can resume`)
}

function throwIfCancelled(signal: AbortSignal | undefined, url: string): void {
  if (signal?.aborted) throw cancelled(url)
}
