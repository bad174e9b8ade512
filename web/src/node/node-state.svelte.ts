import { peerIdFromString } from '@libp2p/peer-id'
import { connectionInfo, connectionKind } from '../../../shared/connection/index.ts'
import { Backoff, delay, describeError } from '../../../shared/util/index.ts'
import { createBrowserPeer, LOCATE_INITIAL_DELAY_MS, LOCATE_MAX_DELAY_MS, LOCATE_TIMEOUT_MS } from '../browser-node/index.ts'
import { networkGraph } from './network-graph.ts'
import type { NetworkGraph } from './network-graph.ts'
import { fetchServingRelay, readPageConfig } from './page-config.ts'
import { HashRate } from './hash-rate.ts'
import { persistedList } from './persisted-list.ts'
import type { PersistedList } from './persisted-list.ts'
import { DISCONNECT_TEXT } from '../../../shared/peer-session/index.ts'
import type { ConnectionInfo, ConnectionKind } from '../../../shared/connection/index.ts'
import type { PeerRole } from '../../../shared/directory/index.ts'
import type { DialOutcome } from '../../../shared/p2p-service/index.ts'
import type { RelayStatus } from '../../../shared/p2p-service/index.ts'
import type { BrowserNode, BrowserNodeInit, BrowserPeer, BrowserPeerPhase, BrowserPeerPhaseDetail, PeerIdentity, NetworkInit } from '../browser-node/index.ts'
import type { Lifetime } from '../lifetime.ts'
import { InvalidConfigError, NotStartedError, ShuttingDownError } from '../../../shared/errors.ts'
import type { StorageClientInit } from '../../../shared/storage/index.ts'

/** The BrowserPeer's phases past 'idle'. 'stopped': the page ended its node (closing tab, or the debug API's stop). */
export type Phase = Exclude<BrowserPeerPhase, 'idle'>

export interface PeerView {
  id: string
  role: PeerRole | 'unknown'
  /** The best open connection's kind, if connected. */
  kind?: ConnectionKind
  rtt?: number
  connections: number
  /** Listed by a relay's directory. */
  listed: boolean
  /** A verified PeerSession runs on one of its connections. */
  verified: boolean
}

export interface ChatMessage {
  id: string
  peer: string
  direction: 'in' | 'out'
  text: string
  at: number
  status: 'sending' | 'queued' | 'delivered' | 'failed' | 'received'
  rtt?: number
  kind?: ConnectionKind
  error?: string
  /** An incoming message the user has opened its conversation since. */
  read?: boolean
}

/** Proof of work this tab is doing to open a session (usually with its relay). */
export interface WorkState {
  peer: string
  difficulty: number
  hashes: number
  rate: number
  expectedMs: number
  elapsedMs: number
  done: boolean
  /** Still on screen: a finished proof stays visible a moment so it doesn't flicker. */
  visible: boolean
}

/** Something worth telling the visitor: a session refused or ended with a reason. */
export interface Notice {
  at: number
  peer: string
  tone: 'info' | 'warn'
  text: string
}

export interface SessionView { peer: string, kind: string, dialer: boolean, difficulty: number, rtt?: number }

export interface LocateState {
  attempts: number
  nextAttemptAt?: number
  error?: string
  /** Where the page asks for its relay's addresses. */
  url?: string
  /** That address came from `?status=` or the embedding site, so it may be the thing to fix. */
  configured?: boolean
}

/** How long a finished proof of work stays on screen. */
const WORK_LINGER_MS = 1_500
/** Dial rounds kept for the debug API, newest last: a tab open for days dials without end, so the oldest go. */
export const MAX_DIALS = 200
/** How often the page's clock (countdowns) and its peer list refresh, ms. */
const TICK_MS = 1_000
/** Chat messages kept per identity across reloads, newest last. */
export const MAX_MESSAGES = 500
/** Session endings that are part of normal life, not something going wrong. */
const ROUTINE_ENDINGS = new Set(['ShuttingDown', 'ConnectionLost', 'DuplicatePeer'])

