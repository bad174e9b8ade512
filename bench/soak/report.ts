// The soak's report: the BENCHMARKS.md section (printed too) and its JSON summary.
import { machineLine, median } from '../common/index.ts'
import type { MachineInfo } from '../common/index.ts'
import type { TabCapture } from './capture.ts'
import type { Capture, SoakResult } from './soak.ts'

export interface SoakSummary {
  minutes: number
  tasks: number
  completed: number
  /** Tasks not done `stallAfterS` after their submission (whether or not they completed later). */
  stalls: number
  /** Slowest completed task, s. */
  maxTaskSeconds: number | null
}

export function summary (r: SoakResult): SoakSummary {
  const done = r.tasks.filter(t => t.completed).map(t => t.seconds ?? 0)
  return {
    minutes: r.options.minutes,
    tasks: r.tasks.length,
    completed: done.length,
    stalls: r.tasks.filter(t => t.stalled || (t.final && !t.completed)).length,
    maxTaskSeconds: done.length > 0 ? Math.max(...done) : null
  }
}

const short = (peer: string | undefined): string => peer == null ? '?' : `…${peer.slice(-6)}`

function clock (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/** One line per tab of a capture: what a person looking at its Compute card and the debug API would see. */
function tabLine (name: string, c: TabCapture, task: string | undefined, names: Map<string, string>): string {
  if (c.error != null) return `  - ${name}: could not be read (${c.error})`
  const reserved = (c.relays ?? []).map(r => `${names.get(r.peer ?? '') ?? short(r.peer)} ${r.state}${r.failures > 0 ? ` (${r.failures} failures${r.lastError != null ? `: ${r.lastError}` : ''})` : ''}`).join(', ')
  const direct = (c.connections ?? []).filter(x => x.kind === 'webrtc' && !x.limited)
  const linked = [...new Set(direct.map(x => names.get(x.peer) ?? short(x.peer)))].join(', ')
  const jobs = c.jobs ?? []
  const forTask = task == null ? [] : jobs.filter(j => j.task === task)
  const latest = jobs.slice(0, 3).map(j => `${j.taskName} #${j.subtask} ${j.state}`).join('; ')
  return `  - ${name} ${short(c.peerId)} (${c.phase ?? '?'}): lending ${c.compute.lending === true ? 'On' : c.compute.lending === false ? 'Off' : '?'}, button "${c.compute.pauseButton ?? '?'}", "${c.compute.stats ?? '?'}"${c.compute.idle != null ? `, "${c.compute.idle}"` : ''}; relays: ${reserved || 'none'}; WebRTC links to ${linked || 'nobody'}; ${c.sessions?.length ?? 0} sessions; jobs of this task: ${forTask.length}${latest !== '' ? `; latest jobs: ${latest}` : ''}${(c.notices ?? []).length > 0 ? `; last notice: "${c.notices?.at(-1)?.text ?? ''}"` : ''}`
}

function captureLines (r: SoakResult, c: Capture, t0: number, names: Map<string, string>): string[] {
  const task = r.tasks.find(t => t.n === c.task)
  const lines = [`- **Task #${c.task}** (${task?.label ?? '?'}, from ${task?.tab ?? '?'}, submitted at ${clock((task?.submittedAt ?? t0) - t0)}) ${c.reason}; captured at ${clock(c.at - t0)}. The requestor showed: ${c.requestor.state}, ${c.requestor.done} / ${c.requestor.total} subtasks, ${c.requestor.running} running on ${c.requestor.providersShown} provider(s). Tabs:`]
  for (const [name, tab] of Object.entries(c.tabs)) lines.push(tabLine(name, tab, c.requestor.id, names))
  for (const [name, relay] of Object.entries(c.relays)) {
    const st = relay.status as { connectedPeers?: number, reservations?: number, directorySubscribers?: number, session?: { sessions?: number } } | undefined
    const market = relay.metrics.filter(m => !m.startsWith('#') && /market|gossipsub/.test(m)).map(m => m.replace(/^golem_clay_/, '')).join('; ')
    lines.push(`  - relay ${name}: ${relay.error ?? `${st?.connectedPeers ?? '?'} connections, ${st?.reservations ?? '?'} reservations, ${st?.directorySubscribers ?? '?'} directory subscribers, ${st?.session?.sessions ?? '?'} sessions`}${market !== '' ? `; ${market}` : ''}`)
  }
  return lines
}

export function reportSection (r: SoakResult, machine: MachineInfo, command: string, code: string): string {
  const o = r.options
  const s = summary(r)
  const t0 = r.tasks[0]?.submittedAt ?? r.startedAt
  const names = new Map([...r.setup.tabs.map(t => [t.peerId, t.name] as const), ...r.setup.relays.map(x => [x.peerId, `relay ${x.name}`] as const)])
  const done = r.tasks.filter(t => t.completed).map(t => t.seconds ?? 0)
  const failed = r.tasks.filter(t => !t.completed)
  const lines: string[] = [
    '## Compute soak',
    '',
    `A long session replayed against the compute market, asserting that every task completes (issue 16, point 1): \`${command}\` (\`bench/soak/\`, not part of \`npm test\`; exit code 1 if any task did not complete). This run: a ${o.minutes}-minute schedule (${count(r.tasks.length, 'task')}, the last submitted at ${clock((r.tasks.at(-1)?.submittedAt ?? t0) - t0)}), ${round1((r.endedAt - r.startedAt) / 60_000)} min from start to report${r.interrupted ? ', **interrupted** (Ctrl-C)' : ''}.`,
    '',
    `${machineLine(machine, true)} Code: ${code}.`,
    '',
    '### Method',
    '',
    `- **Isolation.** The relays, both Chromium instances and the driver run inside a network namespace the run makes (\`ip netns add gc-soak-<pid>\`, a veth pair: ${o.address}/24 inside with lo, a default route to the host end, which does not forward) and deletes on exit, Ctrl-C or failure. Chromium gathers no WebRTC host candidate without a default route. Checked at the start: a tab's ICE host candidates were ${r.setup.iceAddresses.join(', ')}; the selected candidate pairs of the tabs' own peer connections (read with getStats through an init script that tracks each RTCPeerConnection the page makes) were ${r.setup.webrtcPaths.join(', ') || 'none'}; every pair of tabs linked directly over WebRTC (\`golemClay.connections()\`: kind webrtc, not limited) ${r.setup.linkedS} s after the last tab was up.`,
    `- **Network.** Two relay processes as \`npm run relay\` starts them (e2e's \`RelayProcess\`, the test build), B seeded with A. ${r.setup.tabs.length} tabs of the app page in 2 headless Chromium instances, every one lending its CPU with the page's defaults: ${r.setup.tabs.map(t => `${t.name} (browser ${t.browser}, served by ${t.relay}${t.phone ? ', 390×844 mobile viewport' : ''})`).join(', ')}. Set-up took ${r.setup.setupS} s.`,
    `- **Tasks.** One every ${o.intervalS} s, from the next tab in turn, through the page's market hooks (\`window.golemClayMarket.submitMandelbrot / submitPrimes\`, what the form calls): alternately a Mandelbrot 256×256 in 64 px tiles (16 subtasks, k = 1) and the primes below 2,000,000 in 8 parts (k = 2). Every tab is polled every 3 s (its task cards, its provider jobs: who ran what). A task counts as completed when its card says done within ${o.timeoutS} s of the submission; one not done after ${o.stallAfterS} s has **stalled**, and every tab's state is captured then (debug API: relays, connections, sessions, notices; market hooks: jobs, tasks; the Compute card as shown) with each relay's /status and market metrics.`,
    `- **Disruptions.** In every ${Math.min(o.disruptEveryMin, o.minutes)}-minute period: at 30% a relay restart (SIGTERM, its 5 s drain, then the same data folder and ports; A and B in turn), at 70% a tab reload (the tabs in turn, skipping one with a task of its own still running, which the reload would kill). For each: how long until the next task completed anywhere, and how long the first task submitted after it took.`,
    '',
    '### Result',
    '',
    `**${s.completed} of ${count(s.tasks, 'task')} completed** within ${o.timeoutS} s; ${s.stalls} stalled (not done after ${o.stallAfterS} s); task time median ${done.length > 0 ? round1(median(done)) : '—'} s, max ${s.maxTaskSeconds ?? '—'} s. ${count(r.disruptions.filter(d => d.kind === 'relay restart').length, 'relay restart')}, ${count(r.disruptions.filter(d => d.kind === 'tab reload').length, 'tab reload')}.${failed.length > 0 ? ` Not completed: ${failed.map(t => `#${t.n} (${t.state}${t.error != null ? `: ${t.error}` : ''})`).join('; ')}.` : ''}`,
    '',
    '| # | Submitted | From | Task | Done after (s) | Ran on | State |',
    '|---|---|---|---|---|---|---|',
    ...r.tasks.map(t => `| ${t.n} | ${clock(t.submittedAt - t0)} | ${t.tab} | ${t.label || t.kind} | ${t.seconds ?? '—'} | ${t.providers.join(', ') || '—'} | ${t.state}${t.reassigned > 0 ? `, ${t.reassigned} reassigned` : ''}${t.stalled ? ', stalled' : ''} |`),
    '',
    '| At | Disruption | Down / back | Next task completed after (s) | First task after it |',
    '|---|---|---|---|---|',
    ...r.disruptions.map(d => {
      const back = d.restart != null
        ? `down ${d.restart.downS} s; every tab reserved on it again after ${d.restart.tabsBackS ?? 'more than 120'} s`
        : d.reload != null
          ? `reserved after ${d.reload.reservedS ?? '?'} s, lending after ${d.reload.providerS ?? '?'} s, linked to every tab after ${d.reload.linkedS ?? 'more than 90'} s${d.reload.samePeerId ? '' : ', new peer ID'}${d.reload.error != null ? `; ${d.reload.error}` : ''}`
          : d.error ?? '?'
      const first = d.firstAfter == null ? '—' : `#${d.firstAfter.n}: ${d.firstAfter.seconds != null ? `${d.firstAfter.seconds} s` : 'did not complete'}`
      return `| ${clock(d.at - t0)} | ${d.kind}: ${d.target} | ${back} | ${d.nextCompletionS ?? '—'} | ${first} |`
    }),
    ''
  ]
  if (r.captures.length > 0) {
    lines.push('**Stalls**, with what every tab and relay showed at the time (the full captures: `capture-*.json` in the run folder):', '')
    for (const c of r.captures) lines.push(...captureLines(r, c, t0, names))
  } else {
    lines.push('No stall: every task was done within ' + `${o.stallAfterS} s.`)
  }
  const errors = Object.entries(r.pageErrors)
  lines.push('', errors.length > 0 ? `Page errors: ${errors.map(([tab, e]) => `${tab}: ${e.slice(0, 3).join(' | ')}${e.length > 3 ? ` (+${e.length - 3})` : ''}`).join('; ')}.` : 'No page errors in any tab.')
  lines.push('', JSON.stringify(s))
  return lines.join('\n') + '\n'
}

function count (n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`
}

function round1 (x: number): number {
  return Math.round(x * 10) / 10
}
