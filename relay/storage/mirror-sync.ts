import { isObjectMeta } from './object-meta.ts'
import type { DriveHandle, ObjectStore, StoredObject } from './object-store.ts'
import type { Logger } from '@libp2p/interface'

export interface ReplicationFigures {
  /** Objects copied to this relay, and their bytes, since start. */
  objects: number
  bytes: number
  /** The last object copied: its size and how long its bytes took, ms. */
  last?: { path: string, bytes: number, ms: number, MBps: number }
}

/**
 * Keeps a replicated drive's bytes on this relay: follows the drive's
 * metadata live and downloads the blob of every object that has not
 * expired, as soon as the origin adds it. Objects the origin deletes have
 * their bytes cleared here too.
 */
export class MirrorSync {
  /** Live objects listed in the drive, as far as its metadata is here, whose bytes this relay lacks. */
  readonly behind = { objects: 0, bytes: 0 }
  private running?: Promise<void>
  private again = false
  private stopped = false
  private version = 0
  private readonly onAppend = (): void => { this.schedule() }
  private metadataRange?: { destroy: () => void }

  constructor (
    private readonly store: ObjectStore,
    private readonly handle: DriveHandle,
    private readonly figures: ReplicationFigures,
    private readonly log: Logger,
    private readonly onError?: (err: Error) => void
  ) {}

  /** The relay the drive comes from. */
  get origin (): string | undefined {
    return this.handle.origin
  }

  start (): void {
    const core = this.handle.drive.core
    // the drive's metadata is small: keep all of it, live
    this.metadataRange = core.download({ start: 0, end: -1 })
    core.on('append', this.onAppend)
    this.schedule()
  }

  stop (): void {
    this.stopped = true
    this.handle.drive.core.off('append', this.onAppend)
    this.metadataRange?.destroy()
  }

  /** Runs a sync now, or once more after the one in progress. */
  schedule (): void {
    if (this.stopped) return
    if (this.running != null) {
      this.again = true
      return
    }
    this.running = this.sync()
      .catch((err: any) => {
        if (this.stopped) return
        this.log('sync of drive %s failed - %e', this.handle.key.slice(0, 12), err)
        this.onError?.(err)
      })
      .finally(() => {
        this.running = undefined
        if (this.again) {
          this.again = false
          this.schedule()
        }
      })
  }

  private caughtUp (obj: StoredObject): void {
    this.behind.objects = Math.max(0, this.behind.objects - 1)
    this.behind.bytes = Math.max(0, this.behind.bytes - obj.meta.size)
  }

  private async sync (): Promise<void> {
    const drive = this.handle.drive
    if (drive.core.length === 0) return
    const blobs = await drive.getBlobs()
    const wanted: StoredObject[] = []
    for await (const entry of drive.list('/')) {
      const meta = entry.value.metadata
      if (entry.value.blob == null || !isObjectMeta(meta) || meta.expiresAt <= Date.now()) continue
      wanted.push({ handle: this.handle, path: entry.key.slice(1), meta, blob: entry.value.blob })
    }
    const missing: StoredObject[] = []
    for (const obj of wanted) if (!await this.store.isLocal(obj)) missing.push(obj)
    this.behind.objects = missing.length
    this.behind.bytes = missing.reduce((sum, obj) => sum + obj.meta.size, 0)
    for (const obj of missing) {
      if (this.stopped) return
      // a download served meanwhile may have fetched it already
      if (await this.store.isLocal(obj)) {
        this.caughtUp(obj)
        continue
      }
      if (this.store.free < obj.meta.size) {
        this.log('no room to replicate %s (%d bytes)', obj.path, obj.meta.size)
        continue
      }
      const started = performance.now()
      const range = blobs.core.download({ start: obj.blob.blockOffset, end: obj.blob.blockOffset + obj.blob.blockLength })
      await range.done()
      const ms = performance.now() - started
      this.figures.objects++
      this.figures.bytes += obj.meta.size
      this.store.replicatedBytes += obj.meta.size
      this.caughtUp(obj)
      this.figures.last = { path: obj.path, bytes: obj.meta.size, ms: Math.round(ms), MBps: Math.round(obj.meta.size / 1e3 / Math.max(ms, 1) * 10) / 10 }
      this.log('replicated %s/%s: %d bytes in %d ms', this.handle.key.slice(0, 12), obj.path, obj.meta.size, Math.round(ms))
    }
    // objects the origin deleted: clear their bytes here too
    const current = drive.version
    if (this.version > 0 && current > this.version) {
      for await (const { left, right } of drive.diff(this.version, '/')) {
        if (left == null && right?.value.blob != null) await blobs.clear(right.value.blob).catch(() => {})
      }
    }
    this.version = current
  }
}
