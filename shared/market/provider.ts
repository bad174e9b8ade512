import { TypedEventEmitter } from 'main-event'
import { parseAddress, sha256Hex } from '../storage/index.ts'
import { unpackInputs } from './input-bundle.ts'
import { InputMismatchError, InvalidSignatureError, InvalidTaskError, ReplayedMessageError, TaskDeadlineError, UnknownTaskError, ProviderPausedError } from './market-errors.ts'
import { DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_MODULE_BYTES, TaskOutputTooLargeError } from '../compute/index.ts'
import { MAX_RESULT_BYTES } from './market-codec.ts'
import type { VerifiedHeader } from './bound-messages.ts'
import type { Assignment, Offer, Report, Runtime, TaskClosed, TaskHeader, Verdict } from './market-codec.ts'
import type { MarketRequest, ReadTokens } from './market-wire.ts'
import type { TaskRunner } from '../compute/index.ts'
import type { Address } from '../payments/index.ts'
import type { Logger } from '@libp2p/interface'
import { unref } from '../util/index.ts'

export interface ProviderInit {
  runtime: Runtime
  /** Offer to work at all. @default true */
  enabled?: boolean
  /** Lowest price per subtask this provider takes. @default 0 */
  minPrice?: number
  /** Largest memory a task may ask for, MiB. @default 512 */
  maxMemoryMB?: number
  /** Largest module this provider fetches, bytes: checked on the header, before anything is fetched. @default 8 MiB */
  maxModuleBytes?: number
  /** Largest input bundle (all subtasks' inputs) it fetches, bytes. @default 64 MiB */
  maxInputBundleBytes?: number
  /**
   * Holds each subtask before it runs until the returned lease is granted, and
   * hears when it ended: how an embedder caps the CPU share (a duty cycle
   * between subtasks). @default none: subtasks run as soon as the runner takes them
   */
  gate?: SubtaskGate
  /**
   * Have requestors pay this address instead of this node's own (a widget's
   * site owner). Cheques and notes still name this node as the provider,
   * and the contract keeps one account per (requestor, payee, provider):
   * any number of providers may share a payee, and no provider's cheques
   * move another's account.
   * @default the node's payment address
   */
  payee?: Address
}

/** Admits subtasks to run (see ProviderInit.gate). */
export interface SubtaskGate {
  /** Resolves when a subtask may start; rejects when `signal` aborts. */
  enter: (signal: AbortSignal) => Promise<void>
  /** The subtask admitted last by `enter` ran for `ms` of wall time (failed ones too). */
  leave: (ms: number) => void
}

export interface ProviderContext {
  self: string
  log: Logger
  addrs: () => string[]
  sign: (kind: string, body: object) => Promise<string>
  /** This node's payment binding, carried in its offers. */
  payment: () => Promise<string>
  request: (peer: string, addrs: string[], req: MarketRequest, signal: AbortSignal) => Promise<void>
  /** Downloads a storage object (address + token) and checks its hash. */
  fetch: (address: string, token: string, signal: AbortSignal) => Promise<Uint8Array>
  /** Why not to offer for a task that suits us otherwise (its pay: a covering deposit), or undefined. @default always offer */
  mayOffer?: (task: VerifiedHeader, signal: AbortSignal) => Promise<string | undefined>
}

export type JobState = 'fetching' | 'queued' | 'running' | 'reporting' | 'done' | 'failed'

export interface ProviderJob {
  assignment: string
  task: string
  taskName: string
  requestor: string
  /** The requestor's payment address, from the binding in its signed header: who pays for this work. */
  payer: Address
  subtask: number
  state: JobState
  fraction?: number
  elapsedMs?: number
  error?: string
  /** Given up by giveUp() (paused): no result was computed, and none will be; its note pays for nothing. */
  givenUp?: boolean
}

export interface ProviderEvents {
  job: CustomEvent<ProviderJob>
  verdict: CustomEvent<{ task: string, subtask: number, accepted: boolean, reason: string }>
  offer: CustomEvent<{ task: string, requestor: string }>
  /** A task that suits this provider otherwise was not offered for: why (its requestor's deposit, its pay). */
  declined: CustomEvent<{ task: string, requestor: string, reason: string }>
}

interface KnownTask extends VerifiedHeader {
  controller: AbortController
  offeredAt: number
  /** The requestor's read tokens for the module and inputs: they come with assignments sent as requests, not with those in answers. */
  tokens?: ReadTokens
  resources?: Promise<{ module: Uint8Array, moduleHash: string, inputs: Uint8Array[] }>
}

