import { peerIdFromString } from '@libp2p/peer-id'
import { RateLimiter } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { MarketRateLimitedError, UnknownTaskError } from './market-errors.ts'
import { openHeader } from './bound-messages.ts'
import { encodeGossip, installValidator, openGossip } from './market-gossip.ts'
import { MARKET_PROTOCOL, MarketRefusedError, MarketStreamPool, MAX_PULLED_HEADERS, TASKS_TOPIC, serve } from './market-wire.ts'
import { delay, InFlight } from '../util/index.ts'
import type { VerifiedHeader } from './bound-messages.ts'
import type { TaskClosed, TaskHeader } from './market-codec.ts'
import type { Address } from '../payments/index.ts'
import type { MarketReply, MarketRequest, MarketResponse, OpenMarketStream, RequestKind } from './market-wire.ts'
import type { SessionManager } from '../peer-session/index.ts'
import type { GossipSub } from '@libp2p/gossipsub'
import type { ComponentLogger, Logger, PeerId, PeerStore, Startable } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

export interface MarketRouterInit {
  /**
   * Market requests a peer may send per second. Streams are reused across
   * requests, so the session layer's per-stream limit no longer counts them. @default 200
   */
  requestsPerSecond?: number
  /** Sees (and may alter) every request this node sends: instrumentation, or a test's dishonest peer. @default none */
  tap?: { request?: (req: MarketRequest) => MarketRequest }
}

export interface MarketRouterComponents {
  connectionManager: ConnectionManager
  peerStore: PeerStore
  logger: ComponentLogger
  sessions: SessionManager
  pubsub: GossipSub
}

export interface MarketRouterEvents {
  /** A valid task header was seen on the network for the first time. */
  'task:seen': CustomEvent<TaskHeader>
  /** Every valid task header gossip brings, repeats included (a provider offers again on them), with its payer. */
  'task:header': CustomEvent<VerifiedHeader>
  'task:closed': CustomEvent<TaskClosed>
  /** A market request was refused (bad signature, replay, malformed…). */
  'market:refused': CustomEvent<{ from: string, kind: string, error: string }>
}

/** Answers one kind of request from `from`; throws a typed error to refuse it. */
export type RequestHandler = (req: MarketRequest, from: string) => Promise<MarketReply | undefined>

/** Headers kept in `seen`. */
const MAX_SEEN = 256

/** How the tasks feed is doing, for the page ("subscribed to tasks: yes") and the soak test. */
export interface TaskFeedStatus {
  /** Subscribed to the tasks topic. */
  subscribed: boolean
  /** Connected peers gossip knows to be on the topic. */
  topicPeers: number
  /** When the last valid header arrived (ms since the epoch), by gossip or pull. */
  lastHeaderAt?: number
  /** `tasks` requests answered by a relay, and the headers they brought that gossip had not. */
  pulls: number
  pulledNew: number
}

/**
 * The market's network side, which relays run alone: the tasks topic
 * (validator, subscription, the headers seen), the `/golem-clay/market`
 * protocol handler that hands each request to the part that took its kind,
 * and the requests this node sends.
 */
export class MarketRouter extends TypedEventEmitter<MarketRouterEvents> implements Startable {
  /** Task headers seen on the network, newest last; `openTasks()` drops those past their deadline. */
  readonly seen = new Map<string, TaskHeader>()
  refusals = 0
  /** Valid task headers gossip brought, repeats included: each one accepted is passed on to our mesh peers. */
  headers = 0
  /** The signed text of each header in `seen`, for peers that pull. */
  private readonly signed = new Map<string, string>()
  /** The verified payment address of each header's requestor in `seen`. */
  private readonly payers = new Map<string, Address>()
  private lastHeaderAt?: number
  private pulls = 0
  private pulledNew = 0
  /** Who answers each kind of request (an own-property lookup: the kind comes from the wire). */
  private readonly handlers = new Map<RequestKind, RequestHandler>()
  /** Our outgoing market streams, kept open between requests. */
  private readonly streams = new MarketStreamPool()
  private readonly serving = new AbortController()
  /** Requests being answered: from the handler's call until the answer is written. */
  private readonly answering = new InFlight()
  private readonly components: MarketRouterComponents
  private readonly init: MarketRouterInit
  private readonly log: Logger
  private readonly requestLimiter: RateLimiter

