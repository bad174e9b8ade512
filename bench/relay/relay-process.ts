// The relay under test: the real CLI (relay/bin/relay.ts) in a process of
// its own, with the limits a public relay keeps its visitors within raised
// so that thousands of simulated tabs from a few dozen loopback addresses
// fit, and a low, fixed difficulty (the tabs' proof of work is not what is
// measured). Its inspector listens on loopback for the CPU profiles.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { freePort } from '../../e2e/fixtures/ports.ts'
import { RELAY_NODE_FLAGS } from '../../relay/bin/node-flags.ts'
import { stopChild, withTimeout } from '../common/index.ts'
import { killWithBench } from './child-link.ts'
import type { ChildProcess } from 'node:child_process'

/** The relay flags the bench changes, each with its value (the report lists them). */
export function benchRelayLimits (difficulty: number, maxSessions: number): Array<[string, string]> {
  return [
    // a fixed, low price: the adaptive part would raise it with the join rate and the load
    ['--difficulty', String(difficulty)],
    ['--max-difficulty', String(difficulty)],
    ['--max-peers', String(maxSessions)],
    ['--max-connections', String(maxSessions * 2)],
    ['--max-reservations', String(maxSessions)],
    // a few dozen loopback addresses stand for thousands of machines
    ['--max-reservations-per-address', String(maxSessions)],
    ['--max-pending-connections', '1024'],
    ['--max-pending-connections-per-address', '64'],
    ['--max-pending-handshakes', '1024'],
    ['--max-pending-handshakes-per-address', '64'],
    ['--address-strikes', '100000'],
    // tab processes run at nice 10 and may be slow to say Hello while the relay is busy
    ['--hello-timeout', '15000'],
    // session-open/close lines for every tab would be the relay writing its log, not serving
    ['--log-level', 'warn']
  ]
}

export interface RelayPorts { http: number, ws: number, tcp: number, metrics: number, inspector: number }

export class BenchRelay {
  /** Last lines of its output, for the report when it dies. */
  readonly tail: string[] = []
  wsAddr = ''
  peerId = ''

  private constructor (readonly child: ChildProcess, readonly ports: RelayPorts, private readonly dataDir: string) {
    for (const stream of [child.stdout, child.stderr]) {
      if (stream == null) continue
      createInterface({ input: stream }).on('line', (line) => {
        this.tail.push(line)
        if (this.tail.length > 40) this.tail.shift()
      })
    }
  }

  get pid (): number {
    return this.child.pid ?? -1
  }

  static async start (limits: Array<[string, string]>): Promise<BenchRelay> {
    const dataDir = await mkdtemp(join(tmpdir(), 'golem-clay-bench-relay-'))
    const ports: RelayPorts = { http: await freePort(), ws: await freePort(), tcp: await freePort(), metrics: await freePort(), inspector: await freePort() }
    const child = spawn(process.execPath, [
      ...RELAY_NODE_FLAGS, `--inspect=127.0.0.1:${ports.inspector}`, '--import', 'tsx', 'relay/bin/relay.ts',
      '--data', dataDir, '--host', '127.0.0.1',
      '--http-port', String(ports.http), '--ws-port', String(ports.ws), '--tcp-port', String(ports.tcp),
      '--metrics-listen', `127.0.0.1:${ports.metrics}`,
      ...limits.flat()
    ], { cwd: new URL('../../', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] })
    killWithBench(child)
    const relay = new BenchRelay(child, ports, dataDir)
    await withTimeout(new Promise<void>((resolve, reject) => {
      const check = setInterval(() => { if (relay.tail.some(l => l.includes('relay ready at'))) { clearInterval(check); resolve() } }, 100)
      child.once('exit', (code) => { clearInterval(check); reject(new Error(`the relay exited (code ${code}) before it was ready:\n${relay.tail.join('\n')}`)) })
    }), 60_000, 'starting the relay')
    const status = await relay.status()
    relay.peerId = status.peerId
    relay.wsAddr = status.multiaddrs.find(a => a.includes('/ws/')) ?? ''
    return relay
  }

  /** GET /status (anonymous: counts only). */
  async status (): Promise<RelayStatus> {
    const res = await fetch(`http://127.0.0.1:${this.ports.http}/status`, { signal: AbortSignal.timeout(30_000) })
    return await res.json() as RelayStatus
  }

  /** GET /metrics as text. */
  async metrics (): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.ports.metrics}/metrics`, { signal: AbortSignal.timeout(30_000) })
    return await res.text()
  }

  async stop (): Promise<void> {
    // SIGTERM: it says goodbye to whoever is left; SIGKILL if that takes too long
    await stopChild(this.child, { killAfterMs: 15_000 })
    await rm(this.dataDir, { recursive: true, force: true })
  }
}

/** The parts of /status the bench reads. */
export interface RelayStatus {
  peerId: string
  multiaddrs: string[]
  connectedPeers: number
  connections: Record<string, number>
  reservations: number
  directorySubscribers: number
  session: { sessions: number, pendingHandshakes: number, difficulty: number, refusals: Record<string, number> }
}