const MAX_TASKS = 64
const REOFFER_AFTER = 10_000

/** Offers this node's cores to open tasks and runs what it is assigned. */
export class Provider extends TypedEventEmitter<ProviderEvents> {
  readonly init: ProviderInit
  accepted = 0
  rejected = 0
  private readonly ctx: ProviderContext
  private readonly runner: TaskRunner
  private readonly tasks = new Map<string, KnownTask>()
  private readonly seenAssignments = new Set<string>()
  private readonly jobs = new Map<string, ProviderJob>()
  /** Aborted by stop(): a report already on its way outlives its task's close, not the provider. */
  private stopping = new AbortController()
  /** Aborted by giveUp(): the subtasks under way are reported as given up. */
  private yielding = new AbortController()

  constructor (ctx: ProviderContext, runner: TaskRunner, init: ProviderInit) {
    super()
    this.ctx = ctx
    this.runner = runner
    this.init = init
  }

  /** The verified header (and payer) of a task this provider knows, to check an assignment that came without one. */
  known (task: string): VerifiedHeader | undefined {
    const known = this.tasks.get(task)
    return known == null ? undefined : { header: known.header, payer: known.payer }
  }

  get enabled (): boolean { return this.init.enabled !== false }
  set enabled (on: boolean) { this.init.enabled = on }
  get activeJobs (): ProviderJob[] { return [...this.jobs.values()] }

  /** A task header arrived by gossip: offer when it suits us. */
  async onHeader (task: VerifiedHeader): Promise<void> {
    const { header } = task
    if (header.requestor === this.ctx.self || !this.enabled || this.runner.paused) return
    if (!header.requirements.runtimes.includes(this.init.runtime) || header.price < (this.init.minPrice ?? 0)) return
    if (header.requirements.memoryMB > (this.init.maxMemoryMB ?? 512) || header.deadline < Date.now() + 1000) return
    const misfit = this.resourcesMisfit(header)
    if (misfit != null) {
      this.ctx.log('not offering for %s: %s', header.id, misfit)
      return
    }
    const known = this.remember(task)
    const working = this.activeJobs.some(j => j.task === header.id)
    if (known.offeredAt > 0 && (working || Date.now() - known.offeredAt < REOFFER_AFTER)) return
    known.offeredAt = Date.now()
    try {
      const why = await this.ctx.mayOffer?.(task, AbortSignal.any([known.controller.signal, AbortSignal.timeout(15_000)]))
      if (why != null) {
        this.ctx.log('not offering for %s: %s', header.id, why)
        this.safeDispatchEvent('declined', { detail: { task: header.id, requestor: header.requestor, reason: why } })
        return
      }
      const offer: Offer = { v: 1, type: 'offer', task: header.id, provider: this.ctx.self, providerAddrs: this.ctx.addrs(), runtime: this.init.runtime, cores: Math.max(1, this.runner.cores), price: header.price, at: Date.now(), payment: await this.ctx.payment(), ...(this.init.payee != null ? { payee: this.init.payee } : {}) }
      const msg = await this.ctx.sign('offer', offer)
      await this.ctx.request(header.requestor, header.requestorAddrs, { v: 1, kind: 'offer', msg }, AbortSignal.any([known.controller.signal, AbortSignal.timeout(15_000)]))
      this.safeDispatchEvent('offer', { detail: { task: header.id, requestor: header.requestor } })
    } catch (err: any) {
      known.offeredAt = 0
      this.ctx.log('offer for %s not delivered - %s', header.id, err.message)
    }
  }

