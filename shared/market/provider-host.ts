import { getBytes } from '../storage/index.ts'
import { delay, InFlight } from '../util/index.ts'
import { InvalidSignatureError, InvalidTaskError, UnknownTaskError } from './market-errors.ts'
import { openHeader } from './bound-messages.ts'
import { validateAssignment, validateReport, validateVerdict } from './market-codec.ts'
import { Provider } from './provider.ts'
import { openMessage, signMessage } from './signed.ts'
import type { VerifiedHeader } from './bound-messages.ts'
import type { TaskClosed } from './market-codec.ts'
import type { MarketRouter } from './market-router.ts'
import type { MarketRequest } from './market-wire.ts'
import type { ProviderContext, ProviderInit } from './provider.ts'
import type { TaskRunner } from '../compute/index.ts'
import { paidTask, sameDeployment } from '../payments/index.ts'
import type { PaidTask, PaymentAccount, ProviderPayments } from '../payments/index.ts'
import type { StorageClient } from '../storage/index.ts'
import type { AddressManager } from '@libp2p/interface-internal'
import type { ComponentLogger, Logger, PeerId, PrivateKey, Startable } from '@libp2p/interface'

export interface ProviderHostInit extends ProviderInit {
  /** The sandbox pool subtasks run in; started and stopped with the host. */
  runner: TaskRunner
  /**
   * While offering, a gossip silence this long makes the host ask a relay
   * for the open tasks (MarketRouter.pullTasks), ms. @default 30_000
   */
  pullInterval?: number
}

export interface ProviderHostComponents {
  peerId: PeerId
  privateKey: PrivateKey
  addressManager: AddressManager
  logger: ComponentLogger
  /** Fetches the tasks' modules and inputs. */
  storage?: StorageClient
  router: MarketRouter
  /** Binds this node's payment account into its offers. */
  payments: Pick<PaymentAccount, 'binding'>
  /** Checks deposits, notes and cheques of paid tasks, and cashes. @default none: this provider takes unpaid tasks only */
  earnings?: ProviderPayments
}

/** Paid tasks' terms kept for their late verdicts (a task's close may overtake them). */
const MAX_PAID_TASKS = 256

/**
 * The provider side of a node: takes assignments and verdicts from the
 * router, offers on the headers gossip brings, and runs the work through
 * its TaskRunner (the Provider holds the jobs).
 */
export class ProviderHost implements Startable {
  /** `enabled` switches offering; its 'job' and 'verdict' events report the work. */
  readonly provider: Provider
  readonly runner: TaskRunner
  private readonly components: ProviderHostComponents
  /** Deposit checks, notes, cheques and cashing of paid tasks. */
  get earnings (): ProviderPayments | undefined { return this.components.earnings }
  private readonly log: Logger
  private readonly pullInterval: number
  private pullTimer?: ReturnType<typeof setInterval>
  private pulling?: AbortController
  private readonly paidTasks = new Map<string, PaidTask>()
  /** Cheques being taken: a stop lets them be saved. */
  private readonly taking = new InFlight()

  constructor (components: ProviderHostComponents, init: ProviderHostInit) {
    this.components = components
    this.pullInterval = init.pullInterval ?? 30_000
    this.runner = init.runner
    this.log = components.logger.forComponent('golem-clay:market')
    this.provider = new Provider(this.context(), init.runner, init)
    this.provider.addEventListener('job', (evt) => {
      const job = evt.detail
      // a subtask given up (paused) is no work owed: its note goes
      if (job.givenUp === true && job.state === 'reporting') components.earnings?.dropNote(job.payer, job.task, job.subtask)
      // the payer's last work here ended (with a verdict or without: failed, refused, stopped): its waiting cheques settle now
      const paid = this.paidTasks.get(job.task)
      if ((job.state === 'done' || job.state === 'failed') && paid != null && !this.moreWorkOf(paid, job.assignment)) components.earnings?.settle(paid.payer, paid.deployment)
    })
  }

  readonly [Symbol.toStringTag] = '@golem-clay/provider-host'

