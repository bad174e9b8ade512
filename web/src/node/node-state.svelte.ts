import { peerIdFromString } from '@libp2p/peer-id'
import { connectionInfo, connectionKind } from '../../../shared/connection/index.ts'
import { Backoff, delay } from '../../../shared/util/index.ts'
import { createBrowserNode } from './create-browser-node.ts'
import { loadComputeSettings } from '../market/compute-state.svelte.ts'
import { claimIdentity } from './identity-store.ts'
import { idbKeeperStore } from './idb-keeper-store.ts'
import { networkGraph } from './network-graph.ts'
import type { NetworkGraph } from './network-graph.ts'
import { fetchServingRelay, readPageConfig } from './page-config.ts'
import { createBrowserHashcashSolver } from '../hashcash/browser-solver.ts'
import { DISCONNECT_TEXT } from '../../../shared/peer-session/index.ts'
import type { HashcashSolver } from '../../../shared/hashcash/index.ts'
import type { ConnectionInfo, ConnectionKind } from '../../../shared/connection/index.ts'
import type { PeerRole } from '../../../shared/directory/index.ts'
import type { DialOutcome } from '../../../shared/p2p-service/index.ts'
import type { RelayStatus } from '../../../shared/p2p-service/index.ts'
import type { BrowserNode } from './create-browser-node.ts'
import { NotStartedError, ShuttingDownError } from '../../../shared/errors.ts'
import type { TaskRunner } from '../../../shared/compute/index.ts'
import type { StorageClientInit } from '../../../shared/storage/index.ts'

export type Phase = 'identity' | 'locating' | 'starting' | 'running' | 'failed'

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

export interface LocateState {
  attempts: number
  nextAttemptAt?: number
  error?: string
}

/** How long a finished proof of work stays on screen. */
const WORK_LINGER_MS = 1_500

const KIND_RANK: Record<ConnectionKind, number> = { webrtc: 0, tcp: 1, websocket: 2, relayed: 3, other: 4 }

/** What the page may change about the node it makes: seams for other builds (the test build's flaky network, a dishonest provider). */
export interface NodeOptions {
  /** Makes the task runner for `cores` subtasks at once. @default sandboxed Web Workers */
  runner?: (cores?: number) => TaskRunner
  /** Storage client options (a transfer tap). */
  storage?: StorageClientInit
}

/** The page's view of this tab's node; Svelte components read it directly. */
export class NodeState {
  phase = $state<Phase>('identity')
  peerId = $state<string>()
  identityCreated = $state(false)
  failure = $state<string>()
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
  dials: DialOutcome[] = []
  solver?: HashcashSolver
  node?: BrowserNode
  private wakeLocate?: () => void
  private relayIds = new Set<string>()

  constructor (private readonly options: NodeOptions = {}) {}

  get online (): boolean {
    return this.relays.some(r => r.state === 'connected' || r.state === 'reserved')
  }

  get reachable (): boolean {
    return this.relays.some(r => r.state === 'reserved')
  }

  async boot (): Promise<void> {
    try {
      const config = readPageConfig()
      const identity = await claimIdentity()
      this.peerId = identity.privateKey.publicKey.toString()
      this.identityCreated = identity.created
      this.phase = 'locating'
      const relays = config.relays.length > 0 ? config.relays : [await this.locateRelay(config.statusUrl)]
      this.phase = 'starting'
      this.solver = createBrowserHashcashSolver()
      const compute = loadComputeSettings()
      const runner = this.options.runner?.(compute.cores)
      const node = await createBrowserNode({
        privateKey: identity.privateKey,
        relays,
        iceServers: config.iceServers,
        solver: this.solver,
        keeperStore: idbKeeperStore(identity.slot),
        compute: { ...compute, ...(runner != null ? { runner } : {}) },
        ...(this.options.storage != null ? { storage: this.options.storage } : {})
      })
      this.node = node
      this.peerId = node.peerId.toString()
      this.wire(node)
      await node.start()
      this.phase = 'running'
      // say goodbye (Disconnect: ShuttingDown) instead of leaving peers to time out
      window.addEventListener('pagehide', () => { this.leave() }, { once: true })
    } catch (err: any) {
      this.failure = err.message ?? String(err)
      this.phase = 'failed'
    }
  }

  /**
   * Leaves the network at once, as a closing tab must: no await survives
   * the page. Peers get Disconnect(ShuttingDown) where the frame makes it out,
   * and direct WebRTC links are torn down so the other side sees them go.
   */
  leave (): void {
    const node = this.node
    if (node == null) return
    for (const session of node.services.sessions.list()) session.goodbye('ShuttingDown')
    for (const conn of node.getConnections()) {
      if (conn.limits == null && connectionKind(conn) === 'webrtc') conn.abort(new ShuttingDownError('Tab closed'))
    }
    void this.solver?.stop().catch(() => {})
    void Promise.resolve(node.stop()).catch(() => {})
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
    try {
      if (node == null) throw new NotStartedError('The node is not running yet')
      // an offline peer gets it when it comes back (MsgQueue store-and-forward)
      const result = await node.services.messaging.send(peerIdFromString(peer), text, { onQueued: () => { entry.status = 'queued' } })
      entry.status = 'delivered'
      entry.rtt = result.rtt
      entry.kind = result.kind
    } catch (err: any) {
      entry.status = 'failed'
      entry.error = describe(err)
    }
    return { ...entry }
  }

