// The soak itself, run inside its network namespace: tasks every minute from
// a rotating tab, relay restarts and tab reloads in between, every task
// followed to its end; a stalled task gets every tab's market state captured.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { captureTab, iceHostAddresses, pollTab, relayMetrics, webrtcAddressPairs } from './capture.ts'
import { errorsOf, reloadTab, restartRelay, setUp, waitAllLinked, waitLinked } from './rig.ts'
import { log, round, withTimeout } from '../common/index.ts'
import type { TabCapture, TabPoll } from './capture.ts'
import type { ReloadResult, RestartResult, Rig, SoakTab } from './rig.ts'

export interface SoakOptions {
  minutes: number
  tabs: number
  /** Seconds between two task submissions. */
  intervalS: number
  /** A task not done this long after its submission has failed, s. */
  timeoutS: number
  /** A task not done this long after its submission has stalled: every tab's state is captured, s. */
  stallAfterS: number
  /** One relay restart and one tab reload per this many minutes (at 1.5 and 3.5 min into each period, scaled down for shorter ones). */
  disruptEveryMin: number
  /** Where the run's JSON, relay logs and captures go. */
  dir: string
  /** The namespace's own address, where WebRTC must run. */
  address: string
}

export interface TaskRecord {
  n: number
  tab: string
  kind: 'mandelbrot' | 'primes'
  /** The task's name as its card shows it. */
  name: string
  label: string
  submittedAt: number
  /** The page's startedAt of the task's card: how the poll finds it. */
  startedAt?: number
  id?: string
  state: string
  done: number
  total: number
  running: number
  /** Most providers the requestor reported at once. */
  providersShown: number
  reassigned: number
  doneAt?: number
  seconds?: number
  /** Tabs (or other peers) that ran at least one of its subtasks. */
  providers: string[]
  stalled: boolean
  final: boolean
  completed: boolean
  error?: string
}

export interface Capture {
  at: number
  reason: string
  task: number
  requestor: Pick<TaskRecord, 'state' | 'done' | 'total' | 'running' | 'providersShown' | 'id'>
  tabs: Record<string, TabCapture>
  relays: Record<string, { status?: unknown, metrics: string[], error?: string }>
}

export interface Disruption {
  n: number
  kind: 'relay restart' | 'tab reload'
  target: string
  at: number
  restart?: RestartResult
  reload?: ReloadResult
  error?: string
  /** From the disruption's start until the next task completed anywhere, s. */
  nextCompletionS?: number
  /** The first task submitted after it: its number and seconds (undefined: it did not complete). */
  firstAfter?: { n: number, seconds?: number }
}

export interface SoakResult {
  options: SoakOptions
  chromium: string
  startedAt: number
  endedAt: number
  interrupted: boolean
  setup: { tabs: Array<{ name: string, peerId: string, relay: string, browser: number, phone: boolean }>, relays: Array<{ name: string, peerId: string }>, linkedS: number, unlinked: string[], iceAddresses: string[], webrtcPaths: string[], setupS: number }
  tasks: TaskRecord[]
  disruptions: Disruption[]
  captures: Capture[]
  pageErrors: Record<string, string[]>
  /** Every minute: per tab, reserved relays and direct links. */
  health: Array<{ at: number, tabs: Record<string, { reserved: number, links: number } | undefined> }>
}

type Event = { at: number, kind: 'task' | 'restart' | 'reload' }

/** Tasks at 0, interval, 2·interval… within the run; per period a relay restart at 30% and a tab reload at 70% (1.5 and 3.5 of 5 min). */
export function schedule (o: Pick<SoakOptions, 'minutes' | 'intervalS' | 'disruptEveryMin'>): Event[] {
  const end = o.minutes * 60_000
  const events: Event[] = []
  for (let at = 0; at < end; at += o.intervalS * 1000) events.push({ at, kind: 'task' })
  const period = Math.min(o.disruptEveryMin, o.minutes) * 60_000
  for (let p = 0; p < end; p += period) {
    if (p + 0.3 * period < end) events.push({ at: p + 0.3 * period, kind: 'restart' })
    if (p + 0.7 * period < end) events.push({ at: p + 0.7 * period, kind: 'reload' })
  }
  return events.sort((a, b) => a.at - b.at)
}

