// The soak's network: two relay processes (the second seeded with the
// first), two Chromium instances with tabs on both relays, one of them
// phone-sized, every tab lending its CPU; and the disruptions played on it.
import { appendFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { waitProvider } from '../../e2e/fixtures/compute.ts'
import { RelayProcess } from '../../e2e/fixtures/relay-process.ts'
import { tcpAddrOf } from '../../e2e/fixtures/rogue.ts'
import { openTab, pageErrors, peerIdOf, waitReserved } from '../../e2e/fixtures/tab.ts'
import { TRACK_PEER_CONNECTIONS } from './capture.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../e2e/fixtures/chromium.ts'
import { closers, withTimeout } from '../common/index.ts'
import { chromium } from '@playwright/test'
import type { Browser, BrowserContext, Page } from '@playwright/test'

export const PHONE = { width: 390, height: 844 }

export interface SoakRelay {
  name: string
  process: RelayProcess
  peerId: string
  restarts: number
}

export interface SoakTab {
  name: string
  page: Page
  context: BrowserContext
  browser: number
  relay: string
  url: string
  phone: boolean
  peerId: string
  reloads: number
}

export interface Rig {
  relays: SoakRelay[]
  browsers: Browser[]
  tabs: SoakTab[]
  chromium: string
  close: () => Promise<void>
}

/** SIGTERM, then SIGKILL if it has not exited after 30 s (its drain takes 5 s). */
async function stopRelay (relay: RelayProcess): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([relay.stop(), new Promise<void>(resolve => { timer = setTimeout(() => { void relay.kill().then(() => { resolve() }) }, 30_000) })])
  clearTimeout(timer)
}

/** Appends a relay's output so far to its log file (each launch starts a new ProcessLines). */
function saveOutput (relay: SoakRelay, dir: string): void {
  const lines = relay.process.output?.lines ?? []
  if (lines.length > 0) appendFileSync(join(dir, `relay-${relay.name}.log`), `${lines.join('\n')}\n`)
  lines.length = 0
}

export async function setUp (tabCount: number, dir: string, log: (line: string) => void): Promise<Rig> {
  const undo = closers()
  const close = undo.close
  const relays: SoakRelay[] = []
  const browsers: Browser[] = []
  const tabs: SoakTab[] = []
  // closers run last first: this one once the relays have stopped (their logs kept, their data folders gone)
  undo.push(async () => {
    for (const r of relays) {
      saveOutput(r, dir)
      rmSync(r.process.dataDir, { recursive: true, force: true })
    }
  })
  try {
    log('soak: starting relay A, then relay B seeded with A')
    const a = await RelayProcess.start()
    process.once('exit', () => { a.child?.kill('SIGKILL') })
    undo.push(async () => { await stopRelay(a) })
    const statusA = await a.status()
    relays.push({ name: 'A', process: a, peerId: statusA.peerId, restarts: 0 })
    const b = await RelayProcess.start({ extraArgs: ['--seed', tcpAddrOf(statusA.multiaddrs)] })
    process.once('exit', () => { b.child?.kill('SIGKILL') })
    undo.push(async () => { await stopRelay(b) })
    relays.push({ name: 'B', process: b, peerId: (await b.status()).peerId, restarts: 0 })
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline && (await b.status()).network.estimate.relays < 2) await new Promise(resolve => setTimeout(resolve, 500))

    for (let i = 0; i < 2; i++) {
      // as e2e launches it, but Ctrl-C is the driver's to handle (Playwright's own handler exits at once, with no report)
      const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false })
      browsers.push(browser)
      undo.push(async () => { await browser.close() })
    }
    const contexts = await Promise.all(browsers.map(async br => await br.newContext()))
    for (const c of contexts) await c.addInitScript({ content: TRACK_PEER_CONNECTIONS })
    for (let i = 0; i < tabCount; i++) {
      // browsers alternate; relays by pairs (A, A, B, B, A…); the last tab is a phone in a context of its own
      const browser = i % 2
      const relay = relays[Math.floor(i / 2) % 2] as SoakRelay
      const phone = i === tabCount - 1
      const context = phone
        ? await (browsers[browser] as Browser).newContext({ viewport: PHONE, isMobile: true, hasTouch: true })
        : contexts[browser] as BrowserContext
      if (phone) await context.addInitScript({ content: TRACK_PEER_CONNECTIONS })
      const url = relay.process.httpUrl
      const name = `tab${i}${phone ? '(phone)' : ''}`
      log(`soak: opening ${name} in browser ${browser + 1}, served by relay ${relay.name}`)
      const page = await openTab(context, url, { waitReserved: false })
      await waitReserved(page, 60_000)
      await waitProvider(page)
      tabs.push({ name, page, context, browser, relay: relay.name, url, phone, peerId: await peerIdOf(page), reloads: 0 })
    }
    return { relays, browsers, tabs, chromium: `Chromium ${browsers[0]?.version() ?? '?'}`, close }
  } catch (err) {
    await close()
    throw err
  }
}

