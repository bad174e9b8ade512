import { createHash } from 'node:crypto'
import { AccessDeniedError, ChunkCorruptedError, ContentHashMismatchError, decodeControl, decodeFrame, encodeControl, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, ObjectExistsError, StorageError, StorageProtocolError, TooManyUploadsError, UploadBusyError, UploadIncompleteError, validateObjectPath, validatePutEnd, verifyToken } from '../../shared/storage/index.ts'
import { BlobAppender, blocksOf, relocate } from './blob-appender.ts'
import { objectInfo } from './object-meta.ts'
import { received, uploadId } from './pending-uploads.ts'
import { shortDrive } from './storage-events.ts'
import type { BlobExtent } from './blob-appender.ts'
import type { HandlerContext } from './handler-context.ts'
import type { ObjectMeta } from './object-meta.ts'
import type { DriveHandle } from './object-store.ts'
import type { PendingRecord, PendingUpload } from './pending-uploads.ts'
import type { FrameStream } from '../../shared/storage/index.ts'
import type { PutRequest } from '../../shared/storage/index.ts'
import type { Connection } from '@libp2p/interface'
import type { Hypercore } from 'corestore'
import type { Hash } from 'node:crypto'

/** Tell the client how many bytes we have checked every this many (it keeps at most 16 MiB unacknowledged). */
const ACK_EVERY = 1024 * 1024

/**
 * An upload: authorise, reserve quota, say how much we already hold, then
 * append verified chunks to the drive's blob core until the whole content
 * hashes to what the client promised; only then does the object appear in
 * the drive.
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
      ctx.emit('storage:stored', { peer: requester, drive: shortDrive(handle.key), path, size: existing.meta.size, owner, deduplicated: true })
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
    const address = ctx.addressOf(conn)
    await checkUploadCount(ctx, requester, address)
    try {
      // what the upload declares must fit; it is charged as its bytes arrive
      ctx.store.checkQuota(owner, req.size)
    } catch (err) {
      ctx.counters.add('quota')
      throw err
    }
    const ttl = Math.min(req.ttl ?? ctx.maxTtl, ctx.maxTtl)
    upload = await ctx.pending.create({ v: 2, id, requester, ...(address != null ? { address } : {}), owner, drive: handle.key, path, size: req.size, ...(req.sha256 != null ? { sha256: req.sha256 } : {}), ttl, createdAt: Date.now() })
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
    // a declaration that never got a byte holds nothing worth resuming
    if (received(upload) === 0 && ctx.pending.get(upload.record.id) === upload) await ctx.pending.discard(upload.record.id)
    done.resolve()
  }
  ctx.emit('storage:stored', { peer: requester, drive: shortDrive(handle.key), path, size: stored.meta.size, owner, deduplicated: stored.deduplicated })
  await fs.write(encodeControl({ v: 1, type: 'stored', object: objectInfo(handle.key, path, stored.meta, relays), deduplicated: stored.deduplicated }), { signal })
}

/**
 * Keeps uploads in progress (each a record, and an open stream or a parked
 * upload waiting for a resume) within their caps: at a cap, the parked one
 * in that scope holding the least makes room; when all are being fed, the
 * upload is refused.
 */