const KIND_RANK: Record<ConnectionKind, number> = { webrtc: 0, tcp: 1, websocket: 2, relayed: 3, other: 4 }

/** What the node state needs, handed in by the page state. */
export interface NodeInit {
  /** Lending this tab's CPU: the page makes the runner, so it can steer it. */
  compute: NonNullable<BrowserNodeInit['compute']>
  /** Storage client options (a transfer tap). */
  storage?: StorageClientInit
  /** The page's timers and listeners: ending it releases this state's. */
  life: Lifetime
}

/** The page's view of this tab's node; Svelte components read it directly. */
export class NodeState {
  phase = $state<Phase>('identity')
  peerId = $state<string>()
  identityCreated = $state(false)
  /** This tab's payment account: the Ethereum address bound to its peer ID. */
  paymentAddress = $state<string>()
  /** The identity and payment key are in IndexedDB (false: the browser keeps no data, a reload makes new ones). */
  identityDurable = $state(true)
  /** The cheque book and wallet are in IndexedDB (false: memory only, lost with the page). */
  ledgersDurable = $state(true)
  failure = $state<string>()
  /** What the visitor can do about the failure, when we know. */
  failureHint = $state<string>()
  locate = $state<LocateState>({ attempts: 0 })
  relays = $state<RelayStatus[]>([])
  peers = $state<PeerView[]>([])
  messages = $state<ChatMessage[]>([])
  now = $state(Date.now())
  work = $state<WorkState>()
  network = $state<NetworkGraph>()
  notices = $state<Notice[]>([])
  /** Difficulty each peer asked of us when we last joined it. */
  asked = $state<Record<string, number>>({})
  /** The last MAX_DIALS dial rounds. */
  dials: DialOutcome[] = []
  node?: BrowserNode
  /** The library that joins the network (browser-node/); this state is the page's view of it. */
  private peer?: BrowserPeer
  private wakeLocate?: () => void
  private relayIds = new Set<string>()
  private history?: PersistedList<ChatMessage>
  private readonly hashRate = new HashRate()
  private readonly life: Lifetime

  constructor (private readonly init: NodeInit) {
    this.life = init.life
  }

  get online (): boolean {
    return this.relays.some(r => r.state === 'connected' || r.state === 'reserved')
  }

  get reachable (): boolean {
    return this.relays.some(r => r.state === 'reserved')
  }

  /** Claims the identity, finds a relay and starts the node; resolves with it once running, or undefined. */
  async boot (): Promise<BrowserNode | undefined> {
    this.life.every(TICK_MS, () => {
      this.now = Date.now()
      this.refresh()
    })
    const peer = createBrowserPeer({
      compute: this.init.compute,
      ...(this.init.storage != null ? { storage: this.init.storage } : {}),
      // the page's own retries, with a countdown and "Retry now"
      locate: async (statusUrl, signal) => await this.locateRelay(statusUrl, signal),
      onIdentity: async (identity) => await this.onIdentity(identity)
    })
    this.peer = peer
    // not tied to the page's life: 'stopped' comes as it ends
    peer.addEventListener('phase', (evt) => { this.onPhase(evt.detail) })
    peer.addEventListener('notice', (evt) => { this.notify(this.peerId ?? '', evt.detail.tone, `(this tab) ${evt.detail.text}`) })
    peer.addEventListener('node', (evt) => {
      const node = evt.detail
      this.node = node
      this.peerId = node.peerId.toString()
      this.wire(node)
    })
    try {
      // no signal: leave() stops it, after the page's listeners have gone (PageState.stop)
      return await peer.start()
    } catch {
      // a failure shows through the 'failed' phase
      return undefined
    }
  }

  /** The identity is known: show whose it is, bring back its chat, then read the page's config (which may be wrong). */
  private async onIdentity (identity: PeerIdentity): Promise<NetworkInit> {
    this.peerId = identity.peerId
    this.identityCreated = identity.created
    this.identityDurable = identity.durable
    this.paymentAddress = identity.paymentAddress
    await this.restoreMessages(identity.peerId)
    this.alive()
    const config = readPageConfig()
    this.locate = { ...this.locate, url: config.statusUrl, configured: config.statusConfigured }
    return config
  }