/** Waits `ms`, or less if `signal` aborts first. */
async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return
  await new Promise<void>(resolve => {
    const done = (): void => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve() }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done)
  })
}

/** Every tab's and relay's state, as a stall's capture holds it. */
export async function collectState (rig: Rig, task: number, reason: string, requestor: Capture['requestor']): Promise<Capture> {
  const c: Capture = { at: Date.now(), reason, task, requestor, tabs: {}, relays: {} }
  for (const tab of rig.tabs) c.tabs[tab.name] = await withTimeout(captureTab(tab.page), 15_000, 'capture').catch((err: Error) => ({ compute: {}, error: err.message }))
  for (const r of rig.relays) {
    try {
      c.relays[r.name] = { status: await withTimeout(r.process.status(), 5_000, 'status'), metrics: await relayMetrics(r.process.metricsUrl) }
    } catch (err) {
      c.relays[r.name] = { metrics: [], error: (err as Error).message }
    }
  }
  return c
}

const MANDELBROT = { width: 256, height: 256, tile: 64, maxIter: 256, k: 1 }
const PRIMES = { to: 2_000_000, parts: 8, k: 2 }
const FINAL = new Set(['done', 'failed', 'cancelled', 'interrupted'])

export async function runSoak (o: SoakOptions, stop: AbortSignal): Promise<SoakResult> {
  mkdirSync(o.dir, { recursive: true })
  const began = Date.now()
  const rig = await setUp(o.tabs, o.dir, log)
  try {
    if (stop.aborted) throw new Error('interrupted during set-up')
    return await drive(rig, o, stop, began)
  } finally {
    log('soak: stopping tabs and relays')
    await rig.close()
  }
}