async function checkUploadCount (ctx: HandlerContext, requester: string, address: string | undefined): Promise<void> {
  const { total, perPeer, perAddress } = ctx.uploadLimits
  const scopes: Array<{ over: () => boolean, filter: { requester?: string, address?: string }, why: string }> = [
    { over: () => ctx.pending.countOf({ requester }) >= perPeer, filter: { requester }, why: `you have ${perPeer} uploads in progress here` },
    ...(address != null ? [{ over: () => ctx.pending.countOf({ address }) >= perAddress, filter: { address }, why: `your address has ${perAddress} uploads in progress here` }] : []),
    { over: () => ctx.pending.count >= total, filter: {}, why: `this relay has ${total} uploads in progress` }
  ]
  for (const scope of scopes) {
    if (!scope.over()) continue
    if (await ctx.pending.evictParked(scope.filter) && !scope.over()) continue
    ctx.counters.add('too-many-uploads')
    throw new TooManyUploadsError(`Too many uploads in progress: ${scope.why}; finish or wait for some`)
  }
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
  // one upload appends to a drive at a time: a second waits here (or until its client leaves)
  const left = new AbortController()
  const onClose = (): void => { left.abort(new UploadIncompleteError('The client left while another upload to its drive ran')) }
  fs.stream.addEventListener('close', onClose, { once: true })
  let release: () => void
  try {
    release = await ctx.store.lockAppends(handle, AbortSignal.any([signal, left.signal]))
  } finally {
    fs.stream.removeEventListener('close', onClose)
  }
  let appender: BlobAppender | undefined
  let committed = false
  let abandoned = false
  try {
    const core = (await handle.drive.getBlobs()).core
    const resumed = await resumeExtent(ctx, core, record, signal)
    const hasher = resumed.hasher
    record.blob = resumed.extent
    record.holding = true
    await ctx.pending.save(upload)
    appender = new BlobAppender(core, record.blob)
    await fs.write(encodeControl({ v: 1, type: 'ready', offset: received(upload), chunkSize, drive: handle.key }), { signal })
    // bytes checked so far; the blob core takes them in the background
    let verified = received(upload)
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
      try {
        ctx.store.checkGrowth(record.owner, bytes.byteLength)
      } catch (err) {
        // the relay filled up meanwhile: nothing of this upload is kept
        ctx.counters.add('quota')
        await appender.settle().catch(() => {})
        await ctx.pending.discard(record.id)
        throw err
      }
      hasher.update(bytes)
      // charged before any await: uploads running side by side each see the others' bytes
      upload.charged = verified + bytes.byteLength
      // returns at once unless too much is still unwritten: that backpressure reaches the client
      await appender.write(bytes)
      verified += bytes.byteLength
      upload.touchedAt = Date.now()
      ctx.counters.bytesIn += bytes.byteLength
      if (verified - lastAck >= ACK_EVERY && verified < record.size) {
        lastAck = verified
        await fs.write(encodeControl({ v: 1, type: 'ack', offset: verified }), { signal })
      }
    }
    const promised = record.sha256 ?? await readEnd(fs, signal, ctx.idleTimeout)
    await appender.settle()
    const digest = hasher.digest('hex')
    if (digest !== promised) {
      ctx.counters.add('hash-mismatch')
      await ctx.pending.discard(record.id)
      throw new ContentHashMismatchError(`The content hashes to ${digest}, not the promised ${promised}; nothing was stored`)
    }
    const blob = { ...appender.extent }
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
      await ctx.pending.discard(record.id, { keepBlob: true })
    } else {
      meta = now.meta
      await ctx.pending.discard(record.id)
    }
    ctx.counters.uploads++
    return { meta, deduplicated: now != null }
  } catch (err: any) {
    // the client went away (or stalled) mid-upload: a stream that ends, resets or times out, not a refusal of ours;
    // which of end and reset a vanished client's stream shows depends on timing, so both count
    const refused = err instanceof StorageError ? !(err instanceof UploadIncompleteError) : ['ProtocolError', 'InvalidMessageError', 'MessageTooLargeError'].includes(err?.name)
    abandoned = !refused
    throw err
  } finally {
    // every verified byte is appended (and counted in record.blob) before a resume may look at the record
    await appender?.settle().catch(() => {})
    if (!committed && ctx.pending.get(record.id) === upload) {
      record.holding = false
      await ctx.pending.save(upload).catch((err: any) => {
        ctx.log('saving upload %s failed - %e', record.id, err)
        ctx.emit('storage:error', { part: 'upload-record', error: err })
      })
    }
    release()
    // counted once the upload's record says what it holds
    if (abandoned) ctx.counters.add('abandoned')
  }
}

/**
 * Where a (resumed) upload's bytes continue, with the content hash fed the
 * bytes held: its extent if nothing was appended after it, else a copy of
 * it at the core's end. Held bytes that cannot be read are given up: the
 * upload starts again from byte 0.
 */
async function resumeExtent (ctx: HandlerContext, core: Hypercore, record: PendingRecord, signal: AbortSignal): Promise<{ extent: BlobExtent, hasher: Hash }> {
  const fresh = (): { extent: BlobExtent, hasher: Hash } => ({ extent: { blockOffset: core.length, byteOffset: core.byteLength, blockLength: 0, byteLength: 0 }, hasher: createHash('sha256') })
  let extent = record.blob
  if (extent == null || extent.blockLength === 0) return fresh()
  try {
    const hasher = createHash('sha256')
    if (extent.blockOffset + extent.blockLength !== core.length || extent.byteOffset + extent.byteLength !== core.byteLength) {
      ctx.log('upload %s resumes after another upload to its drive: moving its %d bytes to the end', record.id, extent.byteLength)
      // hashed as they are copied: each held block is read once
      extent = await relocate(core, extent, signal, block => hasher.update(block))
      record.blob = extent
    } else {
      for await (const block of blocksOf(core, extent, signal)) hasher.update(block)
    }
    return { extent, hasher }
  } catch (err: any) {
    if (signal.aborted) throw err
    ctx.log.error('upload %s starts again: the bytes it held cannot be read - %e', record.id, err)
    ctx.emit('storage:error', { part: 'upload-resume', error: err })
    await core.clear(extent.blockOffset, extent.blockOffset + extent.blockLength).catch(() => {})
    record.blob = undefined
    return fresh()
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
