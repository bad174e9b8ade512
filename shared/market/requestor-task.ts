import { TypedEventEmitter } from 'main-event'
import { sha256Hex } from '../storage/index.ts'
import { BudgetExhaustedError, InvalidSignatureError, NoProvidersError, ReplayedMessageError, ResultMismatchError, TaskCancelledError, TaskDeadlineError, UnknownTaskError } from './market-errors.ts'
import { validateAssignment } from './market-codec.ts'
import { Scheduler } from './scheduler.ts'
import { openMessage } from './signed.ts'
import { InFlight } from '../util/index.ts'
import type { Assignment, Offer, Report, TaskHeader } from './market-codec.ts'
import type { RequestorTaskEvents, SubtaskResult } from './market-types.ts'
import type { MarketReply, MarketRequest } from './market-wire.ts'
import type { MarketCheque, MarketNote, PaymentAccountKey } from '../payments/index.ts'
import type { Logger } from '@libp2p/interface'

/** What a running task needs from the market service. */
export interface RequestorContext {
  self: string
  log: Logger
  sign: (kind: string, body: object) => Promise<string>
  request: (peer: string, addrs: string[], req: MarketRequest, signal: AbortSignal) => Promise<void>
  readToken: (grantee: string, ref: TaskHeader['module']) => Promise<string>
  announce: (task: RequestorTask) => Promise<void>
  close: (task: RequestorTask, reason: 'done' | 'cancelled' | 'expired') => Promise<void>
  penalise: (peer: string) => void
  /** Providers caught cheating (in this or an earlier task) get no work. */
  distrusted: (peer: string) => boolean
  /** A paid task's payments (RequestorPayments bound to its terms); absent for an unpaid task. */
  pay?: TaskPay
}

/** How a paid task pays: a note with each assignment, a cheque with each accepted verdict. */
export interface TaskPay {
  /** Assignments the budget pays notes for. */
  maxAssignments: number
  note: (to: PaymentAccountKey, subtask: number) => Promise<{ note: MarketNote, seq: bigint }>
  cheque: (to: PaymentAccountKey, seq: bigint) => Promise<MarketCheque>
}

interface Provider { id: string, addrs: string[], slots: number, busy: number }

interface Running { subtask: number, provider: string, timer: ReturnType<typeof setTimeout> }

/** One submitted task, from its header to its last verdict. */
export class RequestorTask extends TypedEventEmitter<RequestorTaskEvents> {
  readonly header: TaskHeader
  readonly signedHeader: string
  readonly inputHashes: string[]
  readonly results: Array<SubtaskResult | undefined>
  /** Providers that offered, and whom this task pays for each one's work (its binding's address, and its offer's payee if any; the latest offer's). */
  readonly payees = new Map<string, PaymentAccountKey>()
  readonly done: Promise<SubtaskResult[]>
  /** Verdicts sent on their own, still on their way: a graceful stop lets them arrive. */
  readonly sending = new InFlight()
  private readonly ctx: RequestorContext
  private readonly scheduler: Scheduler
  private readonly providers = new Map<string, Provider>()
  private readonly running = new Map<string, Running>()
  /** A paid task's assignments: whom each pays and its seq, which the cheque for it names. */
  private readonly paid = new Map<string, { payee: PaymentAccountKey, seq: bigint }>()
  /** Assignments made: a paid task makes no more than its budget pays notes for. */
  private issued = 0
  /** Given-up assignments whose notes the budget took back (at most one per subtask: a provider that takes work only to give it up gets no endless notes). */
  private refunded = 0
  /** Reported bytes kept until their subtask is decided. */
  private readonly pending = new Map<string, { data: Uint8Array, computeMs: number, provider: string }>()
  private readonly controller = new AbortController()
  private readonly settle: { resolve: (r: SubtaskResult[]) => void, reject: (e: Error) => void }
  private deadlineTimer?: ReturnType<typeof setTimeout>
  private finished = false
  /** Finished with every result: late replicas may still be judged. */
  private succeeded = false

