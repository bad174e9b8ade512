import { TypedEventEmitter } from 'main-event'
import { InvalidTaskError } from './market-errors.ts'
import { MarketRequestor } from './market-requestor.ts'
import { MarketRouter } from './market-router.ts'
import { ProviderHost } from './provider-host.ts'
import type { TaskHeader } from './market-codec.ts'
import type { MarketRequestorComponents, MarketRequestorInit } from './market-requestor.ts'
import type { MarketRouterComponents, MarketRouterInit, TaskFeedStatus } from './market-router.ts'
import type { TaskSpec } from './market-types.ts'
import type { Provider } from './provider.ts'
import type { ProviderHostInit } from './provider-host.ts'
import type { RequestorTask } from './requestor-task.ts'
import type { TaskRunner } from '../compute/index.ts'
import { ProviderPayments, RequestorPayments } from '../payments/index.ts'
import type { Address, ChainClient, PaymentAccount, LedgerStores, ProviderPaymentsInit, RequestorPaymentsInit } from '../payments/index.ts'
import type { StorageClient } from '../storage/index.ts'
import type { AbortOptions, Startable } from '@libp2p/interface'

export interface MarketInit extends MarketRouterInit, MarketRequestorInit {
  /**
   * How long a stop waits for answers being written and verdicts on their
   * way (a provider is owed the cheque in the last verdict), ms. @default 3_000
   */
  drainMs?: number
  /** Run subtasks for others with this runner; relays only route gossip. */
  provider?: ProviderHostInit & { payments?: ProviderPaymentsInit }
  /** Submit tasks (needs the `storage` client service). @default true */
  requestor?: boolean
  /** How a requestor's deposit must cover its open tasks. */
  spending?: RequestorPaymentsInit
  /** Where the cheque book and the cheque wallet are kept (a tab: IndexedDB, a Node peer: files). @default memory: one run only */
  ledgers?: LedgerStores
}

export interface MarketComponents extends MarketRouterComponents, Omit<MarketRequestorComponents, 'storage' | 'router' | 'spending' | 'payments'> {
  storage?: StorageClient
  /** This node's payment account: the binding in its messages, the signer of its notes and cheques. */
  payments: Pick<PaymentAccount, 'binding' | 'address' | 'account'>
  /** The relay's chain: paid tasks need it. @default none: every task is unpaid */
  chain?: ChainClient
}

export interface MarketEvents {
  /** A valid task header was seen on the network. */
  'task:seen': CustomEvent<TaskHeader>
  'task:closed': CustomEvent<{ task: string }>
  /** A market request was refused (bad signature, replay, malformed…). */
  'market:refused': CustomEvent<{ from: string, kind: string, error: string }>
}

/** The parts a node runs: every node routes; a node submits tasks with a requestor and lends cores with a provider host. */
export interface MarketParts {
  router: MarketRouter
  requestor?: MarketRequestor
  host?: ProviderHost
  /** @see MarketInit.drainMs */
  drainMs?: number
}

/**
 * The compute market: task headers spread by gossip; offers, assignments,
 * reports and verdicts travel as signed messages on `/golem-clay/market`.
 * One service over its parts, so a node's `services.market` is the same
 * whichever it runs.
 */
export class Market extends TypedEventEmitter<MarketEvents> implements Startable {
  readonly router: MarketRouter
  readonly requestor?: MarketRequestor
  readonly host?: ProviderHost
  private readonly drainMs: number

  constructor (parts: MarketParts) {
    super()
    this.drainMs = parts.drainMs ?? 3_000
    this.router = parts.router
    this.requestor = parts.requestor
    this.host = parts.host
    this.router.addEventListener('task:seen', (evt) => { this.safeDispatchEvent('task:seen', { detail: evt.detail }) })
    this.router.addEventListener('task:closed', (evt) => { this.safeDispatchEvent('task:closed', { detail: { task: evt.detail.task } }) })
    this.router.addEventListener('market:refused', (evt) => { this.safeDispatchEvent('market:refused', { detail: evt.detail }) })
  }

