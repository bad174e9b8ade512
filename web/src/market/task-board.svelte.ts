import { mandelbrotJob, primesJob } from '../../../tasks/demo-jobs.ts'
import { HISTORY_MAX, imagesToKeep, openTaskHistory, restoredView } from './task-history.ts'
import { isFinal, livePhase } from './task-phase.ts'
import { encodePng } from './png.ts'
import { TaskCancelledError } from '../../../shared/market/index.ts'
import { ChainUnavailableError, DepositTooSmallError } from '../../../shared/payments/index.ts'
import { InternalError, NotStartedError } from '../../../shared/errors.ts'
import type { MandelbrotJob, PrimesJob } from '../../../tasks/demo-jobs.ts'
import type { Market, RequestorTask } from '../../../shared/market/index.ts'
import type { Lifetime } from '../lifetime.ts'
import type { EncodePng } from './png.ts'
import type { TaskHistory } from './task-history.ts'
import type { TaskView } from './task-view.ts'

/** `price`: per accepted subtask in the token's base units, when the relay runs a chain (a paid task). */
export interface MandelbrotRequest { width: number, height: number, tile: number, maxIter: number, k: number, price?: number }
export interface PrimesRequest { to: number, parts: number, k: number, price?: number }

export interface TaskBoardInit {
  life: Lifetime
  /** Where an identity's task history is kept. @default IndexedDB (`persistedList`) */
  history?: (owner: string) => TaskHistory
  /** Makes the PNG of a finished picture. @default an OffscreenCanvas */
  encodePng?: EncodePng
  /** A demo task's WebAssembly module. @default fetched from the page's `/tasks/` */
  module?: (kind: TaskView['kind']) => Promise<Uint8Array>
}

/** Finished pictures kept as raw pixels (the PNG is 4× smaller; the newest stay quick to redraw and to read by the test hooks). */
const RAW_PICTURES = 2
/** How often live tasks are looked at for waiting / stalled, ms. */
const PHASE_INTERVAL = 1_000

async function fetchModule (name: string): Promise<Uint8Array> {
  const res = await fetch(new URL(`/tasks/${name}.wasm`, window.location.href))
  if (!res.ok) throw new InternalError(`Could not load the ${name} task module (${res.status})`)
  return new Uint8Array(await res.arrayBuffer())
}

/**
 * The tasks this tab submitted: any number at once, each cancellable, with
 * a state that says when it waits for providers or stalls; the history and
 * finished pictures are kept per identity across reloads (bounded).
 */
export class TaskBoard {
  /** Newest first. */
  tasks = $state<TaskView[]>([])
  /** Bumped when a task's picture changed; canvases redraw on it. */
  frame = $state(0)
  /** What this tab's open paid tasks may still cost in all, base units: their deposit must hold twice it. */
  openBudgets = $state(0n)
  /** Pixels of running and the newest finished pictures, by task key, outside Svelte's proxies (large buffers). */
  readonly pixels = new Map<string, Uint8Array>()
  /** Finished pictures as PNG, by task key: what is kept and downloaded. */
  readonly images = new Map<string, Blob>()
  private market?: Market
  private history?: TaskHistory
  private readonly handles = new Map<string, { abort: AbortController, task?: RequestorTask }>()
  private ticking = false
  private readonly init: TaskBoardInit
  private readonly encode: EncodePng
  private readonly module: (kind: TaskView['kind']) => Promise<Uint8Array>

  constructor (init: TaskBoardInit) {
    this.init = init
    this.encode = init.encodePng ?? encodePng
    this.module = init.module ?? fetchModule
  }

