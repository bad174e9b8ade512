import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Backoff, delay, lastPeerId } from '../util/index.ts'
import { startContentHash } from './content-hash.ts'
import { downloadAttempt } from './download.ts'
import { equalBytes, fromHex } from './digest.ts'
import { ChunkCorruptedError, ContentHashMismatchError, InvalidAddressError, NoStorageRelayError, StorageError, StorageProtocolError, TransferFailedError } from './errors.ts'
import { formatAddress, parseAddress } from './object-address.ts'
import { formatShareLink, isShareLink, parseShareLink } from './share-link.ts'
import { validateObjectPath } from './object-path.ts'
import { ProgressMeter } from './progress.ts'
import { simpleRequest } from './simple-request.ts'
import { STORAGE_PROTOCOL } from '../wire/index.ts'
import { ANYONE, issueToken } from './transfer-token.ts'
import { uploadAttempt } from './upload.ts'
import type { ObjectAddress } from './object-address.ts'
import type { ShareLink } from './share-link.ts'
import type { ProgressHandler } from './progress.ts'
import type { DownloadSink, UploadSource } from './sources.ts'
import type { ObjectInfo, PutRequest } from './storage-codec.ts'
import type { TokenOperation } from './transfer-token.ts'
import type { TransferTap } from './transfer-tap.ts'
import type { OpenedStream, SessionManager } from '../peer-session/index.ts'
import type { AbortOptions, ComponentLogger, Logger, PeerId, PeerStore, PrivateKey, Startable } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A relay that cannot be dialed within this is tried again later (or the next one is), ms. */
const DIAL_TIMEOUT = 15_000

/** Objects up to this size are hashed before the upload starts (and are deduplicated before any byte moves); larger ones as they go out. */
const HASH_UP_FRONT_MAX = 4 * 1024 * 1024

export interface StorageClientInit {
  /** Attempts per relay before giving up on it (resumes count). @default 8 */
  maxAttempts?: number
  /** Pause between attempts. @default 500 ms doubling to 5 s */
  retryDelay?: { initial: number, max: number }
  /** An attempt without progress for this long is abandoned (and retried), ms. @default 30_000 */
  idleTimeout?: number
  /** Bytes per chunk asked of the relay. @default the relay's choice (256 KiB) */
  chunkSize?: number
  /** Sees (and may alter) every transfer: instrumentation, or a test's flaky network. @default none */
  tap?: TransferTap
}

export interface StorageClientComponents {
  peerId: PeerId
  privateKey: PrivateKey
  connectionManager: ConnectionManager
  peerStore: PeerStore
  logger: ComponentLogger
  sessions: SessionManager
}

export interface PutOptions extends AbortOptions {
  /** Where the object goes in the drive, e.g. `results/out.bin` (relative, no `..`). */
  path: string
  /** Relay to store on (peer ID or multiaddr); by default a connected relay that offers storage. */
  relay?: string
  /** Seconds to keep the object; the relay caps it. */
  ttl?: number
  /** A write token from a drive's owner, to store into their drive (`drive`). */
  token?: string
  drive?: string
  onProgress?: ProgressHandler
}

export interface GetOptions extends AbortOptions {
  onProgress?: ProgressHandler
}

export interface PutResult {
  object: ObjectInfo
  /** The object's address (no token: only the uploader can read with it). */
  address: string
  /** The relay already held this exact content at this path. */
  deduplicated: boolean
}

/** How long a share link works unless the sharer says otherwise (it never outlives the object), ms. */
export const DEFAULT_SHARE_TTL = 24 * 3600 * 1000

export interface ShareOptions extends AbortOptions {
  /** Who may use the link: a peer ID, or ANYONE who holds it. */
  grantee: string
  /** How long it works, ms. @default DEFAULT_SHARE_TTL */
  ttl?: number
}

export interface ShareResult {
  /** The short link: `golem-clay:share/<id>?relay=<multiaddr>`. */
  link: string
  /** A peer ID, or ANYONE. */
  grantee: string
  /** When the link stops working (the token's expiry, or the object's if sooner), ms since the epoch. */
  expiresAt: number
}

export interface ResolvedShare {
  /** The object's full address, with the token that reads it. */
  address: ObjectAddress
  object: ObjectInfo
  /** A peer ID, or ANYONE. */
  grantee: string
  expiresAt: number
}

