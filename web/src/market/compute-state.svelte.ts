import { TaskBoard } from './task-board.svelte.ts'
import { saveComputeSettings } from './compute-settings.ts'
import type { Market, ProviderJob, TaskFeedStatus, TaskHeader } from '../../../shared/market/index.ts'
import type { TaskRunner, TaskRunnerState } from '../../../shared/compute/index.ts'
import type { Lifetime } from '../lifetime.ts'
import type { MandelbrotRequest, PrimesRequest, TaskBoardInit } from './task-board.svelte.ts'
import type { TaskView } from './task-view.ts'

export type { TaskView, TileView } from './task-view.ts'
export type { MandelbrotRequest, PrimesRequest } from './task-board.svelte.ts'

/** What the compute side needs, handed in by the page state (it knows no node state). */
export interface ComputeInit extends Omit<TaskBoardInit, 'life'> {
  /** The sandbox pool this tab lends; the page made it, so it steers it (cores, pause) itself. */
  runner: TaskRunner
  /** Whether the visitor lends the CPU. @default true */
  enabled?: boolean
  /** The page's timers and listeners: ending it releases this state's. */
  life: Lifetime
}

const MAX_JOBS = 24
/** Least time between two redraws of the provider's job list, ms. */
const UI_INTERVAL = 250

/** The page's side of the compute market: this tab as provider and as requestor. */
export class ComputeState {
  jobs = $state<ProviderJob[]>([])
  runner = $state<TaskRunnerState>()
  enabled = $state(true)
  accepted = $state(0)
  rejected = $state(0)
  seen = $state<TaskHeader[]>([])
  /** The node's market is up: lending means something from now on. */
  attached = $state(false)
  /** The tasks feed (gossip subscription, peers on the topic, last header), read every few seconds. */
  feed = $state<TaskFeedStatus>()
  /** The tasks this tab submitted (this tab as requestor). */
  readonly board: TaskBoard
  private market?: Market
  private readonly life: Lifetime
  private readonly taskRunner: TaskRunner

  constructor (init: ComputeInit) {
    this.taskRunner = init.runner
    this.enabled = init.enabled ?? true
    this.life = init.life
    this.board = new TaskBoard(init)
  }

  /** Newest first. */
  get tasks (): TaskView[] { return this.board.tasks }
  /** Bumped when a task's picture changed; canvases redraw on it. */
  get frame (): number { return this.board.frame }

  /** Peers this tab caught with wrong results. */
  penalised (): string[] {
    return [...(this.market?.penalised.keys() ?? [])]
  }

  /**
   * Subscribes to the node's market once it runs, and loads the task history
   * of `owner` (this tab's peer ID); every listener and timer goes when the
   * page's life ends.
   */
  attach (market: Market, owner?: string): void {
    if (this.market != null || this.life.ended) return
    this.market = market
    this.attached = true
    this.feed = market.feed
    this.life.every(5_000, () => { this.feed = market.feed })
    void this.board.attach(market, owner)
    const { signal } = this.life
    const runner = this.taskRunner
    const provider = market.provider
    // a busy provider changes its state several times per subtask; each redraw takes CPU from the
    // subtasks themselves, so the card redraws at most every UI_INTERVAL
    let scheduled = false
    let runnerState: TaskRunnerState | undefined
    const changed = new Map<string, ProviderJob>()
    let verdicts = { accepted: 0, rejected: 0 }
    const flush = (): void => {
      scheduled = false
      if (runnerState != null) this.runner = runnerState
      runnerState = undefined
      if (changed.size > 0) {
        const fresh = [...changed.values()].reverse()
        changed.clear()
        const seen = new Set(fresh.map(j => j.assignment))
        this.jobs = [...fresh, ...this.jobs.filter(j => !seen.has(j.assignment))].slice(0, MAX_JOBS)
      }
      if (verdicts.accepted > 0) this.accepted += verdicts.accepted
      if (verdicts.rejected > 0) this.rejected += verdicts.rejected
      verdicts = { accepted: 0, rejected: 0 }
    }
    const later = (): void => {
      if (scheduled) return
      scheduled = true
      this.life.after(UI_INTERVAL, flush)
    }
    this.runner = { ...runner.state }
    runner.addEventListener('runner:state', (evt) => {
      runnerState = { ...evt.detail }
      later()
    }, { signal })
    if (provider != null) {
      // the visitor may have switched lending while the node started
      provider.enabled = this.enabled
      provider.addEventListener('job', (evt) => {
        changed.delete(evt.detail.assignment)
        changed.set(evt.detail.assignment, evt.detail)
        later()
      }, { signal })
      provider.addEventListener('verdict', (evt) => {
        if (evt.detail.accepted) verdicts.accepted++
        else verdicts.rejected++
        later()
      }, { signal })
    }
    market.addEventListener('task:seen', () => { this.seen = market.openTasks() }, { signal })
    market.addEventListener('task:closed', () => { this.seen = market.openTasks() }, { signal })
  }

  setCores (n: number): void {
    this.taskRunner.setCores(n)
    saveComputeSettings({ cores: n })
  }

  setPaused (paused: boolean): void {
    if (paused) this.taskRunner.pause()
    else this.taskRunner.resume()
  }

  setEnabled (on: boolean): void {
    const provider = this.market?.provider
    if (provider != null) provider.enabled = on
    this.enabled = on
    saveComputeSettings({ enabled: on })
  }

  async submitMandelbrot (req: MandelbrotRequest): Promise<TaskView> { return await this.board.submitMandelbrot(req) }
  async submitPrimes (req: PrimesRequest): Promise<TaskView> { return await this.board.submitPrimes(req) }
  cancel (idOrKey: string): boolean { return this.board.cancel(idOrKey) }
}
