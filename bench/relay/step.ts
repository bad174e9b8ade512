// One step of the run: grow to a number of tabs, let the relay settle, then
// measure with nobody joining (heartbeat RTTs, the relay's CPU, memory and
// event-loop delay) and profile where its CPU goes.
import { coresBetween, groupSnapshot, log, median, percentile, round, sleep } from '../common/index.ts'
import { CONFIG } from './config.ts'
import { grow } from './grow.ts'
import { InspectorClient } from './inspector.ts'
import { coresUsed, procSample, rssKiB } from './proc-stats.ts'
import { lagP99, oneMoreTab, profileRelay, topFunctions } from './relay-measures.ts'
import type { ProfileSummary } from './profile-summary.ts'
import type { ChurnCost } from './relay-measures.ts'
import type { Rig } from './rig.ts'

/** The relay with only the probes on it: what each step is measured against. */
export interface Baseline { sessions: number, rssKiB: number, rssAfterGcKiB: number, liveHeapBytes: number }

export interface StepResult {
  target: number
  /** Verified sessions the relay counts (its /status), the probes included. */
  sessions: number
  reservations: number
  directorySubscribers: number
  /** Tabs holding a session with the relay, as the tab processes see them. */
  tabsWithSession: number
  reached: boolean
  /** Set when the growth ended because the relay lost most of its sessions. */
  collapsed?: string
  growSeconds: number
  /** Sessions gained per second while growing. */
  joinRate: number
  /** Heartbeat RTT through the relay's session layer, ms, with nobody joining. */
  rtt: { p50: number, p99: number, max: number, n: number }
  /** … and while this step's tabs joined. */
  growRttP99: number
  /** The relay's event-loop delay p99 over the measuring window, ms (and where it was read). */
  lagP99Ms: number
  lagSource: string
  relayCores: number
  relayMainCores: number
  relayRssMiB: number
  /** (RSS − RSS with the probes only) / sessions added, KiB: as the OS sees it at the end of the window, V8's garbage included. */
  rssPerSessionKiB: number
  /** Relay RSS after a full garbage collection, MiB, and per session as above. */
  rssAfterGcMiB: number
  rssAfterGcPerSessionKiB: number
  /** Same with the V8 heap after a full collection. */
  heapPerSessionKiB: number
  tabCores: number
  /** The tab processes' event-loop delay p99, ms, over the window and while growing: a simulator falling behind shows here. */
  tabLagP99Ms: number
  growTabLagP99Ms: number
  probeCores: number
  /** Cores the rest of the machine used meanwhile (other people's work). */
  restCores: number
  probeLagP99Ms: number
  /** Sessions the tabs lost over the step (dropped and rejoined), and why (" (relay)": the relay ended them). */
  sessionsLost: number
  lostWhy: Record<string, number>
  /** Directory frames the tabs received over the step, and their mean size (KiB). */
  directoryFrames: number
  directoryFrameKiB: number
  refusals: Record<string, number>
  /** One more tab joining once the step is measured: the directory frame it sets off goes to every subscriber. */
  churn: ChurnCost
  profile?: ProfileSummary
  /** Taken while growing, when the growth was slow. */
  growProfile?: ProfileSummary
}

