import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeJsonFile } from './json-file.ts'
import type { BlobExtent } from './blob-appender.ts'
import type { Logger } from '@libp2p/interface'
import { InternalError } from '../../shared/errors.ts'

/** An upload that has started and not finished: its bytes are in the drive's blob core, reachable from no entry yet. */
export interface PendingRecord {
  v: 2
  id: string
  /** Who sends the bytes (the owner, or a holder of a write token). */
  requester: string
  /** The requester's network address key (per-address limits); absent when it has none. */
  address?: string
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
  /** The verified bytes appended so far. */
  blob?: BlobExtent
  /**
   * Set while an upload holds the drive's append lock: after a crash every
   * block from `blob`'s start to the core's end is this upload's.
   */
  holding?: boolean
}

export interface PendingUpload {
  record: PendingRecord
  /** Last time bytes arrived (or the upload was resumed), ms. */
  touchedAt: number
  /**
   * Verified bytes received, charged to the quotas: what an upload declares
   * costs nothing until it arrives (a declared 1 GiB that never comes must
   * not fill the relay).
   */
  charged: number
  /** The stream currently feeding it: a newer one for the same upload takes over. */
  active?: { controller: AbortController, done: Promise<void> }
}

export interface PendingUploadsInit {
  /** `<data>/storage/partial` */
  dir: string
  /** An upload untouched this long is thrown away, ms. */
  idleTtl: number
  /** One that holds no bytes goes after this instead, ms (nothing to resume). */
  emptyTtl: number
  /** One that holds little (under 4 MiB) goes after this, ms: cheap to send again, and a cheap way to hold a slot. */
  smallTtl: number
  /** Frees the blocks a discarded upload had appended. */
  clear: (record: PendingRecord) => Promise<void>
  log: Logger
}

/** An upload holding less than this is collected after `smallTtl`. */
const SMALL_UPLOAD = 4 * 1024 * 1024

/** Verified bytes an upload holds: where a resume starts. */
export function received (upload: PendingUpload): number {
  return upload.record.blob?.byteLength ?? 0
}

/** One upload ID per requester, target and content: asking again resumes it. */
export function uploadId (r: Pick<PendingRecord, 'requester' | 'drive' | 'path' | 'size' | 'sha256'>): string {
  return createHash('sha256').update(`${r.requester}\n${r.drive}\n${r.path}\n${r.size}\n${r.sha256 ?? ''}`).digest('hex').slice(0, 32)
}

/**
 * Uploads in progress, each a `<id>.json` record of where its verified bytes
 * lie in the drive's blob core, so a client that reconnects (even after a
 * relay crash) continues where it stopped. No entry points at those bytes
 * until the upload completes, so nothing here is ever served.
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
      // partial files of older versions (their uploads start again) and writes cut short
      if (name.endsWith('.part') || name.endsWith('.tmp')) {
        await rm(join(this.init.dir, name), { force: true })
        continue
      }
      if (!name.endsWith('.json')) continue
      const id = name.slice(0, -5)
      try {
        const record = JSON.parse(await readFile(join(this.init.dir, name), 'utf8')) as PendingRecord
        if (record.v !== 2 || record.id !== id || (record.blob?.byteLength ?? 0) > record.size) throw new InternalError('inconsistent or older record')
        this.uploads.set(id, { record, touchedAt: Date.now(), charged: record.blob?.byteLength ?? 0 })
      } catch (err: any) {
        this.init.log('dropping unreadable pending upload %s - %e', id, err)
        await rm(join(this.init.dir, name), { force: true })
      }
    }
  }

  /** Uploads that held their drive's append lock when the relay stopped. */
  held (): PendingUpload[] {
    return [...this.uploads.values()].filter(u => u.record.holding === true)
  }

  get (id: string): PendingUpload | undefined {
    return this.uploads.get(id)
  }

  get count (): number {
    return this.uploads.size
  }

  /** Uploads in progress from one requester, from one address. */
  countOf (filter: { requester?: string, address?: string }): number {
    let n = 0
    for (const u of this.uploads.values()) {
      if (filter.requester != null && u.record.requester !== filter.requester) continue
      if (filter.address != null && u.record.address !== filter.address) continue
      n++
    }
    return n
  }

  async create (record: PendingRecord): Promise<PendingUpload> {
    const upload: PendingUpload = { record, touchedAt: Date.now(), charged: 0 }
    await this.save(upload)
    this.uploads.set(record.id, upload)
    return upload
  }

  /** Writes the record (atomically: a crash leaves the old one or the new one). */
  async save (upload: PendingUpload): Promise<void> {
    await writeJsonFile(join(this.init.dir, `${upload.record.id}.json`), upload.record)
  }

  /** Verified bytes held by uploads in progress: for one owner, or all. */
  bytes (owner?: string): number {
    let total = 0
    for (const u of this.uploads.values()) {
      if (owner == null || u.record.owner === owner) total += u.charged
    }
    return total
  }

  /** Forgets an upload; its appended blocks are freed unless they became an object (`keepBlob`). */
  async discard (id: string, opts: { keepBlob?: boolean } = {}): Promise<void> {
    const upload = this.uploads.get(id)
    this.uploads.delete(id)
    await rm(join(this.init.dir, `${id}.json`), { force: true })
    if (upload?.record.blob != null && opts.keepBlob !== true) {
      await this.init.clear(upload.record).catch((err: any) => { this.init.log('freeing the blocks of upload %s failed - %e', id, err) })
    }
  }

  /**
   * Makes room for a new upload within `filter`'s scope by throwing away the
   * parked one (no stream feeding it) that holds the least, the stalest
   * first. False when every upload there is being fed.
   */
  async evictParked (filter: { requester?: string, address?: string } = {}): Promise<boolean> {
    let victim: PendingUpload | undefined
    for (const u of this.uploads.values()) {
      if (u.active != null) continue
      if (filter.requester != null && u.record.requester !== filter.requester) continue
      if (filter.address != null && u.record.address !== filter.address) continue
      if (victim == null || received(u) < received(victim) || (received(u) === received(victim) && u.touchedAt < victim.touchedAt)) victim = u
    }
    if (victim == null) return false
    this.init.log('making room: dropping parked upload %s of %s at %d/%d bytes', victim.record.id, victim.record.path, received(victim), victim.record.size)
    await this.discard(victim.record.id)
    return true
  }

  /** Throws away uploads nobody has fed for `idleTtl` (sooner for those holding little or nothing). */
  async expire (now: number): Promise<number> {
    let n = 0
    for (const [id, u] of this.uploads) {
      const held = received(u)
      const ttl = held === 0 ? this.init.emptyTtl : held < SMALL_UPLOAD ? this.init.smallTtl : this.init.idleTtl
      if (u.active == null && now - u.touchedAt > ttl) {
        this.init.log('pending upload %s of %s expired at %d/%d bytes', id, u.record.path, received(u), u.record.size)
        await this.discard(id)
        n++
      }
    }
    return n
  }
}
