import { peerIdFromString } from '@libp2p/peer-id'
import { RateLimiter } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { bytesSource, formatAddress, memorySink, parseAddress, sha256Once, toHex } from '../storage/index.ts'
import { packInputs } from './input-bundle.ts'
import { InvalidSignatureError, InvalidTaskError, MarketRateLimitedError, UnknownTaskError } from './market-errors.ts'
import { validateAssignment, validateHeader, validateOffer, validateReport, validateVerdict } from './market-codec.ts'
import { encodeGossip, installValidator, openGossip } from './market-gossip.ts'
import { MARKET_PROTOCOL, MarketRefusedError, MarketStreamPool, TASKS_TOPIC, serve } from './market-wire.ts'
import { delay, unref } from '../util/index.ts'
import { openConnection } from '../p2p-service/index.ts'
import { Provider } from './provider.ts'
import { RequestorTask } from './requestor-task.ts'
import { readTokenIssuer } from './read-token-issuer.ts'
import { openMessage, signMessage } from './signed.ts'
import { validateSpec } from './task-spec.ts'
import type { TaskHeader } from './market-codec.ts'
import type { TaskSpec } from './market-types.ts'
import type { MarketReply, MarketRequest, MarketResponse } from './market-wire.ts'
import type { ProviderContext, ProviderInit } from './provider.ts'
import type { RequestorContext } from './requestor-task.ts'
import type { TaskRunner } from '../compute/index.ts'
import type { PeerKeeper } from '../peer-keeper/index.ts'
import type { SessionManager } from '../peer-session/index.ts'
import type { StorageClient } from '../storage/index.ts'
import type { GossipSub } from '@libp2p/gossipsub'
import type { AbortOptions, ComponentLogger, Libp2pEvents, Logger, PeerId, PeerStore, PrivateKey, Startable, TypedEventTarget } from '@libp2p/interface'
import type { AddressManager, ConnectionManager, Registrar } from '@libp2p/interface-internal'

export interface MarketInit {
  /** Run subtasks for others with this runner; relays only route gossip. */
  provider?: ProviderInit & { runner: TaskRunner }
  /** How long a provider caught with a wrong result gets no work from us, ms. @default 3_600_000 */
  distrustFor?: number
  /** Submit tasks (needs the `storage` client service). @default true */
  requestor?: boolean
  /** How often an open task's header is published again for late joiners, ms. @default 3_000 */
  announceInterval?: number
  /**
   * Market requests a peer may send per second. Streams are reused across
   * requests, so the session layer's per-stream limit no longer counts them. @default 200
   */
  requestsPerSecond?: number
  /** How long the read tokens given to providers stay valid, ms; one near its end is issued again. @default 7_200_000 */
  readTokenTtl?: number
  /** Sees (and may alter) every request this node sends: instrumentation, or a test's dishonest peer. @default none */
  tap?: { request?: (req: MarketRequest) => MarketRequest }
}

export interface MarketComponents {
  peerId: PeerId
  privateKey: PrivateKey
  registrar: Registrar
  connectionManager: ConnectionManager
  peerStore: PeerStore
  addressManager: AddressManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
  sessions: SessionManager
  pubsub: GossipSub
  storage?: StorageClient
  keeper?: PeerKeeper
}

export interface MarketEvents {
  /** A valid task header was seen on the network. */
  'task:seen': CustomEvent<TaskHeader>
  'task:closed': CustomEvent<{ task: string }>
  /** A market request was refused (bad signature, replay, malformed…). */
  'market:refused': CustomEvent<{ from: string, kind: string, error: string }>
}

/**
 * The compute market: task headers spread by gossip; offers, assignments,
 * reports and verdicts travel as signed messages on `/golem-clay/market`.
 */
export class Market extends TypedEventEmitter<MarketEvents> implements Startable {
  /** This node's provider side, when it lends cores: `enabled` switches offering, 'job' and 'verdict' events report its work. */
  readonly provider?: Provider
  readonly tasks = new Map<string, RequestorTask>()
  /** The sandbox pool this node computes with, when it provides. */
  get runner (): TaskRunner | undefined { return this.init.provider?.runner }
  /** Task headers seen on the network, newest last; `openTasks()` drops those past their deadline. */
  readonly seen = new Map<string, TaskHeader>()
  refusals = 0
  /** Providers caught with wrong results, and when: avoided for `distrustFor`. */
  readonly penalised = new Map<string, number>()
  private readonly components: MarketComponents
  private readonly init: MarketInit
  private readonly log: Logger
  private timer?: ReturnType<typeof setInterval>
  /** Our outgoing market streams, kept open between requests. */
  private readonly streams = new MarketStreamPool()
  private readonly requestLimiter: RateLimiter
  private readonly serving = new AbortController()

