// A step's growth: the tab processes add tabs until the relay holds the
// step's number; a slow growth is profiled once to say where the relay's
// time went.
import { log, sleep } from '../common/index.ts'
import { CONFIG } from './config.ts'
import { profileRelay } from './relay-measures.ts'
import type { ProfileSummary } from './profile-summary.ts'
import type { Rig } from './rig.ts'

/** Growth still going after this long is profiled once. */
const SLOW_GROWTH_MS = 45_000

/** Grows to `target` tabs: done when the relay holds them all, or 98 % and nothing more for 5 s, or `timeoutMs`. */
export interface Growth {
  seconds: number
  gained: number
  reached: boolean
  /** Why it did not: the relay lost most of what it held. */
  collapsed?: string
  rtts: number[]
  tabLags: number[]
  profile?: ProfileSummary
}

export async function grow (rig: Rig, target: number, timeoutMs: number): Promise<Growth> {
  const probes = rig.probes.last.get('rtt')?.sessions ?? 0
  const start = performance.now()
  const before = (await rig.relay.status()).session.sessions
  rig.grow(target)
  let last = before
  let most = before
  let lastChange = start
  let profile: ProfileSummary | undefined
  for (;;) {
    await sleep(2_000)
    // a slow growth is profiled once, to say where the relay's time went
    if (profile == null && performance.now() - start > SLOW_GROWTH_MS) {
      log(`  growth is slow: profiling the relay for ${CONFIG.profileMs / 1000} s`)
      profile = await profileRelay(rig, CONFIG.profileMs, `relay-${target}-growing`)
    }
    const dead = rig.dead()
    if (dead != null) throw new Error(dead)
    const sessions = (await rig.relay.status()).session.sessions
    const now = performance.now()
    if (sessions !== last) lastChange = now
    last = sessions
    most = Math.max(most, sessions)
    const tabs = sessions - probes
    const tabLag = Math.max(...rig.tabLagBetween(now - 2_000, now))
    log(`  growing: ${tabs}/${target} tabs hold sessions (tab processes: ${rig.total('tabs')} started, ${rig.total('joining')} joining, ${rig.total('sessionsLost')} sessions lost so far, event-loop delay ${tabLag} ms)`)
    const result = (reached: boolean, until: number, collapsed?: string): Growth => ({
      seconds: (until - start) / 1000,
      gained: sessions - before,
      reached,
      ...(collapsed != null ? { collapsed } : {}),
      rtts: rig.rttsBetween(start, now),
      tabLags: rig.tabLagBetween(start, now),
      ...(profile != null ? { profile } : {})
    })
    if (tabs >= target || (tabs >= target * 0.98 && now - lastChange > 5_000)) return result(true, lastChange)
    // past saving within this step: most of what the relay held went
    if (sessions < most * 0.75 && most - sessions > 50) return result(false, now, `the relay went from ${most} sessions to ${sessions} while growing (how the tabs' sessions ended so far: ${JSON.stringify(rig.lostWhy())})`)
    if (now - start > timeoutMs) return result(false, now)
  }
}
