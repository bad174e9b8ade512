// The measured steps: fresh page loads to the consent card, and one widget
// session (join, work, pause) on the host site, all with the real parts.
import { coresBetween, groupSnapshot, round, sleep, waitUntil } from '../common/index.ts'
import { firstMark, hostNow, installRecorder, readRecord, widgetFrame } from './recorder.ts'
import { pauseSample } from './pause.ts'
import type { PauseSample } from './pause.ts'
import type { Rig } from './rig.ts'
import type { RequestorTask } from '../../shared/market/index.ts'
import type { Frame } from '@playwright/test'

/** Host-page ms from navigation start to the frame's first state message, one fresh context per load. */
export async function consentLoads (rig: Rig, site: string, loads: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < loads; i++) {
    const context = await rig.browser.newContext()
    try {
      const page = await context.newPage()
      await installRecorder(page)
      await page.goto(site)
      let ms = Number.NaN
      await waitUntil(async () => {
        const m = (await readRecord(page)).marks.find(x => x.what.startsWith('state:'))
        if (m != null) ms = m.at
        return m != null
      }, 30_000, 'the consent card\'s first state message')
      out.push(round(ms, 1))
    } finally {
      await context.close()
    }
  }
  return out
}

export interface SessionResult {
  maxCpu: number
  /** Chromium tree's cores with the consent card shown, before joining. */
  baseline: number
  clickToJoinedMs: number
  clickToWorkingMs: number
  /** The requestor (Node) got the widget's first offer, sent its first assignment: ms after the click, through the wall clock. */
  clickToOfferMs: number
  clickToAssignedMs: number
  windowS: number
  /** Chromium tree's cores over the window, above the baseline. */
  cores: number
  /** Relays, the bench process (the requestor), the rest of the machine, cores over the window. */
  relays: number
  requestor: number
  rest: number
  /** Results the widget returned in the window, their mean compute time (the provider's own timing), and their share of the window. */
  subtasks: number
  meanComputeMs: number
  computeShare: number
  /** Long tasks of the host page's main thread in the window, and of the widget's frame (its own process). */
  hostLongTasks: number
  frameLongTasks: number
  framelongestMs: number
  /** golemclay:paused events the bench did not cause (pressure, battery, hidden), by reason. */
  selfPauses: string[]
  pause?: PauseSample
}

export interface SessionInit {
  maxCpu: number
  /** ms of work before the window: the duty cycle's credit saved while joining is spent by then. */
  settleMs: number
  windowMs: number
  baselineMs: number
  pause: boolean
}

