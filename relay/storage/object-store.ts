import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { StorageQuotaExceededError } from '../../shared/storage/index.ts'
import { formatBytes, isObjectMeta } from './object-meta.ts'
import type { ObjectMeta } from './object-meta.ts'
import type { Hypercore } from 'corestore'
import type { BlobId, DriveEntry } from 'hyperdrive'
import type { Logger } from '@libp2p/interface'
import { NotStartedError } from '../../shared/errors.ts'

export interface ObjectStoreInit {
  /** The Corestore's folder, `<data>/storage/cores`. */
  dir: string
  /** Bytes all stored objects (own and replicated) and pending uploads may take. */
  quota: number
  /** Bytes one uploader's objects and pending uploads may take. */
  peerQuota: number
  log: Logger
}

/** One Hyperdrive open in this process (never two for one key). */
export interface DriveHandle {
  /** Drive key, hex. */
  key: string
  drive: Hyperdrive
  /** Set for drives this relay writes: the peer whose drive it is. */
  owner?: string
  /** Set for replicated drives: the relay they come from. */
  origin?: string
  /** Settles when the last upload queued for the blob core's append lock lets go. */
  appendTail?: Promise<void>
}

export interface StoredObject {
  handle: DriveHandle
  path: string
  meta: ObjectMeta
  blob: BlobId
}

interface CatalogRecord { v: 1, drive: string, owner: string, at: number }

/** Bytes still held by uploads in progress, per owner (kept by PendingUploads). */
export type PendingBytes = (owner?: string) => number

/**
 * The relay's Corestore: one Hyperdrive per uploader, keyed by the relay's
 * own keys (so only the relay writes them), listed in a catalog core that
 * replicas follow. Tracks bytes per owner for the quotas.
 */
export class ObjectStore {
  readonly store: Corestore
  private readonly init: ObjectStoreInit
  private readonly log: Logger
  private catalog?: Hypercore
  private readonly byKey = new Map<string, DriveHandle>()
  private readonly byOwner = new Map<string, Promise<DriveHandle>>()
  private readonly usage = new Map<string, number>()
  private objects = 0
  private ownBytes = 0
  /** Bytes of replicated objects held locally (recounted by each GC pass). */
  replicatedBytes = 0
  pendingBytes: PendingBytes = () => 0

  constructor (init: ObjectStoreInit) {
    this.init = init
    this.log = init.log
    this.store = new Corestore(init.dir)
  }

  get catalogKey (): string {
    if (this.catalog == null) throw new NotStartedError('The object store is not open')
    return this.catalog.key.toString('hex')
  }

  async open (): Promise<void> {
    await this.store.ready()
    this.catalog = this.store.get({ name: 'golem-clay-catalog', valueEncoding: 'json' })
    await this.catalog.ready()
    for (let i = 0; i < this.catalog.length; i++) {
      const record = await this.catalog.get(i) as CatalogRecord
      await this.ownDrive(record.owner, false)
    }
    this.log('opened %d drives, %d objects, %s', this.byKey.size, this.objects, formatBytes(this.ownBytes))
  }

  async close (): Promise<void> {
    await Promise.allSettled([...this.byKey.values()].map(async h => { await h.drive.close() }))
    this.byKey.clear()
    this.byOwner.clear()
    await this.catalog?.close().catch(() => {})
    await this.store.close()
  }

  get stats (): { drives: number, objects: number, bytes: number, replicatedBytes: number } {
    return { drives: this.byKey.size, objects: this.objects, bytes: this.ownBytes, replicatedBytes: this.replicatedBytes }
  }

  drives (): DriveHandle[] {
    return [...this.byKey.values()]
  }

  driveByKey (key: string): DriveHandle | undefined {
    return this.byKey.get(key)
  }

  /** The drive `owner` uploads to, created (and catalogued) on first use. */
  async ownDrive (owner: string, create = true): Promise<DriveHandle> {
    let opening = this.byOwner.get(owner)
    if (opening == null) {
      opening = this.openOwnDrive(owner, create)
      this.byOwner.set(owner, opening)
      opening.catch(() => { this.byOwner.delete(owner) })
    }
    return await opening
  }

  private async openOwnDrive (owner: string, record: boolean): Promise<DriveHandle> {
    const drive = new Hyperdrive(this.store.namespace(`golem-clay-drive:${owner}`))
    await drive.ready()
    const handle: DriveHandle = { key: drive.key.toString('hex'), drive, owner }
    this.byKey.set(handle.key, handle)
    if (record) {
      const entry: CatalogRecord = { v: 1, drive: handle.key, owner, at: Date.now() }
      await this.catalog?.append(entry)
    }
    let bytes = 0
    for await (const entry of drive.list('/')) {
      if (!isObjectMeta(entry.value.metadata)) continue
      bytes += entry.value.metadata.size
      this.objects++
    }
    this.usage.set(owner, bytes)
    this.ownBytes += bytes
    return handle
  }

  /** Opens a drive replicated from another relay (one instance per key). */
  async mirrorDrive (key: string, origin: string): Promise<DriveHandle> {
    const known = this.byKey.get(key)
    if (known != null) return known
    const drive = new Hyperdrive(this.store, Buffer.from(key, 'hex'))
    const handle: DriveHandle = { key, drive, origin }
    this.byKey.set(key, handle)
    await drive.ready()
    return handle
  }

