// npm run bench:transport — see the Transport section of BENCHMARKS.md
import { existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { createNodePeer } from '../../relay/node-peer/create-node-peer.ts'
import { upsertSection } from './benchmarks-file.ts'
import { waitUntil, withTimeout } from './bench-util.ts'
import { RUN_TIMEOUT_MS, SETUP, THROUGHPUT } from './config.ts'
import { cpuBetween, cpuSnapshot, waitForQuiet } from './cpu-usage.ts'
import { loadAverage, machineInfo } from './machine-info.ts'
import { libp2pTcpSetup, libp2pTcpThroughput, relayedSetup, relayedThroughput } from './node-libp2p.ts'
import { rawRelayedSetup, rawTcpSetup, rawThroughput } from './node-raw.ts'
import { summarize, transportSection } from './report.ts'
import { startServer } from './server-handle.ts'
import { startStaticServer } from './static-server.ts'
import { mbps, median, percentile } from './stats.ts'
import { openTabs } from './tabs.ts'
import type { SetupSamples, ThroughputRequest } from './bench-util.ts'
import type { PathKey, PathResult, Summary } from './report.ts'

const WEB_ROOT = fileURLToPath(new URL('../../dist/test-web/', import.meta.url))
const BENCHMARKS_MD = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url))
/** Room for a whole set-up loop, pacing and a few retries included. */
const SETUP_CALL_MS = 180_000
/** Longest wait for other processes to calm down before each path. */
const QUIET_WAIT_MS = 20_000
const THROUGHPUT_CALL_MS = (THROUGHPUT.reps + 1) * THROUGHPUT.timeoutMs + 15_000

const log = (line: string): void => { process.stderr.write(`${line}\n`) }
const cleanups: Array<{ name: string, fn: () => Promise<void> }> = []

function describeSetup (what: string, s: SetupSamples): void {
  log(`  ${what}: median ${median(s.samples).toFixed(2)} ms, p95 ${percentile(s.samples, 95).toFixed(2)} ms, ${s.retries} retries in ${s.attempts} attempts`)
}

function describeThroughput (what: string, bytes: number, ms: number[]): void {
  log(`  ${what}: ${ms.map(t => mbps(bytes, t).toFixed(1)).join(', ')} MB/s`)
}

