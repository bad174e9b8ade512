// The probes (run by bench/relay/run.ts at normal priority, beside the relay):
// a few simulated tabs like the others whose session heartbeat fires every
// 500 ms, so they, not the relay, send the pings (a session pings only when
// it has been quiet for an interval; the relay's own interval is 2.5 s) and
// each probe measures a round trip through the relay's session layer about
// once a second. stdout: every second the RTTs measured since the last line,
// and this process's own event-loop delay (a busy probe would inflate them).
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createNodeHashcashSolver } from '../../relay/hashcash/node-solver.ts'
import { createSimTab } from './sim-tab.ts'
import { trackTab } from './tab-state.ts'
import type { TabState } from './tab-state.ts'

interface ProbeInit {
  relay: string
  hosts: string[]
}

const init = JSON.parse(process.argv[2] ?? '{}') as ProbeInit
const relayId = init.relay.split('/p2p/').pop() ?? ''
const solver = createNodeHashcashSolver({ workers: 1 })
const lag = monitorEventLoopDelay({ resolution: 10 })
lag.enable()
let samples: number[] = []

const probes: TabState[] = await Promise.all(init.hosts.map(async (host) => {
  const tab = await createSimTab({
    relay: init.relay,
    localAddress: host,
    solver,
    // many missed beats: a slow relay must show as a long RTT, not as a probe that left
    session: { heartbeat: { interval: 500, missedBeats: 60 } }
  })
  const state = trackTab(tab, relayId, (ms) => { samples.push(ms) })
  await tab.start()
  return state
}))

setInterval(() => {
  process.stdout.write(`${JSON.stringify({
    event: 'rtt',
    samples,
    sessions: probes.filter(p => p.session).length,
    reserved: probes.filter(p => p.reserved).length,
    // monitorEventLoopDelay counts its own 10 ms interval in: an idle loop reads about 10 ms
    lagP99Ms: Math.round(lag.percentile(99) / 1e4) / 100
  })}\n`)
  samples = []
  lag.reset()
}, 1_000)

process.on('SIGTERM', () => { process.exit(0) })
