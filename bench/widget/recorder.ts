// What the bench records inside the pages, from before their own scripts run
// (Playwright init scripts run in every frame, the widget's cross-origin
// frame included): in the host page the frame's messages, the element's
// events and its long tasks; in the widget's frame the clicks and its own
// long tasks. Times are the document's performance.now(); `origin` turns
// them into wall-clock ms to compare across documents.
import type { Frame, Page } from '@playwright/test'

export interface Mark { at: number, what: string, detail?: Record<string, unknown> }

export interface PageRecord {
  top: boolean
  origin: number
  /** Host: 'state:<state>' and 'event:<name>' messages from the frame; frame: 'click:<button text>'. */
  marks: Mark[]
  /** Host: 'golemclay:<name>' DOM events. */
  events: Mark[]
  longTasks: Array<{ at: number, ms: number }>
}

declare global {
  interface Window { __bench?: PageRecord }
}

/** The init script; self-contained (serialized into each document). */
function record (): void {
  if (window.__bench != null) return
  const rec: PageRecord = { top: window.top === window, origin: performance.timeOrigin, marks: [], events: [], longTasks: [] }
  window.__bench = rec
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) rec.longTasks.push({ at: e.startTime, ms: e.duration })
    }).observe({ type: 'longtask', buffered: true })
  } catch {}
  if (rec.top) {
    window.addEventListener('message', (e: MessageEvent) => {
      const d = e.data
      if (d?.channel !== 'golem-clay-widget') return
      rec.marks.push({ at: performance.now(), what: d.kind === 'state' ? `state:${String(d.state)}` : `event:${String(d.event)}`, detail: d.detail })
    })
    for (const name of ['joined', 'working', 'paused', 'earned', 'error']) {
      document.addEventListener(`golemclay:${name}`, (e) => { rec.events.push({ at: performance.now(), what: name, detail: (e as CustomEvent).detail }) })
    }
  } else {
    // capture phase, before the button's own handler; `at` is the input's own time, `handled` when the frame got to it
    document.addEventListener('click', (e) => { rec.marks.push({ at: e.timeStamp, what: `click:${(e.target as HTMLElement | null)?.textContent ?? ''}`, detail: { handled: performance.now() } }) }, true)
  }
}

export async function installRecorder (page: Page): Promise<void> {
  await page.addInitScript(record)
}

export async function readRecord (where: Page | Frame): Promise<PageRecord> {
  const rec = await where.evaluate(() => window.__bench ?? null)
  if (rec == null) throw new Error('the bench recorder did not run in this document')
  return rec
}

/** The host's current performance.now(). */
export async function hostNow (page: Page): Promise<number> {
  return await page.evaluate(() => performance.now())
}

/** The widget's frame in `page` (the element's shadow root is closed: found by address). */
export function widgetFrame (page: Page): Frame | undefined {
  return page.frames().find(f => f.url().includes('/widget-frame'))
}

export function firstMark (marks: Mark[], what: string, after = -Infinity): Mark | undefined {
  return marks.find(m => m.what === what && m.at >= after)
}
