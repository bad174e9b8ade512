// What the bench reads from the relay besides /status and /proc: a CPU
// profile over a window, its event-loop delay, and the cost of one more tab.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { HZ, log, round, sleep } from '../common/index.ts'
import { CONFIG } from './config.ts'
import { InspectorClient } from './inspector.ts'
import { procSample } from './proc-stats.ts'
import { summarizeProfile } from './profile-summary.ts'
import { metricValue } from './prometheus-text.ts'
import type { ProfileSummary } from './profile-summary.ts'
import type { Rig } from './rig.ts'

export interface ChurnCost {
  /** Relay CPU in the 5 s after the join was asked for, less the 5 s before, ms. */
  cpuMs: number
  /** Heartbeat RTTs the probes measured meanwhile: the largest, ms. */
  rttMaxMs: number
  /** Directory frames the tabs received meanwhile. */
  snapshots: number
}

/** Window over which one more tab's cost is counted, from the moment it is asked for. */
const CHURN_WINDOW_MS = 5_000

/**
 * Adds one tab and counts the relay's CPU over the next 5 s, less its CPU
 * over the 5 s just before (nobody joining): what that join cost it,
 * within the noise of the relay's steady work.
 */
export async function oneMoreTab (rig: Rig): Promise<ChurnCost> {
  const frames = rig.total('directoryFrames')
  const q0 = procSample(rig.relay.pid)
  await sleep(CHURN_WINDOW_MS)
  const p0 = procSample(rig.relay.pid)
  rig.tabs[0]?.send({ cmd: 'add', n: 1 })
  await sleep(CHURN_WINDOW_MS)
  const p1 = procSample(rig.relay.pid)
  // ticks per ms, quiet and with the join
  const quiet = (p0.ticks - q0.ticks) / (p0.at - q0.at)
  const busy = (p1.ticks - p0.ticks) / (p1.at - p0.at)
  const rtts = rig.rttsBetween(p0.at, p1.at)
  return {
    cpuMs: round((busy - quiet) * CHURN_WINDOW_MS / HZ * 1000),
    rttMaxMs: round(Math.max(...rtts), 1),
    snapshots: rig.total('directoryFrames') - frames
  }
}

/** The busiest functions of a profile, as a log line. */
export function topFunctions (p: ProfileSummary, n = 6): string {
  const busy = Math.max(p.totalMs - p.idleMs, 1)
  return `${Math.round(busy / p.totalMs * 100)}% busy: ${p.byFunction.slice(0, n).map(f => `${f.name} ${Math.round(f.ms / busy * 100)}%`).join(', ')}`
}

/** The relay's event-loop delay p99 since the last read: its /metrics (prom-client's gauge) when exported, else a histogram through the inspector. */
export async function lagP99 (rig: Rig): Promise<{ ms: number, source: string }> {
  const value = metricValue(await rig.relay.metrics(), 'nodejs_eventloop_lag_p99_seconds')
  if (value != null && Number.isFinite(value)) return { ms: round(value * 1000, 1), source: '/metrics nodejs_eventloop_lag_p99_seconds' }
  const inspector = await InspectorClient.connect(rig.relay.ports.inspector)
  try {
    return { ms: round(await inspector.lagP99Ms(), 1), source: 'monitorEventLoopDelay through the inspector' }
  } finally {
    inspector.close()
  }
}

/** A CPU profile of the relay over the next `ms`, summarized (and kept in BENCH_RELAY_PROFILE's folder as `name`). */
export async function profileRelay (rig: Rig, ms: number, name: string): Promise<ProfileSummary | undefined> {
  const inspector = await InspectorClient.connect(rig.relay.ports.inspector)
  try {
    await inspector.startProfile()
    await sleep(ms)
    const raw = await inspector.stopProfile()
    if (CONFIG.profileDir != null) writeFileSync(join(CONFIG.profileDir, `${name}.cpuprofile`), JSON.stringify(raw))
    return summarizeProfile(raw)
  } catch (err: any) {
    log(`  profile failed: ${String(err?.message)}`)
    return undefined
  } finally {
    inspector.close()
  }
}