  connections (): ConnectionInfo[] {
    return this.node?.getConnections().map(connectionInfo) ?? []
  }

  private async locateRelay (statusUrl: string): Promise<string> {
    const backoff = new Backoff({ initialDelay: 1_000, maxDelay: 30_000 })
    for (;;) {
      try {
        const addr = await fetchServingRelay(statusUrl, AbortSignal.timeout(10_000))
        this.locate = { attempts: this.locate.attempts + 1 }
        return addr
      } catch (err: any) {
        const wait = backoff.next()
        this.locate = { attempts: this.locate.attempts + 1, error: err.message, nextAttemptAt: Date.now() + wait }
        const woken = new AbortController()
        this.wakeLocate = () => { woken.abort() }
        await delay(wait, woken.signal).catch(() => {})
        this.wakeLocate = undefined
      }
    }
  }

  private wire (node: BrowserNode): void {
    const refresh = (): void => { this.refresh() }
    node.services.relays.addEventListener('relay:status', (evt) => {
      this.relays = evt.detail
      this.relayIds = new Set(evt.detail.map(r => r.peerId).filter((id): id is string => id != null))
      this.refresh()
    })
    node.services.directory.addEventListener('directory:update', refresh)
    node.services.keeper.addEventListener('keeper:update', refresh)
    node.services.dialer.addEventListener('dial:done', (evt) => {
      this.dials.push(evt.detail)
      this.refresh()
    })
    node.addEventListener('connection:open', refresh)
    node.addEventListener('connection:close', refresh)
    node.addEventListener('peer:identify', refresh)
    node.services.messaging.addEventListener('message', (evt) => {
      const m = evt.detail
      this.messages.push({ id: m.id, peer: m.from, direction: 'in', text: m.text, at: m.receivedAt, status: 'received', kind: m.kind })
    })
    const sessions = node.services.sessions
    sessions.addEventListener('session:challenge', (evt) => {
      this.asked = { ...this.asked, [evt.detail.peer]: evt.detail.difficulty }
      this.work = { peer: evt.detail.peer, difficulty: evt.detail.difficulty, hashes: 0, rate: 0, expectedMs: 0, elapsedMs: 0, done: false, visible: true }
    })
    sessions.addEventListener('session:progress', (evt) => {
      if (this.work?.peer === evt.detail.peer) this.work = { ...this.work, ...evt.detail.progress }
    })
    sessions.addEventListener('session:open', (evt) => {
      if (this.work?.peer === evt.detail.remotePeer && !this.work.done) {
        this.work = { ...this.work, done: true }
        const finished = this.work
        setTimeout(() => { if (this.work === finished) this.work = { ...finished, visible: false } }, WORK_LINGER_MS)
      }
      this.refresh()
    })
    sessions.addEventListener('session:refused', (evt) => {
      const { peer, reason, remote, message } = evt.detail
      if (this.work?.peer === peer) this.work = undefined
      this.notify(peer, 'warn', remote ? `refused our session: ${DISCONNECT_TEXT[reason]}` : `session refused (${DISCONNECT_TEXT[reason]}): ${message}`)
    })
    sessions.addEventListener('session:close', (evt) => {
      const { peer, reason, remote, message } = evt.detail
      // a lost signalling link while a direct one lives on, or a relay the banner already covers, is noise
      const stillLinked = node.getConnections().some(c => c.remotePeer.toString() === peer && c.status === 'open')
      if (reason !== 'ConnectionLost' || (!this.relayIds.has(peer) && !stillLinked)) {
        const why = `${DISCONNECT_TEXT[reason]}${message != null ? ` (${message})` : ''}`
        this.notify(peer, reason === 'ShuttingDown' || reason === 'ConnectionLost' ? 'info' : 'warn', remote ? `ended the session: ${why}` : `session ended: ${why}`)
      }
      this.refresh()
    })
    setInterval(() => {
      this.now = Date.now()
      this.refresh()
    }, 1_000)
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
    this.peers = [...views.values()].sort((a, b) => Number(b.kind != null) - Number(a.kind != null) || a.id.localeCompare(b.id))
  }
}

function describe (err: any): string {
  if (err?.name === 'AggregateError' && Array.isArray(err.errors) && err.errors.length > 0) return describe(err.errors[0])
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'timed out'
  if (err?.name === 'NoValidAddressesError') return 'peer is not reachable right now'
  if (err?.name === 'MessageExpiredError') return 'the peer did not come back in time'
  return err?.message ?? String(err)
}
