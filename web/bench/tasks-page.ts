// The tab side of `npm run bench:tasks` (see the Tasks section of BENCHMARKS.md).
// - The direct baseline: the same task module and subtask inputs as the
//   network runs, in the same sandbox Worker pool a provider tab uses
//   (createBrowserTaskRunner), with no market, signing or network.
// - A requestor tab: a browser node (createBrowserNode, as the app makes it,
//   lending no cores) that submits the same inputs to the network.
// - Diagnostics: the same node as a provider without the app's UI, and ping
//   round trips to time a bare stream.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { moduleHash } from '../../shared/compute/index.ts'
import { encodePrimesInput } from '../../tasks/primes/ranges.ts'
import { pingRoundTrips } from '../../bench/tasks/ping-round-trips.ts'
import { timedSubmit } from '../../bench/tasks/timed-submit.ts'
import { waitUntil } from '../../bench/common/timing.ts'
import { toHex } from '../../shared/storage/index.ts'
import { createBrowserTaskRunner } from '../src/compute/browser-task-runner.ts'
import { createBrowserHashcashSolver } from '../src/hashcash/browser-solver.ts'
import { createBrowserNode } from '../src/node/create-browser-node.ts'
import type { Range, SubmitRun } from '../../bench/tasks/timed-submit.ts'
import type { SandboxPool } from '../../shared/compute/index.ts'
import type { BrowserNode } from '../src/node/create-browser-node.ts'
import type { Connection } from '@libp2p/interface'

export type { Range, SubmitRun }

export interface DirectRun {
  /** From handing the first input to the pool until the last output is back, ms. */
  wallMs: number
  /** Per subtask: ms from the pool starting it on a worker until its output is back. */
  subtaskMs: number[]
  /** The outputs, hex, in input order (to check the network's results against). */
  outputs: string[]
}

export interface TasksBenchApi {
  /** Loads /tasks/<name>.wasm and starts a pool of `cores` sandbox Workers. */
  init: (arg: { cores: number, task: string }) => Promise<{ hardwareConcurrency: number, moduleBytes: number }>
  /** Runs each range alone (one after the other): ms per subtask. */
  sequential: (arg: { ranges: Range[] }) => Promise<number[]>
  /** Runs all ranges at once through the pool (at most `cores` at a time). */
  direct: (arg: { ranges: Range[] }) => Promise<DirectRun>
  /**
   * Starts this page's browser node on these relays (WebSocket multiaddrs),
   * lending `cores` cores when `provide` is set (a provider without the
   * app's UI), none otherwise (a requestor).
   */
  join: (arg: { relays: string[], cores?: number, provide: boolean }) => Promise<{ peerId: string }>
  /** Turns this page's provider on or off (off: it offers nothing). */
  setProviding: (arg: { on: boolean }) => Promise<void>
  /** Waits for a direct (WebRTC) connection to `peer`; its address. */
  waitDirect: (arg: { peer: string, timeoutMs: number }) => Promise<string>
  /** Submits the ranges as one task (k = 1) from this page's node and waits for the verified results. */
  submit: (arg: { ranges: Range[], relay: string }) => Promise<SubmitRun>
  /** Diagnostics: `n` ping round trips to `peer` over our direct connection, on fresh streams or on one (`reuse`); ms each. */
  pingPeer: (arg: { peer: string, n: number, reuse: boolean }) => Promise<number>
  stop: (arg?: unknown) => Promise<void>
}

declare global {
  interface Window {
    tasksBench?: TasksBenchApi
  }
}

let pool: SandboxPool | undefined
let node: BrowserNode | undefined
const solver = createBrowserHashcashSolver()
let module = new Uint8Array(0)
let hash = ''
let seq = 0


/** One subtask through the pool; `started` is when a worker took it. */
async function runOne (range: Range): Promise<{ output: Uint8Array, ms: number }> {
  if (pool == null) throw new Error('call init first')
  let started: number | undefined
  const output = await pool.run({ id: `bench-${seq++}`, module, moduleHash: hash, input: encodePrimesInput({ from: range[0], to: range[1] }), limits: { timeMs: 120_000 } }, {
    onProgress: (p) => { if (p.state === 'running') started ??= performance.now() }
  })
  return { output, ms: performance.now() - (started ?? Number.NaN) }
}

function ready (): BrowserNode {
  if (node == null) throw new Error('call join first')
  return node
}

function directConnection (peer: string): Connection | undefined {
  return ready().getConnections().find(c => c.remotePeer.toString() === peer && c.status === 'open' && c.limits == null)
}

const api: TasksBenchApi = {
  init: async ({ cores, task }) => {
    const res = await fetch(new URL(`/tasks/${task}.wasm`, location.href))
    if (!res.ok) throw new Error(`Could not load /tasks/${task}.wasm (${res.status})`)
    module = new Uint8Array(await res.arrayBuffer())
    hash = await moduleHash(module)
    pool = createBrowserTaskRunner({ cores, maxCores: Math.max(cores, navigator.hardwareConcurrency ?? 1) })
    pool.start()
    return { hardwareConcurrency: navigator.hardwareConcurrency, moduleBytes: module.byteLength }
  },
  sequential: async ({ ranges }) => {
    const out: number[] = []
    for (const r of ranges) out.push((await runOne(r)).ms)
    return out
  },
  direct: async ({ ranges }) => {
    const t0 = performance.now()
    const runs = await Promise.all(ranges.map(runOne))
    const wallMs = performance.now() - t0
    return { wallMs, subtaskMs: runs.map(r => r.ms), outputs: runs.map(r => toHex(r.output)) }
  },
  join: async ({ relays, cores, provide }) => {
    node = await createBrowserNode({ privateKey: await generateKeyPair('Ed25519'), relays, solver, compute: { cores, enabled: provide }, maxRelays: relays.length })
    await node.start()
    const self = node
    await waitUntil(() => self.services.relays.status.filter(r => r.state === 'reserved').length >= relays.length, 60_000, 'reservations on the relays', 100)
    return { peerId: node.peerId.toString() }
  },
  setProviding: async ({ on }) => {
    const provider = ready().services.market.provider
    if (provider == null) throw new Error('this page\'s node has no provider')
    provider.enabled = on
  },
  waitDirect: async ({ peer, timeoutMs }) => {
    await waitUntil(() => directConnection(peer) != null, timeoutMs, `a direct connection to ${peer}`, 100)
    return (directConnection(peer) as Connection).remoteAddr.toString()
  },
  submit: async ({ ranges, relay }) => await timedSubmit(ready().services.market, module, ranges, relay),
  pingPeer: async ({ peer, n, reuse }) => {
    const conn = directConnection(peer)
    if (conn == null) throw new Error(`no direct connection to ${peer}`)
    return await pingRoundTrips(conn, n, reuse)
  },
  stop: async () => {
    pool?.stop()
    pool = undefined
    await node?.stop()
    await solver.stop()
  }
}

Object.defineProperty(window, 'tasksBench', { value: api, configurable: false, writable: false })