  constructor (ctx: RequestorContext, header: TaskHeader, signedHeader: string, inputHashes: string[]) {
    super()
    this.ctx = ctx
    this.header = header
    this.signedHeader = signedHeader
    this.inputHashes = inputHashes
    this.results = new Array(header.subtasks).fill(undefined)
    this.scheduler = new Scheduler({ subtasks: header.subtasks, k: header.verification.k })
    let settle: RequestorTask['settle'] | undefined
    this.done = new Promise<SubtaskResult[]>((resolve, reject) => { settle = { resolve, reject } })
    this.done.catch(() => {})
    this.settle = settle as RequestorTask['settle']
  }

  get id (): string { return this.header.id }
  get isFinished (): boolean { return this.finished }
  get signal (): AbortSignal { return this.controller.signal }

  start (): void {
    this.deadlineTimer = setTimeout(() => { this.fail(new TaskDeadlineError(`Task ${this.id} passed its deadline with ${this.scheduler.doneCount}/${this.header.subtasks} subtasks done`), 'expired') }, Math.max(0, this.header.deadline - Date.now()))
    this.progress()
  }

  cancel (): void {
    this.fail(new TaskCancelledError(`Task ${this.id} was cancelled`), 'cancelled')
  }

  /** A verified offer; `payee` says whom its work is paid to: the provider's own payment address (from its binding) and its beneficiary. */
  onOffer (offer: Offer, payee: PaymentAccountKey): void {
    if (this.finished || this.scheduler.isExcluded(offer.provider) || this.ctx.distrusted(offer.provider) || !this.header.requirements.runtimes.includes(offer.runtime)) return
    this.payees.set(offer.provider, payee)
    const known = this.providers.get(offer.provider)
    // one job queued behind each core hides the report → assign round trip
    const slots = Math.max(1, offer.cores) + 1
    if (known != null) {
      known.slots = slots
      known.addrs = offer.providerAddrs
    } else {
      this.providers.set(offer.provider, { id: offer.provider, addrs: offer.providerAddrs, slots, busy: 0 })
      this.safeDispatchEvent('offer', { detail: { provider: offer.provider, runtime: offer.runtime, cores: offer.cores, payee: payee.beneficiary } })
    }
    this.pump()
  }

  /** The provider left (disconnected): its running subtasks go to others. */
  providerGone (peer: string): void {
    const p = this.providers.get(peer)
    if (p == null) return
    this.providers.delete(peer)
    for (const id of this.scheduler.runningOf(peer)) this.abandon(id, 'provider left')
    this.pump()
  }

  private pump (): void {
    if (this.finished) return
    for (const p of [...this.providers.values()].sort((a, b) => a.busy - b.busy)) {
      while (p.busy < p.slots && this.affordable()) {
        const subtask = this.scheduler.next(p.id)
        if (subtask == null) break
        void this.assign(p, subtask)
      }
    }
    this.progress()
  }

  /** Whether the budget pays for another assignment (an unpaid task: always). */
  private affordable (): boolean {
    return this.ctx.pay == null || this.issued < this.ctx.pay.maxAssignments
  }

  /** Books `subtask` for `p` (scheduler, slot, deadline timer); the assignment is signed and sent next. */
  private reserve (p: Provider, subtask: number): { id: string, subtask: number, deadline: number } {
    const id = crypto.randomUUID()
    this.issued++
    this.scheduler.assigned(id, subtask, p.id)
    p.busy++
    const deadline = Math.min(this.header.deadline, Date.now() + this.header.subtaskTimeout)
    const timer = setTimeout(() => { this.abandon(id, 'missed its deadline') }, deadline - Date.now())
    this.running.set(id, { subtask, provider: p.id, timer })
    return { id, subtask, deadline }
  }

  private async signAssignment (p: Provider, r: { id: string, subtask: number, deadline: number }): Promise<string> {
    const body: Assignment = {
      v: 1, type: 'assign', id: r.id, task: this.id, requestor: this.ctx.self, provider: p.id, subtask: r.subtask,
      input: this.inputHashes[r.subtask] as string,
      deadline: r.deadline, at: Date.now()
    }
    return await this.ctx.sign('assign', body)
  }

  /** The promissory note for assignment `id` of a paid task (undefined: unpaid), remembered for its cheque. */
  private async note (id: string, provider: string, subtask: number): Promise<MarketNote | undefined> {
    const pay = this.ctx.pay
    if (pay == null) return undefined
    const payee = this.payees.get(provider)
    if (payee == null) throw new InvalidSignatureError(`No payment address for ${provider}`)
    const { note, seq } = await pay.note(payee, subtask)
    this.paid.set(id, { payee, seq })
    return note
  }

