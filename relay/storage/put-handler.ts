import { createHash } from 'node:crypto'
import { open, truncate } from 'node:fs/promises'
import { AccessDeniedError, ChunkCorruptedError, ContentHashMismatchError, ObjectExistsError, StorageError, StorageProtocolError, UploadBusyError, UploadIncompleteError } from '../../shared/storage/errors.ts'
import { validateObjectPath } from '../../shared/storage/object-path.ts'
import { decodeControl, decodeFrame, encodeControl, validatePutEnd } from '../../shared/storage/storage-codec.ts'
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../../shared/storage/storage-protocol.ts'
import { verifyToken } from '../../shared/storage/transfer-token.ts'
import { BlobImport } from './blob-import.ts'
import { PartialWriter } from './partial-writer.ts'
import { objectInfo } from './object-meta.ts'
import { uploadId } from './pending-uploads.ts'
import type { HandlerContext } from './handler-context.ts'
import type { ObjectMeta } from './object-meta.ts'
import type { DriveHandle } from './object-store.ts'
import type { PendingUpload } from './pending-uploads.ts'
import type { FrameStream } from '../../shared/storage/frame-stream.ts'
import type { PutRequest } from '../../shared/storage/storage-codec.ts'
import type { Connection } from '@libp2p/interface'
import type { Hash } from 'node:crypto'

/** Tell the client how many bytes we have checked every this many (it keeps at most 16 MiB unacknowledged). */
const ACK_EVERY = 1024 * 1024
/** How much of a partial file is read at a time when a resumed upload is replayed into the drive. */
const REPLAY_CHUNK = 1024 * 1024

/**
 * An upload: authorise, reserve quota, say how much we already hold, then
 * take verified chunks into the partial file and the drive's blob core until
 * the whole content hashes to what the client promised; only then does the
 * object appear in the drive.
 */
export async function handlePut (ctx: HandlerContext, req: PutRequest, fs: FrameStream, conn: Connection, signal: AbortSignal): Promise<void> {
  const requester = conn.remotePeer.toString()
  let path: string
  try {
    path = validateObjectPath(req.path)
  } catch (err) {
    ctx.counters.add('bad-path')
    throw err
  }
  const handle = await targetDrive(ctx, req, requester, path)
  const owner = handle.owner as string
  const relays = ctx.relaysFor(handle, conn)

  const existing = await ctx.store.get(handle, path)
  if (existing != null && existing.meta.expiresAt > Date.now()) {
    if (existing.meta.sha256 === req.sha256 && existing.meta.size === req.size) {
      await fs.write(encodeControl({ v: 1, type: 'stored', object: objectInfo(handle.key, path, existing.meta, relays), deduplicated: true }), { signal })
      return
    }
    // a hash still to come may name the same content: receive() tells once it has it
    if (req.sha256 != null || existing.meta.size !== req.size) {
      ctx.counters.add('exists')
      throw new ObjectExistsError(`Another object is already stored at ${path}; objects are never overwritten`)
    }
  } else if (existing != null) {
    await ctx.store.remove(existing)
  }

  const id = uploadId({ requester, drive: handle.key, path, size: req.size, sha256: req.sha256 })
  let upload = ctx.pending.get(id)
  if (upload?.active != null) {
    // the same client again (its old connection may not have died yet): the new stream wins
    upload.active.controller.abort(new UploadBusyError('The upload was resumed on another stream'))
    await upload.active.done
    upload = ctx.pending.get(id)
  }
  if (upload == null) {
    try {
      ctx.store.checkQuota(owner, req.size)
    } catch (err) {
      ctx.counters.add('quota')
      throw err
    }
    const ttl = Math.min(req.ttl ?? ctx.maxTtl, ctx.maxTtl)
    upload = await ctx.pending.create({ v: 1, id, requester, owner, drive: handle.key, path, size: req.size, ...(req.sha256 != null ? { sha256: req.sha256 } : {}), ttl, createdAt: Date.now() })
  }

  const controller = new AbortController()
  const done = Promise.withResolvers<void>()
  upload.active = { controller, done: done.promise }
  upload.touchedAt = Date.now()
  const running = AbortSignal.any([signal, controller.signal])
  let stored: { meta: ObjectMeta, deduplicated: boolean }
  try {
    stored = await receive(ctx, upload, handle, fs, running, req.chunkSize)
  } finally {
    upload.active = undefined
    upload.touchedAt = Date.now()
    done.resolve()
  }
  await fs.write(encodeControl({ v: 1, type: 'stored', object: objectInfo(handle.key, path, stored.meta, relays), deduplicated: stored.deduplicated }), { signal })
}