  async start (): Promise<void> {
    await this.runner.start()
    const { router } = this.components
    router.handle('assign', this.onAssign)
    router.handle('verdict', async (req, from) => { await this.onVerdict(req.msg, from, req.cheque); return undefined })
    router.addEventListener('task:header', this.onHeader)
    router.addEventListener('task:closed', this.onClosed)
    this.pulling = new AbortController()
    this.pullTimer = setInterval(() => { this.pullIfQuiet() }, this.pullInterval)
    void this.firstPull(this.pulling.signal)
  }

  /**
   * A provider that just joined hears of the tasks already open only at
   * their next announcement: it asks a relay for them as soon as it has a
   * session with one (looked for every 250 ms for half a minute; without
   * one, a try sends nothing).
   */
  private async firstPull (signal: AbortSignal): Promise<void> {
    const { router } = this.components
    const before = router.feed.pulls
    for (let i = 0; i < 120 && router.feed.pulls === before; i++) {
      try {
        await delay(i === 0 ? 100 : 250, signal)
        const fresh = await router.pullTasks(AbortSignal.any([signal, AbortSignal.timeout(10_000)]))
        if (fresh > 0) this.log('%d open task(s) from a relay on joining', fresh)
      } catch {
        if (signal.aborted) return
      }
    }
  }

  async stop (): Promise<void> {
    clearInterval(this.pullTimer)
    this.pulling?.abort()
    this.provider.stop()
    this.components.router.removeEventListener('task:header', this.onHeader)
    this.components.router.removeEventListener('task:closed', this.onClosed)
    this.components.earnings?.stop()
    // the cheques of the last verdicts are saved before the node goes: those waiting for their group at once
    const settling = this.components.earnings?.flush().catch(() => {})
    await this.taking.idle(AbortSignal.timeout(5_000))
    await settling
    await this.components.earnings?.flush().catch((err: Error) => { this.log.error('cheques not saved at stop - %s', err.message) })
    await this.runner.stop()
  }

  /** Gossip may die without a sound (a suspect for providers seen idle once after a relay restart): a quiet offering provider asks instead. */
  private pullIfQuiet (): void {
    const { router } = this.components
    const last = router.feed.lastHeaderAt ?? 0
    if (!this.provider.enabled || this.runner.paused || Date.now() - last < this.pullInterval || this.pulling == null) return
    const signal = AbortSignal.any([this.pulling.signal, AbortSignal.timeout(10_000)])
    router.pullTasks(signal).then(fresh => {
      if (fresh > 0) this.log('gossip had not brought %d open task(s); a relay had them', fresh)
    }, (err: Error) => { this.log('pulling tasks failed - %s', err.message) })
  }

  private readonly onHeader = (evt: CustomEvent<VerifiedHeader>): void => { void this.provider.onHeader(evt.detail) }
  private readonly onClosed = (evt: CustomEvent<TaskClosed>): void => { this.provider.onClosed(evt.detail) }

  private readonly onAssign = async (req: MarketRequest, from: string): Promise<undefined> => {
    const header = await openHeader(req.header)
    const a = await openMessage(req.msg, 'assign', validateAssignment, x => x.requestor)
    const task = { header: header.body, payer: header.account.address }
    const taken = this.checkPay(task, a.body.subtask, req.note)
    this.provider.onAssign(a.body, a.text, task, from, req.tokens)
    taken()
    return undefined
  }

  /** The next assignment, in the answer to our report: checked against the task header we already hold, like any assignment. */
  private async onAnsweredAssignment (text: string, from: string, note: unknown): Promise<void> {
    const a = await openMessage(text, 'assign', validateAssignment, x => x.requestor)
    const task = this.provider.known(a.body.task)
    if (task == null) throw new UnknownTaskError(`No header for task ${a.body.task} here`)
    const taken = this.checkPay(task, a.body.subtask, note)
    this.provider.onAssign(a.body, a.text, task, from)
    taken()
  }