async function drive (rig: Rig, o: SoakOptions, stop: AbortSignal, began: number): Promise<SoakResult> {
  const { tabs } = rig
  const nameOf = new Map<string, string>()
  const refreshNames = (): void => { for (const t of tabs) nameOf.set(t.peerId, t.name) }
  refreshNames()
  const who = (peer: string): string => nameOf.get(peer) ?? `…${peer.slice(-6)}`

  // WebRTC must run over the namespace's veth address, tab to tab
  const linkStart = Date.now()
  const unlinked = await waitAllLinked(tabs, 90_000)
  const linkedS = round((Date.now() - linkStart) / 1000, 1)
  const iceAddresses = await iceHostAddresses(tabs[0]!.page)
  // what the tabs' own peer connections use: the selected candidate pair of each
  const pairs = (await Promise.all(tabs.map(async t => await webrtcAddressPairs(t.page)))).flat()
  const webrtcPaths = [...new Set(pairs)].sort().map(p => `${p} ×${pairs.filter(x => x === p).length}`)
  log(`soak: ${tabs.length} tabs up in ${round((Date.now() - began) / 1000, 1)} s; direct WebRTC links ${unlinked.length === 0 ? 'between every pair' : `missing ${unlinked.join(', ')}`} (${linkedS} s); ICE host candidates ${iceAddresses.join(', ') || 'none'}; the tabs' peer connections run ${webrtcPaths.join(', ') || 'over nothing seen'}`)
  if (iceAddresses.length === 0 || iceAddresses.some(a => a !== o.address)) {
    throw new Error(`WebRTC in the namespace gathers ${iceAddresses.join(', ') || 'no'} host candidates, not only ${o.address}`)
  }
  // the local end is ours; the far end too, or a peer-reflexive candidate whose address Chromium hides (the veth is the only interface here)
  const foreign = pairs.filter(p => !p.startsWith(`${o.address} (host) → `) || !(p.endsWith(`→ ${o.address} (host)`) || p.endsWith('→ hidden (prflx)')))
  if (foreign.length > 0) throw new Error(`tab-to-tab WebRTC runs over other addresses than ${o.address}: ${foreign.join(', ')}`)
  if (unlinked.length > 0) throw new Error(`tabs not linked over WebRTC after 90 s: ${unlinked.join(', ')}`)

  const result: SoakResult = {
    options: o,
    chromium: rig.chromium,
    startedAt: began,
    endedAt: 0,
    interrupted: false,
    setup: { tabs: tabs.map(t => ({ name: t.name, peerId: t.peerId, relay: t.relay, browser: t.browser + 1, phone: t.phone })), relays: rig.relays.map(r => ({ name: r.name, peerId: r.peerId })), linkedS, unlinked, iceAddresses, webrtcPaths, setupS: round((Date.now() - began) / 1000, 1) },
    tasks: [],
    disruptions: [],
    captures: [],
    pageErrors: {},
    health: []
  }
  const t0 = Date.now()
  const rel = (t: number): string => { const s = Math.round((t - t0) / 1000); return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}` }
  const reloading = new Set<SoakTab>()
  const lastPoll = new Map<string, TabPoll>()
  const providersOf = new Map<string, Set<string>>()

  async function capture (record: TaskRecord, reason: string): Promise<void> {
    log(`soak: task #${record.n} ${reason}: capturing every tab's state`)
    const c = await collectState(rig, record.n, reason, { state: record.state, done: record.done, total: record.total, running: record.running, providersShown: record.providersShown, id: record.id })
    result.captures.push(c)
    writeFileSync(join(o.dir, `capture-${result.captures.length}-task-${record.n}.json`), JSON.stringify(c, null, 2))
  }
  // what a healthy network looks like, to hold a stall's capture against (run folder only)
  writeFileSync(join(o.dir, 'capture-0-baseline.json'), JSON.stringify(await collectState(rig, 0, 'baseline, before the first task', { state: '—', done: 0, total: 0, running: 0, providersShown: 0 }), null, 2))

  async function poll (): Promise<void> {
    const now = Date.now()
    for (const tab of tabs) {
      if (reloading.has(tab)) continue
      const p = await withTimeout(pollTab(tab.page), 10_000, 'poll').catch(() => undefined)
      if (p == null) continue
      lastPoll.set(tab.name, p)
      for (const j of p.jobs) {
        let set = providersOf.get(j.task)
        if (set == null) providersOf.set(j.task, set = new Set())
        set.add(tab.peerId)
      }
    }
    for (const r of result.tasks) {
      if (r.final) continue
      const p = lastPoll.get(r.tab)
      if (r.startedAt == null && p != null) {
        // its card was not the newest right after the submission: the newest one of its kind made since, not another record's
        const claimed = new Set(result.tasks.filter(x => x.tab === r.tab && x.startedAt != null).map(x => x.startedAt))
        const card = p.tasks.find(t => t.kind === r.kind && t.startedAt >= r.submittedAt - 1_000 && !claimed.has(t.startedAt))
        if (card != null) { r.startedAt = card.startedAt; r.name = card.name }
      }
      const view = r.startedAt == null ? undefined : p?.tasks.find(t => t.startedAt === r.startedAt && t.name === r.name)
      if (view != null) {
        Object.assign(r, { id: view.id, state: view.state, done: view.done, total: view.total, running: view.running, reassigned: view.reassigned })
        r.providersShown = Math.max(r.providersShown, view.providers)
        const ran = new Set([...(providersOf.get(view.id) ?? []), ...view.tileProviders])
        r.providers = [...ran].map(who).sort()
        if (FINAL.has(view.state)) {
          r.final = true
          r.doneAt = view.finishedAt ?? now
          r.seconds = round((r.doneAt - r.submittedAt) / 1000, 1)
          r.error = view.error
          r.completed = view.state === 'done' && r.seconds <= o.timeoutS
          log(`soak: task #${r.n} (${r.tab}, ${r.kind}) ${view.state} after ${r.seconds} s on ${r.providers.join(', ') || 'no provider seen'}${view.error != null ? `: ${view.error}` : ''}`)
          if (!r.completed) await capture(r, `ended ${view.state}`)
          continue
        }
      }
      const age = (now - r.submittedAt) / 1000
      if (!r.stalled && age >= o.stallAfterS) {
        r.stalled = true
        await capture(r, `not done after ${o.stallAfterS} s (${r.state}, ${r.done}/${r.total}, ${r.running} running on ${r.providersShown} provider(s))`)
      }
      if (age >= o.timeoutS) {
        r.final = true
        r.error = `not done within ${o.timeoutS} s (${r.state}, ${r.done}/${r.total})`
        r.state = `timeout (${r.state})`
        log(`soak: task #${r.n} (${r.tab}) FAILED: ${r.error}`)
        await capture(r, `timed out after ${o.timeoutS} s`)
      }
    }
  }

  await poll()
  let polling = true
  let lastHealth = 0
  const poller = (async () => {
    while (polling) {
      await poll().catch((err: Error) => { log(`soak: poll failed: ${err.message}`) })
      if (Date.now() - lastHealth >= 60_000) {
        lastHealth = Date.now()
        result.health.push({ at: lastHealth, tabs: Object.fromEntries(tabs.map(t => { const p = lastPoll.get(t.name); return [t.name, p == null ? undefined : { reserved: p.reserved, links: p.links.length }] })) })
      }
      await sleep(3_000)
    }
  })()

  async function submit (n: number): Promise<void> {
    const tab = tabs[(n - 1) % tabs.length] as SoakTab
    const kind = n % 2 === 1 ? 'mandelbrot' : 'primes'
    const record: TaskRecord = {
      n, tab: tab.name, kind, name: '', label: '', submittedAt: Date.now(), state: 'submitting', done: 0, total: 0, running: 0, providersShown: 0, reassigned: 0, providers: [], stalled: false, final: false, completed: false
    }
    result.tasks.push(record)
    try {
      const seen = await withTimeout(tab.page.evaluate(({ kind, mandelbrot, primes, tag }) => {
        const m = window.golemClayMarket!
        const w = window as unknown as { soakTasks?: Record<string, unknown> }
        const p = kind === 'mandelbrot' ? m.submitMandelbrot(mandelbrot) : m.submitPrimes(primes)
        w.soakTasks ??= {}
        w.soakTasks[tag] = 'pending'
        p.then(v => { w.soakTasks![tag] = v.state }, (e: Error) => { w.soakTasks![tag] = `threw ${e.message}` })
        // the card is added before the submission's first await
        const view = m.tasks()[0]
        return { startedAt: view?.startedAt, name: view?.name, kind: view?.kind }
      }, { kind, mandelbrot: MANDELBROT, primes: PRIMES, tag: `t${n}` }), 15_000, 'submit')
      // the page adds the card before its first await; should that change, the poll finds the card by kind and time
      if (seen.startedAt != null && seen.kind === kind && seen.startedAt >= record.submittedAt - 1_000) {
        record.startedAt = seen.startedAt
        record.name = seen.name ?? kind
      }
      record.label = `${record.name || (kind === 'mandelbrot' ? 'Mandelbrot' : 'Primes')} · ${kind === 'mandelbrot' ? `${MANDELBROT.tile} px tiles, k=${MANDELBROT.k}` : `${PRIMES.parts} parts, k=${PRIMES.k}`}`
      const health = tabs.map(t => { const p = lastPoll.get(t.name); return p == null ? '?' : `${p.reserved}r/${p.links.length}l` }).join(' ')
      log(`soak: ${rel(record.submittedAt)} task #${n} from ${tab.name}: ${record.label} (tabs: relays reserved / WebRTC links ${health})`)
    } catch (err) {
      record.final = true
      record.state = 'not submitted'
      record.error = (err as Error).message.split('\n')[0]
      log(`soak: task #${n} could not be submitted from ${tab.name}: ${record.error}`)
    }
  }

  const background: Array<Promise<unknown>> = []
  let restarts = 0
  let reloads = 0
  async function disrupt (kind: 'restart' | 'reload'): Promise<void> {
    const d: Disruption = { n: result.disruptions.length + 1, kind: kind === 'restart' ? 'relay restart' : 'tab reload', target: '', at: Date.now() }
    result.disruptions.push(d)
    if (kind === 'restart') {
      const relay = rig.relays[restarts++ % rig.relays.length]!
      d.target = `relay ${relay.name}`
      log(`soak: ${rel(d.at)} restarting relay ${relay.name} (SIGTERM, then the same data folder and ports)`)
      try {
        const { result: restart, tabsBack } = await restartRelay(rig, relay, o.dir)
        d.restart = restart
        log(`soak: relay ${relay.name} down ${restart.downS} s (its stop took ${restart.stopS} s)`)
        // the tabs' reservations come back in the background; the schedule goes on
        background.push(tabsBack.then((s) => {
          restart.tabsBackS = s
          log(`soak: every tab reserved on relay ${relay.name} again ${s != null ? `${s} s after its SIGTERM` : 'NOT within 120 s'}`)
        }))
      } catch (err) {
        d.error = (err as Error).message.split('\n')[0]
        log(`soak: relay restart failed: ${d.error}`)
      }
      return
    }
    // a tab whose own tasks are all finished: reloading a requestor kills its task with it
    const busy = new Set(result.tasks.filter(t => !t.final).map(t => t.tab))
    const candidates = [...tabs.slice(reloads % tabs.length), ...tabs.slice(0, reloads % tabs.length)]
    const tab = candidates.find(t => !busy.has(t.name)) ?? candidates[0]!
    reloads++
    d.target = tab.name
    log(`soak: ${rel(d.at)} reloading ${tab.name}`)
    reloading.add(tab)
    try {
      d.reload = await reloadTab(tab)
      refreshNames()
      log(`soak: ${tab.name} reloaded: reserved after ${d.reload.reservedS ?? '?'} s, lending after ${d.reload.providerS ?? '?'} s${d.reload.samePeerId ? ', same peer ID' : ', NEW peer ID'}${d.reload.error != null ? `; ${d.reload.error}` : ''}`)
    } finally {
      reloading.delete(tab)
    }
    // its links come back in the background; the schedule goes on
    background.push((async () => {
      const missing = await waitLinked(tab, tabs, 90_000)
      if (d.reload != null && missing.length === 0) d.reload.linkedS = round((Date.now() - d.at) / 1000, 1)
      log(`soak: ${tab.name} ${missing.length === 0 ? `linked to every tab again ${d.reload?.linkedS ?? '?'} s after the reload` : `still has no direct link to ${missing.join(', ')} 90 s after the reload`}`)
    })())
  }

  const events = schedule(o)
  log(`soak: ${o.minutes} min: ${events.filter(e => e.kind === 'task').length} tasks, ${events.filter(e => e.kind === 'restart').length} relay restarts, ${events.filter(e => e.kind === 'reload').length} tab reloads`)
  let n = 0
  for (const e of events) {
    const wait = t0 + e.at - Date.now()
    if (wait > 0) await sleep(wait, stop)
    if (stop.aborted) break
    if (e.kind === 'task') await submit(++n)
    else await disrupt(e.kind)
  }
  // every task to its end (done, failed or timed out)
  while (!stop.aborted && result.tasks.some(t => !t.final)) await sleep(1_000, stop)
  polling = false
  await poller
  await Promise.race([Promise.all(background), sleep(5_000)])
  if (stop.aborted) {
    result.interrupted = true
    for (const t of result.tasks) if (!t.final) { t.final = true; t.error = 'soak interrupted'; t.state = `interrupted (${t.state})` }
  }

  for (const d of result.disruptions) {
    const after = result.tasks.filter(t => t.completed && t.doneAt != null && t.doneAt > d.at).map(t => t.doneAt as number)
    if (after.length > 0) d.nextCompletionS = round((Math.min(...after) - d.at) / 1000, 1)
    const first = result.tasks.find(t => t.submittedAt > d.at)
    if (first != null) d.firstAfter = { n: first.n, seconds: first.completed ? first.seconds : undefined }
  }
  for (const t of tabs) {
    const errors = errorsOf(t)
    if (errors.length > 0) result.pageErrors[t.name] = [...errors]
  }
  result.endedAt = Date.now()
  return result
}