  private onPhase (detail: BrowserPeerPhaseDetail): void {
    switch (detail.phase) {
      case 'starting':
        this.ledgersDurable = detail.ledgers.durable
        break
      case 'failed':
        if (this.life.ended) return
        this.failure = describeError(detail.error)
        if (detail.error instanceof InvalidConfigError) this.failureHint = 'Check ?relay= and ?status= in the address bar (or remove them to use the relay that served this page), then reload.'
        break
      case 'stopped':
        this.wakeLocate = undefined
        break
    }
    this.phase = detail.phase
  }

  /**
   * Leaves the network, as a closing tab must (BrowserPeer.stop): peers
   * get Disconnect(ShuttingDown) before the first await. The page's
   * timers and listeners went with its Lifetime already. Idempotent.
   */
  async leave (): Promise<void> {
    this.phase = 'stopped'
    this.wakeLocate = undefined
    await this.peer?.stop()
  }

  /** Skips any backoff wait: used by the "Retry now" button. */
  retryNow (): void {
    this.wakeLocate?.()
    this.node?.services.relays.retryNow()
  }

  async send (peer: string, text: string): Promise<ChatMessage> {
    const node = this.node
    const message: ChatMessage = { id: crypto.randomUUID(), peer, direction: 'out', text, at: Date.now(), status: 'sending' }
    this.messages.push(message)
    const entry = this.messages[this.messages.length - 1] as ChatMessage
    this.keepMessages()
    try {
      if (node == null) throw new NotStartedError('The node is not running yet')
      // an offline peer gets it when it comes back (MsgQueue store-and-forward)
      const result = await node.services.messaging.send(peerIdFromString(peer), text, {
        onQueued: () => {
          entry.status = 'queued'
          this.keepMessages()
        }
      })
      entry.status = 'delivered'
      entry.rtt = result.rtt
      entry.kind = result.kind
    } catch (err: unknown) {
      entry.status = 'failed'
      entry.error = describe(err)
    }
    this.keepMessages()
    return { ...entry }
  }

  /** The user opened the conversation with `peer`: its messages are no longer unread. */
  markRead (peer: string): void {
    let changed = false
    for (const m of this.messages) {
      if (m.peer === peer && m.direction === 'in' && m.read !== true) {
        m.read = true
        changed = true
      }
    }
    if (changed) this.keepMessages()
  }

  /** Loads this identity's chat history: a reload loses no conversation, even with a peer that has left. */
  private async restoreMessages (owner: string): Promise<void> {
    this.history = persistedList<ChatMessage>({ name: 'messages', owner, max: MAX_MESSAGES })
    const kept = await this.history.load()
    const present = new Set(this.messages.map(m => m.id))
    // what was on its way died with the old page (the outbound queue lives in memory)
    const restored = kept.filter(m => !present.has(m.id)).map(m => m.status === 'sending' || m.status === 'queued'
      ? { ...m, status: 'failed' as const, error: 'the page was closed before it was delivered' }
      : m)
    this.messages = [...restored, ...this.messages]
  }

  /** Saves the chat history (plain data: a $state proxy does not survive structured clone). */
  private keepMessages (): void {
    if (this.messages.length > MAX_MESSAGES) this.messages.splice(0, this.messages.length - MAX_MESSAGES)
    void this.history?.save($state.snapshot(this.messages))
  }

  connections (): ConnectionInfo[] {
    return this.node?.getConnections().map(connectionInfo) ?? []
  }

  /** Verified sessions: peer, transport, who paid, difficulty, heartbeat RTT. */
  sessions (): SessionView[] {
    return this.node?.services.sessions.list().map(s => ({ peer: s.remotePeer, kind: s.kind, dialer: s.dialer, difficulty: s.difficulty, rtt: s.rtt })) ?? []
  }

  /** Keeper score of a peer, as this tab sees it. */
  score (peer: string): number | undefined {
    return this.node?.services.keeper.get(peer)?.score
  }

