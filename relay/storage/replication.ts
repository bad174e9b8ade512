import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { Backoff, delay, lastPeerId } from '../../shared/util/index.ts'
import { simpleRequest, StorageProtocolError } from '../../shared/storage/index.ts'
import { isSha256Hex, STORAGE_PROTOCOL, STORAGE_REPLICATION_PROTOCOL } from '../../shared/wire/index.ts'
import { readJsonFile, writeJsonFile } from './json-file.ts'
import { MirrorSync } from './mirror-sync.ts'
import { pipeBoth, streamToDuplex } from './stream-duplex.ts'
import type { ReplicationFigures } from './mirror-sync.ts'
import type { ObjectStore } from './object-store.ts'
import type { SessionManager } from '../../shared/peer-session/index.ts'
import type { Hypercore } from 'corestore'
import type { Connection, Logger, Stream } from '@libp2p/interface'
import { InvalidConfigError } from '../../shared/errors.ts'

/** A relay we copy, as remembered across restarts. */
export interface MirrorRecord { relay: string, catalog: string, addrs: string[] }

/** A relay that copies us, as remembered across restarts. */
export interface ReplicaRecord { relay: string, addrs: string[], lastSeen: number }

/** A replica not heard from for this long is no longer listed in addresses. */
const REPLICA_TTL = 7 * 24 * 3600 * 1000

export interface ReplicationInit {
  dir: string
  store: ObjectStore
  /** Relays to copy (multiaddrs with /p2p/). */
  replicateFrom: string[]
  /** Relays (peer IDs) allowed to copy us; nobody else may. */
  allow: string[]
  /** Also let any relay this node verified copy us (every drive, private files included). @default false */
  allowAnyRelay?: boolean
  /** A relay this node dialed and that answered as one (PeerKeeper). */
  isVerifiedRelay: (peer: string) => boolean
  sessions: SessionManager
  /** Our own addresses, sent to the relays we copy. */
  selfAddrs: () => string[]
  log: Logger
  /** Copying from `relay` failed (the link, or one drive's sync); it is retried. */
  onError?: (relay: string, err: Error, drive?: string) => void
}

/**
 * Relay-to-relay replication. A replica asks its origin for the catalog
 * (the list of the origin's drives) over the storage protocol, then runs
 * Corestore's own replication over a `/golem-clay/storage-replication`
 * stream, following the catalog and copying every drive it lists. Both
 * sides remember each other, so addresses name the replicas and a replica
 * serves what it holds even while its origin is gone.
 */
export class Replication {
  readonly figures: ReplicationFigures = { objects: 0, bytes: 0 }
  private readonly init: ReplicationInit
  private readonly log: Logger
  private mirrors: Record<string, MirrorRecord> = {}
  private replicas: Record<string, ReplicaRecord> = {}
  private readonly catalogs = new Map<string, Catalog>()
  private readonly syncs = new Map<string, MirrorSync>()
  private readonly linked = new Set<string>()
  private controller = new AbortController()

  constructor (init: ReplicationInit) {
    this.init = init
    this.log = init.log
  }

  private get mirrorsFile (): string { return join(this.init.dir, 'mirrors.json') }
  private get replicasFile (): string { return join(this.init.dir, 'replicas.json') }

  async start (): Promise<void> {
    this.controller = new AbortController()
    this.mirrors = await readJsonFile(this.mirrorsFile, {})
    this.replicas = await readJsonFile(this.replicasFile, {})
    // what we copied before is served at once, origin or not
    for (const m of Object.values(this.mirrors)) await this.follow(m)
  }

  afterStart (): void {
    for (const addr of this.init.replicateFrom) {
      this.run(addr).catch((err: any) => {
        this.log.error('replication from %s stopped - %e', addr, err)
        this.init.onError?.(addr, err)
      })
    }
  }

  async stop (): Promise<void> {
    this.controller.abort()
    for (const sync of this.syncs.values()) sync.stop()
    this.syncs.clear()
    await Promise.allSettled([...this.catalogs.values()].map(async c => { await c.core.close() }))
    this.catalogs.clear()
  }

  /** Relays that copy us (peer ID → addresses), freshest first. */
  replicaList (): ReplicaRecord[] {
    const now = Date.now()
    return Object.values(this.replicas).filter(r => now - r.lastSeen < REPLICA_TTL).sort((a, b) => b.lastSeen - a.lastSeen)
  }

  mirror (relay: string): MirrorRecord | undefined {
    return this.mirrors[relay]
  }

  get status (): { replicateFrom: Array<{ relay: string, linked: boolean, drives: number, behind: { objects: number, bytes: number } }>, replicas: string[], replicated: ReplicationFigures } {
    return {
      replicateFrom: Object.values(this.mirrors).map(m => ({ relay: m.relay, linked: this.linked.has(m.relay), drives: this.init.store.drives().filter(d => d.origin === m.relay).length, behind: this.behind(m.relay) })),
      replicas: this.replicaList().map(r => r.relay),
      replicated: { ...this.figures }
    }
  }

  /**
   * What this relay knows it still lacks of `relay`'s storage: live objects
   * its drives list, as far as their metadata has arrived here, whose bytes
   * are not on our disk yet. Metadata not yet received is not counted: a
   * replica cut off from its origin cannot know what it misses.
   */
  behind (relay: string): { objects: number, bytes: number } {
    const total = { objects: 0, bytes: 0 }
    for (const sync of this.syncs.values()) {
      if (sync.origin !== relay) continue
      total.objects += sync.behind.objects
      total.bytes += sync.behind.bytes
    }
    return total
  }

