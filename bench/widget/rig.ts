// The processes of `npm run bench:widget`: two relays (A serves the widget),
// a third-party host site on 127.0.0.2, one headless Chromium and a Node
// requestor whose primes task keeps the widget busy.
import { createServer } from 'node:http'
import { readdirSync, readFileSync } from 'node:fs'
import { RelayProcess } from '../../e2e/fixtures/relay-process.ts'
import { tcpAddrOf } from '../../e2e/fixtures/rogue.ts'
import { createNodePeer } from '../../relay/node-peer/create-node-peer.ts'
import { createNodeTaskRunner } from '../../relay/compute/node-task-runner.ts'
import { until } from '../../relay/testing/wait.ts'
import { loadDemoTask } from '../../tasks/load-demo-task.ts'
import { encodePrimesInput } from '../../tasks/primes/ranges.ts'
import { closers, HZ, launchChromiumWithPid, treeTicks } from '../common/index.ts'
import type { NodePeer } from '../../relay/node-peer/create-node-peer.ts'
import type { RequestorTask } from '../../shared/market/index.ts'
import type { Browser } from '@playwright/test'
import type { Server } from 'node:http'

/** Prime ranges start here, as in bench:tasks: every subtask costs about the same. */
const FROM = 1e10

export interface Rig {
  relay: RelayProcess
  relayB: RelayProcess
  relayId: string
  browser: Browser
  /** Root pid per CPU group: the Chromium tree, each relay. */
  pids: Record<string, number>
  requestor: NodePeer
  chromium: string
  /** Serves `body` as a third-party page on 127.0.0.2 with a strict CSP (only the relay's scripts and frames); its address. */
  hostSite: (body: string) => Promise<string>
  close: () => Promise<void>
}

/** SIGTERM, SIGKILL after 10 s. */
async function stopRelay (relay: RelayProcess): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([relay.stop(), new Promise<void>(resolve => { timer = setTimeout(() => { void relay.kill().then(() => { resolve() }) }, 10_000) })])
  clearTimeout(timer)
}

export async function setUp (log: (line: string) => void): Promise<Rig> {
  const undo = closers()
  const close = undo.close
  // a relay must never outlive this process, however it ends
  const relays: RelayProcess[] = []
  process.once('exit', () => { for (const r of relays) if (r.child?.exitCode == null) r.child?.kill('SIGKILL') })
  try {
    // two relays, as the network runs: with one, a tab keeps looking for a second (CPU the widget would be charged for)
    log('bench: starting two relay processes, B seeded with A; A serves the widget')
    const relay = await RelayProcess.start()
    relays.push(relay)
    undo.push(async () => { await stopRelay(relay) })
    const status = await relay.status()
    const tcp = tcpAddrOf(status.multiaddrs)
    const relayB = await RelayProcess.start({ extraArgs: ['--seed', tcp] })
    relays.push(relayB)
    undo.push(async () => { await stopRelay(relayB) })
    const tcpB = tcpAddrOf((await relayB.status()).multiaddrs)

    const { browser, pid } = await launchChromiumWithPid()
    undo.push(async () => { await browser.close() })
    if (pid < 0) throw new Error('Chromium\'s pid not found')

    log('bench: starting the Node requestor, reserved on both relays')
    const requestor = await createNodePeer({ relays: [tcp, tcpB], maxRelays: 2 })
    await requestor.start()
    undo.push(async () => { await requestor.stop() })
    await until(() => requestor.getMultiaddrs().filter(a => a.toString().includes('/p2p-circuit')).length >= 2, 'the requestor\'s reservations', 60_000, 50)
    await until(async () => (await requestor.services.storage.relays()).includes(status.peerId), 'the relay\'s storage', 30_000, 50)

    const servers: Server[] = []
    undo.push(async () => { for (const s of servers) s.closeAllConnections(); for (const s of servers) s.close() })
    const origin = new URL(relay.httpUrl).origin
    const hostSite = async (body: string): Promise<string> => {
      const server = createServer((_req, res) => {
        res.setHeader('Content-Security-Policy', `default-src 'none'; script-src ${origin}; frame-src ${origin}`)
        res.setHeader('Content-Type', 'text/html; charset=utf-8')
        res.setHeader('Cache-Control', 'no-store')
        res.end(`<!doctype html><html><head><title>A site</title><script src="${origin}/widget.js" async></script></head><body><h1>An article</h1><p>Some text.</p>${body}</body></html>`)
      })
      await new Promise<void>(resolve => server.listen(0, '127.0.0.2', resolve))
      servers.push(server)
      const address = server.address()
      if (address == null || typeof address === 'string') throw new Error('no address')
      return `http://127.0.0.2:${address.port}/`
    }
    return {
      relay,
      relayB,
      relayId: status.peerId,
      browser,
      pids: { chromium: pid, relayA: relay.child?.pid ?? -1, relayB: relayB.child?.pid ?? -1 },
      requestor,
      chromium: `Chromium ${browser.version()}`,
      hostSite,
      close
    }
  } catch (err) {
    await close()
    throw err
  }
}

