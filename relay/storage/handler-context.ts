import { AccessDeniedError, ObjectNotFoundError, verifyToken } from '../../shared/storage/index.ts'
import type { ObjectStore, DriveHandle, StoredObject } from './object-store.ts'
import type { PendingUploads } from './pending-uploads.ts'
import type { StorageCounters } from './storage-counters.ts'
import type { StorageEmit } from './storage-events.ts'
import type { Connection, Logger } from '@libp2p/interface'

/** What the protocol handlers share. */
export interface HandlerContext {
  store: ObjectStore
  pending: PendingUploads
  log: Logger
  /** The storage's events, for the relay's log. */
  emit: StorageEmit
  counters: StorageCounters
  /** Longest (and default) object lifetime, seconds. */
  maxTtl: number
  /** Bytes per data frame. */
  chunkSize: number
  /** A client silent this long mid-transfer is dropped, ms. */
  idleTimeout: number
  /** Peers (e.g. Concent) whose tokens count for every object. */
  trustedIssuers: string[]
  /** Uploads in progress at once: in all, per peer, per network address. */
  uploadLimits: { total: number, perPeer: number, perAddress: number }
  /** A connection's per-address limit key. */
  addressOf: (conn: Connection) => string | undefined
  /** Multiaddrs of relays holding `handle`, for the client's address, best first. */
  relaysFor: (handle: DriveHandle, conn: Connection) => string[]
}

/** Finds a live object or says it is not there (an expired one is as good as gone). */
export async function findObject (ctx: HandlerContext, drive: string, path: string): Promise<StoredObject> {
  const handle = ctx.store.driveByKey(drive)
  if (handle == null) throw new ObjectNotFoundError('This relay holds no such drive')
  // a replica may still be catching up with its origin's metadata
  const obj = await ctx.store.get(handle, path, handle.owner == null ? { wait: true, timeout: 5_000 } : {})
  if (obj == null || obj.meta.expiresAt <= Date.now()) throw new ObjectNotFoundError(`No object at ${path} in this drive`)
  return obj
}

/** Only the uploader, or a holder of its (or a trusted arbiter's) token, may read. */
export async function authorizeRead (ctx: HandlerContext, obj: StoredObject, requester: string, token: string | undefined): Promise<void> {
  if (requester === obj.meta.owner) return
  if (token == null) {
    ctx.counters.add('access-denied')
    throw new AccessDeniedError('Only the uploader, or a peer holding a transfer token from it, may read this object')
  }
  try {
    await verifyToken(token, { holder: requester, op: 'read', drive: obj.handle.key, path: obj.path, sha256: obj.meta.sha256, issuers: [obj.meta.owner, ...ctx.trustedIssuers] })
  } catch (err) {
    ctx.counters.add('bad-token')
    throw err
  }
}