  readonly [Symbol.toStringTag] = '@golem-clay/market'

  /** This node's provider side, when it lends cores: `enabled` switches offering, 'job' and 'verdict' events report its work. */
  get provider (): Provider | undefined { return this.host?.provider }
  /** The sandbox pool this node computes with, when it provides. */
  get runner (): TaskRunner | undefined { return this.host?.runner }
  /** The tasks this node submitted (finished ones for a minute). */
  get tasks (): ReadonlyMap<string, RequestorTask> { return this.requestor?.tasks ?? new Map() }
  /** The requestor's payments: deposit checks, notes and cheques of paid tasks. */
  get spending (): RequestorPayments | undefined { return this.requestor?.spending }
  /** The provider's payments: cheques held, cashing, what it earned. */
  get earnings (): ProviderPayments | undefined { return this.host?.earnings }
  /** Providers caught with wrong results, and when. */
  get penalised (): ReadonlyMap<string, number> { return this.requestor?.penalised ?? new Map() }
  /** Task headers seen on the network, newest last. */
  get seen (): ReadonlyMap<string, TaskHeader> { return this.router.seen }
  /** The tasks feed: subscribed, peers on the topic, the last header seen, pulls. */
  get feed (): TaskFeedStatus { return this.router.feed }
  /** Market requests refused, by us or of ours. */
  get refusals (): number { return this.router.refusals }

  /** Tasks seen on the network that are still open. */
  openTasks (): TaskHeader[] { return this.router.openTasks() }

  /** Who pays for a task seen on the network: its requestor's payment address, from the binding in its signed header. */
  payerOf (task: string): Address | undefined { return this.router.payerOf(task) }

  async start (): Promise<void> {
    // the parts take their kinds of request before the protocol handler opens
    await this.host?.start()
    this.requestor?.start()
    await this.router.start()
  }

  /** Before the connections close: lets the answers being written and the verdicts on their way arrive (bounded by `drainMs`). */
  async beforeStop (): Promise<void> {
    const signal = AbortSignal.timeout(this.drainMs)
    await Promise.all([this.router.drain(signal), this.requestor?.drain(signal)])
  }

  async stop (): Promise<void> {
    this.requestor?.stop()
    await this.host?.stop()
    await this.router.stop()
  }

  /**
   * Stores the module and inputs on a relay, publishes the signed header and
   * starts assigning; await `task.done` for the verified results.
   */
  async submit (spec: TaskSpec, options: AbortOptions = {}): Promise<RequestorTask> {
    if (this.requestor == null) throw new InvalidTaskError('This node has no storage client to publish tasks with')
    return await this.requestor.submit(spec, options)
  }
}

/** The whole market: routing, plus a requestor (unless `requestor: false` or there is no storage client) and a provider host when `provider` is given. */
export function market (init: MarketInit = {}): (components: MarketComponents) => Market {
  return (components) => {
    const router = new MarketRouter(components, init)
    const { peerId, privateKey, addressManager, events, logger, storage, payments, chain } = components
    const ledgers = init.ledgers
    const spending = init.requestor === false || storage == null ? undefined : new RequestorPayments({ payments, chain, ledgers, logger }, init.spending)
    const requestor = spending == null || storage == null
      ? undefined
      : new MarketRequestor({ peerId, privateKey, addressManager, events, logger, storage, keeper: components.keeper, router, payments, spending }, init)
    const earnings = init.provider == null ? undefined : new ProviderPayments({ payments, chain, ledgers, logger }, { ...init.provider.payments, ...(init.provider.payee != null ? { payee: init.provider.payee } : {}) })
    const host = init.provider == null ? undefined : new ProviderHost({ peerId, privateKey, addressManager, logger, storage, router, payments, earnings }, init.provider)
    return new Market({ router, requestor, host, drainMs: init.drainMs })
  }
}

/** The market as relays run it: gossip routing and header checks, no submitting or computing. */
export function marketRouter (init: MarketRouterInit = {}): (components: MarketRouterComponents) => Market {
  return (components) => new Market({ router: new MarketRouter(components, init) })
}