  /**
   * May this connection replicate us? A replica reads every drive, so only
   * relays on the allowlist may; what a peer says of itself grants nothing.
   */
  allowed (conn: Connection): boolean {
    const peer = conn.remotePeer.toString()
    if (this.init.sessions.forConnection(conn) == null) return false
    if (this.init.allow.includes(peer)) return true
    return this.init.allowAnyRelay === true && this.init.isVerifiedRelay(peer)
  }

  /** Origin side: a replica introduced itself; remember it and hand over the catalog. */
  async registerReplica (conn: Connection, addrs: string[]): Promise<{ catalog: string }> {
    const relay = conn.remotePeer.toString()
    const usable = addrs.filter(a => { try { return lastPeerId(multiaddr(a)) === relay } catch { return false } })
    this.replicas[relay] = { relay, addrs: usable.slice(0, 16), lastSeen: Date.now() }
    await writeJsonFile(this.replicasFile, this.replicas)
    return { catalog: this.init.store.catalogKey }
  }

  /** Origin side: carry Corestore replication on an inbound stream. */
  async serve (stream: Stream, conn: Connection): Promise<void> {
    const relay = conn.remotePeer.toString()
    const known = this.replicas[relay]
    if (known != null) known.lastSeen = Date.now()
    await pipeBoth(this.init.store.store.replicate(false), streamToDuplex(stream))
  }

  /** Replica side: keep a replication link to `addr`, redialling with backoff. */
  private async run (addr: string): Promise<void> {
    const stopped = this.controller.signal
    const backoff = new Backoff({ initialDelay: 1_000, maxDelay: 30_000 })
    const ma = multiaddr(addr)
    const relay = lastPeerId(ma)
    if (relay == null) throw new InvalidConfigError(`--replicate-from ${addr} needs a /p2p/<peer ID>`)
    while (!stopped.aborted) {
      try {
        const { stream: control, connection: conn } = await this.init.sessions.open(ma, STORAGE_PROTOCOL, { signal: stopped, timeout: 90_000 })
        const reply = await simpleRequest(control, { v: 1, op: 'replicate', addrs: this.init.selfAddrs() }, stopped)
        if (reply.type !== 'replica') throw new StorageProtocolError(`unexpected ${reply.type} reply to replicate`)
        const record: MirrorRecord = { relay, catalog: reply.catalog, addrs: [addr] }
        this.mirrors[relay] = record
        await writeJsonFile(this.mirrorsFile, this.mirrors)
        const { stream } = await this.init.sessions.open(conn, STORAGE_REPLICATION_PROTOCOL, { signal: stopped })
        this.log('replicating %s', relay)
        backoff.reset()
        this.linked.add(relay)
        const piping = pipeBoth(this.init.store.store.replicate(true), streamToDuplex(stream))
        await this.follow(record)
        await piping
        this.log('replication link to %s ended', relay)
      } catch (err: any) {
        if (stopped.aborted) return
        this.log('replication from %s failed - %e', addr, err)
        this.init.onError?.(relay, err)
      } finally {
        this.linked.delete(relay)
      }
      await delay(backoff.next(), stopped).catch(() => {})
    }
  }

  /** Opens the origin's catalog and every drive it lists, and keeps following it. */
  private async follow (record: MirrorRecord): Promise<void> {
    let entry = this.catalogs.get(record.relay)
    if (entry == null) {
      const core = this.init.store.store.get({ key: Buffer.from(record.catalog, 'hex'), valueEncoding: 'json' })
      await core.ready()
      entry = { core, seen: 0, reading: false, again: false }
      this.catalogs.set(record.relay, entry)
      core.download({ start: 0, end: -1 })
      const catalog = entry
      core.on('append', () => { void this.readCatalog(record.relay, catalog) })
    }
    await this.readCatalog(record.relay, entry)
  }

  private async readCatalog (relay: string, catalog: Catalog): Promise<void> {
    if (catalog.reading) {
      catalog.again = true
      return
    }
    catalog.reading = true
    try {
      while (catalog.seen < catalog.core.length && !this.controller.signal.aborted) {
        const index = catalog.seen
        let item: { drive?: unknown }
        try {
          // the length is known before the block arrives: wait for it, a little
          item = await catalog.core.get(index, { timeout: 10_000 }) as { drive?: unknown }
        } catch (err: any) {
          this.log('catalog entry %d of %s not available yet - %e', index, relay, err)
          setTimeout(() => { void this.readCatalog(relay, catalog) }, 5_000).unref?.()
          return
        }
        catalog.seen++
        if (!isSha256Hex(item?.drive) || this.syncs.has(item.drive)) continue
        const handle = await this.init.store.mirrorDrive(item.drive, relay)
        const sync = new MirrorSync(this.init.store, handle, this.figures, this.log, (err) => { this.init.onError?.(relay, err, handle.key) })
        this.syncs.set(item.drive, sync)
        sync.start()
      }
    } finally {
      catalog.reading = false
    }
    if (catalog.again) {
      catalog.again = false
      await this.readCatalog(relay, catalog)
    }
  }
}

interface Catalog { core: Hypercore, seen: number, reading: boolean, again: boolean }
