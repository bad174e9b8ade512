import { createHash } from 'node:crypto'
import { encodeControl, encodeData, ObjectUnavailableError, StorageProtocolError, validateObjectPath } from '../../shared/storage/index.ts'
import { authorizeRead, findObject } from './handler-context.ts'
import { objectInfo } from './object-meta.ts'
import { shortDrive } from './storage-events.ts'
import type { HandlerContext } from './handler-context.ts'
import type { StoredObject } from './object-store.ts'
import type { BlobId, Hyperblobs } from 'hyperdrive'
import type { FrameStream } from '../../shared/storage/index.ts'
import type { GetRequest, StatRequest } from '../../shared/storage/index.ts'
import type { Connection } from '@libp2p/interface'

/** How long a replica waits for bytes it does not hold yet to arrive from its origin. */
const FETCH_TIMEOUT = 10_000
/** Blocks read from disk ahead of the one being sent (2 MiB of 256 KiB blocks). */
const READ_AHEAD = 8

/** Looks up and authorises a read: the uploader, or a token holder. */
async function readable (ctx: HandlerContext, req: GetRequest | StatRequest, conn: Connection): Promise<StoredObject> {
  const path = validateObjectPath(req.path)
  const obj = await findObject(ctx, req.drive, path)
  await authorizeRead(ctx, obj, conn.remotePeer.toString(), req.token)
  return obj
}

export async function handleStat (ctx: HandlerContext, req: StatRequest, fs: FrameStream, conn: Connection, signal: AbortSignal): Promise<void> {
  const obj = await readable(ctx, req, conn)
  await fs.write(encodeControl({ v: 1, type: 'object', object: objectInfo(obj.handle.key, obj.path, obj.meta, ctx.relaysFor(obj.handle, conn)), offset: 0 }), { signal })
}

/**
 * A download from `offset`: the header, then the bytes straight from the
 * drive's blob core, each chunk with its SHA-256. Backpressure comes from
 * the stream; a replica first makes sure it holds the bytes.
 */
export async function handleGet (ctx: HandlerContext, req: GetRequest, fs: FrameStream, conn: Connection, signal: AbortSignal): Promise<void> {
  const obj = await readable(ctx, req, conn)
  if (req.offset > obj.meta.size) throw new StorageProtocolError(`Offset ${req.offset} is past the object's ${obj.meta.size} bytes`)
  const blobs = await obj.handle.drive.getBlobs()
  if (!await ctx.store.isLocal(obj)) {
    // a replica still catching up (or an origin that lost blocks): try to fetch them first
    const range = blobs.core.download({ start: obj.blob.blockOffset, end: obj.blob.blockOffset + obj.blob.blockLength })
    const timer = setTimeout(() => { range.destroy() }, FETCH_TIMEOUT)
    await range.done().catch(() => {}).finally(() => { clearTimeout(timer) })
    if (!await ctx.store.isLocal(obj)) throw new ObjectUnavailableError('This relay does not hold all of the object\'s bytes right now')
  }
  await fs.write(encodeControl({ v: 1, type: 'object', object: objectInfo(obj.handle.key, obj.path, obj.meta, ctx.relaysFor(obj.handle, conn)), offset: req.offset }), { signal })
  let offset = req.offset
  for await (const block of readBlob(blobs, obj.blob, offset, signal)) {
    const hash = createHash('sha256').update(block).digest()
    await fs.write(encodeData(offset, hash, block), { signal })
    offset += block.byteLength
    ctx.counters.bytesOut += block.byteLength
  }
  if (offset !== obj.meta.size) throw new ObjectUnavailableError(`Read ${offset} of ${obj.meta.size} bytes from the drive`)
  ctx.counters.downloads++
  ctx.emit('storage:served', { peer: conn.remotePeer.toString(), drive: shortDrive(obj.handle.key), path: obj.path, size: obj.meta.size, owner: obj.meta.owner, offset: req.offset, bytes: offset - req.offset })
}

/**
 * The blob's bytes from `start`, block by block, with the next few blocks
 * already being read from disk while one is sent (one read at a time would
 * leave the stream waiting on each disk read in turn).
 */
async function * readBlob (blobs: Hyperblobs, blob: BlobId, start: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  if (start >= blob.byteLength) return
  const core = blobs.core
  let index = blob.blockOffset
  let skip = 0
  if (start > 0) {
    const found = await core.seek(blob.byteOffset + start, { wait: false })
    if (found == null) throw new ObjectUnavailableError(`Byte ${start} of the object is not on this relay`)
    ;[index, skip] = found
  }
  const end = blob.blockOffset + blob.blockLength
  const ahead: Array<Promise<Uint8Array | null>> = []
  let next = index
  let left = blob.byteLength - start
  try {
    while (left > 0) {
      while (ahead.length < READ_AHEAD && next < end) {
        const read = core.get(next++, { wait: false }) as Promise<Uint8Array | null>
        read.catch(() => {})
        ahead.push(read)
      }
      signal.throwIfAborted()
      let block = await ahead.shift()
      if (block == null) throw new ObjectUnavailableError('A block of the object is not on this relay')
      if (skip > 0) {
        block = block.subarray(skip)
        skip = 0
      }
      if (block.byteLength > left) block = block.subarray(0, left)
      left -= block.byteLength
      yield block
    }
  } finally {
    ahead.length = 0
  }
}