  multiaddrs (): string[] {
    return this.node?.getMultiaddrs().map(ma => ma.toString()) ?? []
  }

  /** Throws once the page stopped, so a boot in flight goes no further. */
  private alive (): void {
    if (this.life.ended) throw new ShuttingDownError('The page stopped its node')
  }

  private async locateRelay (statusUrl: string, signal: AbortSignal): Promise<string> {
    const backoff = new Backoff({ initialDelay: LOCATE_INITIAL_DELAY_MS, maxDelay: LOCATE_MAX_DELAY_MS })
    for (;;) {
      this.alive()
      try {
        const addr = await fetchServingRelay(statusUrl, AbortSignal.any([signal, this.life.signal, AbortSignal.timeout(LOCATE_TIMEOUT_MS)]))
        this.locate = { ...this.locate, attempts: this.locate.attempts + 1, error: undefined, nextAttemptAt: undefined }
        return addr
      } catch (err: unknown) {
        this.alive()
        signal.throwIfAborted()
        const wait = backoff.next()
        this.locate = { ...this.locate, attempts: this.locate.attempts + 1, error: describeError(err), nextAttemptAt: Date.now() + wait }
        // "Retry now" or the page stopping ends the wait
        const woken = new AbortController()
        this.wakeLocate = () => { woken.abort() }
        await delay(wait, AbortSignal.any([woken.signal, signal, this.life.signal])).catch(() => {})
        this.wakeLocate = undefined
      }
    }
  }

  /** Follows the node's events; every listener goes when the page's life ends. */
  private wire (node: BrowserNode): void {
    const { signal } = this.life
    const refresh = (): void => { this.refresh() }
    node.services.relays.addEventListener('relay:status', (evt) => {
      this.relays = evt.detail
      this.relayIds = new Set(evt.detail.map(r => r.peerId).filter((id): id is string => id != null))
      this.refresh()
    }, { signal })
    node.services.directory.addEventListener('directory:update', refresh, { signal })
    node.services.keeper.addEventListener('keeper:update', refresh, { signal })
    node.services.dialer.addEventListener('dial:done', (evt) => {
      this.dials.push(evt.detail)
      if (this.dials.length > MAX_DIALS) this.dials.splice(0, this.dials.length - MAX_DIALS)
      this.refresh()
    }, { signal })
    node.addEventListener('connection:open', refresh, { signal })
    node.addEventListener('connection:close', refresh, { signal })
    node.addEventListener('peer:identify', refresh, { signal })
    node.services.messaging.addEventListener('message', (evt) => {
      const m = evt.detail
      // a restored history may hold it already (a sender retries until it hears our ack)
      if (this.messages.some(x => x.id === m.id && x.direction === 'in')) return
      this.messages.push({ id: m.id, peer: m.from, direction: 'in', text: m.text, at: m.receivedAt, status: 'received', kind: m.kind })
      this.keepMessages()
      this.refresh()
    }, { signal })
    const sessions = node.services.sessions
    sessions.addEventListener('session:challenge', (evt) => {
      const { peer, difficulty } = evt.detail
      this.asked = { ...this.asked, [peer]: difficulty }
      this.hashRate.begin()
      // known from earlier solves (kept across reloads), so the first estimate is already sound
      this.work = { peer, difficulty, hashes: 0, rate: this.hashRate.rate, expectedMs: this.hashRate.expectedMs(difficulty), elapsedMs: 0, done: false, visible: true }
    }, { signal })
    sessions.addEventListener('session:progress', (evt) => {
      const work = this.work
      if (work?.peer !== evt.detail.peer) return
      const progress = evt.detail.progress
      if (work.done) {
        // the final report: the solve's own totals
        this.work = { ...work, ...progress }
        return
      }
      this.hashRate.sample(progress)
      // a solve too quick for a window to measure still has its own average to show
      const rate = this.hashRate.rate > 0 ? this.hashRate.rate : progress.rate
      this.work = { ...work, hashes: progress.hashes, elapsedMs: progress.elapsedMs, rate, expectedMs: this.hashRate.expectedMs(work.difficulty) }
    }, { signal })
    sessions.addEventListener('session:open', (evt) => {
      if (this.work?.peer === evt.detail.remotePeer && !this.work.done) {
        this.hashRate.end()
        this.work = { ...this.work, done: true }
        const finished = this.work
        this.life.after(WORK_LINGER_MS, () => { if (this.work === finished) this.work = { ...finished, visible: false } })
      }
      this.refresh()
    }, { signal })
    sessions.addEventListener('session:refused', (evt) => {
      const { peer, reason, remote, message } = evt.detail
      if (this.work?.peer === peer) this.work = undefined
      this.notify(peer, 'warn', remote ? `refused our session: ${DISCONNECT_TEXT[reason]}` : `session refused (${DISCONNECT_TEXT[reason]}): ${message}`)
    }, { signal })
    sessions.addEventListener('session:close', (evt) => {
      const { peer, reason, remote, message } = evt.detail
      // a lost signalling link while a direct one lives on, or a relay the banner already covers, is noise
      const stillLinked = node.getConnections().some(c => c.remotePeer.toString() === peer && c.status === 'open')
      if (reason !== 'ConnectionLost' || (!this.relayIds.has(peer) && !stillLinked)) {
        const why = `${DISCONNECT_TEXT[reason]}${message != null ? ` (${message})` : ''}`
        this.notify(peer, ROUTINE_ENDINGS.has(reason) ? 'info' : 'warn', remote ? `ended the session: ${why}` : `session ended: ${why}`)
      }
      this.refresh()
    }, { signal })
  }

