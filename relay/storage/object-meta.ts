import type { ObjectInfo } from '../../shared/storage/index.ts'

/** Kept in each drive entry's metadata: signed into the drive, so replicas enforce the same rules. */
export interface ObjectMeta {
  v: 1
  /** The uploader: the drive's owner. */
  owner: string
  sha256: string
  size: number
  createdAt: number
  expiresAt: number
}

export function isObjectMeta (value: unknown): value is ObjectMeta {
  const m = value as ObjectMeta | null
  return m != null && typeof m === 'object' && m.v === 1 && typeof m.owner === 'string' && typeof m.sha256 === 'string' &&
    Number.isSafeInteger(m.size) && typeof m.createdAt === 'number' && typeof m.expiresAt === 'number'
}

export function objectInfo (drive: string, path: string, meta: ObjectMeta, relays: string[]): ObjectInfo {
  return { drive, path, size: meta.size, sha256: meta.sha256, owner: meta.owner, createdAt: meta.createdAt, expiresAt: meta.expiresAt, relays }
}

/** Bytes in a human unit, for error messages. */
export function formatBytes (n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  let v = n
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i] as string}`
}
