import { getAddress } from 'viem'
import { bytesSource, sha256Hex } from '../storage/index.ts'
import { packInputs } from './input-bundle.ts'
import { InvalidSignatureError, UnknownTaskError } from './market-errors.ts'
import { openOffer } from './bound-messages.ts'
import { validateAssignment, validateHeader, validateReport } from './market-codec.ts'
import { unref } from '../util/index.ts'
import { RequestorTask } from './requestor-task.ts'
import { readTokenIssuer } from './read-token-issuer.ts'
import { openMessage, signMessage } from './signed.ts'
import { maxAssignments, taskBudget, validateSpec } from './task-spec.ts'
import { ChainUnavailableError } from '../payments/index.ts'
import type { TaskHeader } from './market-codec.ts'
import type { MarketRouter } from './market-router.ts'
import type { TaskSpec } from './market-types.ts'
import type { MarketReply, MarketRequest } from './market-wire.ts'
import type { RequestorContext, TaskPay } from './requestor-task.ts'
import type { DepositDeployment, PaymentAccount, RequestorPayments, TaskTerms } from '../payments/index.ts'
import type { PeerKeeper } from '../peer-keeper/index.ts'
import type { StorageClient } from '../storage/index.ts'
import type { AddressManager } from '@libp2p/interface-internal'
import type { AbortOptions, ComponentLogger, Libp2pEvents, Logger, PeerId, PrivateKey, Startable, TypedEventTarget } from '@libp2p/interface'

export interface MarketRequestorInit {
  /** How long a provider caught with a wrong result gets no work from us, ms. @default 3_600_000 */
  distrustFor?: number
  /** How often an open task's header is published again for late joiners, ms. @default 3_000 */
  announceInterval?: number
  /** How long the read tokens given to providers stay valid, ms; one near its end is issued again. @default 7_200_000 */
  readTokenTtl?: number
}

export interface MarketRequestorComponents {
  peerId: PeerId
  privateKey: PrivateKey
  addressManager: AddressManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
  storage: StorageClient
  keeper?: PeerKeeper
  router: MarketRouter
  /** Binds this node's payment account into its task headers. */
  payments: Pick<PaymentAccount, 'binding'>
  /** Checks the deposit, signs notes and cheques for paid tasks. @default none: every task is unpaid */
  spending?: RequestorPayments
}

/** A finished task answers late reports with UnknownTaskError for this long, then is forgotten, ms. */
const FORGET_AFTER = 60_000

/**
 * The requestor: stores a task's module and inputs, publishes its signed
 * header, takes offers, assigns subtasks and checks the reports.
 */
export class MarketRequestor implements Startable {
  readonly tasks = new Map<string, RequestorTask>()
  /** Providers caught with wrong results, and when: avoided for `distrustFor`. */
  readonly penalised = new Map<string, number>()
  private readonly components: MarketRequestorComponents
  private readonly init: MarketRequestorInit
  /** Deposit checks, notes and cheques of paid tasks. */
  get spending (): RequestorPayments | undefined { return this.components.spending }
  private readonly log: Logger
  private timer?: ReturnType<typeof setInterval>

