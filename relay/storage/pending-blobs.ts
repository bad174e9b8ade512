import type { ObjectStore } from './object-store.ts'
import type { PendingRecord, PendingUploads } from './pending-uploads.ts'
import type { Logger } from '@libp2p/interface'

/** Frees the blocks a discarded upload had appended to its drive's blob core. */
export async function clearPendingBlob (store: ObjectStore, record: PendingRecord): Promise<void> {
  const blob = record.blob
  const handle = store.driveByKey(record.drive)
  if (blob == null || blob.blockLength === 0 || handle == null) return
  const blobs = await handle.drive.getBlobs()
  await blobs.core.clear(blob.blockOffset, blob.blockOffset + blob.blockLength)
}

/**
 * After a crash, an upload that held its drive's append lock owns every
 * block from its start up to the next held upload's start, or the core's
 * end: appends that landed after its record was last written count too
 * (they were verified before being appended). Runs before any upload can
 * append again.
 */
export async function recoverHeldUploads (store: ObjectStore, pending: PendingUploads, log: Logger): Promise<void> {
  const held = pending.held().sort((a, b) => (a.record.blob?.blockOffset ?? 0) - (b.record.blob?.blockOffset ?? 0))
  for (const [i, upload] of held.entries()) {
    const { record } = upload
    const handle = store.driveByKey(record.drive)
    if (handle == null || record.blob == null) {
      log('dropping pending upload %s: its drive is gone', record.id)
      await pending.discard(record.id)
      continue
    }
    const core = (await handle.drive.getBlobs()).core
    const next = held.slice(i + 1).find(u => u.record.drive === record.drive)?.record.blob
    const endBlock = next?.blockOffset ?? core.length
    const endByte = next?.byteOffset ?? core.byteLength
    record.blob = { ...record.blob, blockLength: Math.max(0, endBlock - record.blob.blockOffset), byteLength: Math.max(0, endByte - record.blob.byteOffset) }
    record.holding = false
    if (record.blob.byteLength > record.size) {
      log('dropping pending upload %s: more bytes than declared after a crash', record.id)
      await pending.discard(record.id)
      continue
    }
    await pending.save(upload)
    log('pending upload %s of %s recovered at %d/%d bytes', record.id, record.path, record.blob.byteLength, record.size)
  }
}
