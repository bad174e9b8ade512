import { mandelbrotJob, primesJob } from '../../../tasks/demo-jobs.ts'
import type { MandelbrotJob, PrimesJob } from '../../../tasks/demo-jobs.ts'
import type { Market, ProviderJob, TaskHeader } from '../../../shared/market/index.ts'
import type { TaskRunner, TaskRunnerState } from '../../../shared/compute/index.ts'
import type { Lifetime } from '../lifetime.ts'
import { saveComputeSettings } from './compute-settings.ts'
import { InternalError, NotStartedError } from '../../../shared/errors.ts'

export interface TileView { subtask: number, provider: string, left: number, top: number, width: number, height: number }

export interface TaskView {
  id: string
  kind: 'mandelbrot' | 'primes'
  name: string
  state: 'storing' | 'running' | 'done' | 'failed'
  total: number
  done: number
  running: number
  providers: number
  k: number
  width?: number
  height?: number
  tiles: TileView[]
  answer?: { count: number, largest: number }
  rejected: Array<{ subtask: number, provider: string, reason: string }>
  reassigned: number
  error?: string
  startedAt: number
  finishedAt?: number
}

export interface MandelbrotRequest { width: number, height: number, tile: number, maxIter: number, k: number }
export interface PrimesRequest { to: number, parts: number, k: number }

/** What the compute side needs, handed in by the page state (it knows no node state). */
export interface ComputeInit {
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

async function fetchModule (name: string): Promise<Uint8Array> {
  const res = await fetch(new URL(`/tasks/${name}.wasm`, window.location.href))
  if (!res.ok) throw new InternalError(`Could not load the ${name} task module (${res.status})`)
  return new Uint8Array(await res.arrayBuffer())
}

/** The page's side of the compute market: this tab as provider and as requestor. */
export class ComputeState {
  jobs = $state<ProviderJob[]>([])
  runner = $state<TaskRunnerState>()
  enabled = $state(true)
  accepted = $state(0)
  rejected = $state(0)
  tasks = $state<TaskView[]>([])
  seen = $state<TaskHeader[]>([])
  /** Bumped when a task's picture changed; canvases redraw on it. */
  frame = $state(0)
  /** Pixels per task, outside Svelte's proxies (large buffers). */
  readonly pixels = new Map<string, Uint8Array>()
  private market?: Market
  private readonly life: Lifetime
  private readonly taskRunner: TaskRunner

  constructor (init: ComputeInit) {
    this.taskRunner = init.runner
    this.enabled = init.enabled ?? true
    this.life = init.life
  }

  /** Peers this tab caught with wrong results. */
  penalised (): string[] {
    return [...(this.market?.penalised.keys() ?? [])]
  }

  /** Subscribes to the node's market once it runs; every listener and timer goes when the page's life ends. */
  attach (market: Market): void {
    if (this.market != null || this.life.ended) return
    this.market = market
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

  async submitMandelbrot (req: MandelbrotRequest): Promise<TaskView> {
    const job = mandelbrotJob({ width: req.width, height: req.height, tile: req.tile, maxIter: req.maxIter })
    return await this.submit('mandelbrot', `Mandelbrot ${req.width}×${req.height}`, job, req.k, { width: req.width, height: req.height })
  }

  async submitPrimes (req: PrimesRequest): Promise<TaskView> {
    const job = primesJob({ from: 0, to: req.to, parts: req.parts })
    return await this.submit('primes', `Primes below ${req.to.toLocaleString('en')}`, job, req.k, {})
  }

  private async submit (kind: 'mandelbrot' | 'primes', name: string, job: MandelbrotJob | PrimesJob, k: number, size: { width?: number, height?: number }): Promise<TaskView> {
    const view: TaskView = { id: crypto.randomUUID(), kind, name, state: 'storing', total: job.inputs.length, done: 0, running: 0, providers: 0, k, tiles: [], rejected: [], reassigned: 0, startedAt: Date.now(), ...size }
    this.tasks.unshift(view)
    const live = this.tasks[0] as TaskView
    try {
      const market = this.market
      if (market == null || this.life.ended) throw new NotStartedError('The node is not running')
      const task = await market.submit({ name, module: await fetchModule(kind), inputs: job.inputs, k })
      live.id = task.id
      live.state = 'running'
      if ('place' in job) this.pixels.set(task.id, job.pixels)
      const { signal } = this.life
      task.addEventListener('progress', (evt) => {
        live.done = evt.detail.done
        live.running = evt.detail.running
        live.providers = evt.detail.providers
      }, { signal })
      task.addEventListener('result', (evt) => {
        const r = evt.detail
        if ('place' in job) {
          job.place(r.subtask, r.data)
          const t = job.tiles[r.subtask]
          if (t != null) live.tiles.push({ subtask: r.subtask, provider: r.provider, left: t.left, top: t.top, width: t.width, height: t.height })
          this.frame++
        }
      }, { signal })
      task.addEventListener('rejected', (evt) => { live.rejected.push({ ...evt.detail }) }, { signal })
      task.addEventListener('reassigned', () => { live.reassigned++ }, { signal })
      const results = await task.done
      if (!('place' in job)) live.answer = job.combine(results.map(r => r.data))
      live.state = 'done'
    } catch (err: any) {
      live.error = `${String(err.name ?? 'Error')}: ${String(err.message ?? err)}`
      live.state = 'failed'
    }
    live.finishedAt = Date.now()
    return $state.snapshot(live) as TaskView
  }
}