  /** Takes the node's market, and the history of `owner` (this tab's peer ID) when given. */
  async attach (market: Market, owner?: string): Promise<void> {
    this.market = market
    if (owner == null) return
    const history = (this.init.history ?? openTaskHistory)(owner)
    const records = await history.load()
    if (this.init.life.ended) return
    // no write before the read is merged: a task submitted meanwhile must not replace the kept list
    this.history = history
    const known = new Set(this.tasks.map(t => t.key))
    let interrupted = false
    const restored = records.reverse().filter(r => !known.has(r.view.key)).map(r => {
      if (r.png != null) this.images.set(r.view.key, r.png)
      const view = restoredView(r.view)
      interrupted ||= view.state !== r.view.state
      return view
    })
    // tasks submitted while the history loaded are newer
    this.tasks.push(...restored)
    this.trim()
    this.frame++
    if (interrupted || known.size > 0) await this.persist()
  }

  find (idOrKey: string): TaskView | undefined {
    return this.tasks.find(t => t.key === idOrKey || t.id === idOrKey)
  }

  /** Cancels a task still storing or running: its providers hear the signed `closed`, and no one gets its work again. */
  cancel (idOrKey: string): boolean {
    const view = this.find(idOrKey)
    const handle = view == null ? undefined : this.handles.get(view.key)
    if (handle == null) return false
    handle.abort.abort()
    handle.task?.cancel()
    return true
  }

  /** The finished picture as a PNG, when it was kept. */
  async png (idOrKey: string): Promise<Blob | undefined> {
    const view = this.find(idOrKey)
    if (view == null) return undefined
    const kept = this.images.get(view.key)
    if (kept != null) return kept
    const pixels = this.pixels.get(view.key)
    if (view.state !== 'done' || pixels == null || view.width == null || view.height == null) return undefined
    return await this.encode(pixels, view.width, view.height)
  }

  /** Throws InvalidJobError for values the job does not take, before anything is allocated. */
  async submitMandelbrot (req: MandelbrotRequest): Promise<TaskView> {
    const job = mandelbrotJob({ width: req.width, height: req.height, tile: req.tile, maxIter: req.maxIter })
    return await this.submit('mandelbrot', `Mandelbrot ${req.width}×${req.height}`, job, req, { width: req.width, height: req.height })
  }

  async submitPrimes (req: PrimesRequest): Promise<TaskView> {
    const job = primesJob({ from: 0, to: req.to, parts: req.parts })
    return await this.submit('primes', `Primes below ${req.to.toLocaleString('en')}`, job, req, {})
  }

  private async submit (kind: TaskView['kind'], name: string, job: MandelbrotJob | PrimesJob, { k, price }: { k: number, price?: number }, size: { width?: number, height?: number }): Promise<TaskView> {
    const now = Date.now()
    const key = crypto.randomUUID()
    this.tasks.unshift({ key, id: '', kind, name, state: 'storing', total: job.inputs.length, done: 0, running: 0, providers: 0, k, tiles: [], rejected: [], reassigned: 0, startedAt: now, lastActivityAt: now, ...size })
    const live = this.tasks[0] as TaskView
    const handle: { abort: AbortController, task?: RequestorTask } = { abort: new AbortController() }
    this.handles.set(key, handle)
    if ('place' in job) this.pixels.set(key, job.pixels)
    this.trim()
    void this.persist()
    try {
      const market = this.market
      if (market == null || this.init.life.ended) throw new NotStartedError('The node is not running')
      const task = await market.submit({ name, module: await this.module(kind), inputs: job.inputs, k, ...(price != null ? { price } : {}) }, { signal: handle.abort.signal })
      this.openBudgets = market.spending?.openBudgets ?? 0n
      handle.task = task
      live.id = task.id
      this.follow(live, task, job)
      // cancelled while its files were stored: the header is out, so close it
      if (handle.abort.signal.aborted) task.cancel()
      const results = await task.done
      if (!('place' in job)) live.answer = job.combine(results.map(r => r.data))
      live.state = 'done'
    } catch (err: any) {
      if (err instanceof DepositTooSmallError || err instanceof ChainUnavailableError) {
        // refused before anything was published: no task to show, the form says why and what to do
        this.drop(key)
        throw err
      }
      if (handle.abort.signal.aborted || err instanceof TaskCancelledError) {
        live.state = 'cancelled'
      } else {
        live.error = `${String(err.name ?? 'Error')}: ${String(err.message ?? err)}`
        live.state = 'failed'
      }
    }
    this.handles.delete(key)
    this.openBudgets = this.market?.spending?.openBudgets ?? 0n
    live.running = 0
    live.finishedAt = Date.now()
    if (live.state === 'done' && 'place' in job && live.width != null && live.height != null) {
      try {
        this.images.set(key, await this.encode(job.pixels, live.width, live.height))
        this.frame++
      } catch (err) {
        console.warn('golem-clay: could not encode the picture as PNG', err)
      }
    }
    this.dropOldPixels()
    await this.persist()
    return $state.snapshot(live) as TaskView
  }