  /** Tasks seen on the network that are still open. */
  openTasks (): TaskHeader[] {
    const now = Date.now()
    for (const [id, h] of this.seen) if (h.deadline < now) this.seen.delete(id)
    return [...this.seen.values()]
  }

  constructor (components: MarketComponents, init: MarketInit = {}) {
    super()
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('golem-clay:market')
    this.requestLimiter = new RateLimiter({ points: init.requestsPerSecond ?? 200, duration: 1, keyPrefix: 'market' })
    if (init.provider != null) this.provider = new Provider(this.providerContext(), init.provider.runner, init.provider)
  }

  readonly [Symbol.toStringTag] = '@golem-clay/market'

  async start (): Promise<void> {
    await this.init.provider?.runner.start()
    await this.components.registrar.handle(MARKET_PROTOCOL, (stream, conn) => {
      const from = conn.remotePeer.toString()
      // one request after another on the stream, until the requester closes it
      serve(stream, async req => {
        try {
          this.requestLimiter.consume(from)
        } catch {
          throw new MarketRateLimitedError(`More than ${this.init.requestsPerSecond ?? 200} market requests per second`)
        }
        return await this.dispatch(req, from)
      }, {
        signal: this.serving.signal,
        onServed: (req, ok) => { if (!ok) this.refused(from, req.kind, 'refused') }
      }).catch(err => { this.refused(from, 'unknown', err.message); this.components.sessions.report(conn.remotePeer, 'bad-frame') })
    }, { runOnLimitedConnection: true, maxInboundStreams: 64 })
    const { pubsub } = this.components
    installValidator(pubsub, TASKS_TOPIC)
    pubsub.addEventListener('message', this.onGossip)
    pubsub.subscribe(TASKS_TOPIC)
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
    this.timer = setInterval(() => { for (const t of this.tasks.values()) if (!t.isFinished) void this.announce(t) }, this.init.announceInterval ?? 3_000)
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    for (const t of this.tasks.values()) t.cancel()
    this.provider?.stop()
    this.components.pubsub.removeEventListener('message', this.onGossip)
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    this.streams.close()
    this.serving.abort()
    await this.components.registrar.unhandle(MARKET_PROTOCOL)
    await this.init.provider?.runner.stop()
  }

  /**
   * Stores the module and inputs on a relay, publishes the signed header and
   * starts assigning; await `task.done` for the verified results.
   */
  async submit (spec: TaskSpec, options: AbortOptions = {}): Promise<RequestorTask> {
    const storage = this.components.storage
    if (storage == null || this.init.requestor === false) throw new InvalidTaskError('This node has no storage client to publish tasks with')
    validateSpec(spec)
    const id = crypto.randomUUID()
    const ttl = Math.ceil((spec.timeout ?? 600_000) / 1000) + 3600
    const moduleSha = toHex(await sha256Once(spec.module))
    const bundle = packInputs(spec.inputs)
    const bundleSha = toHex(await sha256Once(bundle))
    const inputHashes = await Promise.all(spec.inputs.map(async i => toHex(await sha256Once(i))))
    const mod = await storage.put(bytesSource(spec.module), { path: `tasks/${id}/module.wasm`, relay: spec.relay, ttl, signal: options.signal })
    const inp = await storage.put(bytesSource(bundle), { path: `tasks/${id}/inputs.bin`, relay: spec.relay, ttl, signal: options.signal })
    const now = Date.now()
    const header: TaskHeader = {
      v: 1, type: 'task', id, requestor: this.components.peerId.toString(), requestorAddrs: this.ownAddrs(), name: spec.name,
      module: { address: mod.address, sha256: moduleSha, size: spec.module.byteLength },
      inputs: { address: inp.address, sha256: bundleSha, size: bundle.byteLength },
      subtasks: spec.inputs.length, price: spec.price ?? 1, deadline: now + (spec.timeout ?? 600_000),
      subtaskTimeout: spec.subtaskTimeout ?? 60_000,
      requirements: { runtimes: spec.runtimes ?? ['browser', 'node'], memoryMB: spec.memoryMB ?? 256 },
      verification: { mode: (spec.k ?? 1) > 1 ? 'redundancy' : 'none', k: spec.k ?? 1 },
      createdAt: now
    }
    validateHeader(header)
    const text = await signMessage(this.components.privateKey, 'task', header)
    const task = new RequestorTask(this.requestorContext(), header, text, inputHashes)
    this.tasks.set(id, task)
    // a finished task answers late reports with UnknownTaskError, then is forgotten
    const forget = (): void => {
      unref(setTimeout(() => { this.tasks.delete(id) }, 60_000))
    }
    task.addEventListener('done', forget)
    task.addEventListener('failed', forget)
    task.safeDispatchEvent('stored', { detail: { module: mod.address, inputs: inp.address } })
    task.start()
    await this.announce(task)
    task.safeDispatchEvent('published', { detail: { task: id } })
    return task
  }