interface Target { peer: PeerId, addrs: Multiaddr[] }

/**
 * The storage client tabs and Node peers use: uploads to a relay in hashed
 * chunks, resuming where the relay stopped after a dropped connection;
 * downloads from the relays an address names, falling back to a replica
 * and resuming at the last verified byte; issues transfer tokens.
 */
export class StorageClient implements Startable {
  private readonly components: StorageClientComponents
  private readonly log: Logger
  private readonly maxAttempts: number
  private readonly retryDelay: { initial: number, max: number }
  private readonly idleTimeout: number
  private readonly chunkSize?: number
  private readonly tap?: TransferTap
  private controller = new AbortController()

  constructor (components: StorageClientComponents, init: StorageClientInit = {}) {
    this.components = components
    this.log = components.logger.forComponent('golem-clay:storage-client')
    this.maxAttempts = init.maxAttempts ?? 8
    this.retryDelay = init.retryDelay ?? { initial: 500, max: 5_000 }
    this.idleTimeout = init.idleTimeout ?? 30_000
    this.chunkSize = init.chunkSize
    this.tap = init.tap
  }

  readonly [Symbol.toStringTag] = '@golem-clay/storage-client'

  start (): void {
    this.controller = new AbortController()
  }

  stop (): void {
    this.controller.abort(new StorageError('The storage client stopped'))
  }

  /** Connected relays that offer storage (peer IDs). */
  async relays (): Promise<string[]> {
    const found: string[] = []
    for (const conn of this.components.connectionManager.getConnections()) {
      const id = conn.remotePeer.toString()
      if (conn.status !== 'open' || conn.limits != null || found.includes(id)) continue
      const peer = await this.components.peerStore.get(conn.remotePeer).catch(() => undefined)
      if (peer?.protocols.includes(STORAGE_PROTOCOL) === true) found.push(id)
    }
    return found
  }

  /** Uploads `source` to a relay; resumes after dropped connections. */
  async put (source: UploadSource, options: PutOptions): Promise<PutResult> {
    const path = validateObjectPath(options.path)
    const signal = this.signal(options.signal)
    const meter = new ProgressMeter('put', source.size, options.onProgress)
    // a token binds the hash, and a small object is cheap to hash twice (and is then deduplicated before it moves);
    // anything else is hashed on the way out and named after its last chunk
    const upFront = options.token != null || source.size <= HASH_UP_FRONT_MAX
    let sha256: string | undefined
    if (upFront) {
      meter.phase('hashing')
      const digest = await source.sha256((bytes) => { meter.update(bytes) }, signal)
      sha256 = this.tap?.declare?.(digest) ?? digest
    }
    const contentHash = upFront ? undefined : await startContentHash(source, signal)
    // from here on, bytes count what the relay has
    meter.phase('connecting', { bytes: 0, rate: 0, etaMs: undefined })
    let target = options.relay != null ? this.targetOf(options.relay) : undefined
    const request: PutRequest = { v: 1, op: 'put', path, size: source.size, ...(sha256 != null ? { sha256 } : {}) }
    if (options.ttl != null) request.ttl = options.ttl
    if (options.token != null) request.token = options.token
    if (options.drive != null) request.drive = options.drive
    if (this.chunkSize != null) request.chunkSize = this.chunkSize
    const backoff = new Backoff({ initialDelay: this.retryDelay.initial, maxDelay: this.retryDelay.max })
    let resumedAt = 0
    let restarted = false
    // a tap that promised another hash than the content's makes the mismatch ours: no fresh start for it
    let promisedOther = false
    for (let attempt = 1; ; attempt++) {
      try {
        // an upload resumes only where it started: the relay holds the partial data
        target ??= await this.pickRelay()
        const { stream, connection: conn } = await this.open(target, signal)
        const result = await uploadAttempt({
          stream, conn, request, source, meter, signal, tap: this.tap, idleTimeout: this.idleTimeout,
          ...(contentHash != null ? { contentHash } : {}),
          onReady: (offset) => { resumedAt = offset },
          onPromised: (altered) => { promisedOther = altered }
        })
        meter.phase('done')
        return { ...result, address: formatAddress(addressOf(result.object)) }
      } catch (err: any) {
        if (signal.aborted) throw err
        // the relay resumed older bytes of other content at this path and size (an earlier, abandoned
        // upload): it threw them away on the mismatch, so one fresh start sends ours
        if (err instanceof ContentHashMismatchError && contentHash != null && resumedAt > 0 && !restarted && !promisedOther) {
          restarted = true
          this.log('upload of %s resumed bytes of other content; starting again', path)
          continue
        }
        if (!retryable(err) || attempt >= this.maxAttempts) throw final(err, attempt, 'upload')
        this.log('upload attempt %d of %s failed, retrying - %e', attempt, path, err)
        meter.phase('retrying', { attempt: attempt + 1, reason: describe(err) })
        // a refused chunk is resent at once; anything else waits for the network
        if (!(err instanceof ChunkCorruptedError)) await delay(backoff.next(), signal)
      }
    }
  }