export async function runStep (rig: Rig, target: number, base: Baseline, growTimeoutMs: number): Promise<StepResult> {
  const pid = rig.relay.pid
  const refusalsBefore = (await rig.relay.status()).session.refusals
  const lostBefore = rig.total('sessionsLost')
  const whyBefore = rig.lostWhy()
  const framesBefore = rig.total('directoryFrames')
  const frameBytesBefore = rig.total('directoryBytes')
  log(`bench: step ${target} tabs`)
  const g = await grow(rig, target, growTimeoutMs)
  await sleep(CONFIG.settleMs)

  // measuring: nobody joins; the probes' RTTs, the relay's CPU, lag and memory
  const groups = (): Record<string, number> => Object.fromEntries([['relay', pid], ['probes', rig.probes.pid], ...rig.tabs.map((t, i) => [`tabs${i}`, t.pid])])
  await lagP99(rig)
  const g0 = groupSnapshot(groups())
  const p0 = procSample(pid)
  const t0 = performance.now()
  await sleep(CONFIG.measureMs)
  const t1 = performance.now()
  const cpu = coresUsed(p0, procSample(pid))
  const cores = coresBetween(g0, groupSnapshot(groups()))
  const lag = await lagP99(rig)
  const rss = rssKiB(pid)
  const status = await rig.relay.status()
  const rtts = rig.rttsBetween(t0, t1)

  // then where the relay's CPU goes, what one more tab costs it, and its live heap (a full collection, outside the window)
  const profile = await profileRelay(rig, CONFIG.profileMs, `relay-${target}`)
  const churn = await oneMoreTab(rig)
  let liveHeap = Number.NaN
  let rssAfterGc = Number.NaN
  const inspector = await InspectorClient.connect(rig.relay.ports.inspector)
  try {
    liveHeap = await inspector.liveHeapBytes()
    // V8 gives pages back to the OS a moment after a full collection
    await sleep(1_000)
    rssAfterGc = rssKiB(pid)
  } finally {
    inspector.close()
  }

  const added = status.session.sessions - base.sessions
  const refusals = Object.fromEntries(Object.entries(status.session.refusals).map(([k, v]) => [k, v - (refusalsBefore[k] ?? 0)]).filter(([, v]) => Number(v) > 0))
  const tabCores = Object.entries(cores).filter(([k]) => k.startsWith('tabs')).reduce((n, [, v]) => n + v, 0)
  const result: StepResult = {
    target,
    sessions: status.session.sessions,
    reservations: status.reservations,
    directorySubscribers: status.directorySubscribers,
    tabsWithSession: rig.total('sessions'),
    reached: g.reached,
    ...(g.collapsed != null ? { collapsed: g.collapsed } : {}),
    growSeconds: round(g.seconds, 1),
    joinRate: g.seconds > 0 ? round(g.gained / g.seconds, 1) : 0,
    rtt: { p50: round(median(rtts), 1), p99: round(percentile(rtts, 99), 1), max: round(Math.max(...rtts), 1), n: rtts.length },
    growRttP99: round(percentile(g.rtts, 99), 1),
    lagP99Ms: lag.ms,
    lagSource: lag.source,
    relayCores: round(cpu.cores, 2),
    relayMainCores: round(cpu.mainCores, 2),
    relayRssMiB: round(rss / 1024),
    rssPerSessionKiB: added > 0 ? round((rss - base.rssKiB) / added) : Number.NaN,
    rssAfterGcMiB: round(rssAfterGc / 1024),
    rssAfterGcPerSessionKiB: added > 0 ? round((rssAfterGc - base.rssAfterGcKiB) / added) : Number.NaN,
    heapPerSessionKiB: added > 0 ? round((liveHeap - base.liveHeapBytes) / 1024 / added) : Number.NaN,
    tabCores: round(tabCores, 2),
    tabLagP99Ms: round(percentile(rig.tabLagBetween(t0, t1), 99)),
    growTabLagP99Ms: round(percentile(g.tabLags, 99)),
    probeCores: cores.probes ?? Number.NaN,
    restCores: cores.rest,
    probeLagP99Ms: round(percentile(rig.probeLagBetween(t0, t1), 99), 1),
    sessionsLost: rig.total('sessionsLost') - lostBefore,
    lostWhy: Object.fromEntries(Object.entries(rig.lostWhy()).map(([k, v]) => [k, v - (whyBefore[k] ?? 0)]).filter(([, v]) => Number(v) > 0)),
    directoryFrames: rig.total('directoryFrames') - framesBefore,
    directoryFrameKiB: round((rig.total('directoryBytes') - frameBytesBefore) / 1024 / Math.max(rig.total('directoryFrames') - framesBefore, 1), 1),
    refusals,
    churn,
    ...(profile != null ? { profile } : {}),
    ...(g.profile != null ? { growProfile: g.profile } : {})
  }
  log(`  one more tab: ${churn.cpuMs} ms of relay CPU, RTT max ${churn.rttMaxMs} ms, ${churn.snapshots} directory frames sent`)
  if (g.profile != null) log(`  relay profile while growing: ${topFunctions(g.profile)}`)
  if (profile != null) log(`  relay profile: ${topFunctions(profile)}`)
  log(`  ${result.sessions} sessions (refusals: ${JSON.stringify(refusals)}); RTT p50/p99 ${result.rtt.p50}/${result.rtt.p99} ms (${result.rtt.n} beats), while joining p99 ${result.growRttP99} ms; lag p99 ${result.lagP99Ms} ms; relay ${result.relayCores} cores (main thread ${result.relayMainCores}), ${result.relayRssMiB} MiB (${result.rssAfterGcMiB} after a full GC), ${result.rssPerSessionKiB} KiB/session (${result.rssAfterGcPerSessionKiB} after GC, ${result.heapPerSessionKiB} live heap); tabs ${result.tabCores} cores (event-loop p99 ${result.tabLagP99Ms} ms, ${result.growTabLagP99Ms} while growing), rest ${result.restCores}; sessions lost ${result.sessionsLost} ${JSON.stringify(result.lostWhy)}`)
  return result
}

/** The relay with the probes only, after a settle: what memory per session is counted from. */
export async function baseline (rig: Rig): Promise<Baseline> {
  await sleep(CONFIG.settleMs)
  const inspector = await InspectorClient.connect(rig.relay.ports.inspector)
  try {
    const rss = rssKiB(rig.relay.pid)
    const liveHeapBytes = await inspector.liveHeapBytes()
    await sleep(1_000)
    return { sessions: (await rig.relay.status()).session.sessions, rssKiB: rss, rssAfterGcKiB: rssKiB(rig.relay.pid), liveHeapBytes }
  } finally {
    inspector.close()
  }
}