  /**
   * Checks an assignment and queues it; throws a typed error to refuse it.
   * `tokens` come with an assignment sent as a request; one in the answer to
   * a report uses those the task already holds.
   */
  onAssign (assignment: Assignment, text: string, task: VerifiedHeader, from: string, tokens?: ReadTokens): void {
    const { header } = task
    if (assignment.provider !== this.ctx.self) throw new InvalidSignatureError('The assignment is for another provider')
    if (assignment.requestor !== header.requestor || from !== header.requestor || assignment.task !== header.id) throw new InvalidSignatureError('The assignment and its task header disagree')
    if (this.seenAssignments.has(assignment.id)) throw new ReplayedMessageError(`Assignment ${assignment.id} was already received`)
    if (assignment.deadline < Date.now() || header.deadline < Date.now()) throw new TaskDeadlineError('The assignment is already past its deadline')
    if (assignment.subtask >= header.subtasks) throw new InputMismatchError('The assignment names a subtask the task does not have')
    const misfit = this.resourcesMisfit(header)
    if (misfit != null) throw new InvalidTaskError(`This provider does not take the task: ${misfit}`)
    if (!this.enabled || this.runner.paused) throw new UnknownTaskError('This provider is paused')
    if (tokens == null && this.tasks.get(header.id)?.tokens == null) throw new UnknownTaskError(`No read tokens for task ${header.id} here`)
    this.seenAssignments.add(assignment.id)
    if (this.seenAssignments.size > 100_000) this.seenAssignments.clear()
    const known = this.remember(task)
    if (tokens != null) known.tokens = tokens
    const job: ProviderJob = { assignment: assignment.id, task: header.id, taskName: header.name, requestor: header.requestor, payer: known.payer, subtask: assignment.subtask, state: 'fetching' }
    this.jobs.set(assignment.id, job)
    this.update(job)
    void this.work(known, assignment, text, job)
  }

  onVerdict (verdict: Verdict, report: Report, assignment: Assignment): void {
    if (assignment.provider !== this.ctx.self) return
    if (verdict.accepted) this.accepted++
    else this.rejected++
    this.safeDispatchEvent('verdict', { detail: { task: assignment.task, subtask: assignment.subtask, accepted: verdict.accepted, reason: verdict.reason } })
  }

  /** The requestor closed the task: stop its work. */
  onClosed (closed: TaskClosed): void {
    const known = this.tasks.get(closed.task)
    if (known == null || known.header.requestor !== closed.requestor) return
    known.controller.abort(new UnknownTaskError(`Task ${closed.task} was closed (${closed.reason})`))
    this.tasks.delete(closed.task)
  }

  /**
   * Gives up every subtask under way: their workers stop and each requestor
   * hears at once (a ProviderPausedError report) and assigns it again,
   * instead of waiting out its deadline. Pair it with `enabled = false` or a
   * paused runner so no new work comes.
   */
  giveUp (reason: string): void {
    this.yielding.abort(new ProviderPausedError(reason))
    this.yielding = new AbortController()
  }

  stop (): void {
    this.stopping.abort()
    this.stopping = new AbortController()
    for (const t of this.tasks.values()) t.controller.abort()
    this.tasks.clear()
  }

  private remember ({ header, payer }: VerifiedHeader): KnownTask {
    let known = this.tasks.get(header.id)
    if (known == null) {
      known = { header, payer, controller: new AbortController(), offeredAt: 0 }
      this.tasks.set(header.id, known)
      // nobody works for a requestor past its deadline, connected or not
      const t = known
      unref(setTimeout(() => { t.controller.abort(new TaskDeadlineError('Task deadline passed')) }, Math.max(0, header.deadline - Date.now())))
      if (this.tasks.size > MAX_TASKS) {
        const oldest = [...this.tasks.values()].find(k => !this.activeJobs.some(j => j.task === k.header.id))
        if (oldest != null) this.tasks.delete(oldest.header.id)
      }
    }
    return known
  }