/** One widget session on a fresh context: consent card, baseline, Join, the working window, then Pause and Stop. */
export async function session (rig: Rig, site: string, task: RequestorTask, init: SessionInit, log: (line: string) => void): Promise<SessionResult> {
  const context = await rig.browser.newContext()
  try {
    const page = await context.newPage()
    page.on('pageerror', (err) => { log(`[host] page error: ${err.message}`) })
    await installRecorder(page)
    await page.goto(site)
    await waitUntil(() => widgetFrame(page) != null, 30_000, 'the widget frame')
    const frame = widgetFrame(page) as Frame
    await frame.getByRole('button', { name: 'Join' }).waitFor({ timeout: 30_000 })

    await sleep(1_000)
    const b0 = groupSnapshot(rig.pids)
    await sleep(init.baselineMs)
    const baseline = coresBetween(b0, groupSnapshot(rig.pids)).chromium ?? Number.NaN
    log(`  max-cpu=${init.maxCpu}: baseline ${baseline} cores with the consent card; clicking Join`)

    // the requestor's side of the first assignment, on the wall clock (Node's and the pages' time origins are both wall-clock ms)
    const market: Array<{ abs: number, what: string, provider: string }> = []
    const onMarket = (e: CustomEvent<{ provider: string }>): void => { market.push({ abs: performance.timeOrigin + performance.now(), what: e.type, provider: e.detail.provider }) }
    task.addEventListener('offer', onMarket)
    task.addEventListener('assigned', onMarket)
    await frame.getByRole('button', { name: 'Join' }).click()
    const events = async (): Promise<string[]> => (await readRecord(page)).events.map(e => e.what)
    await waitUntil(async () => (await events()).includes('joined'), 60_000, 'golemclay:joined', 20)
    await waitUntil(async () => (await events()).includes('working'), 60_000, 'golemclay:working', 20)
    const host = await readRecord(page)
    const frameRec = await readRecord(frame)
    // the click in host time: the frame's click, through both documents' time origins
    const joinClick = firstMark(frameRec.marks, 'click:Join')
    const clickAt = joinClick != null ? frameRec.origin + joinClick.at - host.origin : (firstMark(host.marks, 'state:joining')?.at ?? Number.NaN)
    const at = (name: string): number => host.events.find(e => e.what === name)?.at ?? Number.NaN
    const peer = String(host.events.find(e => e.what === 'joined')?.detail?.peer ?? '')
    const clickToJoinedMs = round(at('joined') - clickAt, 1)
    const clickToWorkingMs = round(at('working') - clickAt, 1)
    task.removeEventListener('offer', onMarket)
    task.removeEventListener('assigned', onMarket)
    const marketAt = (what: string): number => round((market.find(m => m.what === what && m.provider === peer)?.abs ?? Number.NaN) - host.origin - clickAt, 1)
    const clickToOfferMs = marketAt('offer')
    const clickToAssignedMs = marketAt('assigned')
    log(`  the requestor got the widget's offer ${clickToOfferMs} ms and sent its first assignment ${clickToAssignedMs} ms after the click`)
    log(`  click → joined ${clickToJoinedMs} ms, → working ${clickToWorkingMs} ms (peer ${peer.slice(-8)}); the frame handled the click ${round(Number(joinClick?.detail?.handled ?? Number.NaN) - (joinClick?.at ?? Number.NaN), 1)} ms after its timestamp, its 'joining' message reached the host ${round((firstMark(host.marks, 'state:joining')?.at ?? Number.NaN) - clickAt, 1)} ms after it`)

    await sleep(init.settleMs)
    const results: Array<{ at: number, ms: number }> = []
    const onResult = (e: CustomEvent<{ provider: string, computeMs: number }>): void => { if (e.detail.provider === peer) results.push({ at: performance.now(), ms: e.detail.computeMs }) }
    task.addEventListener('result', onResult)
    const h0 = await hostNow(page)
    const f0 = await frame.evaluate(() => performance.now())
    const w0 = groupSnapshot(rig.pids)
    log(`  measuring a ${init.windowMs / 1000} s working window`)
    await sleep(init.windowMs)
    const w1 = groupSnapshot(rig.pids)
    const h1 = await hostNow(page)
    const f1 = await frame.evaluate(() => performance.now())
    task.removeEventListener('result', onResult)
    const cpu = coresBetween(w0, w1)
    const windowS = (w1.at - w0.at) / 1000
    const inWindow = results.filter(r => r.at >= w0.at && r.at <= w1.at)
    const hostLong = (await readRecord(page)).longTasks.filter(t => t.at >= h0 && t.at <= h1)
    const frameLong = (await readRecord(frame)).longTasks.filter(t => t.at >= f0 && t.at <= f1)

    const pause = init.pause ? await pauseSample(rig, page, frame, baseline, log) : undefined
    const selfPauses = (await readRecord(page)).events.filter(e => e.what === 'paused' && e.detail?.reason !== 'visitor').map(e => String(e.detail?.reason))

    // the visitor's Stop: the node leaves the network (bounded; the context closes anyway)
    await frame.getByRole('button', { name: 'Stop' }).click({ timeout: 5_000 }).catch(() => {})
    await waitUntil(async () => (await page.evaluate(() => document.querySelector('golem-clay-widget')?.getAttribute('data-state'))) === 'stopped', 10_000, 'stopped').catch(() => { log('  the widget did not report stopped within 10 s') })
    return {
      maxCpu: init.maxCpu,
      baseline,
      clickToJoinedMs,
      clickToWorkingMs,
      clickToOfferMs,
      clickToAssignedMs,
      windowS: round(windowS, 1),
      cores: round((cpu.chromium ?? Number.NaN) - baseline, 2),
      relays: round((cpu.relayA ?? 0) + (cpu.relayB ?? 0), 2),
      requestor: cpu.self ?? Number.NaN,
      rest: cpu.rest,
      subtasks: inWindow.length,
      meanComputeMs: round(inWindow.reduce((s, r) => s + r.ms, 0) / inWindow.length, 1),
      computeShare: round(inWindow.reduce((s, r) => s + r.ms, 0) / 1000 / windowS, 3),
      hostLongTasks: hostLong.length,
      frameLongTasks: frameLong.length,
      framelongestMs: round(Math.max(0, ...frameLong.map(t => t.ms)), 0),
      selfPauses,
      ...(pause != null ? { pause } : {})
    }
  } finally {
    await context.close()
  }
}
