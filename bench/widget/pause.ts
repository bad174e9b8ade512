// Pause → idle: the visitor's Pause while a subtask runs, and whether the
// widget's CPU really stops (its sandbox Worker, then the whole Chromium).
import { coresBetween, groupSnapshot, HZ, round, sleep, threadTicks, ticksBetween, waitUntil } from '../common/index.ts'
import { firstMark, readRecord } from './recorder.ts'
import { sampleRates, treeSampler } from './rig.ts'
import type { Rig, TreeSample } from './rig.ts'
import type { Frame, Page } from '@playwright/test'

export interface PauseSample {
  /** The frame's click (its timeStamp) → the host's golemclay:paused, through both documents' time origins. */
  clickToEventMs: number
  /** From the bench's click call until the sandbox Workers stayed under IDLE_CORES (50 ms samples; Playwright's dispatch included). */
  toIdleMs: number
  /** The Workers' cores in the sample before the click: a subtask was running. */
  coresBefore: number
  /** Chromium tree's cores over the 2 s after the event, above its idle baseline. */
  coresAfter: number
  reason: string
  /** The busiest Chromium threads over those 2 s: "process-type thread cores". */
  threads: string[]
}

/** Under this many cores the Workers count as idle (a running subtask is ~1). */
export const IDLE_CORES = 0.3
const SAMPLE_MS = 50

/**
 * Clicks Pause right after a subtask starts (the Workers' CPU time rising
 * from nothing, seen every 20 ms; after 1 s of constant work, at once),
 * samples the Chromium tree and its Worker threads every 50 ms until 2 s
 * after golemclay:paused, reads the event's time in the host, and names the
 * threads that still used CPU after it.
 */
export async function pauseSample (rig: Rig, page: Page, frame: Frame, baseline: number, log: (line: string) => void): Promise<PauseSample> {
  const root = { chromium: rig.pids.chromium as number }
  const sample = treeSampler(root.chromium)
  const samples: TreeSample[] = [sample()]
  const timer = setInterval(() => { samples.push(sample()) }, SAMPLE_MS)
  const rate = (i: number): { tree: number, workers: number } => sampleRates(samples[i - 1]!, samples[i]!)
  try {
    // a subtask's start: Worker ticks unchanged over one 20 ms poll, then rising
    let prev = sample()
    let idleSeen = false
    const waitFrom = performance.now()
    await waitUntil(() => {
      const now = sample()
      const ticks = sampleRates(prev, now).workers * (now.at - prev.at) / 1000 * HZ
      prev = now
      if (ticks === 0) idleSeen = true
      return (idleSeen && ticks > 0) || (performance.now() - waitFrom > 1_000 && ticks > 0)
    }, 10_000, 'a running subtask to pause', 20).catch(() => { log('  no running subtask seen in 10 s: pausing anyway') })
    const from = samples.length - 1
    const coresBefore = from >= 1 ? rate(from).workers : Number.NaN
    const clickCall = performance.now()
    await frame.getByRole('button', { name: 'Pause' }).click()
    await waitUntil(async () => (await readRecord(page)).events.some(e => e.what === 'paused'), 10_000, 'golemclay:paused', 20)
    const a = groupSnapshot(rig.pids)
    const ta = threadTicks(root)
    await sleep(2_000)
    const coresAfter = (coresBetween(a, groupSnapshot(rig.pids)).chromium ?? Number.NaN) - baseline
    const threads = [...ticksBetween(ta, threadTicks(root))].filter(([k, t]) => t > 0 && k.startsWith('chromium ')).sort((x, y) => y[1] - x[1]).slice(0, 4)
      .map(([k, t]) => `${k.slice('chromium '.length)} ${round(t / HZ / 2, 2)}`)
    clearInterval(timer)
    const host = await readRecord(page)
    const frameRec = await readRecord(frame)
    const event = host.events.find(e => e.what === 'paused')
    const click = firstMark(frameRec.marks, 'click:Pause')
    const clickToEventMs = event != null && click != null ? round(host.origin + event.at - (frameRec.origin + click.at), 1) : Number.NaN
    // the end of the last sample after the click call in which the Workers computed
    let idleAt = clickCall
    for (let i = from + 1; i < samples.length; i++) if (rate(i).workers >= IDLE_CORES) idleAt = samples[i]!.at
    const series = samples.slice(from + 1, from + 21).map((_, j) => rate(from + 1 + j))
    log(`  pause: click → paused event ${clickToEventMs} ms, Workers idle ${round(idleAt - clickCall, 0)} ms after the click call; tree/Workers cores per ${SAMPLE_MS} ms from it: ${series.map(r => `${round(r.tree, 1)}/${round(r.workers, 1)}`).join(' ')}`)
    log(`  over 2 s after the event: ${round(coresAfter, 3)} cores above baseline; busiest Chromium threads (cores): ${threads.join(', ')}`)
    return { clickToEventMs, toIdleMs: round(idleAt - clickCall, 0), coresBefore: round(coresBefore, 2), coresAfter: round(coresAfter, 3), reason: String(event?.detail?.reason ?? ''), threads }
  } finally {
    clearInterval(timer)
  }
}
