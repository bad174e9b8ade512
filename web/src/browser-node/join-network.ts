import { generateKeyPair } from '@libp2p/crypto/keys'
import { TypedEventEmitter } from 'main-event'
import { connectionKind } from '../../../shared/connection/index.ts'
import { ShuttingDownError } from '../../../shared/errors.ts'
import { generatePaymentKey, memoryLedgerStores, paymentAddressOf } from '../../../shared/payments/index.ts'
import { STATUS_PATH } from './constants.defaults.ts'
import { fallbackReason } from './storage-fallback.ts'
import type { HashcashSolver } from '../../../shared/hashcash/index.ts'
import type { Address, Hex } from '../../../shared/payments/index.ts'
import type { KeeperStore } from '../../../shared/peer-keeper/index.ts'
import type { StorageClientInit } from '../../../shared/storage/index.ts'
import type { BrowserNode, BrowserNodeInit } from '../node/create-browser-node.ts'
import type { TabLedgers } from '../node/idb-ledger-stores.ts'
import type { TabIdentity } from '../node/identity-store.ts'
import type { AbortOptions, PrivateKey } from '@libp2p/interface'

/**
 * Where a peer is on its way into the network. 'idle' until `start()`; the
 * `phase` event carries every other one. 'stopped': `stop()` was called (or
 * the start's signal aborted), whatever the peer was doing.
 */
export type BrowserPeerPhase = 'idle' | 'identity' | 'locating' | 'starting' | 'running' | 'stopped' | 'failed'

/** Who this peer is on the network; its keys stay inside the peer. */
export interface PeerIdentity {
  peerId: string
  /** Its payment account: the Ethereum address bound to its peer ID. */
  paymentAddress: Address
  /** Made now: a new peer ID (not one kept from an earlier visit). */
  created: boolean
  /** The payment key was made now: a new payment account. */
  paymentKeyCreated: boolean
  /** The stored identity slot this tab holds; none when the identity lives in memory. */
  slot?: number
  /** Kept in IndexedDB, so a reload gets it back (false: memory only, gone with the page). */
  durable: boolean
  /** Why it is not durable, for the visitor; none when the embedder asked for memory. */
  reason?: string
}

/** Where the cheque book and cheque wallet are kept. */
export interface LedgersState {
  /** In IndexedDB (false: memory only: cheques not cashed before the page closes are lost). */
  durable: boolean
  reason?: string
}

export type BrowserPeerPhaseDetail =
  | { phase: 'identity' }
  | { phase: 'locating', identity: PeerIdentity, /** Asked for the serving relay, when no relay was given. */ statusUrl?: string }
  | { phase: 'starting', identity: PeerIdentity, relays: string[], ledgers: LedgersState }
  | { phase: 'running', identity: PeerIdentity, node: BrowserNode }
  | { phase: 'stopped' }
  | { phase: 'failed', error: unknown }

/** Something the visitor should know that does not stop the peer. */
export interface BrowserPeerNotice {
  code: 'identity-in-memory' | 'ledgers-in-memory'
  tone: 'info' | 'warn'
  /** What happens, worded to follow whom it is about: "(this tab) keeps its …". */
  text: string
  reason?: string
}

export interface StopOptions {
  /**
   * Let the market's answers and verdicts under way go out first, for at most
   * this long, ms. A closing page has no time for it (nothing async survives
   * it); a widget stopped by its visitor has. @default 0
   */
  drainMs?: number
}

export interface BrowserPeerEvents {
  phase: CustomEvent<BrowserPeerPhaseDetail>
  notice: CustomEvent<BrowserPeerNotice>
  /** The node exists and is about to start: listen to its events now to miss none of its start. */
  node: CustomEvent<BrowserNode>
}

/** Where the peer joins: what a page config (web/src/node/page-config.ts) holds. */
export interface NetworkInit {
  /** Relay multiaddrs to dial, each ending in /p2p/<peer ID>. @default [] : ask `statusUrl` for the serving relay */
  relays?: string[]
  /** Where to ask for the serving relay's addresses when no relay is given. @default '/status' on the page's origin */
  statusUrl?: string
  /** STUN/TURN servers for WebRTC. @default [] : same-LAN links work without */
  iceServers?: RTCIceServer[]
}

export interface BrowserPeerInit extends NetworkInit {
  /** Lending this tab's CPU, as createBrowserNode takes it: subtasks at once, whether to offer at all, the runner. @default cores - 1, on, sandboxed Web Workers */
  compute?: BrowserNodeInit['compute']
  /** Storage client options (retries, timeouts, a transfer tap). */
  storage?: StorageClientInit
  /**
   * 'stored': the tab's identity, payment key and ledgers in IndexedDB, one
   * slot per open tab, kept across reloads; where the browser refuses
   * storage (blocked site data, a sandboxed or partitioned iframe) the peer
   * goes on in memory, says so with a notice and `durable: false`.
   * 'memory': a fresh identity per start that never touches storage.
   * @default 'stored'
   */
  identity?: 'stored' | 'memory'
  /**
   * Finds the serving relay's address, retrying as it sees fit until
   * `signal` aborts. @default fetchServingRelay, retried with backoff (locate-relay.ts)
   */
  locate?: (statusUrl: string, signal: AbortSignal) => Promise<string>
  /**
   * Runs once the identity is known, before the relay is looked for: load
   * what is kept per identity, read configuration that may be wrong (its
   * error fails the start with the identity already known). What it
   * returns overrides this init's relays, statusUrl and iceServers.
   */
  onIdentity?: (identity: PeerIdentity, options: AbortOptions) => Promise<NetworkInit | undefined | void> | NetworkInit | undefined | void
}

