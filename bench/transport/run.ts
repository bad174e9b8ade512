// npm run bench:transport — see the Transport section of BENCHMARKS.md
import { cpus } from 'node:os'
import { createNodePeer } from '../../relay/node-peer/create-node-peer.ts'
import { BENCHMARKS_MD, cpuBetween, cpuSnapshot, loadAverage, log, machineInfo, mbps, median, percentile, requireTestPage, startStaticServer, upsertSection, waitForQuiet, waitUntil, withTimeout } from '../common/index.ts'
import { RUN_TIMEOUT_MS, SETUP, THROUGHPUT } from './config.ts'
import { libp2pTcpSetup, libp2pTcpThroughput, relayedSetup, relayedThroughput } from './node-libp2p.ts'
import { rawRelayedSetup, rawTcpSetup, rawThroughput } from './node-raw.ts'
import { summarize, transportSection } from './report.ts'
import { startServer } from './server-handle.ts'
import { openTabs } from './tabs.ts'
import type { SetupSamples, ThroughputRequest } from './loops.ts'
import type { PathKey, PathResult, Summary } from './report.ts'

/** Room for a whole set-up loop, pacing and a few retries included. */
const SETUP_CALL_MS = 180_000
/** Longest wait for other processes to calm down before each path. */
const QUIET_WAIT_MS = 20_000
const THROUGHPUT_CALL_MS = (THROUGHPUT.reps + 1) * THROUGHPUT.timeoutMs + 15_000

const cleanups: Array<{ name: string, fn: () => Promise<void> }> = []

function describeSetup (what: string, s: SetupSamples): void {
  log(`  ${what}: median ${median(s.samples).toFixed(2)} ms, p95 ${percentile(s.samples, 95).toFixed(2)} ms, ${s.retries} retries in ${s.attempts} attempts`)
}

function describeThroughput (what: string, bytes: number, ms: number[]): void {
  log(`  ${what}: ${ms.map(t => mbps(bytes, t).toFixed(1)).join(', ')} MB/s`)
}

const sized = (bytes: number): ThroughputRequest =>
  ({ bytes, reps: THROUGHPUT.reps, timeoutMs: THROUGHPUT.timeoutMs, warmupBytes: Math.round(bytes * THROUGHPUT.warmupFraction) })

/** The four measurements of a path, each bounded in time. */
interface PathSteps {
  setup: () => Promise<SetupSamples>
  rawSetup: () => Promise<SetupSamples>
  throughput: (req: ThroughputRequest) => Promise<number[]>
  rawThroughput: (req: ThroughputRequest) => Promise<number[]>
}

/**
 * Once the machine is quiet: libp2p and raw set-up, then libp2p and raw
 * throughput with `bytes` per transfer, and the cores used meanwhile.
 */
async function measurePath (title: string, bytes: number, steps: PathSteps): Promise<PathResult> {
  log(title)
  await waitForQuiet(log, 0.3, QUIET_WAIT_MS)
  const before = cpuSnapshot()
  const setup = await steps.setup()
  describeSetup('libp2p set-up', setup)
  const rawSetup = await steps.rawSetup()
  describeSetup('raw set-up', rawSetup)
  const ms = await steps.throughput(sized(bytes))
  describeThroughput('libp2p', bytes, ms)
  const rawMs = await steps.rawThroughput(sized(bytes))
  describeThroughput('raw', bytes, rawMs)
  return { setup, rawSetup, bytes, ms, rawMs, cpu: cpuBetween(before, cpuSnapshot()) }
}

