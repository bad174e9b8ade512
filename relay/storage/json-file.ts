import { readFile, rename, writeFile } from 'node:fs/promises'

/** Reads a small JSON state file, or `fallback` when it is missing or unreadable. */
export async function readJsonFile<T> (path: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T
  } catch {
    return fallback
  }
}

/** Writes atomically (temp file + rename), so a crash never leaves half a file. */
export async function writeJsonFile (path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(value, null, 2))
  await rename(tmp, path)
}