/** What a BrowserPeer is made of; createBrowserPeer hands in the browser's own (index.ts). */
export interface BrowserPeerComponents {
  /** Claims a stored identity slot (identity-store.ts). */
  claimIdentity: () => Promise<TabIdentity>
  /** Why storage cannot be used here, before trying (storage-fallback.ts). */
  storageUnavailable: () => Promise<string | undefined>
  openLedgers: (slot: number) => Promise<TabLedgers>
  keeperStore: (slot: number) => KeeperStore
  createSolver: () => HashcashSolver
  createNode: (init: BrowserNodeInit) => Promise<BrowserNode>
  /** The default `locate`. */
  locate: (statusUrl: string, signal: AbortSignal) => Promise<string>
}

interface Keys {
  privateKey: PrivateKey
  paymentKey: Hex
}

/**
 * One browser tab's peer on the Golem Clay network, from nothing to
 * running: claims its identity, finds a relay, opens its ledgers, starts
 * its proof-of-work solver and its libp2p node. Framework-free, so the
 * page and an embedded widget join the same way; each follows it through
 * its `phase`, `notice` and `node` events.
 */
export class BrowserPeer extends TypedEventEmitter<BrowserPeerEvents> {
  private readonly init: BrowserPeerInit
  private readonly components: BrowserPeerComponents
  /** Aborted by stop(): ends a start in flight. */
  private readonly controller = new AbortController()
  private _phase: BrowserPeerPhase = 'idle'
  private _identity?: PeerIdentity
  private _node?: BrowserNode
  private solver?: HashcashSolver
  private starting?: Promise<BrowserNode>
  private stopping?: Promise<void>

  constructor (init: BrowserPeerInit, components: BrowserPeerComponents) {
    super()
    this.init = init
    this.components = components
  }

  readonly [Symbol.toStringTag] = '@golem-clay/browser-peer'

  get phase (): BrowserPeerPhase { return this._phase }
  /** Known from the 'locating' phase on. */
  get identity (): PeerIdentity | undefined { return this._identity }
  /** Made during 'starting', before it starts (see the `node` event). */
  get node (): BrowserNode | undefined { return this._node }

  /**
   * Joins the network; resolves with the running node. Rejects on failure
   * (after a 'failed' phase) or when stopped first. Aborting `signal` stops
   * the peer, as `stop()` does. A second call joins the first.
   */
  async start (options: AbortOptions = {}): Promise<BrowserNode> {
    this.starting ??= this.join(options.signal)
    return await this.starting
  }

  /**
   * Leaves the network, as a closing tab must: everything that matters
   * happens before the first await, since none of it survives the page.
   * Peers get Disconnect(ShuttingDown) where the frame makes it out, and
   * direct WebRTC links are torn down so the other side sees them go.
   * Idempotent.
   */
  async stop (options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.leave(options.drainMs ?? 0)
    await this.stopping
  }

  private async leave (drainMs: number): Promise<void> {
    this.controller.abort(new ShuttingDownError('The peer was stopped'))
    this.setPhase({ phase: 'stopped' })
    const node = this._node
    if (node != null && drainMs > 0 && node.status === 'started') {
      // a stop that may take its time: answers and verdicts under way (a cheque) reach their peers before the goodbyes
      await Promise.race([node.services.market.beforeStop(), new Promise(resolve => setTimeout(resolve, drainMs))])
    }
    if (node != null) {
      node.services.sessions.goodbyeAll('ShuttingDown')
      for (const conn of node.getConnections()) {
        if (conn.limits == null && connectionKind(conn) === 'webrtc') conn.abort(new ShuttingDownError('Tab closed'))
      }
    }
    await Promise.allSettled([this.solver?.stop(), node?.stop()])
  }