  private async dispatch (req: MarketRequest, from: string): Promise<MarketReply | undefined> {
    if (req.kind === 'offer') {
      const offer = await openMessage(req.msg, 'offer', validateOffer, o => o.provider)
      if (offer.signer !== from) throw new InvalidSignatureError('The offer was signed by another peer than its sender')
      const task = this.tasks.get(offer.body.task)
      if (task == null || task.isFinished) throw new UnknownTaskError(`No open task ${offer.body.task} here`)
      task.onOffer(offer.body)
    } else if (req.kind === 'assign') {
      if (this.provider == null) throw new UnknownTaskError('This node does not provide compute')
      const header = await openMessage(req.header, 'task', validateHeader, h => h.requestor)
      const a = await openMessage(req.msg, 'assign', validateAssignment, x => x.requestor)
      this.provider.onAssign(a.body, a.text, header.body, from, req.tokens)
    } else if (req.kind === 'report') {
      const report = await openMessage(req.msg, 'report', validateReport, r => r.provider)
      const a = await openMessage(report.body.assignment, 'assign', validateAssignment, x => x.requestor)
      const task = this.tasks.get(a.body.task)
      if (task == null) throw new UnknownTaskError(`No task ${a.body.task} here`)
      task.noteReport(a.body.id, req.msg)
      // the verdict (when decided at once) and the next assignment ride back on the answer
      return await task.onReport(report.body, from, req.data)
    } else {
      await this.onVerdict(req.msg, from)
    }
    return undefined
  }

  /** The next assignment, in the answer to our report: checked against the task header we already hold, like any assignment. */
  private async onAnsweredAssignment (text: string, from: string): Promise<void> {
    if (this.provider == null) throw new UnknownTaskError('This node does not provide compute')
    const a = await openMessage(text, 'assign', validateAssignment, x => x.requestor)
    const header = this.provider.knownHeader(a.body.task)
    if (header == null) throw new UnknownTaskError(`No header for task ${a.body.task} here`)
    this.provider.onAssign(a.body, a.text, header, from)
  }

  /** A signed verdict from `from`, sent on its own or in the answer to our report. */
  private async onVerdict (text: string, from: string): Promise<void> {
    const verdict = await openMessage(text, 'verdict', validateVerdict, v => v.requestor)
    const report = await openMessage(verdict.body.report, 'report', validateReport, r => r.provider)
    const a = await openMessage(report.body.assignment, 'assign', validateAssignment, x => x.requestor)
    if (verdict.signer !== from || a.body.requestor !== from) throw new InvalidSignatureError('The verdict was not made by the assignment\'s requestor')
    this.provider?.onVerdict(verdict.body, report.body, a.body)
  }

  private readonly onGossip = (evt: CustomEvent<{ topic: string, data: Uint8Array }>): void => {
    if (evt.detail.topic !== TASKS_TOPIC) return
    openGossip(evt.detail.data).then(item => {
      if (item.kind === 'task') {
        const header = item.opened.body
        if (!this.seen.has(header.id)) {
          this.seen.set(header.id, header)
          if (this.seen.size > 256) this.seen.delete(this.seen.keys().next().value as string)
          this.safeDispatchEvent('task:seen', { detail: header })
        }
        void this.provider?.onHeader(header)
      } else {
        this.seen.delete(item.opened.body.task)
        this.provider?.onClosed(item.opened.body)
        this.safeDispatchEvent('task:closed', { detail: { task: item.opened.body.task } })
      }
    }).catch(err => { this.log('bad gossip - %s', err.message) })
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    for (const t of this.tasks.values()) if (!t.isFinished) t.providerGone(peer)
  }

  private refused (from: string, kind: string, error: string): void {
    this.refusals++
    this.log('refused %s from %s - %s', kind, from, error)
    this.safeDispatchEvent('market:refused', { detail: { from, kind, error } })
  }

  private ownAddrs (): string[] {
    return this.components.addressManager.getAddresses().map(ma => ma.toString()).slice(0, 16)
  }