  private async work (known: KnownTask, a: Assignment, text: string, job: ProviderJob): Promise<void> {
    const yielding = this.yielding.signal
    const signal = AbortSignal.any([known.controller.signal, yielding, AbortSignal.timeout(Math.max(0, a.deadline - Date.now()))])
    let started = performance.now()
    let admitted = false
    let result: Report['result']
    let error: Report['error']
    let data: Uint8Array | undefined
    try {
      known.resources ??= this.fetchResources(known.header, known.tokens as ReadTokens, signal)
      const { module, moduleHash, inputs } = await known.resources.catch(err => { known.resources = undefined; throw err })
      const input = inputs[a.subtask]
      if (input == null || await sha256Hex(input) !== a.input) throw new InputMismatchError(`Subtask ${a.subtask}'s input does not match the assignment`)
      job.state = 'queued'
      this.update(job)
      if (this.init.gate != null) {
        await this.init.gate.enter(signal)
        admitted = true
        started = performance.now()
      }
      data = await this.runner.run({
        id: a.id,
        module,
        moduleHash,
        input,
        limits: { timeMs: Math.min(known.header.subtaskTimeout, a.deadline - Date.now()), memoryBytes: known.header.requirements.memoryMB * 1024 * 1024 }
      }, {
        signal,
        onProgress: p => {
          // the runner repeats 'queued' when it takes the job: only a new state or fraction is news
          const changed = p.state !== job.state || p.fraction !== job.fraction
          job.state = p.state
          job.fraction = p.fraction
          job.elapsedMs = p.elapsedMs
          if (changed) this.update(job)
        }
      })
      if (data.byteLength > MAX_RESULT_BYTES) throw new TaskOutputTooLargeError(`The result is ${data.byteLength} bytes; a report carries at most ${MAX_RESULT_BYTES}`)
      result = { sha256: await sha256Hex(data), size: data.byteLength }
    } catch (err: any) {
      if (yielding.aborted && !known.controller.signal.aborted) {
        // given up (paused): report it, so the requestor reassigns now rather than at the deadline
        const reason = yielding.reason as Error
        error = { name: reason.name, message: reason.message }
        job.givenUp = true
      } else if (signal.aborted) {
        // the assignment's own time runs out at the task's deadline too: name the task's, whichever timer fired first
        const reason = known.controller.signal.aborted || a.deadline < known.header.deadline ? (signal.reason as Error)?.message : 'Task deadline passed'
        this.finishJob(job, 'failed', `stopped: ${reason ?? 'aborted'}`)
        return
      } else {
        error = { name: String(err.name ?? 'Error').slice(0, 80), message: String(err.message ?? '').slice(0, 1000) }
      }
    } finally {
      if (admitted) this.init.gate?.leave(performance.now() - started)
    }
    job.state = 'reporting'
    // a failed run is known as failed from here on: 'reporting' without an error means a result was computed
    if (error != null) job.error = error.message
    this.update(job)
    const report: Report = { v: 1, type: 'report', assignment: text, provider: this.ctx.self, computeMs: Math.round(performance.now() - started), at: Date.now(), ...(result != null ? { result } : { error }) }
    try {
      const msg = await this.ctx.sign('report', report)
      // not the task's signal: the report that completes a task races the requestor's 'closed' gossip, and its answer carries our verdict
      await this.ctx.request(a.requestor, known.header.requestorAddrs, { v: 1, kind: 'report', msg, ...(data != null && result != null ? { data } : {}) }, AbortSignal.any([this.stopping.signal, AbortSignal.timeout(30_000)]))
      this.finishJob(job, error == null ? 'done' : 'failed', error?.message)
    } catch (err: any) {
      this.finishJob(job, 'failed', `report not delivered: ${err.message}`)
    }
  }

  /**
   * Why this provider won't fetch the task's resources, if it won't: too
   * big for its limits, or addresses that promise other bytes than the
   * signed header (the download is sized and checked by the address).
   */
  private resourcesMisfit (header: TaskHeader): string | undefined {
    const maxModule = this.init.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES
    const maxInputs = this.init.maxInputBundleBytes ?? DEFAULT_MAX_INPUT_BYTES
    if (header.module.size > maxModule) return `its module is ${header.module.size} bytes, the limit is ${maxModule}`
    if (header.inputs.size > maxInputs) return `its inputs are ${header.inputs.size} bytes, the limit is ${maxInputs}`
    for (const ref of [header.module, header.inputs]) {
      let address
      try {
        address = parseAddress(ref.address)
      } catch {
        return 'a resource address does not parse'
      }
      if (address.size !== ref.size || address.sha256 !== ref.sha256) return 'a resource address disagrees with the header'
    }
    return undefined
  }

  private async fetchResources (header: TaskHeader, tokens: ReadTokens, signal: AbortSignal): Promise<{ module: Uint8Array, moduleHash: string, inputs: Uint8Array[] }> {
    const [module, bundle] = await Promise.all([
      this.ctx.fetch(header.module.address, tokens.module, signal),
      this.ctx.fetch(header.inputs.address, tokens.inputs, signal)
    ])
    const inputs = unpackInputs(bundle)
    if (inputs.length !== header.subtasks) throw new InputMismatchError(`The bundle holds ${inputs.length} inputs, the header says ${header.subtasks}`)
    return { module, moduleHash: header.module.sha256, inputs }
  }

  private finishJob (job: ProviderJob, state: 'done' | 'failed', error?: string): void {
    job.state = state
    if (error != null) job.error = error
    this.update(job)
    this.jobs.delete(job.assignment)
  }

  private update (job: ProviderJob): void {
    this.safeDispatchEvent('job', { detail: { ...job } })
  }
}