  private async join (outer?: AbortSignal): Promise<BrowserNode> {
    const { signal } = this.controller
    if (outer != null) {
      if (outer.aborted) void this.stop()
      else outer.addEventListener('abort', () => { void this.stop() }, { once: true, signal })
    }
    try {
      alive(signal)
      this.setPhase({ phase: 'identity' })
      const { identity, keys } = await this.claim()
      alive(signal)
      this._identity = identity
      // the identity comes first, so even a peer whose config is wrong shows whose it is
      const network: NetworkInit = { ...pick(this.init), ...(await this.init.onIdentity?.(identity, { signal }) ?? {}) }
      alive(signal)
      const given = network.relays ?? []
      const statusUrl = given.length > 0 ? undefined : network.statusUrl ?? new URL(STATUS_PATH, globalThis.location.href).toString()
      this.setPhase({ phase: 'locating', identity, ...(statusUrl != null ? { statusUrl } : {}) })
      const locate = this.init.locate ?? this.components.locate
      const relays = statusUrl != null ? [await locate(statusUrl, signal)] : given
      alive(signal)
      const ledgers = await this.openLedgers(identity)
      alive(signal)
      this.setPhase({ phase: 'starting', identity, relays, ledgers: { durable: ledgers.durable, ...(ledgers.reason != null ? { reason: ledgers.reason } : {}) } })
      this.solver = this.components.createSolver()
      const node = await this.components.createNode({
        privateKey: keys.privateKey,
        paymentKey: keys.paymentKey,
        relays,
        iceServers: network.iceServers ?? [],
        solver: this.solver,
        ...(identity.slot != null ? { keeperStore: this.components.keeperStore(identity.slot) } : {}),
        ledgers: ledgers.ledgers,
        ...(this.init.compute != null ? { compute: this.init.compute } : {}),
        ...(this.init.storage != null ? { storage: this.init.storage } : {})
      })
      if (signal.aborted) {
        // stop() came while it was made: nothing started yet, nothing to say goodbye to
        await node.stop()
        alive(signal)
      }
      this._node = node
      this.safeDispatchEvent('node', { detail: node })
      await node.start()
      // a stop() during start found nothing to stop yet (libp2p ignores it while starting)
      if (signal.aborted) await node.stop()
      alive(signal)
      this.setPhase({ phase: 'running', identity, node })
      return node
    } catch (err: unknown) {
      // stopped: the 'stopped' phase said so already
      if (signal.aborted) throw signal.reason
      // what was made stays until stop(), like a running peer's
      this.setPhase({ phase: 'failed', error: err })
      throw err
    }
  }

  /** The stored identity, or one in memory when asked for or when the browser keeps no data. */
  private async claim (): Promise<{ identity: PeerIdentity, keys: Keys }> {
    if (this.init.identity === 'memory') return await memoryIdentity()
    let reason = await this.components.storageUnavailable()
    if (reason == null) {
      try {
        const tab = await this.components.claimIdentity()
        return {
          identity: { peerId: tab.privateKey.publicKey.toString(), paymentAddress: paymentAddressOf(tab.paymentKey), created: tab.created, paymentKeyCreated: tab.paymentKeyCreated, slot: tab.slot, durable: true },
          keys: { privateKey: tab.privateKey, paymentKey: tab.paymentKey }
        }
      } catch (err: unknown) {
        reason = fallbackReason(err)
        if (reason == null) throw err
      }
    }
    console.warn(`golem-clay: identity kept in memory only: ${reason}`)
    const fallback = await memoryIdentity(reason)
    this.notify({ code: 'identity-in-memory', tone: 'warn', text: `keeps its identity and payment key in memory only: ${reason}; a reload gives it a new peer ID and payment account`, reason })
    return fallback
  }

  /** Kept per identity slot, like the payment key they pay from and to. */
  private async openLedgers (identity: PeerIdentity): Promise<TabLedgers> {
    const ledgers: TabLedgers = identity.slot != null
      ? await this.components.openLedgers(identity.slot)
      : { ledgers: memoryLedgerStores(), durable: false, reason: identity.reason ?? 'its identity lives in memory only' }
    if (!ledgers.durable) this.notify({ code: 'ledgers-in-memory', tone: 'warn', text: `keeps its payments in memory only: ${ledgers.reason ?? 'storage refused'}; cheques not cashed before this page closes are lost`, ...(ledgers.reason != null ? { reason: ledgers.reason } : {}) })
    return ledgers
  }

  private setPhase (detail: BrowserPeerPhaseDetail): void {
    this._phase = detail.phase
    this.safeDispatchEvent('phase', { detail })
  }

  private notify (notice: BrowserPeerNotice): void {
    this.safeDispatchEvent('notice', { detail: notice })
  }
}

/** A fresh identity and payment account for this start only. */
export async function memoryIdentity (reason?: string): Promise<{ identity: PeerIdentity, keys: Keys }> {
  const privateKey = await generateKeyPair('Ed25519')
  const paymentKey = generatePaymentKey()
  return {
    identity: { peerId: privateKey.publicKey.toString(), paymentAddress: paymentAddressOf(paymentKey), created: true, paymentKeyCreated: true, durable: false, ...(reason != null ? { reason } : {}) },
    keys: { privateKey, paymentKey }
  }
}

function pick ({ relays, statusUrl, iceServers }: NetworkInit): NetworkInit {
  return { relays, statusUrl, iceServers }
}

/** Throws once the peer was stopped, so a start in flight goes no further. */
function alive (signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason
}
