import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { TypedEventEmitter } from 'main-event'
import { AccessDeniedError, decodeControl, decodeFrame, DEFAULT_CHUNK_SIZE, encodeControl, errorToWire, FrameStream, MAX_FRAME, StorageProtocolError, StorageQuotaExceededError, TooManyUploadsError, validateObjectPath, validateRequest } from '../../shared/storage/index.ts'
import { STORAGE_PROTOCOL, STORAGE_REPLICATION_PROTOCOL } from '../../shared/wire/index.ts'
import { GolemClayError, InternalError, InvalidMessageError, ShuttingDownError } from '../../shared/errors.ts'
import { handleGet, handleStat } from './get-handler.ts'
import { findObject } from './handler-context.ts'
import { pickHolderAddrs } from './holder-addrs.ts'
import { ObjectStore } from './object-store.ts'
import { clearPendingBlob, recoverHeldUploads } from './pending-blobs.ts'
import { PendingUploads } from './pending-uploads.ts'
import { handlePut } from './put-handler.ts'
import { Replication } from './replication.ts'
import { ShareLinks } from './share-links.ts'
import { StorageCounters } from './storage-counters.ts'
import { shortDrive } from './storage-events.ts'
import type { HandlerContext } from './handler-context.ts'
import type { RelayStorageEvents, StorageEmit } from './storage-events.ts'
import type { DriveHandle } from './object-store.ts'
import type { StorageRefusal } from './storage-counters.ts'
import type { ReplicationFigures } from './mirror-sync.ts'
import type { ShareLookupLimit } from './share-links.ts'
import type { SessionManager } from '../../shared/peer-session/index.ts'
import type { PeerKeeper } from '../../shared/peer-keeper/index.ts'
import type { StorageRequest } from '../../shared/storage/index.ts'
import type { ComponentLogger, Connection, Logger, PeerId, PeerStore, Startable, Stream } from '@libp2p/interface'
import type { AddressManager } from '@libp2p/interface-internal'

export interface RelayStorageInit {
  /** Folder for the Corestore and the records of uploads in progress, e.g. `<data>/storage`. */
  dir: string
  /** Bytes for all objects, replicated ones and uploads in progress. @default 10 GiB */
  quota?: number
  /** Bytes per uploader. @default 1 GiB */
  peerQuota?: number
  /** Longest (and default) object lifetime, seconds. @default 7 days */
  maxTtl?: number
  /** An upload nobody feeds for this long is dropped, seconds. @default 3600 */
  pendingTtl?: number
  /** How often expired objects and uploads are collected, seconds. @default 600 */
  gcInterval?: number
  /** Bytes per data frame. @default 256 KiB */
  chunkSize?: number
  /** A client silent this long mid-transfer is dropped, ms. @default 30_000 */
  idleTimeout?: number
  /** Relays to replicate (multiaddrs with /p2p/). */
  replicateFrom?: string[]
  /** Relays (peer IDs) allowed to replicate us (they read every drive). @default none */
  replicationAllow?: string[]
  /** Let any relay this node verified (dialed it, a relay answered) replicate us too. @default false */
  replicationAllowAnyRelay?: boolean
  /** Peers (Concent) whose transfer tokens count for every object. */
  trustedIssuers?: string[]
  /** Uploads in progress at once, from everyone. @default 1024 */
  maxUploads?: number
  /** ... from one peer. @default 16 */
  maxUploadsPerPeer?: number
  /** ... from one network address. @default 64 */
  maxUploadsPerAddress?: number
  /** Share links kept at once, in all. @default 100_000 */
  maxShares?: number
  /** ... made by one uploader. @default 1000 */
  maxSharesPerOwner?: number
  /** Share link lookups per network address. @default 60 a minute (a miss costs 5) */
  shareLookups?: ShareLookupLimit
}

export interface RelayStorageComponents {
  peerId: PeerId
  addressManager: AddressManager
  peerStore: PeerStore
  logger: ComponentLogger
  sessions: SessionManager
  keeper: PeerKeeper
}

export interface StorageStatus {
  drives: number
  objects: number
  bytes: number
  replicatedBytes: number
  pendingUploads: number
  pendingBytes: number
  quota: number
  peerQuota: number
  maxTtl: number
  uploads: number
  downloads: number
  bytesIn: number
  bytesOut: number
  refusals: Record<StorageRefusal, number>
  /** Live share links. */
  shares: number
  replication: { replicateFrom: Array<{ relay: string, linked: boolean, drives: number, behind: { objects: number, bytes: number } }>, replicas: string[], replicated: ReplicationFigures }
}