async function main (): Promise<Summary> {
  const began = Date.now()
  const loadAtStart = loadAverage()
  log(`bench: 1-minute load average ${loadAtStart} on ${cpus().length} cores`)
  if (!existsSync(`${WEB_ROOT}bench/transport.html`)) throw new Error(`${WEB_ROOT}bench/transport.html is missing: run "npm run build" first`)

  log('bench: starting relay and raw servers')
  const server = await startServer(log)
  cleanups.push({ name: 'server process', fn: server.stop })
  const { ready } = server
  const web = await startStaticServer(WEB_ROOT)
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

  const sized = (bytes: number): ThroughputRequest =>
    ({ bytes, reps: THROUGHPUT.reps, timeoutMs: THROUGHPUT.timeoutMs, warmupBytes: Math.round(bytes * THROUGHPUT.warmupFraction) })
  const results = {} as Record<PathKey, PathResult>

  log('bench: [1/4] tab ↔ tab WebRTC')
  {
    const bytes = THROUGHPUT.bytes.webrtc
    await waitForQuiet(log, 0.3, QUIET_WAIT_MS)
    const before = cpuSnapshot()
    const setup = await a.call('libp2pWebrtcSetup', { ...SETUP.webrtc, target: infoB.webrtcAddr }, SETUP_CALL_MS)
    describeSetup('libp2p set-up', setup)
    const rawSetup = await a.call('rawWebrtcSetup', { ...SETUP.webrtc, answerer: infoB.peerId }, SETUP_CALL_MS)
    describeSetup('raw set-up', rawSetup)
    const ms = await a.call('libp2pWebrtcThroughput', { ...sized(bytes), target: infoB.webrtcAddr }, THROUGHPUT_CALL_MS)
    describeThroughput('libp2p', bytes, ms)
    const rawMs = await a.call('rawWebrtcThroughput', { ...sized(bytes), answerer: infoB.peerId }, THROUGHPUT_CALL_MS)
    describeThroughput('raw', bytes, rawMs)
    results.webrtc = { setup, rawSetup, bytes, ms, rawMs, cpu: cpuBetween(before, cpuSnapshot()) }
  }

  log('bench: [2/4] tab → relay WebSocket')
  {
    const bytes = THROUGHPUT.bytes.websocket
    await waitForQuiet(log, 0.3, QUIET_WAIT_MS)
    const before = cpuSnapshot()
    const setup = await a.call('libp2pWsSetup', { ...SETUP.other, relayWs: ready.relayWs }, SETUP_CALL_MS)
    describeSetup('libp2p set-up', setup)
    const rawSetup = await a.call('rawWsSetup', { ...SETUP.other, url: ready.rawWsUrl }, SETUP_CALL_MS)
    describeSetup('raw set-up', rawSetup)
    const ms = await a.call('libp2pWsThroughput', { ...sized(bytes), relayPeer: ready.relayPeerId }, THROUGHPUT_CALL_MS)
    describeThroughput('libp2p', bytes, ms)
    const rawMs = await a.call('rawWsThroughput', { ...sized(bytes), url: ready.rawWsUrl }, THROUGHPUT_CALL_MS)
    describeThroughput('raw', bytes, rawMs)
    results.websocket = { setup, rawSetup, bytes, ms, rawMs, cpu: cpuBetween(before, cpuSnapshot()) }
  }

  log('bench: [3/4] Node → relay TCP')
  {
    const bytes = THROUGHPUT.bytes.tcp
    await waitForQuiet(log, 0.3, QUIET_WAIT_MS)
    const before = cpuSnapshot()
    const setup = await withTimeout(libp2pTcpSetup(ready.relayTcp, SETUP.other, log), SETUP_CALL_MS, 'libp2p TCP set-up')
    describeSetup('libp2p set-up', setup)
    const rawSetup = await withTimeout(rawTcpSetup(ready.rawTcpPort, SETUP.other, log), SETUP_CALL_MS, 'raw TCP set-up')
    describeSetup('raw set-up', rawSetup)
    const ms = await withTimeout(libp2pTcpThroughput(peer, ready.relayPeerId, sized(bytes)), THROUGHPUT_CALL_MS, 'libp2p TCP throughput')
    describeThroughput('libp2p', bytes, ms)
    const rawMs = await withTimeout(rawThroughput(ready.rawTcpPort, sized(bytes), { waitReady: false }), THROUGHPUT_CALL_MS, 'raw TCP throughput')
    describeThroughput('raw', bytes, rawMs)
    results.tcp = { setup, rawSetup, bytes, ms, rawMs, cpu: cpuBetween(before, cpuSnapshot()) }
  }

  log('bench: [4/4] Node → tab through the relay')
  {
    const bytes = THROUGHPUT.bytes.relayed
    await waitForQuiet(log, 0.3, QUIET_WAIT_MS)
    const before = cpuSnapshot()
    const circuit = `${ready.relayTcp}/p2p-circuit/p2p/${infoB.peerId}`
    const setup = await withTimeout(relayedSetup(peer, circuit, SETUP.other, log), SETUP_CALL_MS, 'relayed set-up')
    describeSetup('libp2p set-up', setup)
    await b.call('rawForwardAttach', { url: ready.forwardWsUrl }, 10_000)
    const rawSetup = await withTimeout(rawRelayedSetup(ready.forwardTcpPort, SETUP.other, log), SETUP_CALL_MS, 'raw relayed set-up')
    describeSetup('raw set-up', rawSetup)
    const ms = await withTimeout(relayedThroughput(peer, circuit, sized(bytes)), THROUGHPUT_CALL_MS, 'relayed throughput')
    describeThroughput('libp2p', bytes, ms)
    const rawMs = await withTimeout(rawThroughput(ready.forwardTcpPort, sized(bytes), { waitReady: true }), THROUGHPUT_CALL_MS, 'raw relayed throughput')
    describeThroughput('raw', bytes, rawMs)
    results.relayed = { setup, rawSetup, bytes, ms, rawMs, cpu: cpuBetween(before, cpuSnapshot()) }
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