  constructor (components: MarketRouterComponents, init: MarketRouterInit = {}) {
    super()
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('golem-clay:market')
    this.requestLimiter = new RateLimiter({ points: init.requestsPerSecond ?? 200, duration: 1, keyPrefix: 'market' })
  }

  readonly [Symbol.toStringTag] = '@golem-clay/market-router'

  /** Takes the requests of one kind; a kind nobody took is refused. */
  handle (kind: RequestKind, handler: RequestHandler): void {
    this.handlers.set(kind, handler)
  }

  /** Tasks seen on the network that are still open. */
  openTasks (): TaskHeader[] {
    const now = Date.now()
    for (const [id, h] of this.seen) {
      if (h.deadline < now) this.forget(id)
    }
    return [...this.seen.values()]
  }

  /** The payment address of the requestor of a task in `seen`, from its verified binding. */
  payerOf (task: string): Address | undefined {
    return this.payers.get(task)
  }

  private forget (task: string): void {
    this.seen.delete(task)
    this.signed.delete(task)
    this.payers.delete(task)
  }

  async start (): Promise<void> {
    // behind the session gate: only peers with a verified session reach the handler
    await this.components.sessions.handle(MARKET_PROTOCOL, (stream, conn) => {
      const from = conn.remotePeer.toString()
      // one request at a time per stream: its end comes when its answer is written
      let answered: (() => void) | undefined
      serve(stream, async req => {
        answered = this.answering.begin()
        try {
          this.requestLimiter.consume(from)
        } catch {
          throw new MarketRateLimitedError(`More than ${this.init.requestsPerSecond ?? 200} market requests per second`)
        }
        const handler = this.handlers.get(req.kind)
        if (handler == null) throw new UnknownTaskError(`This node takes no ${req.kind} requests`)
        return await handler(req, from)
      }, {
        signal: this.serving.signal,
        onServed: (req, ok) => {
          answered?.()
          if (!ok) this.refused(from, req.kind, 'refused')
        }
      }).catch(err => { this.refused(from, 'unknown', err.message); this.components.sessions.report(conn.remotePeer, 'bad-frame') })
        .finally(() => answered?.())
    }, { runOnLimitedConnection: true, maxInboundStreams: 64 })
    const { pubsub } = this.components
    installValidator(pubsub, TASKS_TOPIC)
    pubsub.addEventListener('message', this.onGossip)
    pubsub.subscribe(TASKS_TOPIC)
    // the pull path: open headers for a peer whose gossip went quiet
    this.handle('tasks', async () => ({ headers: this.openSigned() }))
  }

  get feed (): TaskFeedStatus {
    const { pubsub } = this.components
    return {
      subscribed: pubsub.getTopics().includes(TASKS_TOPIC),
      topicPeers: pubsub.getSubscribers(TASKS_TOPIC).length,
      ...(this.lastHeaderAt != null ? { lastHeaderAt: this.lastHeaderAt } : {}),
      pulls: this.pulls,
      pulledNew: this.pulledNew
    }
  }

  /**
   * Asks a connected relay for the open task headers they have seen, and
   * takes each as if gossip had brought it (verified the same way). Gossip
   * is the fast path; this one keeps a provider fed when its subscription
   * dies without a sound. Also subscribes
   * again if the subscription is gone.
   */
  async pullTasks (signal: AbortSignal): Promise<number> {
    const { pubsub, sessions } = this.components
    if (!pubsub.getTopics().includes(TASKS_TOPIC)) {
      this.log('not subscribed to the tasks topic: subscribing again')
      pubsub.subscribe(TASKS_TOPIC)
    }
    // one relay a time, a different one each time: every relay keeps the open headers
    const all = [...new Set(sessions.list().filter(s => s.remoteHello.roles.includes('relay')).map(s => s.remotePeer))]
    const relays = all.length > 0 ? [all[this.pulls % all.length] as string] : []
    let fresh = 0
    for (const relay of relays) {
      try {
        const res = await this.request(relay, [], { v: 1, kind: 'tasks', msg: '' }, signal)
        this.pulls++
        for (const text of res.headers ?? []) {
          const opened = await openHeader(text).catch(() => undefined)
          if (opened == null || opened.body.deadline < Date.now()) continue
          if (!this.seen.has(opened.body.id)) { fresh++; this.pulledNew++ }
          this.accept(opened.body, text, opened.account.address)
        }
      } catch (err: any) {
        this.log('pulling tasks from %s failed - %s', relay, err.message)
      }
    }
    return fresh
  }