  /**
   * Downloads the object at `address` (or behind a share link) into `sink`,
   * trying the relays the address names in order and resuming at the last
   * verified byte.
   */
  async get (address: string | ObjectAddress, sink: DownloadSink, options: GetOptions = {}): Promise<ObjectInfo> {
    const signal = this.signal(options.signal)
    const a = await this.addressOf(address, signal)
    const meter = new ProgressMeter('get', a.size, options.onProgress)
    meter.phase('connecting')
    const targets = await this.targetsOf(a.relays)
    if (targets.length === 0) throw new NoStorageRelayError('The address names no relay, and no connected relay offers storage')
    let offset = Math.min(sink.resumeFrom ?? 0, a.size)
    let object: ObjectInfo | undefined
    let lastError: any
    let attempts = 0
    const expected = fromHex(a.sha256)
    for (const target of targets) {
      const backoff = new Backoff({ initialDelay: this.retryDelay.initial, maxDelay: this.retryDelay.max })
      // a relay that keeps failing is left for the next one after a few tries
      for (let tries = 1; tries <= Math.min(3, this.maxAttempts); tries++) {
        attempts++
        try {
          if (offset < a.size || object == null) {
            const { stream, connection: conn } = await this.open(target, signal)
            object = await downloadAttempt({
              stream,
              conn,
              request: { v: 1, op: 'get', drive: a.drive, path: a.path, offset, ...(a.token != null ? { token: a.token } : {}) },
              expected: { sha256: a.sha256, size: a.size },
              sink,
              meter,
              signal,
              tap: this.tap,
              idleTimeout: this.idleTimeout,
              onOffset: (at) => { offset = at }
            })
          }
          meter.phase('verifying')
          if (!equalBytes(await sink.digest(), expected)) {
            offset = 0
            await sink.reset()
            throw new ContentHashMismatchError('The downloaded content does not hash to the address\'s SHA-256')
          }
          meter.phase('done')
          return object
        } catch (err: any) {
          lastError = err
          if (signal.aborted) throw err
          if (!retryable(err) && !(err instanceof StorageError && FALL_THROUGH.has(err.name))) throw final(err, attempts, 'download')
          this.log('download attempt from %p failed at byte %d - %e', target.peer, offset, err)
          meter.phase('retrying', { attempt: attempts + 1, reason: describe(err) })
          if (!retryable(err)) break
          if (!(err instanceof ChunkCorruptedError)) await delay(backoff.next(), signal)
        }
      }
    }
    throw final(lastError, attempts, 'download')
  }

  /** What a relay knows about the object (size, hash, expiry, holders). */
  async stat (address: string | ObjectAddress, options: AbortOptions = {}): Promise<ObjectInfo> {
    const signal = this.signal(options.signal)
    const a = await this.addressOf(address, signal)
    let lastError: any
    for (const target of await this.targetsOf(a.relays)) {
      try {
        const { stream } = await this.open(target, signal)
        const reply = await simpleRequest(stream, { v: 1, op: 'stat', drive: a.drive, path: a.path, ...(a.token != null ? { token: a.token } : {}) }, signal)
        if (reply.type === 'object') return reply.object
        throw new StorageProtocolError(`Unexpected ${reply.type} reply to stat`)
      } catch (err: any) {
        lastError = err
        if (!retryable(err) && !(err instanceof StorageError && FALL_THROUGH.has(err.name))) throw err
      }
    }
    throw final(lastError, 1, 'stat')
  }