  /**
   * A paid task's assignment must carry a valid promissory note for it,
   * from a requestor that still pays (typed refusals). Returns what to do
   * once the provider took the assignment: keep the note and the task's
   * terms (an assignment refused for another reason is no work owed).
   */
  private checkPay (task: VerifiedHeader, subtask: number, note: unknown): () => void {
    const paid = paidTask(task.header.id, task.payer, task.header.price, task.header.pay)
    if (paid == null) return () => {}
    const earnings = this.components.earnings
    if (earnings == null) throw new InvalidTaskError('This provider reaches no chain to be paid on')
    const signed = earnings.checkNote(paid, subtask, note)
    return () => {
      earnings.keepNote(paid, signed)
      this.paidTasks.delete(paid.task)
      this.paidTasks.set(paid.task, paid)
      if (this.paidTasks.size > MAX_PAID_TASKS) this.paidTasks.delete(this.paidTasks.keys().next().value as string)
    }
  }

  /** A signed verdict from `from`, sent on its own or in the answer to our report; an accepted one of a paid task brings its cheque. */
  private async onVerdict (text: string, from: string, cheque?: unknown): Promise<void> {
    const verdict = await openMessage(text, 'verdict', validateVerdict, v => v.requestor)
    const report = await openMessage(verdict.body.report, 'report', validateReport, r => r.provider)
    const a = await openMessage(report.body.assignment, 'assign', validateAssignment, x => x.requestor)
    if (verdict.signer !== from || a.body.requestor !== from) throw new InvalidSignatureError('The verdict was not made by the assignment\'s requestor')
    this.provider.onVerdict(verdict.body, report.body, a.body)
    const paid = this.paidTasks.get(a.body.task)
    const earnings = this.components.earnings
    if (verdict.body.accepted && paid != null && earnings != null && a.body.provider === this.components.peerId.toString()) {
      // taken after the answer (the requestor waits for nothing it needs); while more of its work is under
      // here, the verdicts of that work will bring higher cheques, so this one settles with them
      const more = this.moreWorkOf(paid, a.body.id)
      this.taking.track(earnings.takeCheque(paid, cheque, { more }).catch((err: Error) => { this.log.error('cheque of %s not taken - %s', paid.payer, err.message) }))
    }
  }

  /** Whether work of `paid`'s payer on its deployment, other than assignment `except`, is under way here. */
  private moreWorkOf (paid: PaidTask, except: string): boolean {
    return this.provider.activeJobs.some(j => {
      const other = this.paidTasks.get(j.task)
      return j.assignment !== except && other != null && other.payer === paid.payer && sameDeployment(other.deployment, paid.deployment)
    })
  }

  private context (): ProviderContext {
    const { privateKey, router, addressManager, payments } = this.components
    return {
      self: this.components.peerId.toString(),
      log: this.log,
      addrs: () => addressManager.getAddresses().map(ma => ma.toString()).slice(0, 16),
      sign: async (kind, body) => await signMessage(privateKey, kind, body),
      payment: async () => await payments.binding(),
      mayOffer: async ({ header, payer }, signal) => {
        const earnings = this.components.earnings
        const paid = paidTask(header.id, payer, header.price, header.pay)
        if (earnings == null) return paid == null ? undefined : 'it is paid, and this provider reaches no chain'
        return await earnings.mayOffer(paid, { signal }).catch((err: Error) => `its requestor's deposit could not be checked: ${err.message}`)
      },
      request: async (peer, addrs, req, signal) => {
        const res = await router.request(peer, addrs, req, signal)
        // our next assignment and the requestor's verdict on our report, when they came with the answer (the work first)
        if (res.assign != null) {
          // refused here (paused, past its deadline…), it runs out its deadline at the requestor, like work stopped by a pause
          await this.onAnsweredAssignment(res.assign, peer, res.note).catch((err: Error) => { router.refused(peer, 'assign', err.message) })
        }
        if (res.verdict != null) {
          await this.onVerdict(res.verdict, peer, res.cheque).catch((err: Error) => { router.refused(peer, 'verdict', err.message) })
        }
      },
      fetch: async (address, token, signal) => {
        const storage = this.components.storage
        if (storage == null) throw new InvalidTaskError('This node has no storage client to fetch task resources with')
        return await getBytes(storage, address, { token, signal })
      }
    }
  }
}