  private async announce (task: RequestorTask): Promise<void> {
    try {
      await this.components.pubsub.publish(TASKS_TOPIC, encodeGossip('task', task.signedHeader))
    } catch (err: any) {
      this.log('announce of %s failed - %s', task.id, err.message)
    }
  }

  /**
   * Sends one request. A connection that dies while the stream opens (two
   * peers dialling each other at once, one link closed as a duplicate) is
   * retried; a refusal by the remote is not.
   */
  private async request (peer: string, addrs: string[], req: MarketRequest, signal: AbortSignal): Promise<MarketResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.requestOnce(peer, addrs, req, signal)
      } catch (err: any) {
        if (attempt >= 3 || signal.aborted || err instanceof MarketRefusedError || err.name === 'InvalidMessageError') throw err
        this.log('%s to %s failed (attempt %d) - %s', req.kind, peer, attempt, err.message)
        await delay(250 * attempt, signal)
      }
    }
  }

  private async requestOnce (peer: string, addrs: string[], req: MarketRequest, signal: AbortSignal): Promise<MarketResponse> {
    const id = peerIdFromString(peer)
    const { connectionManager, peerStore, sessions } = this.components
    if (connectionManager.getConnections(id).length === 0 && addrs.length > 0) {
      await peerStore.merge(id, { multiaddrs: addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } }) })
    }
    const conn = await openConnection(connectionManager, id, { signal })
    await sessions.ensure(conn, { signal })
    return await this.streams.request(conn, this.init.tap?.request?.(req) ?? req, signal)
  }

  private requestorContext (): RequestorContext {
    const tokens = readTokenIssuer(this.components.privateKey, { ttl: this.init.readTokenTtl })
    return {
      self: this.components.peerId.toString(),
      log: this.log,
      sign: async (kind, body) => await signMessage(this.components.privateKey, kind, body),
      request: async (peer, addrs, req, signal) => { await this.request(peer, addrs, req, signal) },
      readToken: async (grantee, ref) => await tokens.get(grantee, ref),
      announce: async (task) => { await this.announce(task) },
      close: async (task, reason) => {
        try {
          const msg = await signMessage(this.components.privateKey, 'closed', { v: 1, type: 'closed', task: task.id, requestor: this.components.peerId.toString(), reason, at: Date.now() })
          await this.components.pubsub.publish(TASKS_TOPIC, encodeGossip('closed', msg))
        } catch (err: any) {
          this.log('closing %s not published - %s', task.id, err.message)
        }
      },
      penalise: (peer) => {
        this.penalised.set(peer, Date.now())
        this.components.keeper?.note(peer, 'wrong-result')
      },
      distrusted: (peer) => {
        const at = this.penalised.get(peer)
        if (at != null && Date.now() - at < (this.init.distrustFor ?? 3_600_000)) return true
        return (this.components.keeper?.get(peer)?.score ?? 0) <= -10
      }
    }
  }

  private providerContext (): ProviderContext {
    return {
      self: this.components.peerId.toString(),
      log: this.log,
      addrs: () => this.ownAddrs(),
      sign: async (kind, body) => await signMessage(this.components.privateKey, kind, body),
      request: async (peer, addrs, req, signal) => {
        const res = await this.request(peer, addrs, req, signal)
        // our next assignment and the requestor's verdict on our report, when they came with the answer (the work first)
        if (res.assign != null) {
          // refused here (paused, past its deadline…), it runs out its deadline at the requestor, like work stopped by a pause
          await this.onAnsweredAssignment(res.assign, peer).catch((err: Error) => { this.refused(peer, 'assign', err.message) })
        }
        if (res.verdict != null) {
          await this.onVerdict(res.verdict, peer).catch((err: Error) => { this.refused(peer, 'verdict', err.message) })
        }
      },
      fetch: async (address, token, signal) => {
        const storage = this.components.storage
        if (storage == null) throw new InvalidTaskError('This node has no storage client to fetch task resources with')
        const parsed = parseAddress(address)
        const sink = memorySink(parsed.size)
        await storage.get(formatAddress({ ...parsed, token }), sink, { signal })
        return sink.bytes().slice()
      }
    }
  }
}

export function market (init: MarketInit = {}): (components: MarketComponents) => Market {
  return (components) => new Market(components, init)
}

/** The market as relays run it: gossip routing and header checks, no submitting or computing. */
export function marketRouter (init: Omit<MarketInit, 'provider' | 'requestor'> = {}): (components: Omit<MarketComponents, 'storage'> & { storage?: unknown }) => Market {
  // a relay's `storage` service is the server, never used here: requestor is off
  return (components) => new Market(components as MarketComponents, { ...init, requestor: false })
}