  /** Deletes an object we uploaded (on the relay that took the upload). */
  async remove (address: string | ObjectAddress, options: AbortOptions = {}): Promise<void> {
    const a = typeof address === 'string' ? parseAddress(address) : address
    const signal = this.signal(options.signal)
    const target = (await this.targetsOf(a.relays))[0]
    if (target == null) throw new NoStorageRelayError('The address names no relay')
    const { stream } = await this.open(target, signal)
    const reply = await simpleRequest(stream, { v: 1, op: 'delete', drive: a.drive, path: a.path }, signal)
    if (reply.type !== 'deleted') throw new StorageProtocolError(`Unexpected ${reply.type} reply to delete`)
  }

  /** Our drive on a relay (to issue write tokens into it). */
  async drive (relay?: string, options: AbortOptions = {}): Promise<{ drive: string, relays: string[] }> {
    const signal = this.signal(options.signal)
    const { stream } = await this.open(relay != null ? this.targetOf(relay) : await this.pickRelay(), signal)
    const reply = await simpleRequest(stream, { v: 1, op: 'drive' }, signal)
    if (reply.type !== 'drive') throw new StorageProtocolError(`Unexpected ${reply.type} reply to drive`)
    return { drive: reply.drive, relays: reply.relays }
  }

  /**
   * A copy of `address` carrying a token that lets `grantee` read the object
   * (or write it, for `op: 'write'`) until `ttl` ms from now.
   */
  async grant (address: string | ObjectAddress, grantee: string, options: { op?: TokenOperation, ttl?: number } = {}): Promise<string> {
    const a = typeof address === 'string' ? parseAddress(address) : address
    try {
      peerIdFromString(grantee)
    } catch {
      throw new InvalidAddressError(`"${grantee}" is not a peer ID`)
    }
    const token = await issueToken(this.components.privateKey, { grantee, op: options.op ?? 'read', drive: a.drive, path: a.path, sha256: a.sha256, ttl: options.ttl })
    return formatAddress({ ...a, token })
  }

  /**
   * A short link that lets `grantee` (a peer, or ANYONE holding the link)
   * read the object until `ttl` from now: a read token of ours, left with
   * the relay that took the upload under a random share ID.
   */
  async share (address: string | ObjectAddress, options: ShareOptions): Promise<ShareResult> {
    const a = typeof address === 'string' ? parseAddress(address) : address
    const grantee = options.grantee.trim()
    if (grantee !== ANYONE) {
      try {
        peerIdFromString(grantee)
      } catch {
        throw new InvalidAddressError(`"${grantee}" is not a peer ID`)
      }
    }
    const signal = this.signal(options.signal)
    const token = await issueToken(this.components.privateKey, { grantee, op: 'read', drive: a.drive, path: a.path, sha256: a.sha256, ttl: options.ttl ?? DEFAULT_SHARE_TTL })
    // the uploader's relay is the address's first; a replica holds no shares
    const target = (await this.targetsOf(a.relays))[0]
    if (target == null) throw new NoStorageRelayError('The address names no relay')
    const { stream } = await this.open(target, signal)
    const reply = await simpleRequest(stream, { v: 1, op: 'share', drive: a.drive, path: a.path, token }, signal)
    if (reply.type !== 'shared') throw new StorageProtocolError(`Unexpected ${reply.type} reply to share`)
    return { link: formatShareLink({ id: reply.id, relays: reply.relays }), grantee, expiresAt: reply.expiresAt }
  }

  /** What a share link gives: the object, its full address with the token, who it is for and until when. */
  async resolve (link: string | ShareLink, options: AbortOptions = {}): Promise<ResolvedShare> {
    const l = typeof link === 'string' ? parseShareLink(link) : link
    const signal = this.signal(options.signal)
    let lastError: any
    for (const target of await this.targetsOf(l.relays)) {
      try {
        const { stream } = await this.open(target, signal)
        const reply = await simpleRequest(stream, { v: 1, op: 'resolve', id: l.id }, signal)
        if (reply.type !== 'resolved') throw new StorageProtocolError(`Unexpected ${reply.type} reply to resolve`)
        return { address: { ...addressOf(reply.object), token: reply.token }, object: reply.object, grantee: reply.grantee, expiresAt: reply.expiresAt }
      } catch (err: any) {
        lastError = err
        // the relay's answer (unknown, not for us, too many lookups) stands; a relay out of reach does not
        if (signal.aborted || err instanceof StorageError) throw err
      }
    }
    if (lastError == null) throw new NoStorageRelayError('The link names no relay, and no connected relay offers storage')
    throw final(lastError, 1, 'share link lookup')
  }