  private async assign (p: Provider, subtask: number): Promise<void> {
    const booked = this.reserve(p, subtask)
    const id = booked.id
    try {
      const [msg, module, inputs, note] = await Promise.all([this.signAssignment(p, booked), this.ctx.readToken(p.id, this.header.module), this.ctx.readToken(p.id, this.header.inputs), this.note(id, p.id, subtask)])
      await this.ctx.request(p.id, p.addrs, { v: 1, kind: 'assign', msg, header: this.signedHeader, tokens: { module, inputs }, ...(note != null ? { note } : {}) }, AbortSignal.any([this.controller.signal, AbortSignal.timeout(15_000)]))
      this.safeDispatchEvent('assigned', { detail: { subtask, provider: p.id, assignment: id } })
    } catch (err: any) {
      if (this.finished) return
      this.ctx.log('assignment of %d to %s refused - %s', subtask, p.id, err.message)
      // a refusal doesn't count as a try; the provider gets no more until it offers again
      this.release(id)
      this.scheduler.withdrawn(id)
      this.providers.delete(p.id)
      this.pump()
    }
  }

  /**
   * Handles a report; throws a typed error (sent back as the refusal) when
   * it is bad. The answer carries the signed verdict on this very report
   * when it decided its subtask at once (k = 1), and the provider's next
   * assignment: a report and its answer are then the only messages a
   * subtask costs.
   */
  async onReport (report: Report, from: string, data: Uint8Array | undefined): Promise<MarketReply> {
    if (this.finished && !this.succeeded) throw new UnknownTaskError(`Task ${this.id} is over`)
    const assignment = await openMessage(report.assignment, 'assign', validateAssignment, a => a.requestor)
    const a = assignment.body
    if (a.requestor !== this.ctx.self || a.task !== this.id) throw new InvalidSignatureError('The report nests an assignment this requestor did not make')
    if (a.provider !== from || report.provider !== from) throw new InvalidSignatureError('The report comes from another provider than the assignment names')
    const replica = this.scheduler.replica(a.id)
    if (replica == null || replica.state === 'reported') throw new ReplayedMessageError(`Assignment ${a.id} was already reported`)
    if (replica.state === 'failed') throw new TaskDeadlineError(`Assignment ${a.id} expired before its report`)
    if (this.finished) return await this.lateReport(a.id, a.subtask, report, from, data)
    if (report.error?.name === 'ProviderPausedError') {
      // given up by a provider that paused (a hidden widget): not a failed try, and no more for it until it offers again
      this.release(a.id)
      this.scheduler.withdrawn(a.id)
      this.providers.delete(from)
      // its note pays for nothing (the provider's signed report says it gave the subtask up), so a
      // paid task's budget takes the assignment back: widgets that pause often would use it up otherwise
      if (this.ctx.pay != null && this.refunded < this.header.subtasks) {
        this.refunded++
        this.issued--
      }
      this.safeDispatchEvent('reassigned', { detail: { subtask: a.subtask, provider: from, reason: `gave it up (${report.error.message})` } })
      this.pump()
      return {}
    }
    if (report.error != null || report.result == null) {
      this.abandon(a.id, `${report.error?.name ?? 'Error'}: ${report.error?.message ?? ''}`)
      this.pump()
      return {}
    }
    const bytes = data ?? new Uint8Array(0)
    const sha = await sha256Hex(bytes)
    if (sha !== report.result.sha256 || bytes.byteLength !== report.result.size) {
      this.abandon(a.id, 'result failed its hash check')
      this.punish(from, a.subtask, 'result does not match its hash')
      throw new ResultMismatchError('The result bytes do not hash to the reported SHA-256')
    }
    this.release(a.id)
    this.pending.set(a.id, { data: bytes, computeMs: report.computeMs, provider: from })
    const decision = this.scheduler.reported(a.id, sha)
    let own: { accepted: boolean, reason: string } | undefined
    if (decision != null) {
      const winner = this.pending.get(decision.winners[0] ?? '')
      if (winner != null && this.results[decision.subtask] == null) {
        const result: SubtaskResult = { subtask: decision.subtask, provider: winner.provider, sha256: decision.sha, data: winner.data, computeMs: winner.computeMs }
        this.results[decision.subtask] = result
        this.safeDispatchEvent('result', { detail: result })
      }
      for (const id of decision.winners) {
        if (id === a.id) own = { accepted: true, reason: 'accepted' }
        else this.sending.track(this.verdict(id, true, 'accepted'))
      }
      for (const id of decision.losers) {
        const loser = this.pending.get(id)
        if (loser != null) this.punish(loser.provider, decision.subtask, 'outvoted by the majority')
        if (id === a.id) own = { accepted: false, reason: 'outvoted by the majority' }
        else this.sending.track(this.verdict(id, false, 'outvoted by the majority'))
      }
    }
    // the slot this report freed: book the provider's next subtask before pump() hands it to anyone
    const p = this.providers.get(from)
    const nextSubtask = p != null && !this.finished && p.busy < p.slots && this.affordable() ? this.scheduler.next(from) : undefined
    const booked = p != null && nextSubtask != null ? this.reserve(p, nextSubtask) : undefined
    this.pump()
    this.checkFinished()
    const reply: MarketReply = {}
    // both signatures at once: the answer waits for the slower
    await Promise.all([
      own == null
        ? undefined
        : this.signVerdict(a.id, own.accepted, own.reason).then(v => {
          reply.verdict = v?.msg
          if (v?.cheque != null) reply.cheque = v.cheque
        }, (err: Error) => {
          this.ctx.log('verdict for %s not signed - %s', a.id, err.message)
        }),
      booked == null || p == null
        ? undefined
        : Promise.all([this.signAssignment(p, booked), this.note(booked.id, p.id, booked.subtask)]).then(([msg, note]) => {
          if (this.finished) throw new UnknownTaskError(`Task ${this.id} is over`)
          reply.assign = msg
          if (note != null) reply.note = note
          reply.undelivered = () => { this.unbook(booked.id) }
          this.safeDispatchEvent('assigned', { detail: { subtask: booked.subtask, provider: p.id, assignment: booked.id } })
        }).catch((err: Error) => {
          this.ctx.log('assignment of %d to %s not signed - %s', booked.subtask, p.id, err.message)
          this.unbook(booked.id)
        })
    ])
    return reply
  }