  /** Open headers' signed texts, newest first. */
  private openSigned (): string[] {
    const open = new Set(this.openTasks().map(h => h.id))
    return [...this.signed].filter(([id]) => open.has(id)).reverse().slice(0, MAX_PULLED_HEADERS).map(([, text]) => text)
  }

  /** A valid header, by gossip or pull: kept, and handed to the provider. */
  private accept (header: TaskHeader, text: string, payer: Address): void {
    this.lastHeaderAt = Date.now()
    if (!this.seen.has(header.id)) {
      this.seen.set(header.id, header)
      this.signed.set(header.id, text)
      this.payers.set(header.id, payer)
      if (this.seen.size > MAX_SEEN) this.forget(this.seen.keys().next().value as string)
      this.safeDispatchEvent('task:seen', { detail: header })
    }
    this.safeDispatchEvent('task:header', { detail: { header, payer } })
  }

  /** Waits until the requests being answered have their answers written (a verdict's cheque among them), or `signal` aborts. */
  async drain (signal: AbortSignal): Promise<void> {
    await this.answering.idle(signal)
  }

  async stop (): Promise<void> {
    this.components.pubsub.removeEventListener('message', this.onGossip)
    this.streams.close()
    this.serving.abort()
    await this.components.sessions.unhandle(MARKET_PROTOCOL)
  }

  /** Publishes a signed task header or closing on the tasks topic. */
  async publish (kind: 'task' | 'closed', msg: string): Promise<void> {
    await this.components.pubsub.publish(TASKS_TOPIC, encodeGossip(kind, msg))
  }

  /**
   * Sends one request. A connection that dies while the stream opens (two
   * peers dialling each other at once, one link closed as a duplicate) is
   * retried; a refusal by the remote is not.
   */
  async request (peer: string, addrs: string[], req: MarketRequest, signal: AbortSignal): Promise<MarketResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        const id = await this.learn(peer, addrs)
        const open: OpenMarketStream = async (s) => await this.components.sessions.open(id, MARKET_PROTOCOL, { signal: s })
        return await this.streams.request(peer, open, this.init.tap?.request?.(req) ?? req, signal)
      } catch (err: any) {
        if (attempt >= 3 || signal.aborted || err instanceof MarketRefusedError || err.name === 'InvalidMessageError') throw err
        this.log('%s to %s failed (attempt %d) - %s', req.kind, peer, attempt, err.message)
        await delay(250 * attempt, signal)
      }
    }
  }

  /** `peer`'s ID, with `addrs` (from its signed header or report) in the peer store when we have no connection to it yet. */
  private async learn (peer: string, addrs: string[]): Promise<PeerId> {
    const id = peerIdFromString(peer)
    const { connectionManager, peerStore } = this.components
    if (connectionManager.getConnections(id).length === 0 && addrs.length > 0) {
      await peerStore.merge(id, { multiaddrs: addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } }) })
    }
    return id
  }

  /** Counts and reports a refused request, or a reply to ours that we refused. */
  refused (from: string, kind: string, error: string): void {
    this.refusals++
    this.log('refused %s from %s - %s', kind, from, error)
    this.safeDispatchEvent('market:refused', { detail: { from, kind, error } })
  }

  private readonly onGossip = (evt: CustomEvent<{ topic: string, data: Uint8Array }>): void => {
    if (evt.detail.topic !== TASKS_TOPIC) return
    openGossip(evt.detail.data).then(item => {
      if (item.kind === 'task') {
        this.headers++
        this.accept(item.opened.body, item.opened.text, item.opened.account.address)
      } else {
        this.forget(item.opened.body.task)
        this.safeDispatchEvent('task:closed', { detail: item.opened.body })
      }
    }).catch(err => { this.log('bad gossip - %s', err.message) })
  }
}