  /** An address, a share link (looked up), or an address already parsed. */
  private async addressOf (address: string | ObjectAddress, signal: AbortSignal): Promise<ObjectAddress> {
    if (typeof address !== 'string') return address
    return isShareLink(address) ? (await this.resolve(address, { signal })).address : parseAddress(address)
  }

  private signal (outer?: AbortSignal): AbortSignal {
    return outer != null ? AbortSignal.any([outer, this.controller.signal]) : this.controller.signal
  }

  private async pickRelay (): Promise<Target> {
    const id = (await this.relays())[0]
    if (id == null) throw new NoStorageRelayError('No connected relay offers storage yet')
    return { peer: peerIdFromString(id), addrs: [] }
  }

  private targetOf (relay: string): Target {
    if (relay.startsWith('/')) {
      const ma = multiaddr(relay)
      const id = lastPeerId(ma)
      if (id == null) throw new InvalidAddressError(`Relay address "${relay}" has no /p2p/ peer ID`)
      return { peer: peerIdFromString(id), addrs: [ma] }
    }
    return { peer: peerIdFromString(relay), addrs: [] }
  }

  /** Relays (multiaddrs), grouped by peer, in order; or connected storage relays if there are none. */
  private async targetsOf (relays: string[]): Promise<Target[]> {
    const targets: Target[] = []
    for (const text of relays) {
      let ma: Multiaddr
      try {
        ma = multiaddr(text)
      } catch {
        continue
      }
      const id = lastPeerId(ma)
      if (id == null) continue
      const known = targets.find(t => t.peer.toString() === id)
      if (known != null) known.addrs.push(ma)
      else targets.push({ peer: peerIdFromString(id), addrs: [ma] })
    }
    if (targets.length === 0) {
      for (const id of await this.relays()) targets.push({ peer: peerIdFromString(id), addrs: [] })
    }
    return targets
  }

  /**
   * A storage stream to the relay: on a direct link (the protocol's rule),
   * dialed at the address's addresses when there is none, within 15 s for
   * the dial and the session layer's 70 s in all (a proof of work may come first).
   */
  private async open (target: Target, signal: AbortSignal): Promise<OpenedStream> {
    return await this.components.sessions.open(target.addrs.length > 0 ? target.addrs : target.peer, STORAGE_PROTOCOL, { signal, dialTimeout: DIAL_TIMEOUT })
  }
}

/** Errors after which a download tries the next relay instead of giving up. */
const FALL_THROUGH = new Set(['ObjectNotFoundError', 'ObjectUnavailableError', 'ContentHashMismatchError', 'StorageError'])

function retryable (err: any): boolean {
  if (err instanceof StorageError) return err.retryable || err instanceof StorageProtocolError
  if (err?.name === 'InvalidMessageError' || err?.name === 'MessageTooLargeError') return false
  // connection lost, stream reset, dial failed, stalled: the network's fault
  return true
}

function final (err: any, attempts: number, what: string): Error {
  if (err instanceof StorageError && !err.retryable && !(err instanceof StorageProtocolError)) return err
  const out = new TransferFailedError(`The ${what} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${describe(err)}`)
  ;(out as any).cause = err
  return out
}

function describe (err: any): string {
  if (err?.name === 'AggregateError' && Array.isArray(err.errors) && err.errors.length > 0) return describe(err.errors[0])
  return err?.message ?? String(err)
}

/** The address a stored object is reached at (its relays, no token). */
export function addressOf (object: ObjectInfo): ObjectAddress {
  return { drive: object.drive, path: object.path, sha256: object.sha256, size: object.size, relays: object.relays }
}

export function storageClient (init: StorageClientInit = {}): (components: StorageClientComponents) => StorageClient {
  return (components) => new StorageClient(components, init)
}