/**
 * Range width for `targetMs` per subtask, timed on Node's worker thread
 * (the same V8 and WebAssembly as the widget's Worker): scaled from a probe,
 * then corrected three times on the fastest of 3.
 */
export async function calibrate (targetMs: number): Promise<{ width: number, aloneMs: number }> {
  const { module, moduleHash } = await loadDemoTask('primes')
  const runner = createNodeTaskRunner({ cores: 1, maxCores: 1 })
  await runner.start()
  try {
    let n = 0
    const fastest = async (width: number): Promise<number> => {
      let best = Infinity
      for (let i = 0; i < 3; i++) {
        const from = FROM + (n++) * width
        const t0 = performance.now()
        await runner.run({ id: `cal${n}`, module, moduleHash, input: encodePrimesInput({ from, to: from + width }) })
        best = Math.min(best, performance.now() - t0)
      }
      return best
    }
    await fastest(1e6) // compiles the module
    let width = 1e7
    let aloneMs = await fastest(width)
    for (let i = 0; i < 3; i++) {
      width = Math.max(1e5, Math.round(width * targetMs / aloneMs / 1e5) * 1e5)
      aloneMs = await fastest(width)
    }
    return { width, aloneMs }
  } finally {
    await runner.stop()
  }
}

/** Publishes an unpaid primes task of `count` subtasks of `width` (k = 1, long timeouts) from the Node requestor; never awaited to the end. */
export async function submitPrimes (rig: Rig, width: number, count: number): Promise<RequestorTask> {
  const { module } = await loadDemoTask('primes')
  const inputs = Array.from({ length: count }, (_, i) => encodePrimesInput({ from: FROM + i * width, to: FROM + (i + 1) * width }))
  const task = await rig.requestor.services.market.submit({ name: `bench widget primes x${count}`, module, inputs, k: 1, timeout: 600_000, subtaskTimeout: 120_000, relay: rig.relayId, paid: false })
  task.done.catch(() => {})
  return task
}

export interface TreeSample {
  at: number
  /** utime + stime of the whole tree. */
  tree: number
  /** Per thread of Chromium's sandbox Workers (thread name DedicatedWorker), by tid: a terminated one is simply gone. */
  workers: Map<string, number>
}

/** Samples a fixed set of pids (the tree as it is now) fast enough to run every 100 ms. */
export function treeSampler (root: number): () => TreeSample {
  const pids = [...treeTicks(root).keys()]
  const fields = (stat: string): string[] => stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return () => {
    let tree = 0
    const workers = new Map<string, number>()
    for (const pid of pids) {
      try {
        const f = fields(readFileSync(`/proc/${pid}/stat`, 'utf8'))
        tree += Number(f[11]) + Number(f[12])
        for (const tid of readdirSync(`/proc/${pid}/task`)) {
          const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
          if (!stat.includes('(DedicatedWorker')) continue
          const t = fields(stat)
          workers.set(tid, Number(t[11]) + Number(t[12]))
        }
      } catch {}
    }
    return { at: performance.now(), tree, workers }
  }
}

/** Cores of the tree and of the Worker threads between two samples (a Worker gone by `b` counts nothing more). */
export function sampleRates (a: TreeSample, b: TreeSample): { tree: number, workers: number } {
  const s = (b.at - a.at) / 1000
  let w = 0
  for (const [tid, t] of b.workers) w += t - (a.workers.get(tid) ?? t)
  return { tree: (b.tree - a.tree) / HZ / s, workers: w / HZ / s }
}