  async get (handle: DriveHandle, path: string, opts: { wait?: boolean, timeout?: number } = {}): Promise<StoredObject | null> {
    const entry: DriveEntry | null = await handle.drive.entry(`/${path}`, { wait: opts.wait ?? false, timeout: opts.timeout })
      .catch(() => null)
    if (entry?.value.blob == null || !isObjectMeta(entry.value.metadata)) return null
    return { handle, path, meta: entry.value.metadata, blob: entry.value.blob }
  }

  /** Refuses an upload of `size` bytes that would overflow the owner's or the relay's quota. */
  checkQuota (owner: string, size: number): void {
    const used = (this.usage.get(owner) ?? 0) + this.pendingBytes(owner)
    if (used + size > this.init.peerQuota) {
      throw new StorageQuotaExceededError(`Storage quota exceeded: you use ${formatBytes(used)} of your ${formatBytes(this.init.peerQuota)} on this relay and this upload needs ${formatBytes(size)}`)
    }
    const total = this.ownBytes + this.replicatedBytes + this.pendingBytes()
    if (total + size > this.init.quota) {
      throw new StorageQuotaExceededError(`This relay's storage is full (${formatBytes(total)} of ${formatBytes(this.init.quota)} used); this upload needs ${formatBytes(size)}`)
    }
  }

  /** Refuses `bytes` more for `owner` (an upload's next chunk) once a quota is reached. */
  checkGrowth (owner: string, bytes: number): void {
    const used = (this.usage.get(owner) ?? 0) + this.pendingBytes(owner)
    if (used + bytes > this.init.peerQuota) {
      throw new StorageQuotaExceededError(`Storage quota exceeded: you use ${formatBytes(used)} of your ${formatBytes(this.init.peerQuota)} on this relay`)
    }
    const total = this.ownBytes + this.replicatedBytes + this.pendingBytes()
    if (total + bytes > this.init.quota) {
      throw new StorageQuotaExceededError(`This relay's storage is full (${formatBytes(total)} of ${formatBytes(this.init.quota)} used)`)
    }
  }

  /** Room left overall, for replication to respect. */
  get free (): number {
    return this.init.quota - this.ownBytes - this.replicatedBytes - this.pendingBytes()
  }

  /**
   * Waits for the drive's append lock and returns its release: one upload
   * appends to a blob core at a time, so each upload's blocks are contiguous.
   */
  async lockAppends (handle: DriveHandle, signal: AbortSignal): Promise<() => void> {
    const previous = handle.appendTail ?? Promise.resolve()
    const gate = Promise.withResolvers<void>()
    handle.appendTail = previous.then(async () => { await gate.promise })
    const release = (): void => { gate.resolve() }
    const aborted = Promise.withResolvers<never>()
    const onAbort = (): void => { aborted.reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      signal.throwIfAborted()
      await Promise.race([previous, aborted.promise])
      return release
    } catch (err) {
      // our turn still comes: pass it straight on
      void previous.then(release)
      throw err
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  async commit (handle: DriveHandle, path: string, blob: BlobId, meta: ObjectMeta): Promise<void> {
    await handle.drive.putEntry(`/${path}`, { blob, metadata: meta })
    this.usage.set(meta.owner, (this.usage.get(meta.owner) ?? 0) + meta.size)
    this.ownBytes += meta.size
    this.objects++
  }

  /** Deletes an object from a drive we write: its bytes are freed, then its entry removed. */
  async remove (obj: StoredObject): Promise<void> {
    const blobs = await obj.handle.drive.getBlobs()
    await blobs.clear(obj.blob).catch((err: any) => { this.log('clearing %s failed - %e', obj.path, err) })
    await obj.handle.drive.del(`/${obj.path}`)
    this.usage.set(obj.meta.owner, Math.max(0, (this.usage.get(obj.meta.owner) ?? 0) - obj.meta.size))
    this.ownBytes = Math.max(0, this.ownBytes - obj.meta.size)
    this.objects = Math.max(0, this.objects - 1)
  }

  /**
   * Drops expired objects: entries and bytes in our drives, bytes in
   * replicated ones (their entries are the origin's to remove). Returns how
   * many objects went, and their bytes.
   */
  async collect (now: number): Promise<{ objects: number, bytes: number }> {
    let removed = 0
    let freed = 0
    let replicated = 0
    for (const handle of this.drives()) {
      // a replicated drive whose header never arrived has nothing to collect
      if (handle.owner == null && handle.drive.blobs == null) continue
      const expired: StoredObject[] = []
      for await (const entry of handle.drive.list('/', { wait: false })) {
        const meta = entry.value.metadata
        if (entry.value.blob == null || !isObjectMeta(meta)) continue
        const obj: StoredObject = { handle, path: entry.key.slice(1), meta, blob: entry.value.blob }
        if (meta.expiresAt <= now) expired.push(obj)
        else if (handle.owner == null && await this.isLocal(obj)) replicated += meta.size
      }
      for (const obj of expired) {
        try {
          if (handle.owner != null) await this.remove(obj)
          else await (await handle.drive.getBlobs()).clear(obj.blob)
          removed++
          freed += obj.meta.size
        } catch (err: any) {
          this.log('could not collect %s - %e', obj.path, err)
        }
      }
    }
    this.replicatedBytes = replicated
    return { objects: removed, bytes: freed }
  }

  /** All of the object's bytes are on this relay's disk. */
  async isLocal (obj: StoredObject): Promise<boolean> {
    if (obj.blob.blockLength === 0) return true
    const blobs = obj.handle.drive.blobs
    if (blobs == null) return false
    return await blobs.core.has(obj.blob.blockOffset, obj.blob.blockOffset + obj.blob.blockLength)
  }
}
