import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '@libp2p/interface'

/** An upload that has started and not finished: its bytes wait outside the drive. */
export interface PendingRecord {
  v: 1
  id: string
  /** Who sends the bytes (the owner, or a holder of a write token). */
  requester: string
  /** Whose drive, and so whose quota. */
  owner: string
  drive: string
  path: string
  size: number
  /** The promised content hash; absent when the client names it after the last chunk. */
  sha256?: string
  /** Seconds the object will be kept once stored. */
  ttl: number
  createdAt: number
}

export interface PendingUpload {
  record: PendingRecord
  /** Verified bytes in the partial file. */
  received: number
  /** Last time bytes arrived (or the upload was resumed), ms. */
  touchedAt: number
  /** The stream currently feeding it: a newer one for the same upload takes over. */
  active?: { controller: AbortController, done: Promise<void> }
}

export interface PendingUploadsInit {
  /** `<data>/storage/partial` */
  dir: string
  /** An upload untouched this long is thrown away, ms. */
  idleTtl: number
  log: Logger
}

/** One upload ID per requester, target and content: asking again resumes it. */
export function uploadId (r: Pick<PendingRecord, 'requester' | 'drive' | 'path' | 'size' | 'sha256'>): string {
  return createHash('sha256').update(`${r.requester}\n${r.drive}\n${r.path}\n${r.size}\n${r.sha256 ?? ''}`).digest('hex').slice(0, 32)
}

/**
 * Uploads in progress, each a `<id>.json` record and a `<id>.part` file of
 * verified bytes, so a client that reconnects (even after a relay restart)
 * continues where it stopped. Nothing here is ever served.
 */
export class PendingUploads {
  private readonly init: PendingUploadsInit
  private readonly uploads = new Map<string, PendingUpload>()

  constructor (init: PendingUploadsInit) {
    this.init = init
  }

  async open (): Promise<void> {
    await mkdir(this.init.dir, { recursive: true })
    for (const name of await readdir(this.init.dir)) {
      if (!name.endsWith('.json')) continue
      const id = name.slice(0, -5)
      try {
        const record = JSON.parse(await readFile(join(this.init.dir, name), 'utf8')) as PendingRecord
        const size = await stat(this.partPath(id)).then(s => s.size, () => 0)
        if (record.v !== 1 || record.id !== id || size > record.size) throw new Error('inconsistent record')
        // the file only ever holds verified bytes: whatever is there counts
        this.uploads.set(id, { record, received: size, touchedAt: Date.now() })
      } catch (err: any) {
        this.init.log('dropping unreadable pending upload %s - %e', id, err)
        await this.discard(id)
      }
    }
  }

  partPath (id: string): string {
    return join(this.init.dir, `${id}.part`)
  }

  get (id: string): PendingUpload | undefined {
    return this.uploads.get(id)
  }

  get count (): number {
    return this.uploads.size
  }

  async create (record: PendingRecord): Promise<PendingUpload> {
    await writeFile(this.partPath(record.id), new Uint8Array(0))
    await writeFile(join(this.init.dir, `${record.id}.json`), JSON.stringify(record))
    const upload: PendingUpload = { record, received: 0, touchedAt: Date.now() }
    this.uploads.set(record.id, upload)
    return upload
  }

  /** Bytes reserved by uploads in progress: for one owner, or all. */
  bytes (owner?: string): number {
    let total = 0
    for (const u of this.uploads.values()) {
      if (owner == null || u.record.owner === owner) total += u.record.size
    }
    return total
  }

  async discard (id: string): Promise<void> {
    this.uploads.delete(id)
    await rm(this.partPath(id), { force: true })
    await rm(join(this.init.dir, `${id}.json`), { force: true })
  }

  /** Throws away uploads nobody has fed for `idleTtl`. */
  async expire (now: number): Promise<number> {
    let n = 0
    for (const [id, u] of this.uploads) {
      if (u.active == null && now - u.touchedAt > this.init.idleTtl) {
        this.init.log('pending upload %s of %s expired at %d/%d bytes', id, u.record.path, u.received, u.record.size)
        await this.discard(id)
        n++
      }
    }
    return n
  }
}
