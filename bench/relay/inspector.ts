// A CPU profile of another Node process over its inspector (the relay runs
// with --inspect=127.0.0.1:<port>): started and stopped around the window
// the bench wants, where --cpu-prof would cover the whole run.
import WebSocket from 'ws'
import type { CpuProfile } from './profile-summary.ts'

interface Pending { resolve: (value: any) => void, reject: (err: Error) => void }

export class InspectorClient {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()

  private constructor (private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number, result?: unknown, error?: { message: string } }
      const waiter = msg.id != null ? this.pending.get(msg.id) : undefined
      if (waiter == null || msg.id == null) return
      this.pending.delete(msg.id)
      if (msg.error != null) waiter.reject(new Error(msg.error.message))
      else waiter.resolve(msg.result)
    })
    socket.on('close', () => {
      for (const w of this.pending.values()) w.reject(new Error('inspector connection closed'))
      this.pending.clear()
    })
  }

  /** Connects to the inspector listening on 127.0.0.1:`port` (its first target: the main thread). */
  static async connect (port: number): Promise<InspectorClient> {
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as Array<{ webSocketDebuggerUrl: string }>
    const url = targets[0]?.webSocketDebuggerUrl
    if (url == null) throw new Error(`no inspector target on port ${port}`)
    const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 2 ** 30 })
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => { resolve() })
      socket.once('error', reject)
    })
    return new InspectorClient(socket)
  }

  async post<T = unknown> (method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++
    const reply = new Promise<T>((resolve, reject) => { this.pending.set(id, { resolve, reject }) })
    this.socket.send(JSON.stringify({ id, method, params }))
    return await reply
  }

  /** Samples every `intervalUs` µs from now until `stopProfile`. */
  async startProfile (intervalUs = 1000): Promise<void> {
    await this.post('Profiler.enable')
    await this.post('Profiler.setSamplingInterval', { interval: intervalUs })
    await this.post('Profiler.start')
  }

  async stopProfile (): Promise<CpuProfile> {
    const { profile } = await this.post<{ profile: CpuProfile }>('Profiler.stop')
    await this.post('Profiler.disable')
    return profile
  }

  /**
   * The process's event-loop delay, measured in it by a histogram this
   * installs on first use (monitorEventLoopDelay, 10 ms resolution: an idle
   * loop reads about 10 ms); p99 in ms since the previous call. For a relay
   * whose /metrics does not export its own.
   */
  async lagP99Ms (): Promise<number> {
    const expression = `(() => {
      if (globalThis.__benchLag == null) {
        globalThis.__benchLag = process.getBuiltinModule('node:perf_hooks').monitorEventLoopDelay({ resolution: 10 })
        globalThis.__benchLag.enable()
      }
      const p99 = globalThis.__benchLag.percentile(99) / 1e6
      globalThis.__benchLag.reset()
      return p99
    })()`
    const { result } = await this.post<{ result: { value?: number } }>('Runtime.evaluate', { expression, returnByValue: true })
    return Number(result.value ?? Number.NaN)
  }

  /** V8 heap in use after a full garbage collection, bytes: what the process's state really holds. */
  async liveHeapBytes (): Promise<number> {
    await this.post('HeapProfiler.collectGarbage')
    const { usedSize } = await this.post<{ usedSize: number }>('Runtime.getHeapUsage')
    return usedSize
  }

  /** process.memoryUsage() of the process, bytes. */
  async memoryUsage (): Promise<NodeJS.MemoryUsage> {
    const { result } = await this.post<{ result: { value?: string } }>('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })
    return JSON.parse(result.value ?? '{}') as NodeJS.MemoryUsage
  }

  close (): void {
    this.socket.close()
  }
}