/** Waits until every tab has a direct WebRTC link to every other tab; returns the pairs that never linked. */
export async function waitAllLinked (tabs: SoakTab[], timeoutMs: number): Promise<string[]> {
  const missing: string[] = []
  for (const tab of tabs) missing.push(...await waitLinked(tab, tabs, timeoutMs))
  return missing
}

/** Waits until `tab` has a direct WebRTC link to each of `others` (as e2e's waitDirect); returns those it has none to. */
export async function waitLinked (tab: SoakTab, others: SoakTab[], timeoutMs: number): Promise<string[]> {
  const missing: string[] = []
  const deadline = Date.now() + timeoutMs
  for (const other of others) {
    if (other === tab) continue
    try {
      await tab.page.waitForFunction((id) => window.golemClay?.connections().some(c =>
        c.peer === id && c.kind === 'webrtc' && !c.limited && c.multiplexer === '/webrtc') === true, other.peerId, { timeout: Math.max(1_000, deadline - Date.now()), polling: 250 })
    } catch {
      missing.push(`${tab.name}→${other.name}`)
    }
  }
  return missing
}

export interface RestartResult {
  /** SIGTERM until the process exited, s. */
  stopS: number
  /** SIGTERM until it printed "relay ready" again, s. */
  downS: number
  /** Until every tab held a reservation on it again, s after SIGTERM (undefined: not within 120 s). */
  tabsBackS?: number
}

/**
 * SIGTERM, then the same process again on the same data folder and ports.
 * Resolves once it is up again; `tabsBack` once every tab holds a
 * reservation on it again (s after the SIGTERM; undefined: not within 120 s).
 */
export async function restartRelay (rig: Rig, relay: SoakRelay, dir: string): Promise<{ result: RestartResult, tabsBack: Promise<number | undefined> }> {
  const t0 = Date.now()
  await stopRelay(relay.process)
  const stopS = (Date.now() - t0) / 1000
  saveOutput(relay, dir)
  await relay.process.launch()
  relay.restarts++
  const downS = (Date.now() - t0) / 1000
  const tabsBack = (async () => {
    try {
      await withTimeout(Promise.all(rig.tabs.map(async tab => await tab.page.waitForFunction((id) =>
        window.golemClay?.relays().some(r => r.peerId === id && r.state === 'reserved') === true, relay.peerId, { timeout: 120_000, polling: 250 }))), 125_000, 'reservations again')
      return round1((Date.now() - t0) / 1000)
    } catch {
      return undefined
    }
  })()
  return { result: { stopS: round1(stopS), downS: round1(downS) }, tabsBack }
}

export interface ReloadResult {
  /** Until the reloaded tab held a reservation, s. */
  reservedS?: number
  /** Until its Compute card was ready to lend, s. */
  providerS?: number
  /** Until it was linked over WebRTC to every other tab again, s. */
  linkedS?: number
  samePeerId: boolean
  error?: string
}

/** Reloads the tab and waits until it is back on a relay and lending (its WebRTC links: see waitLinked). */
export async function reloadTab (tab: SoakTab): Promise<ReloadResult> {
  const t0 = Date.now()
  const s = (): number => round1((Date.now() - t0) / 1000)
  const out: ReloadResult = { samePeerId: false }
  try {
    await tab.page.reload()
    tab.reloads++
    await waitReserved(tab.page, 60_000)
    out.reservedS = s()
    await waitProvider(tab.page)
    out.providerS = s()
    const id = await peerIdOf(tab.page)
    out.samePeerId = id === tab.peerId
    tab.peerId = id
  } catch (err) {
    out.error = (err as Error).message.split('\n')[0]
  }
  return out
}

export function errorsOf (tab: SoakTab): string[] {
  return pageErrors.get(tab.page) ?? []
}

function round1 (x: number): number {
  return Math.round(x * 10) / 10
}
