// npm run bench:widget — see the Widget section of BENCHMARKS.md
//
// The embeddable widget on a third-party page, with real parts only: two
// relay processes, a host site on 127.0.0.2 with a strict CSP, headless
// Chromium, a Node requestor. Measures the loader's size, script tag →
// consent card, consent → first subtask, pause → idle, the host page's long
// tasks while the widget works, and the duty cycle against max-cpu.
// Progress goes to stderr; stdout gets a JSON summary.
import { gzipSync } from 'node:zlib'
import { BENCHMARKS_MD, loadAverage, log, machineInfo, requireTestPage, upsertSection, waitForQuiet } from '../common/index.ts'
import { consentLoads, session } from './measure.ts'
import { widgetSection } from './report.ts'
import { calibrate, setUp, submitPrimes } from './rig.ts'
import type { WidgetBenchResult } from './report.ts'
import type { SessionResult } from './measure.ts'

const ACCOUNT = '0x00000000000000000000000000000000000c1a11'
const LOADS = 5
const SUBTASK_MS = 150
/** Enough for both sessions' windows at full speed, and more. */
const SUBTASKS = 1_000
/** The whole run is bounded: everything is torn down after this. */
const DEADLINE_MS = 6 * 60_000

async function main (): Promise<WidgetBenchResult> {
  const began = Date.now()
  const loadAtStart = loadAverage()
  requireTestPage('widget.js')
  requireTestPage('widget-frame.html')
  await waitForQuiet(log, 0.3, 30_000)
  const rig = await setUp(log)
  const stop = (): void => { void rig.close().finally(() => process.exit(130)) }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop)
  const deadline = setTimeout(() => { log(`bench: still running after ${DEADLINE_MS / 1000} s, giving up`); void rig.close().finally(() => process.exit(1)) }, DEADLINE_MS)
  try {
    const res = await fetch(new URL('/widget.js', rig.relay.httpUrl))
    if (!res.ok) throw new Error(`/widget.js: ${res.status}`)
    const raw = Buffer.from(await res.arrayBuffer())
    const loader = { raw: raw.byteLength, gzip: gzipSync(raw).byteLength }
    log(`bench: loader ${loader.raw} bytes, ${loader.gzip} gzip`)

    const site = (maxCpu: number): string => `<golem-clay-widget account="${ACCOUNT}" cores="1" max-cpu="${maxCpu}" start="click"></golem-clay-widget>`
    const half = await rig.hostSite(site(50))
    const full = await rig.hostSite(site(100))
    log(`bench: ${LOADS} fresh loads of ${half} to the consent card`)
    const consentMs = await consentLoads(rig, half, LOADS)
    log(`  ${consentMs.join(', ')} ms`)

    const { width, aloneMs } = await calibrate(SUBTASK_MS)
    log(`bench: primes ranges ${width} wide take ${aloneMs.toFixed(1)} ms alone; publishing ${SUBTASKS} of them (unpaid, k = 1) before the click`)
    const task = await submitPrimes(rig, width, SUBTASKS)

    const sessions: SessionResult[] = []
    for (const [maxCpu, url] of [[50, half], [100, full]] as const) {
      sessions.push(await session(rig, url, task, { maxCpu, settleMs: 5_000, windowMs: 30_000, baselineMs: 4_000, pause: true }, log))
    }
    task.cancel()
    return {
      machine: machineInfo(rig.chromium, loadAtStart),
      seconds: Math.round((Date.now() - began) / 1000),
      loader,
      consentMs,
      subtask: { width, aloneMs, count: SUBTASKS },
      sessions
    }
  } finally {
    clearTimeout(deadline)
    await rig.close()
  }
}

try {
  const result = await main()
  upsertSection(BENCHMARKS_MD, 'Widget', widgetSection(result))
  log('bench: wrote the Widget section of BENCHMARKS.md')
  process.stdout.write(`${JSON.stringify({ loader: result.loader, consentMs: result.consentMs, sessions: result.sessions })}\n`)
  process.exit(0)
} catch (err) {
  log(`bench: failed: ${(err as Error).stack ?? String(err)}`)
  process.exit(1)
}