  private notify (peer: string, tone: Notice['tone'], text: string): void {
    this.notices = [{ at: Date.now(), peer, tone, text }, ...this.notices].slice(0, 20)
  }

  private refresh (): void {
    const node = this.node
    if (node == null) return
    this.relays = node.services.relays.status
    this.network = networkGraph(node)
    const views = new Map<string, PeerView>()
    for (const peer of node.services.directory.peers) {
      const id = peer.id.toString()
      views.set(id, { id, role: peer.role, connections: 0, listed: true, verified: false })
    }
    for (const conn of node.getConnections()) {
      const id = conn.remotePeer.toString()
      if (this.relayIds.has(id) || conn.status !== 'open') continue
      const view = views.get(id) ?? { id, role: 'unknown', connections: 0, listed: false, verified: false }
      const kind = connectionKind(conn)
      const session = node.services.sessions.forConnection(conn)
      view.connections++
      view.verified ||= session != null
      if (view.kind == null || KIND_RANK[kind] < KIND_RANK[view.kind]) {
        view.kind = kind
        // the session heartbeat measures the RTT the application sees
        view.rtt = session?.rtt ?? conn.rtt
      }
      views.set(id, view)
    }
    // an inbox: peers we talked with stay listed after they leave, so their messages can still be read
    for (const m of this.messages) {
      if (views.has(m.peer) || this.relayIds.has(m.peer)) continue
      const roles = node.services.keeper.get(m.peer)?.roles ?? []
      const role = roles.includes('tab') ? 'tab' : roles.includes('node') ? 'node' : 'unknown'
      views.set(m.peer, { id: m.peer, role, connections: 0, listed: false, verified: false })
    }
    const rank = (p: PeerView): number => p.kind != null ? 0 : p.listed ? 1 : 2
    this.peers = [...views.values()].sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id))
  }
}

/** Why a message did not go: the shared wording, plus what a message's own failures mean to the sender. */
function describe (err: unknown): string {
  const e = err as { name?: unknown, errors?: unknown } | null
  if (e?.name === 'AggregateError' && Array.isArray(e.errors) && e.errors.length > 0) return describe(e.errors[0])
  const name = e?.name
  if (name === 'NoValidAddressesError') return 'peer is not reachable right now'
  if (name === 'MessageExpiredError') return 'the peer did not come back in time'
  return describeError(err)
}
