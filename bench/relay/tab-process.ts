// A process holding many simulated tabs (run by bench/relay/run.ts at nice
// 10, several of them). stdin: {"cmd":"grow","to":n} adds tabs until this
// process holds n, {"cmd":"add","n":k} k more, a few at a time per source
// address; stdout: a progress line every second. Each tab holds a session,
// a reservation and a directory subscription on the relay, and runs
// whatever timers a tab runs.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { createNodeHashcashSolver } from '../../relay/hashcash/node-solver.ts'
import { createSimTab } from './sim-tab.ts'
import { sinkCounters } from './sink-services.ts'
import { trackTab } from './tab-state.ts'
import type { TabState } from './tab-state.ts'

interface TabProcessInit {
  relay: string
  /** Source addresses this process dials from, round robin. */
  hosts: string[]
  /** Tabs joining at once from one address: the relay takes 16 connections without a session per address and libp2p 5 new ones a second per host. */
  perHost: number
  /** Tabs joining at once from this process. */
  inFlight: number
}

const init = JSON.parse(process.argv[2] ?? '{}') as TabProcessInit
const relayId = init.relay.split('/p2p/').pop() ?? ''
const solver = createNodeHashcashSolver({ workers: 1 })
const tabs: TabState[] = []
let target = 0
let startFailures = 0
const joining = new Map<string, number>()

function emit (event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

/** Starts one tab on `host`; it counts as joining until its session with the relay opens (or 60 s pass). */
async function addTab (host: string): Promise<void> {
  joining.set(host, (joining.get(host) ?? 0) + 1)
  let counted = true
  const done = (): void => {
    if (!counted) return
    counted = false
    joining.set(host, (joining.get(host) ?? 1) - 1)
  }
  const timer = setTimeout(done, 60_000)
  try {
    const tab = await createSimTab({ relay: init.relay, localAddress: host, solver })
    const state = trackTab(tab, relayId)
    tabs.push(state)
    await tab.start()
    await state.joined
  } catch {
    startFailures++
  } finally {
    clearTimeout(timer)
    done()
  }
}

let launched = 0
let next = 0
/** Adds tabs while below the target, within the per-address and per-process limits on joins under way. */
function pump (): void {
  let busy = [...joining.values()].reduce((a, b) => a + b, 0)
  let full = 0
  while (launched < target && busy < init.inFlight && full < init.hosts.length) {
    const host = init.hosts[next++ % init.hosts.length] as string
    if ((joining.get(host) ?? 0) >= init.perHost) {
      full++
      continue
    }
    full = 0
    busy++
    launched++
    void addTab(host).then(pump)
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { cmd: string, to?: number, n?: number }
  if (cmd.cmd === 'grow') target = Math.max(target, cmd.to ?? 0)
  if (cmd.cmd === 'add') target += cmd.n ?? 1
  pump()
})

// a process too busy (or, at nice 10, too starved) to keep up shows here first: its tabs answer late
const lag = monitorEventLoopDelay({ resolution: 10 })
lag.enable()
const mem0 = process.memoryUsage()
let lastTick = performance.now()
setInterval(() => {
  // a loop blocked for the whole second records no delay at all: this tick's own lateness says it
  const now = performance.now()
  const late = now - lastTick - 1_000
  lastTick = now
  pump()
  const mem = process.memoryUsage()
  emit({
    event: 'progress',
    tabs: tabs.length,
    sessions: tabs.filter(t => t.session).length,
    reserved: tabs.filter(t => t.reserved).length,
    subscribed: tabs.filter(t => t.tab.services.directory.subscriptions > 0).length,
    joining: [...joining.values()].reduce((a, b) => a + b, 0),
    startFailures,
    sessionsLost: tabs.reduce((n, t) => n + t.lost, 0),
    lostWhy: tabs.reduce<Record<string, number>>((all, t) => {
      for (const [k, v] of Object.entries(t.lostWhy)) all[k] = (all[k] ?? 0) + v
      return all
    }, {}),
    lagP99Ms: Math.round(Math.max(lag.percentile(99) / 1e6, late)),
    heapPerTabKB: tabs.length > 0 ? Math.round((mem.heapUsed - mem0.heapUsed) / 1024 / tabs.length) : 0,
    rssMB: Math.round(mem.rss / 2 ** 20),
    ...sinkCounters
  })
  lag.reset()
}, 1_000)

// the bench stops these processes at the end: no goodbyes, the relay sees the connections drop
process.on('SIGTERM', () => { process.exit(0) })