async function main (): Promise<Summary> {
  const began = Date.now()
  const loadAtStart = loadAverage()
  log(`bench: 1-minute load average ${loadAtStart} on ${cpus().length} cores`)
  requireTestPage('bench/transport.html')

  log('bench: starting relay and raw servers')
  const server = await startServer(log)
  cleanups.push({ name: 'server process', fn: server.stop })
  const { ready } = server
  const web = await startStaticServer()
  cleanups.push({ name: 'static server', fn: web.close })

  log('bench: opening two tabs')
  const { browser, chromium, tabs: [a, b] } = await openTabs(`${web.url}/bench/transport.html`, log)
  cleanups.push({ name: 'browser', fn: async () => { await browser.close() } })
  cleanups.push({
    name: 'tab nodes',
    fn: async () => { await Promise.all([a, b].map(async t => { await t.call('stop', undefined, 5_000) })) }
  })
  const infoA = await a.call('init', { relayWs: ready.relayWs }, 30_000)
  const infoB = await b.call('init', { relayWs: ready.relayWs }, 30_000)
  log(`bench: tab A ${infoA.peerId}, tab B ${infoB.peerId}`)

  const peer = await createNodePeer({ relays: [ready.relayTcp] })
  await peer.start()
  cleanups.push({ name: 'node peer', fn: async () => { await peer.stop() } })
  await waitUntil(() => peer.services.relays.status[0]?.state === 'reserved', 20_000, 'Node peer reservation')

  const circuit = `${ready.relayTcp}/p2p-circuit/p2p/${infoB.peerId}`
  const results: Record<PathKey, PathResult> = {
    webrtc: await measurePath('bench: [1/4] tab ↔ tab WebRTC', THROUGHPUT.bytes.webrtc, {
      setup: async () => await a.call('libp2pWebrtcSetup', { ...SETUP.webrtc, target: infoB.webrtcAddr }, SETUP_CALL_MS),
      rawSetup: async () => await a.call('rawWebrtcSetup', { ...SETUP.webrtc, answerer: infoB.peerId }, SETUP_CALL_MS),
      throughput: async (req) => await a.call('libp2pWebrtcThroughput', { ...req, target: infoB.webrtcAddr }, THROUGHPUT_CALL_MS),
      rawThroughput: async (req) => await a.call('rawWebrtcThroughput', { ...req, answerer: infoB.peerId }, THROUGHPUT_CALL_MS)
    }),
    websocket: await measurePath('bench: [2/4] tab → relay WebSocket', THROUGHPUT.bytes.websocket, {
      setup: async () => await a.call('libp2pWsSetup', { ...SETUP.other, relayWs: ready.relayWs }, SETUP_CALL_MS),
      rawSetup: async () => await a.call('rawWsSetup', { ...SETUP.other, url: ready.rawWsUrl }, SETUP_CALL_MS),
      throughput: async (req) => await a.call('libp2pWsThroughput', { ...req, relayPeer: ready.relayPeerId }, THROUGHPUT_CALL_MS),
      rawThroughput: async (req) => await a.call('rawWsThroughput', { ...req, url: ready.rawWsUrl }, THROUGHPUT_CALL_MS)
    }),
    tcp: await measurePath('bench: [3/4] Node → relay TCP', THROUGHPUT.bytes.tcp, {
      setup: async () => await withTimeout(libp2pTcpSetup(ready.relayTcp, SETUP.other, log), SETUP_CALL_MS, 'libp2p TCP set-up'),
      rawSetup: async () => await withTimeout(rawTcpSetup(ready.rawTcpPort, SETUP.other, log), SETUP_CALL_MS, 'raw TCP set-up'),
      throughput: async (req) => await withTimeout(libp2pTcpThroughput(peer, ready.relayPeerId, req), THROUGHPUT_CALL_MS, 'libp2p TCP throughput'),
      rawThroughput: async (req) => await withTimeout(rawThroughput(ready.rawTcpPort, req, { waitReady: false }), THROUGHPUT_CALL_MS, 'raw TCP throughput')
    }),
    relayed: await measurePath('bench: [4/4] Node → tab through the relay', THROUGHPUT.bytes.relayed, {
      setup: async () => await withTimeout(relayedSetup(peer, circuit, SETUP.other, log), SETUP_CALL_MS, 'relayed set-up'),
      rawSetup: async () => {
        await b.call('rawForwardAttach', { url: ready.forwardWsUrl }, 10_000)
        return await withTimeout(rawRelayedSetup(ready.forwardTcpPort, SETUP.other, log), SETUP_CALL_MS, 'raw relayed set-up')
      },
      throughput: async (req) => await withTimeout(relayedThroughput(peer, circuit, req), THROUGHPUT_CALL_MS, 'relayed throughput'),
      rawThroughput: async (req) => await withTimeout(rawThroughput(ready.forwardTcpPort, req, { waitReady: true }), THROUGHPUT_CALL_MS, 'raw relayed throughput')
    })
  }

  const summary = summarize(results)
  const elapsedS = (Date.now() - began) / 1000
  upsertSection(BENCHMARKS_MD, 'Transport', transportSection(results, summary, machineInfo(chromium, loadAtStart), elapsedS))
  log(`bench: wrote the Transport section of ${BENCHMARKS_MD} (${elapsedS.toFixed(0)} s)`)
  return summary
}

/** Stops everything started so far, newest first, each step bounded. */
async function cleanup (): Promise<void> {
  for (const { name, fn } of cleanups.splice(0).reverse()) {
    await withTimeout(fn(), 15_000, `stopping ${name}`).catch((err: any) => { log(`bench: ${err.message}`) })
  }
}

let finishing: Promise<never> | undefined
/** Cleans up once and exits; a later call (e.g. main failing because SIGINT closed the browser) changes nothing. */
async function finish (code: number, summary?: Summary): Promise<never> {
  finishing ??= (async () => {
    await cleanup()
    // the summary is the last line on stdout, for scripts
    if (summary != null) process.stdout.write(`${JSON.stringify(summary)}\n`)
    process.exit(code)
  })()
  return await finishing
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`bench: ${signal}, stopping`)
    void finish(130)
  })
}
const watchdog = setTimeout(() => {
  log(`bench: still running after ${RUN_TIMEOUT_MS / 1000} s, giving up`)
  setTimeout(() => { process.exit(1) }, 30_000).unref()
  void finish(1)
}, RUN_TIMEOUT_MS)
watchdog.unref()

main().then(
  async (summary) => { clearTimeout(watchdog); await finish(0, summary) },
  async (err: any) => {
    clearTimeout(watchdog)
    if (finishing == null) log(`bench: failed: ${err?.stack ?? err}`)
    await finish(1)
  }
)