/** Errors a peer's stream ends with in the normal course: it left, reset, timed out, or we stopped. */
const STREAM_ENDINGS = new Set(['AbortError', 'TimeoutError', 'StreamResetError', 'StreamStateError', 'StreamAbortedError', 'StreamBufferError', 'StreamClosedError', 'ConnectionClosedError', 'ConnectionClosingError', 'MuxerClosedError', 'UnexpectedEOFError', 'LimitedConnectionError'])

/** A failure no peer caused (the disk, the store, a bug), as opposed to a refusal or a peer leaving. */
function isUnexpected (err: any): boolean {
  if (err instanceof InternalError) return true
  if (err instanceof GolemClayError) return false
  return !STREAM_ENDINGS.has(err?.name)
}

/**
 * Hyperdrive storage inside the relay: a Corestore in the data folder, the
 * `/golem-clay/storage` protocol for tabs and Node peers (gated by
 * PeerSession like every Golem Clay protocol), replication to and from other
 * relays, quotas, and expiry.
 */
export class RelayStorage extends TypedEventEmitter<RelayStorageEvents> implements Startable {
  readonly counters = new StorageCounters()
  private readonly components: RelayStorageComponents
  private readonly log: Logger
  private readonly init: Required<Omit<RelayStorageInit, 'replicateFrom' | 'replicationAllow' | 'replicationAllowAnyRelay' | 'trustedIssuers'>> & Pick<RelayStorageInit, 'replicateFrom' | 'replicationAllow' | 'replicationAllowAnyRelay' | 'trustedIssuers'>
  private readonly store: ObjectStore
  private readonly pending: PendingUploads
  private readonly replication: Replication
  private readonly shares: ShareLinks
  private readonly ctx: HandlerContext
  private controller = new AbortController()
  private gcTimer?: ReturnType<typeof setInterval>
  private collecting?: Promise<void>
  private readonly active = new Set<Stream>()

  private readonly emit: StorageEmit = (type, detail) => { this.safeDispatchEvent(type, { detail }) }

