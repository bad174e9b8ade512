// The bench's helper processes (tab processes, the probe process): started
// with a JSON argument, told what to do by JSON lines on stdin, reporting by
// JSON lines on stdout. Every one started is killed when the bench exits,
// however it exits.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { ChildProcess } from 'node:child_process'

const ROOT = new URL('../../', import.meta.url).pathname
const running = new Set<ChildProcess>()

let hooked = false
/** SIGKILL to every helper still running: on exit, Ctrl-C and termination. */
function killOnExit (): void {
  if (hooked) return
  hooked = true
  const killAll = (): void => { for (const child of running) child.kill('SIGKILL') }
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping the helper processes\n`)
      killAll()
      process.exit(130)
    })
  }
}

/** Kills `child` too (SIGKILL) if the bench exits before it does. */
export function killWithBench (child: ChildProcess): void {
  killOnExit()
  running.add(child)
  child.once('exit', () => { running.delete(child) })
}

export type ChildEvent = Record<string, any> & { event: string }

export class ChildLink {
  /** The newest event of each kind. */
  readonly last = new Map<string, ChildEvent>()
  readonly tail: string[] = []
  private readonly listeners = new Set<(e: ChildEvent) => void>()

  private constructor (readonly name: string, readonly child: ChildProcess) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let event: ChildEvent
      try {
        event = JSON.parse(line) as ChildEvent
      } catch {
        this.keep(line)
        return
      }
      this.last.set(event.event, event)
      for (const l of this.listeners) l(event)
    })
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => { this.keep(line) })
  }

  /** `script` (relative to the repository) in a Node process of its own; `nice` (1–19) runs it behind the relay and the probes. */
  static start (name: string, script: string, arg: unknown, opts: { nice?: number, nodeFlags?: string[] } = {}): ChildLink {
    killOnExit()
    const node = [...(opts.nodeFlags ?? []), '--import', 'tsx', script, JSON.stringify(arg)]
    // nice execs node: the pid is the Node process's own, and every thread it starts inherits the priority
    const child = opts.nice != null
      ? spawn('nice', ['-n', String(opts.nice), process.execPath, ...node], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(process.execPath, node, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
    killWithBench(child)
    return new ChildLink(name, child)
  }

  get pid (): number {
    return this.child.pid ?? -1
  }

  get exited (): boolean {
    return this.child.exitCode != null || this.child.signalCode != null
  }

  send (command: Record<string, unknown>): void {
    if (!this.exited) this.child.stdin?.write(`${JSON.stringify(command)}\n`)
  }

  on (listener: (e: ChildEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Waits for an event passing `test`; fails if the process exits first or after `ms`. */
  async waitFor (test: (e: ChildEvent) => boolean, ms: number): Promise<ChildEvent> {
    return await new Promise((resolve, reject) => {
      const done = (err?: Error, e?: ChildEvent): void => {
        clearTimeout(timer)
        off()
        this.child.off('exit', onExit)
        if (err != null) reject(err)
        else resolve(e as ChildEvent)
      }
      const off = this.on(e => { if (test(e)) done(undefined, e) })
      const onExit = (): void => { done(new Error(`${this.name} exited:\n${this.tail.join('\n')}`)) }
      const timer = setTimeout(() => { done(new Error(`${this.name}: nothing after ${ms} ms:\n${this.tail.join('\n')}`)) }, ms)
      this.child.once('exit', onExit)
    })
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop (graceMs = 5_000): Promise<void> {
    if (this.exited) return
    const exited = new Promise<void>(resolve => { this.child.once('exit', () => { resolve() }) })
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => { this.child.kill('SIGKILL') }, graceMs)
    await exited
    clearTimeout(timer)
  }

  private keep (line: string): void {
    this.tail.push(line)
    if (this.tail.length > 30) this.tail.shift()
  }
}
