import { createHash } from 'node:crypto'
import { open, rename, rm, stat, statfs } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { Hash } from 'node:crypto'
import type { DownloadSink, UploadSource } from '../../shared/storage/index.ts'
import type { FileHandle } from 'node:fs/promises'
import { InternalError } from '../../shared/errors.ts'
import { ObjectTooLargeError, UploadIncompleteError } from '../../shared/storage/index.ts'
import { formatBytes } from './object-meta.ts'

const READ_CHUNK = 4 * 1024 * 1024

async function hashFile (file: FileHandle, length: number, hash: Hash, onProgress?: (bytes: number) => void, signal?: AbortSignal): Promise<void> {
  const buffer = Buffer.alloc(READ_CHUNK)
  for (let at = 0; at < length;) {
    signal?.throwIfAborted()
    const { bytesRead } = await file.read(buffer, 0, Math.min(READ_CHUNK, length - at), at)
    if (bytesRead === 0) throw new InternalError(`File shorter than expected (${at} of ${length} bytes)`)
    hash.update(buffer.subarray(0, bytesRead))
    at += bytesRead
    onProgress?.(at)
  }
}

export interface FileSource extends UploadSource {
  close: () => Promise<void>
}

/** A file on disk to upload; hashed with node:crypto. */
export async function fileSource (path: string): Promise<FileSource> {
  const file = await open(path, 'r')
  const { size } = await file.stat()
  let digest: string | undefined
  return {
    size,
    read: async (offset, length) => {
      const buffer = Buffer.allocUnsafe(length)
      let filled = 0
      while (filled < length) {
        const { bytesRead } = await file.read(buffer, filled, length - filled, offset + filled)
        if (bytesRead === 0) throw new UploadIncompleteError(`${path} changed while being uploaded`)
        filled += bytesRead
      }
      return buffer
    },
    sha256: async (onProgress, signal) => {
      if (digest == null) {
        const hash = createHash('sha256')
        await hashFile(file, size, hash, onProgress, signal)
        digest = hash.digest('hex')
      }
      return digest
    },
    close: async () => { await file.close() }
  }
}

export interface FileSink extends DownloadSink {
  /** Moves the verified download into place. */
  finish: () => Promise<void>
  close: () => Promise<void>
}

/**
 * Downloads into `<path>.part`, renamed to `path` once the content checks
 * out. A `.part` left by an interrupted run is kept and continued.
 */
export async function fileSink (path: string, size: number): Promise<FileSink> {
  const partPath = `${path}.part`
  const existing = await stat(partPath).then(s => s.size, () => 0)
  const resumeFrom = existing <= size ? existing : 0
  // say so before writing a byte, rather than fill the disk and fail at the end
  const disk = await statfs(dirname(resolve(path))).catch(() => undefined)
  const free = disk != null ? disk.bavail * disk.bsize : Infinity
  if (size - resumeFrom > free) {
    throw new ObjectTooLargeError(`The object is ${formatBytes(size)}, but the disk ${path} is on has ${formatBytes(free)} free`)
  }
  const file = await open(partPath, resumeFrom > 0 ? 'r+' : 'w+')
  let hash = createHash('sha256')
  if (resumeFrom > 0) await hashFile(file, resumeFrom, hash)
  await file.truncate(resumeFrom)
  let closed = false
  return {
    resumeFrom,
    write: async (offset, bytes) => {
      await file.write(bytes, 0, bytes.byteLength, offset)
      hash.update(bytes)
    },
    digest: async () => hash.copy().digest(),
    reset: async () => {
      await file.truncate(0)
      hash = createHash('sha256')
    },
    finish: async () => {
      await file.close()
      closed = true
      await rename(partPath, path)
    },
    close: async () => {
      if (!closed) await file.close()
      closed = true
    }
  }
}

export async function removeFile (path: string): Promise<void> {
  await rm(path, { force: true })
}