async function targetDrive (ctx: HandlerContext, req: PutRequest, requester: string, path: string): Promise<DriveHandle> {
  if (req.drive == null && req.token == null) return await ctx.store.ownDrive(requester)
  const handle = req.drive != null ? ctx.store.driveByKey(req.drive) : undefined
  if (handle?.owner == null) {
    ctx.counters.add('access-denied')
    throw new AccessDeniedError('Uploads with a token go to a drive this relay writes; name it with "drive"')
  }
  if (handle.owner === requester) return handle
  if (req.token == null || req.sha256 == null) {
    ctx.counters.add('access-denied')
    throw new AccessDeniedError('Only the drive\'s owner, or a peer holding its write token, may store here')
  }
  try {
    await verifyToken(req.token, { holder: requester, op: 'write', drive: handle.key, path, sha256: req.sha256, issuers: [handle.owner, ...ctx.trustedIssuers] })
  } catch (err) {
    ctx.counters.add('bad-token')
    throw err
  }
  return handle
}

async function receive (ctx: HandlerContext, upload: PendingUpload, handle: DriveHandle, fs: FrameStream, signal: AbortSignal, asked?: number): Promise<{ meta: ObjectMeta, deduplicated: boolean }> {
  const { record } = upload
  const chunkSize = Math.min(Math.max(asked ?? ctx.chunkSize, MIN_CHUNK_SIZE), MAX_CHUNK_SIZE)
  const partPath = ctx.pending.partPath(record.id)
  // a write cut short by a crash may have left bytes past the verified end
  await truncate(partPath, upload.received)
  const hasher = createHash('sha256')
  const importer = new BlobImport(await handle.drive.getBlobs())
  const file = await open(partPath, 'r+')
  // `upload.received` only counts bytes on disk: that is where a resume starts
  const partial = new PartialWriter(file, upload.received, (end) => { upload.received = end })
  let committed = false
  try {
    await replay(file, upload.received, hasher, importer, signal)
    await fs.write(encodeControl({ v: 1, type: 'ready', offset: upload.received, chunkSize, drive: handle.key }), { signal })
    // bytes checked so far; the partial file and the drive's blob core take them in the background
    let verified = upload.received
    let lastAck = verified
    while (verified < record.size) {
      const frame = await fs.read({ signal: AbortSignal.any([signal, AbortSignal.timeout(ctx.idleTimeout)]) })
      if (frame == null) throw new UploadIncompleteError(`The client stopped at byte ${verified} of ${record.size}`)
      const f = decodeFrame(frame)
      if (f.kind !== 'data') throw new StorageProtocolError('Expected a data frame')
      const { offset, bytes, sha256 } = f.data
      if (offset !== verified) throw new StorageProtocolError(`Chunk at byte ${offset}, expected byte ${verified}`)
      if (bytes.byteLength > chunkSize || offset + bytes.byteLength > record.size) throw new StorageProtocolError('Chunk larger than agreed or past the declared size')
      const actual = createHash('sha256').update(bytes).digest()
      if (!actual.equals(sha256)) {
        ctx.counters.add('corrupt-chunk')
        throw new ChunkCorruptedError(`Chunk at byte ${offset} does not match its hash; send again from byte ${offset}`, offset)
      }
      hasher.update(bytes)
      // both return at once unless too much is still unwritten: that backpressure reaches the client
      await Promise.all([partial.push(bytes), importer.write(bytes)])
      verified += bytes.byteLength
      upload.touchedAt = Date.now()
      ctx.counters.bytesIn += bytes.byteLength
      if (verified - lastAck >= ACK_EVERY && verified < record.size) {
        lastAck = verified
        await fs.write(encodeControl({ v: 1, type: 'ack', offset: verified }), { signal })
      }
    }
    const promised = record.sha256 ?? await readEnd(fs, signal, ctx.idleTimeout)
    await partial.settle()
    const digest = hasher.digest('hex')
    if (digest !== promised) {
      ctx.counters.add('hash-mismatch')
      await ctx.pending.discard(record.id)
      throw new ContentHashMismatchError(`The content hashes to ${digest}, not the promised ${promised}; nothing was stored`)
    }
    const blob = await importer.finish()
    // another upload may have claimed the path meanwhile: first one wins, nothing is overwritten
    const now = await ctx.store.get(handle, record.path)
    if (now != null && now.meta.expiresAt > Date.now() && now.meta.sha256 !== digest) {
      ctx.counters.add('exists')
      await ctx.pending.discard(record.id)
      throw new ObjectExistsError(`Another object is stored at ${record.path}; objects are never overwritten`)
    }
    let meta: ObjectMeta
    if (now == null) {
      meta = { v: 1, owner: record.owner, sha256: digest, size: record.size, createdAt: Date.now(), expiresAt: Date.now() + record.ttl * 1000 }
      await ctx.store.commit(handle, record.path, blob, meta)
      committed = true
    } else {
      meta = now.meta
    }
    ctx.counters.uploads++
    await ctx.pending.discard(record.id)
    return { meta, deduplicated: now != null }
  } catch (err: any) {
    // the client went away (or stalled) mid-upload: a stream that ends, resets or times out, not a refusal of ours;
    // which of end and reset a vanished client's stream shows depends on timing, so both count
    const refused = err instanceof StorageError ? !(err instanceof UploadIncompleteError) : ['ProtocolError', 'InvalidMessageError', 'MessageTooLargeError'].includes(err?.name)
    if (!refused) ctx.counters.add('abandoned')
    throw err
  } finally {
    // every verified byte reaches the partial file before a resume may look at it
    await partial.settle().catch(() => {})
    await file.close().catch(() => {})
    if (!committed) await importer.abort()
  }
}

/** The hash the client names after its last chunk, when its request named none. */
async function readEnd (fs: FrameStream, signal: AbortSignal, idleTimeout: number): Promise<string> {
  const frame = await fs.read({ signal: AbortSignal.any([signal, AbortSignal.timeout(idleTimeout)]) })
  if (frame == null) throw new UploadIncompleteError('The client stopped before naming the content\'s hash')
  const f = decodeFrame(frame)
  if (f.kind !== 'control') throw new StorageProtocolError('Expected the upload\'s end frame')
  return decodeControl(f.bytes, validatePutEnd).sha256
}

/** Feeds the bytes a resumed upload already holds through the hash and into the drive. */
async function replay (file: import('node:fs/promises').FileHandle, length: number, hasher: Hash, importer: BlobImport, signal: AbortSignal): Promise<void> {
  const buffer = Buffer.alloc(Math.min(REPLAY_CHUNK, Math.max(length, 1)))
  for (let at = 0; at < length;) {
    signal.throwIfAborted()
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.byteLength, length - at), at)
    if (bytesRead === 0) throw new Error('Partial file shorter than recorded')
    const piece = Buffer.from(buffer.subarray(0, bytesRead))
    hasher.update(piece)
    await importer.write(piece)
    at += bytesRead
  }
}