  constructor (components: MarketRequestorComponents, init: MarketRequestorInit = {}) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('golem-clay:market')
  }

  readonly [Symbol.toStringTag] = '@golem-clay/market-requestor'

  start (): void {
    const { router, events } = this.components
    router.handle('offer', this.onOffer)
    router.handle('report', this.onReport)
    events.addEventListener('peer:disconnect', this.onDisconnect)
    this.timer = setInterval(() => { for (const t of this.tasks.values()) if (!t.isFinished) void this.announce(t) }, this.init.announceInterval ?? 3_000)
  }

  /** Waits until the verdicts our tasks send on their own have gone out, or `signal` aborts. */
  async drain (signal: AbortSignal): Promise<void> {
    await Promise.all([...this.tasks.values()].map(async t => { await t.sending.idle(signal) }))
  }

  stop (): void {
    clearInterval(this.timer)
    for (const t of this.tasks.values()) t.cancel()
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
  }

  /**
   * Stores the module and inputs on a relay, publishes the signed header and
   * starts assigning; await `task.done` for the verified results.
   */
  async submit (spec: TaskSpec, options: AbortOptions = {}): Promise<RequestorTask> {
    const { spending } = this.components
    validateSpec(spec)
    const id = crypto.randomUUID()
    // paid when a connected relay runs a chain (and there is a price), unless told otherwise; the deposit is checked before anything is stored
    const deployment = spec.paid === false || (spec.price ?? 1) < 1 ? undefined : await spending?.deployment(options)
    if (spec.paid === true && deployment == null) throw new ChainUnavailableError('A paid task needs a connected relay that runs a chain')
    const terms = deployment != null && spending != null ? await spending.reserve(id, taskBudget(spec), deployment, options) : undefined
    try {
      return await this.publish(id, spec, terms, options)
    } catch (err) {
      spending?.release(id)
      throw err
    }
  }

  private async publish (id: string, spec: TaskSpec, terms: TaskTerms | undefined, options: AbortOptions): Promise<RequestorTask> {
    const { storage } = this.components
    const ttl = Math.ceil((spec.timeout ?? 600_000) / 1000) + 3600
    const bundle = packInputs(spec.inputs)
    const [moduleSha, bundleSha, inputHashes, payment] = await Promise.all([sha256Hex(spec.module), sha256Hex(bundle), Promise.all(spec.inputs.map(sha256Hex)), this.components.payments.binding()])
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
      createdAt: now,
      payment,
      ...(terms != null ? { pay: { chainId: terms.deployment.chainId, contract: terms.deployment.address, salt: terms.deployment.salt, budget: terms.budget.toString() } } : {})
    }
    validateHeader(header)
    const text = await signMessage(this.components.privateKey, 'task', header)
    const pay = terms != null ? this.taskPay(id, header.price, terms.deployment, maxAssignments(header.subtasks, header.verification.k, spec.reassignments)) : undefined
    const task = new RequestorTask(this.context(pay), header, text, inputHashes)
    this.tasks.set(id, task)
    const forget = (): void => {
      this.components.spending?.release(id)
      unref(setTimeout(() => { this.tasks.delete(id) }, FORGET_AFTER))
    }
    task.addEventListener('done', forget)
    task.addEventListener('failed', forget)
    task.safeDispatchEvent('stored', { detail: { module: mod.address, inputs: inp.address } })
    task.start()
    await this.announce(task)
    task.safeDispatchEvent('published', { detail: { task: id } })
    return task
  }

  private readonly onOffer = async (req: MarketRequest, from: string): Promise<undefined> => {
    // with the provider's payment binding: whom we pay for its work
    const offer = await openOffer(req.msg)
    if (offer.signer !== from) throw new InvalidSignatureError('The offer was signed by another peer than its sender')
    const task = this.tasks.get(offer.body.task)
    if (task == null || task.isFinished) throw new UnknownTaskError(`No open task ${offer.body.task} here`)
    // a provider may have its work paid to another address (a widget's site owner); the account is still its own
    const provider = offer.account.address
    task.onOffer(offer.body, { beneficiary: offer.body.payee != null ? getAddress(offer.body.payee) : provider, provider })
    return undefined
  }

  private readonly onReport = async (req: MarketRequest, from: string): Promise<MarketReply> => {
    const report = await openMessage(req.msg, 'report', validateReport, r => r.provider)
    const a = await openMessage(report.body.assignment, 'assign', validateAssignment, x => x.requestor)
    const task = this.tasks.get(a.body.task)
    if (task == null) throw new UnknownTaskError(`No task ${a.body.task} here`)
    task.noteReport(a.body.id, req.msg)
    // the verdict (when decided at once) and the next assignment ride back on the answer
    return await task.onReport(report.body, from, req.data)
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    for (const t of this.tasks.values()) if (!t.isFinished) t.providerGone(peer)
  }

  private ownAddrs (): string[] {
    return this.components.addressManager.getAddresses().map(ma => ma.toString()).slice(0, 16)
  }

  private async announce (task: RequestorTask): Promise<void> {
    try {
      await this.components.router.publish('task', task.signedHeader)
    } catch (err: any) {
      this.log('announce of %s failed - %s', task.id, err.message)
    }
  }

  /** A paid task's notes and cheques, on its deployment at its price. */
  private taskPay (task: string, price: number, deployment: DepositDeployment, max: number): TaskPay {
    const spending = this.components.spending as RequestorPayments
    return {
      maxAssignments: max,
      note: async (payee, subtask) => await spending.note(deployment, payee, task, subtask, BigInt(price)),
      cheque: async (payee, seq) => await spending.cheque(deployment, payee, BigInt(price), seq)
    }
  }

  /** One task's view of the requestor; its read tokens live as long as the task. */
  private context (pay?: TaskPay): RequestorContext {
    const { privateKey, router } = this.components
    const self = this.components.peerId.toString()
    const tokens = readTokenIssuer(privateKey, { ttl: this.init.readTokenTtl })
    return {
      self,
      log: this.log,
      ...(pay != null ? { pay } : {}),
      sign: async (kind, body) => await signMessage(privateKey, kind, body),
      request: async (peer, addrs, req, signal) => { await router.request(peer, addrs, req, signal) },
      readToken: async (grantee, ref) => await tokens.get(grantee, ref),
      announce: async (task) => { await this.announce(task) },
      close: async (task, reason) => {
        try {
          await router.publish('closed', await signMessage(privateKey, 'closed', { v: 1, type: 'closed', task: task.id, requestor: self, reason, at: Date.now() }))
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
}