  /**
   * A replica still out when the task completed: judged once against the
   * decided result, so a cheat that reports after the honest majority is
   * still caught (and an honest straggler hears it agreed).
   */
  private async lateReport (id: string, subtask: number, report: Report, from: string, data: Uint8Array | undefined): Promise<MarketReply> {
    if (report.error != null || report.result == null) {
      this.scheduler.failed(id)
      return {}
    }
    const bytes = data ?? new Uint8Array(0)
    const sha = await sha256Hex(bytes)
    if (sha !== report.result.sha256 || bytes.byteLength !== report.result.size) {
      this.scheduler.failed(id)
      this.punish(from, subtask, 'result does not match its hash')
      throw new ResultMismatchError('The result bytes do not hash to the reported SHA-256')
    }
    this.pending.set(id, { data: new Uint8Array(0), computeMs: report.computeMs, provider: from })
    const decision = this.scheduler.reported(id, sha)
    if (decision == null) throw new UnknownTaskError(`Task ${this.id} is over`)
    const accepted = decision.winners.includes(id)
    if (!accepted) this.punish(from, decision.subtask, 'outvoted by the majority')
    const verdict = await this.signVerdict(id, accepted, accepted ? 'accepted' : 'outvoted by the majority')
    return verdict != null ? { verdict: verdict.msg, ...(verdict.cheque != null ? { cheque: verdict.cheque } : {}) } : {}
  }

  /** A booked assignment that never reached its provider: the subtask goes back to the pool, not counted as a try. */
  private unbook (id: string): void {
    if (this.finished) return
    this.release(id)
    this.scheduler.withdrawn(id)
    this.pump()
  }

  private pendingReports = new Map<string, string>()

  /** Remembers the signed report so the verdict can nest it. */
  noteReport (assignmentId: string, text: string): void {
    this.pendingReports.set(assignmentId, text)
  }