  /** Mirrors a running task's events into its card. */
  private follow (live: TaskView, task: RequestorTask, job: MandelbrotJob | PrimesJob): void {
    const { signal } = this.init.life
    const touch = (): void => { live.lastActivityAt = Date.now() }
    const phase = (): void => { if (!isFinal(live.state)) live.state = livePhase(live, Date.now()) }
    task.addEventListener('progress', (evt) => {
      if (evt.detail.done !== live.done) touch()
      live.done = evt.detail.done
      live.running = evt.detail.running
      live.providers = evt.detail.providers
      phase()
    }, { signal })
    task.addEventListener('assigned', touch, { signal })
    task.addEventListener('result', (evt) => {
      touch()
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
    touch()
    phase()
    this.tick()
  }

  /** Forgets a task that never started. */
  private drop (key: string): void {
    this.handles.delete(key)
    this.pixels.delete(key)
    this.tasks = this.tasks.filter(t => t.key !== key)
    void this.persist()
  }

  /** Waiting and stalled change with time alone: live tasks are looked at once a second, and no timer runs without one. */
  private tick (): void {
    if (this.ticking) return
    this.ticking = true
    this.init.life.after(PHASE_INTERVAL, () => {
      this.ticking = false
      let live = false
      for (const t of this.tasks) {
        if (isFinal(t.state)) continue
        live = true
        if (t.state !== 'storing') t.state = livePhase(t, Date.now())
      }
      if (live) this.tick()
    })
  }

  /** The newest HISTORY_MAX tasks stay; a live one is never dropped. */
  private trim (): void {
    if (this.tasks.length <= HISTORY_MAX) return
    const keep = this.tasks.filter((t, i) => i < HISTORY_MAX || !isFinal(t.state))
    for (const t of this.tasks) {
      if (keep.includes(t)) continue
      this.pixels.delete(t.key)
      this.images.delete(t.key)
    }
    this.tasks = keep
  }

  /** Raw pixels only for live tasks and the newest finished pictures; older ones draw from their PNG. */
  private dropOldPixels (): void {
    let finished = 0
    for (const t of this.tasks) {
      if (!this.pixels.has(t.key) || !isFinal(t.state)) continue
      if (++finished > RAW_PICTURES) this.pixels.delete(t.key)
    }
  }

  /** Writes the history: plain data, the pictures within their bounds; a picture that no longer fits is dropped here too, and its card says so. */
  private async persist (): Promise<void> {
    if (this.history == null) return
    const kept = imagesToKeep(this.tasks.flatMap(t => {
      const png = this.images.get(t.key)
      return png == null ? [] : [{ key: t.key, size: png.size }]
    }))
    for (const t of this.tasks) {
      if (!this.images.has(t.key) || kept.has(t.key)) continue
      this.images.delete(t.key)
      this.pixels.delete(t.key)
      t.imageDropped = true
      this.frame++
    }
    const views = $state.snapshot(this.tasks) as TaskView[]
    await this.history.save(views.map(view => ({ view, png: this.images.get(view.key) })).reverse())
  }
}
