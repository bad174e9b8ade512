import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { isShareId, SHARE_ID_BYTES, shareIdFrom, StorageQuotaExceededError } from '../../shared/storage/index.ts'
import { readJsonFile, writeJsonFile } from './json-file.ts'
import type { Logger } from '@libp2p/interface'

/** A share link as the relay keeps it. The ID is a bearer capability: it never goes into a log. */
export interface ShareRecord {
  v: 1
  id: string
  /** The owner's read token, handed to whoever the share is for. */
  token: string
  drive: string
  path: string
  /** The uploader, who made the share. */
  owner: string
  /** A peer ID, or ANYONE. */
  grantee: string
  createdAt: number
  /** The token's expiry, or the object's if sooner. */
  expiresAt: number
}

export interface ShareStoreInit {
  /** Folder of the records, one file each (`<id>.json`). */
  dir: string
  /** Live shares kept in all. */
  max: number
  /** ... made by one uploader. */
  maxPerOwner: number
  log: Logger
}

function isShareRecord (value: unknown): value is ShareRecord {
  const r = value as ShareRecord | null
  return r != null && typeof r === 'object' && r.v === 1 && isShareId(r.id) && typeof r.token === 'string' && typeof r.drive === 'string' &&
    typeof r.path === 'string' && typeof r.owner === 'string' && typeof r.grantee === 'string' && typeof r.createdAt === 'number' && typeof r.expiresAt === 'number'
}

/**
 * The relay's share links: each record in a small file of its own, written
 * atomically, so a restart keeps them; they are dropped when they expire
 * (by the storage's collector, and never served after). Bounded in all and
 * per uploader, since every record holds a token on the relay's disk.
 */
export class ShareStore {
  private readonly shares = new Map<string, ShareRecord>()

  constructor (private readonly init: ShareStoreInit) {}

  /** Loads the records on disk; expired or unreadable ones go. */
  async open (now = Date.now()): Promise<void> {
    await mkdir(this.init.dir, { recursive: true })
    for (const name of await readdir(this.init.dir)) {
      const file = join(this.init.dir, name)
      const id = name.slice(0, -'.json'.length)
      const record = name.endsWith('.json') ? await readJsonFile<unknown>(file, null) : null
      if (isShareRecord(record) && record.id === id && record.expiresAt > now) {
        this.shares.set(id, record)
        continue
      }
      // a temp file from a crash mid-write, a damaged record, an expired share
      await rm(file, { force: true }).catch(() => {})
    }
    if (this.shares.size > 0) this.init.log('%d share links kept from the last run', this.shares.size)
  }

  get count (): number {
    return this.shares.size
  }

  /** The live share with this ID, if any. */
  get (id: string, now = Date.now()): ShareRecord | undefined {
    const record = this.shares.get(id)
    return record != null && record.expiresAt > now ? record : undefined
  }

  /** Keeps a new share under a fresh random ID, on disk before it is answered. */
  async add (share: Omit<ShareRecord, 'v' | 'id' | 'createdAt'>, now = Date.now()): Promise<ShareRecord> {
    const live = [...this.shares.values()].filter(r => r.expiresAt > now)
    if (live.length >= this.init.max) throw new StorageQuotaExceededError('This relay holds as many share links as it keeps: try again when some have expired')
    if (live.filter(r => r.owner === share.owner).length >= this.init.maxPerOwner) {
      throw new StorageQuotaExceededError(`You have ${this.init.maxPerOwner} share links on this relay, the most it keeps for one uploader: wait for some to expire`)
    }
    const record: ShareRecord = { v: 1, id: shareIdFrom(randomBytes(SHARE_ID_BYTES)), ...share, createdAt: now }
    await writeJsonFile(join(this.init.dir, `${record.id}.json`), record)
    this.shares.set(record.id, record)
    return record
  }

  /** Drops the shares expired by `now`; returns how many went. */
  async expire (now = Date.now()): Promise<number> {
    let removed = 0
    for (const record of [...this.shares.values()]) {
      if (record.expiresAt > now) continue
      this.shares.delete(record.id)
      await rm(join(this.init.dir, `${record.id}.json`), { force: true })
      removed++
    }
    return removed
  }
}