  constructor (components: RelayStorageComponents, init: RelayStorageInit) {
    super()
    this.components = components
    this.log = components.logger.forComponent('golem-clay:storage-relay')
    this.init = {
      quota: 10 * 2 ** 30,
      peerQuota: 2 ** 30,
      maxTtl: 7 * 86400,
      pendingTtl: 3600,
      gcInterval: 600,
      chunkSize: DEFAULT_CHUNK_SIZE,
      idleTimeout: 30_000,
      maxUploads: 1024,
      maxUploadsPerPeer: 16,
      maxUploadsPerAddress: 64,
      maxShares: 100_000,
      maxSharesPerOwner: 1000,
      shareLookups: { points: 60, duration: 60 },
      // an option given as undefined keeps its default
      ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)) as RelayStorageInit
    }
    this.store = new ObjectStore({ dir: join(init.dir, 'cores'), quota: this.init.quota, peerQuota: this.init.peerQuota, log: this.log })
    this.pending = new PendingUploads({ dir: join(init.dir, 'partial'), idleTtl: this.init.pendingTtl * 1000, emptyTtl: this.init.idleTimeout, smallTtl: Math.min(this.init.pendingTtl, 300) * 1000, clear: async (record) => { await clearPendingBlob(this.store, record) }, log: this.log })
    this.replication = new Replication({
      dir: init.dir,
      store: this.store,
      replicateFrom: init.replicateFrom ?? [],
      allow: init.replicationAllow ?? [],
      allowAnyRelay: init.replicationAllowAnyRelay,
      isVerifiedRelay: (peer) => components.keeper.isVerifiedRelay(peer),
      sessions: components.sessions,
      selfAddrs: () => components.addressManager.getAddresses().map(ma => ma.toString()),
      log: components.logger.forComponent('golem-clay:storage-replication'),
      onError: (relay, error, drive) => { this.emit('storage:replication-error', { relay, ...(drive != null ? { drive: shortDrive(drive) } : {}), error }) }
    })
    this.shares = new ShareLinks({
      dir: join(init.dir, 'shares'),
      max: this.init.maxShares,
      maxPerOwner: this.init.maxSharesPerOwner,
      lookups: this.init.shareLookups,
      log: this.log,
      // one address: a link stays short, and the lookup's answer names every holder for the download
      linkAddrs: (conn) => pickHolderAddrs(components.addressManager.getAddresses(), components.peerId.toString(), conn.remoteAddr).slice(0, 1),
      onLimited: (conn) => { components.sessions.report(conn.remotePeer, 'rate-limited') }
    })
    this.ctx = {
      store: this.store,
      pending: this.pending,
      log: this.log,
      emit: this.emit,
      counters: this.counters,
      maxTtl: this.init.maxTtl,
      chunkSize: this.init.chunkSize,
      idleTimeout: this.init.idleTimeout,
      trustedIssuers: init.trustedIssuers ?? [],
      uploadLimits: { total: this.init.maxUploads, perPeer: this.init.maxUploadsPerPeer, perAddress: this.init.maxUploadsPerAddress },
      addressOf: (conn) => components.sessions.addressOf(conn),
      relaysFor: (handle, conn) => this.relaysFor(handle, conn)
    }
  }

  readonly [Symbol.toStringTag] = '@golem-clay/relay-storage'

  async start (): Promise<void> {
    this.controller = new AbortController()
    await mkdir(this.init.dir, { recursive: true })
    await this.store.open()
    await this.pending.open()
    await recoverHeldUploads(this.store, this.pending, this.log)
    await this.shares.open()
    this.store.pendingBytes = (owner) => this.pending.bytes(owner)
    await this.replication.start()
    await this.components.sessions.handle(STORAGE_PROTOCOL, (stream, conn) => {
      this.onStream(stream, conn).catch((err: any) => { this.log('storage stream from %p failed - %e', conn.remotePeer, err) })
    }, { maxInboundStreams: 32, maxOutboundStreams: 16 })
    await this.components.sessions.handle(STORAGE_REPLICATION_PROTOCOL, (stream, conn) => {
      this.onReplicationStream(stream, conn).catch((err: any) => { this.log('replication stream from %p failed - %e', conn.remotePeer, err) })
    }, { maxInboundStreams: 2, maxOutboundStreams: 4 })
  }

  afterStart (): void {
    this.replication.afterStart()
    this.gcTimer = setInterval(() => { void this.collect() }, this.init.gcInterval * 1000)
    void this.collect()
  }

  async stop (): Promise<void> {
    this.controller.abort()
    clearInterval(this.gcTimer)
    await this.components.sessions.unhandle(STORAGE_PROTOCOL).catch(() => {})
    await this.components.sessions.unhandle(STORAGE_REPLICATION_PROTOCOL).catch(() => {})
    for (const stream of this.active) stream.abort(new ShuttingDownError('Relay shutting down'))
    await this.collecting?.catch(() => {})
    await this.replication.stop()
    await this.store.close()
  }

  get status (): StorageStatus {
    const s = this.store.stats
    return {
      ...s,
      pendingUploads: this.pending.count,
      pendingBytes: this.pending.bytes(),
      quota: this.init.quota,
      peerQuota: this.init.peerQuota,
      maxTtl: this.init.maxTtl,
      uploads: this.counters.uploads,
      downloads: this.counters.downloads,
      bytesIn: this.counters.bytesIn,
      bytesOut: this.counters.bytesOut,
      refusals: this.counters.toJSON(),
      shares: this.shares.store.count,
      replication: this.replication.status
    }
  }

  /** Removes what has expired by `now` (default: the clock), objects and abandoned uploads; also runs on a timer. */
  async collect (now = Date.now()): Promise<void> {
    if (this.collecting != null) return await this.collecting
    this.collecting = (async () => {
      const { objects, bytes } = await this.store.collect(now)
      const uploads = await this.pending.expire(now)
      const shares = await this.shares.store.expire(now)
      if (shares > 0) this.log('collected %d expired share links', shares)
      if (objects + uploads > 0) {
        this.log('collected %d expired objects and %d abandoned uploads', objects, uploads)
        this.emit('storage:expired', { objects, bytes, uploads })
      }
    })().catch((err: any) => {
      this.log.error('garbage collection failed - %e', err)
      this.emit('storage:error', { part: 'gc', error: err })
    }).finally(() => { this.collecting = undefined })
    await this.collecting
  }

  private relaysFor (handle: DriveHandle, conn: Connection): string[] {
    const self = this.components.peerId.toString()
    const mine = pickHolderAddrs(this.components.addressManager.getAddresses(), self, conn.remoteAddr)
    if (handle.origin != null) {
      const origin = this.replication.mirror(handle.origin)
      return [...(origin != null ? pickHolderAddrs(origin.addrs, origin.relay, conn.remoteAddr) : []), ...mine]
    }
    return [...mine, ...this.replication.replicaList().flatMap(r => pickHolderAddrs(r.addrs, r.relay, conn.remoteAddr))].slice(0, 16)
  }

  private async onStream (stream: Stream, conn: Connection): Promise<void> {
    const signal = this.controller.signal
    const fs = new FrameStream(stream, { maxFrameLength: MAX_FRAME })
    this.active.add(stream)
    let req: StorageRequest | undefined
    try {
      const first = await fs.read({ signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })
      if (first == null) return
      const frame = decodeFrame(first)
      if (frame.kind !== 'control') throw new InvalidMessageError('A storage stream starts with a request')
      req = decodeControl(frame.bytes, validateRequest)
      await this.dispatch(req, fs, conn, signal)
      await stream.close({ signal: AbortSignal.timeout(10_000) }).catch(() => { stream.abort(new StorageProtocolError('close timed out')) })
    } catch (err: any) {
      if (['InvalidMessageError', 'MessageTooLargeError', 'StorageProtocolError', 'ProtocolError'].includes(err?.name)) {
        this.counters.add('protocol')
        this.components.sessions.report(conn.remotePeer, err.name === 'MessageTooLargeError' ? 'oversized-frame' : 'bad-frame')
      }
      this.log('refused %s from %p - %s: %s', stream.protocol, conn.remotePeer, err?.name, err?.message)
      if (req?.op === 'put' && (err instanceof StorageQuotaExceededError || err instanceof TooManyUploadsError)) {
        this.emit('storage:refused', { peer: conn.remotePeer.toString(), reason: err instanceof TooManyUploadsError ? 'too-many-uploads' : 'quota', size: req.size, message: err.message })
      } else if (!signal.aborted && isUnexpected(err)) {
        this.emit('storage:error', { part: req?.op ?? 'stream', error: err instanceof Error ? err : new InternalError(String(err)) })
      }
      try {
        await fs.write(encodeControl({ v: 1, type: 'error', error: errorToWire(err) }), { signal: AbortSignal.timeout(5_000) })
        await stream.close({ signal: AbortSignal.timeout(5_000) })
      } catch {
        stream.abort(err instanceof Error ? err : new InternalError(String(err)))
      }
    } finally {
      this.active.delete(stream)
      fs.release()
    }
  }

  private async dispatch (req: StorageRequest, fs: FrameStream, conn: Connection, signal: AbortSignal): Promise<void> {
    const requester = conn.remotePeer.toString()
    switch (req.op) {
      case 'put':
        await handlePut(this.ctx, req, fs, conn, signal)
        return
      case 'get':
        await handleGet(this.ctx, req, fs, conn, signal)
        return
      case 'stat':
        await handleStat(this.ctx, req, fs, conn, signal)
        return
      case 'delete': {
        const obj = await findObject(this.ctx, req.drive, validateObjectPath(req.path))
        if (obj.handle.owner == null || obj.meta.owner !== requester) {
          this.counters.add('access-denied')
          throw new AccessDeniedError('Only the uploader may delete an object, on the relay it uploaded to')
        }
        await this.store.remove(obj)
        this.emit('storage:deleted', { peer: requester, drive: shortDrive(obj.handle.key), path: obj.path, size: obj.meta.size, owner: obj.meta.owner })
        await fs.write(encodeControl({ v: 1, type: 'deleted' }), { signal })
        return
      }
      case 'drive': {
        const handle = await this.store.ownDrive(requester)
        await fs.write(encodeControl({ v: 1, type: 'drive', drive: handle.key, relays: this.relaysFor(handle, conn) }), { signal })
        return
      }
      case 'share':
        await this.shares.share(this.ctx, req, fs, conn, signal)
        return
      case 'resolve':
        await this.shares.resolve(this.ctx, req, fs, conn, signal)
        return
      case 'replicate': {
        if (!this.replication.allowed(conn)) {
          this.counters.add('access-denied')
          throw new AccessDeniedError('This relay\'s storage may be replicated only by the relays its operator allows (--replication-allow)')
        }
        const { catalog } = await this.replication.registerReplica(conn, req.addrs)
        await fs.write(encodeControl({ v: 1, type: 'replica', catalog, relay: this.components.peerId.toString() }), { signal })
        return
      }
      default:
        throw new StorageProtocolError('Unknown operation')
    }
  }

  private async onReplicationStream (stream: Stream, conn: Connection): Promise<void> {
    if (!this.replication.allowed(conn)) {
      this.counters.add('access-denied')
      stream.abort(new AccessDeniedError('This relay\'s storage may be replicated only by the relays its operator allows (--replication-allow)'))
      return
    }
    this.active.add(stream)
    try {
      await this.replication.serve(stream, conn)
    } finally {
      this.active.delete(stream)
    }
  }
}

export function relayStorage (init: RelayStorageInit): (components: RelayStorageComponents) => RelayStorage {
  return (components) => new RelayStorage(components, init)
}
