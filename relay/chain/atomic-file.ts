import { open, readFile, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'

export interface AtomicWriteOptions {
  /** File mode of a new file. @default 0o644 */
  mode?: number
}

/**
 * Writes `data` to `path` so that a crash at any moment leaves either the
 * old file or the new one, whole: a temporary file next to it is written
 * and fsynced, renamed over `path`, then the folder is fsynced so the
 * rename itself is on disk.
 */
export async function writeFileAtomic (path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const tmp = `${path}.tmp`
  const handle = await open(tmp, 'w', options.mode ?? 0o644)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, path)
  await fsyncDir(dirname(path))
}

/** Makes renames and new names in `dir` durable. */
export async function fsyncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } catch (err: any) {
    // some file systems refuse fsync on a folder; nothing more can be done there
    if (err.code !== 'EINVAL' && err.code !== 'EISDIR' && err.code !== 'EPERM') throw err
  } finally {
    await handle.close()
  }
}

/** The file's text, or undefined when it does not exist. */
export async function readTextIfExists (path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err: any) {
    if (err.code === 'ENOENT') return undefined
    throw err
  }
}

/** Removes a file; one that is already gone is fine. */
export async function removeIfExists (path: string): Promise<void> {
  await unlink(path).catch((err: any) => { if (err.code !== 'ENOENT') throw err })
}
