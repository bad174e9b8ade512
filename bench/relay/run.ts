// npm run bench:relay — how many tabs one relay holds: a real relay process,
// simulated tabs (real libp2p nodes over WebSockets running the session
// layer, each with a reservation and a directory subscription) grown in
// steps from several processes and loopback addresses, probes measuring the
// heartbeat RTT through the relay. Per step: sessions held, join rate, RTT
// p50/p99, the relay's CPU, memory and event-loop delay, and a CPU profile.
// Writes the "Relay capacity" section of BENCHMARKS.md (full runs only) and
// prints a JSON summary as its last line. Options: see config.ts
// (BENCH_RELAY_QUICK=1 or --quick for a small run).
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BENCHMARKS_MD, loadAverage, log, machineInfo, round, upsertSection, waitForQuiet } from '../common/index.ts'
import { CONFIG } from './config.ts'
import { memAvailableMiB } from './proc-stats.ts'
import { capacitySection, stepTable, summary } from './report.ts'
import { benchRelayLimits } from './relay-process.ts'
import { Rig } from './rig.ts'
import { baseline, runStep } from './step.ts'
import type { Baseline, StepResult } from './step.ts'

// other work sharing two cores moves every figure: wait a while for a quieter machine (not in a quick run)
if (!CONFIG.quick) await waitForQuiet(log, 0.5, 180_000)
const started = performance.now()
const deadline = started + CONFIG.budgetMs
const loadAtStart = loadAverage()
if (CONFIG.profileDir != null) mkdirSync(CONFIG.profileDir, { recursive: true })
log(`bench: steps ${CONFIG.steps.join(', ')} tabs; ${CONFIG.tabProcesses} tab processes, ${CONFIG.tabHosts.length} addresses; budget ${CONFIG.budgetMs / 60_000} min${CONFIG.quick ? ' (quick run)' : ''}`)

const rig = await Rig.start()
const steps: StepResult[] = []
let base: Baseline | undefined
let stopped = `every step ran (${CONFIG.steps.join(', ')} tabs)`
try {
  base = await baseline(rig)
  log(`bench: baseline ${base.sessions} sessions, relay RSS ${round(base.rssKiB / 1024)} MiB`)
  for (const target of CONFIG.steps) {
    const prev = steps[steps.length - 1]
    const added = target - (prev?.target ?? 0)
    // time: the growth at the last join rate (5 a second before any) plus the windows
    const expectMs = added / Math.max(prev?.joinRate ?? 5, 1) * 1000 + CONFIG.settleMs + CONFIG.measureMs + CONFIG.profileMs + 10_000
    if (performance.now() + expectMs > deadline) {
      stopped = `the time budget (${CONFIG.budgetMs / 60_000} min) left no room for ${target} tabs`
      break
    }
    // memory: what a tab (in its process) and a session (in the relay) took so far, for the tabs to come
    const perTabMiB = prev != null ? (rig.total('rssMB') / Math.max(rig.total('tabs'), 1)) + prev.rssPerSessionKiB / 1024 : 2
    const need = added * perTabMiB
    if (memAvailableMiB() - need < CONFIG.memoryFloorMiB) {
      stopped = `memory: ${target} tabs would need ~${Math.round(need)} MiB more, leaving less than ${CONFIG.memoryFloorMiB} MiB available`
      break
    }
    const growTimeoutMs = Math.min(60_000 + added * 200, deadline - performance.now() - CONFIG.settleMs - CONFIG.measureMs - CONFIG.profileMs)
    const step = await runStep(rig, target, base, growTimeoutMs)
    steps.push(step)
    if (!step.reached) {
      stopped = step.collapsed ?? `the relay held only ${step.sessions} sessions ${Math.round(growTimeoutMs / 1000)} s into the ${target}-tab step`
      break
    }
    if (step.rtt.p99 > CONFIG.p99LimitMs) {
      stopped = `the heartbeat p99 passed ${CONFIG.p99LimitMs} ms at ${step.sessions} sessions`
      break
    }
  }
} catch (err: any) {
  stopped = `error: ${String(err?.message).split('\n')[0] ?? ''}`
  log(`bench: ${String(err?.stack ?? err)}`)
} finally {
  log('bench: stopping')
  await rig.stop()
}

const result = {
  steps,
  stopped,
  limits: benchRelayLimits(CONFIG.difficulty, CONFIG.maxSessions),
  machine: machineInfo('not used', loadAtStart),
  baseRssMiB: round((base?.rssKiB ?? Number.NaN) / 1024),
  seconds: (performance.now() - started) / 1000
}
process.stdout.write(`${stepTable(steps)}\n\nstopped: ${stopped}\n`)
// every figure, for a look beyond the table (and to render the section again)
if (CONFIG.profileDir != null) writeFileSync(join(CONFIG.profileDir, 'result.json'), JSON.stringify(result, null, 1))
if (!CONFIG.quick && steps.length > 0) {
  upsertSection(BENCHMARKS_MD, 'Relay capacity', capacitySection(result))
  log(`bench: wrote the "Relay capacity" section of ${BENCHMARKS_MD}`)
} else {
  log('bench: a quick run leaves BENCHMARKS.md alone')
}
process.stdout.write(`${JSON.stringify(summary(result))}\n`)
process.exit(0)