  /**
   * Takes the report and result kept for assignment `id` and signs the
   * verdict on them, with the cheque that pays for it when accepted (a paid
   * task); undefined when there is nothing left to judge.
   */
  private async signVerdict (id: string, accepted: boolean, reason: string): Promise<{ msg: string, provider: string, cheque?: MarketCheque } | undefined> {
    const report = this.pendingReports.get(id)
    const entry = this.pending.get(id)
    const paid = this.paid.get(id)
    this.pending.delete(id)
    this.pendingReports.delete(id)
    this.paid.delete(id)
    if (report == null || entry == null) return undefined
    const [msg, cheque] = await Promise.all([
      this.ctx.sign('verdict', { v: 1, type: 'verdict', report, requestor: this.ctx.self, accepted, reason, at: Date.now() }),
      accepted && paid != null && this.ctx.pay != null
        ? this.ctx.pay.cheque(paid.payee, paid.seq).catch((err: Error) => {
          // the verdict goes anyway; the provider sees the short payment and stops working for us
          this.ctx.log.error('cheque for %s not signed - %s', id, err.message)
          return undefined
        })
        : undefined
    ])
    return { msg, provider: entry.provider, ...(cheque != null ? { cheque } : {}) }
  }

  /** A verdict decided later than its report (redundancy): sent on its own. */
  private async verdict (id: string, accepted: boolean, reason: string): Promise<void> {
    try {
      const signed = await this.signVerdict(id, accepted, reason)
      if (signed == null) return
      const addrs = this.providers.get(signed.provider)?.addrs ?? []
      await this.ctx.request(signed.provider, addrs, { v: 1, kind: 'verdict', msg: signed.msg, ...(signed.cheque != null ? { cheque: signed.cheque } : {}) }, AbortSignal.timeout(10_000))
    } catch (err: any) {
      this.ctx.log('verdict for %s not delivered - %s', id, err.message)
    }
  }

  private punish (provider: string, subtask: number, reason: string): void {
    this.scheduler.exclude(provider)
    this.ctx.penalise(provider)
    this.safeDispatchEvent('rejected', { detail: { subtask, provider, reason } })
    const p = this.providers.get(provider)
    if (p != null) p.slots = 0
  }

  private abandon (id: string, reason: string): void {
    const r = this.running.get(id)
    if (r == null) return
    this.release(id)
    this.scheduler.failed(id)
    this.safeDispatchEvent('reassigned', { detail: { subtask: r.subtask, provider: r.provider, reason } })
    this.checkFinished()
    this.pump()
  }

  private release (id: string): void {
    const r = this.running.get(id)
    if (r == null) return
    clearTimeout(r.timer)
    this.running.delete(id)
    const p = this.providers.get(r.provider)
    if (p != null) p.busy = Math.max(0, p.busy - 1)
  }

  private checkFinished (): void {
    if (this.finished) return
    if (this.scheduler.complete) {
      this.finish()
      return
    }
    const failed = this.scheduler.failedSubtasks
    if (failed.length > 0) this.fail(new NoProvidersError(`Subtasks ${failed.join(', ')} failed on every provider tried`), 'cancelled')
    else if (!this.affordable() && this.running.size === 0) this.fail(new BudgetExhaustedError(`Task ${this.id} made the ${this.issued} assignments its budget pays for with ${this.scheduler.doneCount}/${this.header.subtasks} subtasks decided`), 'cancelled')
  }

  private finish (): void {
    this.finished = true
    this.succeeded = true
    this.stopAll()
    const results = this.results as SubtaskResult[]
    this.progress()
    void this.ctx.close(this, 'done')
    this.safeDispatchEvent('done', { detail: { task: this.id, results } })
    this.settle.resolve(results)
  }

  private fail (error: Error, reason: 'cancelled' | 'expired'): void {
    if (this.finished) return
    this.finished = true
    this.stopAll()
    void this.ctx.close(this, reason)
    this.safeDispatchEvent('failed', { detail: { task: this.id, error } })
    this.settle.reject(error)
  }

  private stopAll (): void {
    clearTimeout(this.deadlineTimer)
    for (const r of this.running.values()) clearTimeout(r.timer)
    this.running.clear()
    this.controller.abort()
  }

  private progress (): void {
    this.safeDispatchEvent('progress', { detail: { task: this.id, done: this.scheduler.doneCount, total: this.header.subtasks, running: this.running.size, providers: this.providers.size } })
  }
}
