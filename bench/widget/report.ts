// The Widget section of BENCHMARKS.md, from one run of bench/widget/run.ts.
import { machineLine, median, round } from '../common/index.ts'
import type { MachineInfo } from '../common/index.ts'
import type { SessionResult } from './measure.ts'

export interface WidgetBenchResult {
  machine: MachineInfo
  seconds: number
  loader: { raw: number, gzip: number }
  /** Host ms from navigation start to the frame's first state message, per fresh load. */
  consentMs: number[]
  subtask: { width: number, aloneMs: number, count: number }
  sessions: SessionResult[]
}

const KB = (bytes: number): string => `${round(bytes / 1024, 2)} KB`
const verdict = (ok: boolean): string => ok ? 'within target' : '**above target**'

export function widgetSection (r: WidgetBenchResult): string {
  const half = r.sessions.find(s => s.maxCpu === 50)
  const full = r.sessions.find(s => s.maxCpu === 100)
  const pauses = r.sessions.filter(s => s.pause != null)
  const longPerMin = (s: SessionResult): number => round(s.hostLongTasks / s.windowS * 60, 1)
  const row = (s: SessionResult): string => `| ${s.maxCpu} % | ${s.clickToJoinedMs} | **${s.clickToWorkingMs}** | ${s.baseline} | **${s.cores}** | ${round(s.cores / (s.maxCpu / 100), 2)} | ${s.computeShare} | ${s.subtasks} × ${s.meanComputeMs} ms | **${longPerMin(s)}** | ${round(s.frameLongTasks / s.windowS * 60, 1)} (longest ${s.framelongestMs} ms) | ${s.relays} / ${s.requestor} / ${s.rest} |`
  const pauseRow = (s: SessionResult): string => {
    const p = s.pause!
    return `| ${s.maxCpu} % | ${p.coresBefore} | ${p.clickToEventMs} | **${p.toIdleMs}** | **${p.coresAfter}** | ${p.threads.join(', ')} | ${p.reason} |`
  }
  const lines = [
    '## Widget',
    '',
    `The embeddable widget (\`<golem-clay-widget>\`, issue 18) on a third-party page, in one run of \`npm run bench:widget\` (${r.seconds} s): a host site on 127.0.0.2 with a strict CSP (\`default-src 'none'; script-src <relay>; frame-src <relay>\`) loads \`<relay>/widget.js\` async and embeds \`<golem-clay-widget account="0x…" cores="1" max-cpu="50" start="click">\` (then \`max-cpu="100"\` for reference); the visitor's click on Join inside the relay's frame starts a browser node that computes an unpaid primes task a Node requestor published before the click.`,
    '',
    machineLine(r.machine, true),
    '',
    `- **Loader** (\`/widget.js\` as relay A serves it): ${r.loader.raw.toLocaleString('en-US')} bytes raw, **${KB(r.loader.gzip)} gzip** (node:zlib, default level): ${verdict(r.loader.gzip <= 15 * 1024)} (≤ 15 KB).`,
    `- **Script tag → consent card**: **${round(median(r.consentMs), 1)} ms** median of ${r.consentMs.length} fresh loads (${r.consentMs.join(', ')} ms), from the host page's navigation start to the frame's first \`state\` message reaching the host.`,
    ...(half != null ? [`- **Consent → first subtask** (max-cpu 50): click → \`golemclay:joined\` ${half.clickToJoinedMs} ms, click → \`golemclay:working\` **${half.clickToWorkingMs} ms** (the Node requestor got the widget's offer ${half.clickToOfferMs} ms and sent its first assignment ${half.clickToAssignedMs} ms after the click)${full != null ? `; at max-cpu 100, ${full.clickToJoinedMs} and ${full.clickToWorkingMs} ms (offer ${full.clickToOfferMs} ms)` : ''}. Between joining and its offer, the node learns of the open task: it asks a relay for the open tasks as soon as its session with one is up (looking every 250 ms), besides the requestor's re-announcement every 3 s.`] : []),
    ...pauses.map(s => `- **Pause → idle** (max-cpu ${s.maxCpu}): the widget's Worker stopped computing **${s.pause!.toIdleMs} ms** after the click (${verdict(s.pause!.toIdleMs <= 1000)}, ≤ 1 s), \`golemclay:paused\` reached the host ${s.pause!.clickToEventMs} ms after it; over the 2 s after the event the Chromium tree used **${s.pause!.coresAfter} cores** above its idle baseline${s.pause!.coresAfter > 0.05 ? ` (busiest threads, cores: ${s.pause!.threads.join(', ')})` : ''}.`),
    ...r.sessions.map(s => `- **Host long tasks** (max-cpu ${s.maxCpu}): **${longPerMin(s)} per minute** (${s.hostLongTasks} in ${s.windowS} s of work): ${verdict(s.hostLongTasks === 0)} (0).`),
    ...(half != null ? [`- **Duty cycle**: at max-cpu 50 the widget's Chromium used **${half.cores} cores** above its baseline (target 0.5; the subtasks' own compute time, as the provider reports it, ${half.computeShare} of the window)${full != null ? `; at max-cpu 100, **${full.cores} cores** (compute ${full.computeShare})` : ''}.`] : []),
    '',
    '| max-cpu | Click → joined, ms | Click → working, ms | Idle baseline, cores | Widget CPU above baseline, cores | ÷ max-cpu | Compute share (reported) | Results in window | Host long tasks / min | Frame long tasks / min | Relays / requestor / rest, cores |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.sessions.map(row),
    '',
    ...(pauses.length > 0
      ? [
          '| max-cpu | Worker cores before the click | Click → `golemclay:paused`, ms | Click → Worker idle, ms | Tree cores over 2 s after, above baseline | Busiest threads then, cores | Reason |',
          '|---|---|---|---|---|---|---|',
          ...pauses.map(pauseRow),
          ''
        ]
      : []),
    ...r.sessions.filter(s => s.selfPauses.length > 0).flatMap(s => [`At max-cpu ${s.maxCpu} the widget paused itself (${s.selfPauses.join(', ')}): those pauses fall in its window.`, '']),
    '### Method',
    '',
    '- **Processes.** Two relay processes (`relay/bin/relay.ts`, B seeded with A, as the network runs: with a single relay a tab keeps looking for a second), relay A serving the test build (`npm run build:test`: `/widget.js`, `/widget-frame.html`); the host site, a plain Node HTTP server on 127.0.0.2 (another site than the relay\'s 127.0.0.1); one headless Debian Chromium; the Node requestor (`createNodePeer`, reserved on both relays) in the bench process. Everything on loopback, on the machine\'s two shared cores.',
    `- **Work.** One unpaid primes task (k = 1, \`tasks/primes\`) of ${r.subtask.count} subtasks of ranges ${r.subtask.width.toLocaleString('en-US')} wide from 10^10 (${round(r.subtask.aloneMs, 1)} ms each alone on a Node worker thread, calibrated at the start), published before the first click and never finished: enough to keep the widget busy through every window. Each session is a fresh browser context (fresh storage, so the visitor's click is needed), and the widget is stopped with its own Stop button before the next.`,
    '- **Loads.** Five fresh contexts load the host page; the host\'s `performance.now()` (ms since its navigation start) of the first message on the widget channel from the frame, recorded by a Playwright init script, is the time to the consent card.',
    '- **Clicks and events.** Playwright clicks the frame\'s buttons as a visitor would. Init scripts record the click in the frame (a capture listener; the click\'s time is the event\'s `timeStamp`, when the input happened) and the frame\'s messages and the element\'s `golemclay:*` events in the host; the two documents\' clocks are compared through `performance.timeOrigin`. "Working" is the first subtask running in the widget\'s Worker.',
    '- **CPU** of the whole Chromium tree (browser, renderers with the widget\'s Worker, GPU, network) from /proc (utime + stime). The idle baseline is measured for 4 s with the consent card shown, before Join; the window starts 5 s after `golemclay:working` (the duty cycle\'s credit saved while joining is spent by then) and lasts 30 s; the widget\'s figure is the tree\'s cores over the window minus the baseline, so it includes the node\'s networking and the frame\'s UI besides the subtasks. The compute share is the sum of the provider\'s reported compute times of the results the requestor got in the window, over the window.',
    '- **Pause.** Clicked right after a subtask starts (the `DedicatedWorker` threads\' CPU time, polled every 20 ms, rising from nothing; at max-cpu 100, where the Worker never rests, after 1 s of work). Those threads are sampled from /proc every 50 ms from the bench\'s click call (so Playwright\'s dispatch is included); "idle" is the end of the last sample in which they used 0.3 cores or more (a running subtask is about one), up to 2 s after the event. Then the whole tree\'s cores over the 2 s after the event, minus the baseline, and its busiest threads then (process type, thread name).',
    '- **Long tasks.** `PerformanceObserver({ type: \'longtask\', buffered: true })` in the host page (its main thread: the widget\'s frame is another site, in its own renderer process) and, for comparison, in the widget\'s frame, counted over the working window.'
  ]
  return lines.join('\n')
}
