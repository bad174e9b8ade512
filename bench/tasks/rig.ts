// The processes of `npm run bench:tasks` and one measured run of each kind.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitProvider } from '../../e2e/fixtures/compute.ts'
import { RelayProcess } from '../../e2e/fixtures/relay-process.ts'
import { tcpAddrOf } from '../../e2e/fixtures/rogue.ts'
import { openTab, peerIdOf } from '../../e2e/fixtures/tab.ts'
import { createNodePeer } from '../../relay/node-peer/create-node-peer.ts'
import { fileLedgerStores } from '../../relay/node-peer/file-ledger-stores.ts'
import { timedSubmit } from './timed-submit.ts'
import { depositClients, depositTokens } from '../../shared/payments/index.ts'
import { loadDemoTask } from '../../tasks/load-demo-task.ts'
import { until } from '../../relay/testing/wait.ts'
import { closers, coresBetween, groupSnapshot, launchChromiumWithPid, round, withTimeout } from '../common/index.ts'
import type { CpuSplit, DirectSample, NetworkSample } from './report.ts'
import type { NodePeer } from '../../relay/node-peer/create-node-peer.ts'
import type { DirectRun, Range, TasksBenchApi } from '../../web/bench/tasks-page.ts'
import type { Browser, Page } from '@playwright/test'

/** Prime ranges start here: far enough out that every subtask of a run costs about the same. */
export const FROM = 1e10

export type Requestor = 'node' | 'tab'
/** The app page as a visitor opens it, or the bench page running the same browser node without the app's UI. */
export type ProviderKind = 'app' | 'bare'

export interface Rig {
  /** Serves the pages and stores the tasks' modules and inputs. */
  relay: RelayProcess
  /** A second relay (seeded with the first): tabs keep reservations on two. */
  relayB: RelayProcess
  relayId: string
  /** WebSocket addresses of both relays, for the bench page's node. */
  relayWs: string[]
  /** The provider's browser and the bench page's: separate Chromium instances, so their CPU time can be told apart. */
  providerBrowser: Browser
  benchBrowser: Browser
  /** The bench page: direct baseline and requestor tab. */
  bench: Page
  /** The provider: the app page lending `cores` cores. */
  provider: Page
  providerId: string
  /** The same browser node without the app's UI (a bench page in a third Chromium), lending as many cores; off unless chosen. */
  bare: Page
  bareId: string
  /** Which provider offers its cores now (the other is switched off). */
  active: ProviderKind
  /** The Node requestor, as the CLI runs one. */
  requestor: NodePeer
  module: Uint8Array
  /** Root pids per CPU group. */
  pids: Record<string, number>
  chromium: string
  close: () => Promise<void>
}

export function ranges (width: number, count: number, offset = 0): Range[] {
  return Array.from({ length: count }, (_, i) => [FROM + (offset + i) * width, FROM + (offset + i + 1) * width])
}

export async function call<K extends keyof TasksBenchApi> (page: Page, method: K, arg: Parameters<TasksBenchApi[K]>[0], timeoutMs = 600_000): Promise<Awaited<ReturnType<TasksBenchApi[K]>>> {
  const run = page.evaluate(async ({ method, arg }) => await (window.tasksBench![method] as (a: unknown) => Promise<unknown>)(arg), { method, arg: arg as unknown })
  return await withTimeout(run, timeoutMs, `tasksBench.${method}`) as any
}

function split (cores: Record<string, number> & { rest: number }): CpuSplit {
  return {
    relays: round((cores.relay ?? Number.NaN) + (cores.relayB ?? Number.NaN), 2),
    node: cores.self ?? Number.NaN,
    provider: cores.provider ?? Number.NaN,
    bench: cores.bench ?? Number.NaN,
    bare: cores.bare ?? Number.NaN,
    rest: cores.rest
  }
}

/** SIGTERM, then SIGKILL after 10 s; and never outlive this process. */
async function stopRelay (relay: RelayProcess): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([relay.stop(), new Promise<void>(resolve => { timer = setTimeout(() => { void relay.kill().then(() => { resolve() }) }, 10_000) })])
  clearTimeout(timer)
}

function killOnExit (relay: RelayProcess): void {
  process.once('exit', () => { if (relay.child?.exitCode == null) relay.child?.kill('SIGKILL') })
}

async function openBenchPage (browser: Browser, url: string, name: string, log: (line: string) => void): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  page.on('pageerror', (err) => { log(`[${name}] page error: ${err.message}`) })
  await page.goto(new URL('/bench/tasks.html', url).toString())
  await page.waitForFunction(() => window.tasksBench != null)
  return page
}

export async function setUp (cores: number, log: (line: string) => void): Promise<Rig> {
  const undo = closers()
  const close = undo.close
  try {
    // two relays, as the network runs: a tab keeps reservations on two, and
    // with fewer it keeps searching for another (see BENCHMARKS.md)
    log('bench: starting two relay processes, the second seeded with the first')
    // relay A runs the embedded chain the paid runs pay on
    const relay = await RelayProcess.start({ extraArgs: ['--chain', 'embedded'] })
    killOnExit(relay)
    undo.push(async () => { await stopRelay(relay) })
    const status = await relay.status()
    const tcp = tcpAddrOf(status.multiaddrs)
    const relayB = await RelayProcess.start({ extraArgs: ['--seed', tcp] })
    killOnExit(relayB)
    undo.push(async () => { await stopRelay(relayB) })
    const statusB = await relayB.status()
    const tcpB = tcpAddrOf(statusB.multiaddrs)
    const relayWs = [status, statusB].map(st => {
      const ws = st.multiaddrs.find(a => a.startsWith('/ip4/127.0.0.1/') && a.includes('/ws'))
      if (ws == null) throw new Error('a relay has no loopback WebSocket address')
      return ws
    })

    log('bench: opening the bench page (direct baseline, requestor tab), the provider tab and a UI-less provider page, each in its own Chromium')
    const b = await launchChromiumWithPid()
    undo.push(async () => { await b.browser.close() })
    const bench = await openBenchPage(b.browser, relay.httpUrl, 'bench page', log)
    const info = await call(bench, 'init', { cores, task: 'primes' })
    if (info.hardwareConcurrency < cores) log(`bench: the page sees only ${info.hardwareConcurrency} cores`)

    const p = await launchChromiumWithPid()
    undo.push(async () => { await p.browser.close() })
    const context = await p.browser.newContext()
    // the setting the Compute card saves: lend `cores` cores
    await context.addInitScript((n) => { localStorage.setItem('golem-clay:compute', JSON.stringify({ cores: n, enabled: true })) }, cores)
    const provider = await openTab(context, relay.httpUrl)
    provider.on('pageerror', (err) => { log(`[provider tab] page error: ${err.message}`) })
    await waitProvider(provider)
    const shown = await provider.getByTestId('compute-cores-value').textContent()
    if (!(shown ?? '').startsWith(`${cores} of`)) throw new Error(`the provider tab lends "${shown ?? '?'}" cores, not ${cores}`)
    await provider.waitForFunction(() => window.golemClay!.relays().filter(r => r.state === 'reserved').length >= 2, undefined, { timeout: 120_000, polling: 200 })
    const providerId = await peerIdOf(provider)

    const u = await launchChromiumWithPid()
    undo.push(async () => { await u.browser.close() })
    const bare = await openBenchPage(u.browser, relay.httpUrl, 'UI-less provider', log)
    const bareId = (await call(bare, 'join', { relays: relayWs, cores, provide: false })).peerId

    log('bench: starting the requestors: the bench page\'s node and a Node peer')
    await call(bench, 'join', { relays: relayWs, provide: false })
    await call(bench, 'waitDirect', { peer: providerId, timeoutMs: 60_000 })
    await call(bench, 'waitDirect', { peer: bareId, timeoutMs: 60_000 })
    // its cheque book in files, as `peer --data` keeps it: a paid run's figures include the durable writes
    const ledgers = await mkdtemp(join(tmpdir(), 'gc-bench-ledgers-'))
    undo.push(async () => { await rm(ledgers, { recursive: true, force: true }) })
    const requestor = await createNodePeer({ relays: [tcp, tcpB], maxRelays: 2, market: { ledgers: fileLedgerStores(ledgers) } })
    await requestor.start()
    undo.push(async () => { await requestor.stop() })
    await until(() => requestor.getMultiaddrs().filter(a => a.toString().includes('/p2p-circuit')).length >= 2, 'the requestor\'s reservations', 60_000, 50)
    await until(async () => (await requestor.services.storage.relays()).includes(status.peerId), 'the relay\'s storage', 30_000, 50)
    undo.push(async () => { await call(bench, 'stop', undefined, 10_000) })
    await fundRequestor(requestor, relay.httpUrl)
    const module = (await loadDemoTask('primes')).module
    return {
      relay,
      relayB,
      relayId: status.peerId,
      relayWs,
      providerBrowser: p.browser,
      benchBrowser: b.browser,
      bench,
      provider,
      providerId,
      bare,
      bareId,
      active: 'app',
      requestor,
      module,
      pids: { relay: relay.child?.pid ?? -1, relayB: relayB.child?.pid ?? -1, provider: p.pid, bench: b.pid, bare: u.pid },
      chromium: `Chromium ${p.browser.version()}`,
      close
    }
  } catch (err) {
    await close()
    throw err
  }
}

/** Test tokens from relay A's faucet, and a deposit far above what the paid runs' budgets need. */
async function fundRequestor (requestor: NodePeer, httpUrl: string): Promise<void> {
  const res = await fetch(new URL('/chain/faucet', httpUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: requestor.services.payments.address }) })
  if (!res.ok) throw new Error(`the faucet said ${res.status}: ${await res.text()}`)
  await until(async () => (await requestor.services.chain.chainInfo()) != null, 'the relay\'s chain', 30_000, 100)
  const info = await requestor.services.chain.chainInfo()
  if (info == null) throw new Error('relay A runs no chain')
  await depositTokens(depositClients(requestor.services.chain.transport(), requestor.services.payments.account, info.chainId), info, 50n * 10n ** 18n)
}

/** The ranges through the bench page's own Worker pool, all at once. */
export async function direct (rig: Rig, rs: Range[]): Promise<DirectSample & { outputs: string[] }> {
  const a = groupSnapshot(rig.pids)
  const run: DirectRun = await call(rig.bench, 'direct', { ranges: rs })
  const cpu = split(coresBetween(a, groupSnapshot(rig.pids)))
  return { wallMs: round(run.wallMs), meanSubtaskMs: round(run.subtaskMs.reduce((s, x) => s + x, 0) / run.subtaskMs.length), cpu, outputs: run.outputs }
}

/** Switches the providers so that only `kind` offers its cores. */
export async function choose (rig: Rig, kind: ProviderKind): Promise<void> {
  if (rig.active === kind) return
  const app = rig.provider.getByTestId('compute-enabled')
  if (kind === 'bare') {
    await app.uncheck()
    await call(rig.bare, 'setProviding', { on: true })
  } else {
    await call(rig.bare, 'setProviding', { on: false })
    await app.check()
  }
  rig.active = kind
}

/** One task of these ranges (k = 1) from the Node requestor or the bench page's node to the `provider`, until its verified results. */
export async function network (rig: Rig, from: Requestor, rs: Range[], expected?: string[], provider: ProviderKind = 'app', paid = false): Promise<NetworkSample> {
  await choose(rig, provider)
  const a = groupSnapshot(rig.pids)
  const run = from === 'tab'
    ? await call(rig.bench, 'submit', { ranges: rs, relay: rig.relayId })
    : await timedSubmit(rig.requestor.services.market, rig.module, rs, rig.relayId, paid)
  const cpu = split(coresBetween(a, groupSnapshot(rig.pids)))
  if (expected != null) {
    const wrong = run.outputs.filter((o, i) => o !== expected[i]).length
    if (wrong > 0) throw new Error(`${wrong} network results differ from the direct run's`)
  }
  const want = provider === 'app' ? rig.providerId : rig.bareId
  if (run.providers.length !== 1 || run.providers[0] !== want) throw new Error(`the task ran on ${run.providers.join(', ')}, not only on the ${provider} provider`)
  return {
    uploadMs: round(run.uploadMs),
    wallMs: round(run.wallMs),
    firstAssignMs: round(run.firstAssignMs),
    firstResultMs: round(run.firstResultMs),
    providers: run.providers.length,
    reassigned: run.reassigned,
    cpu
  }
}
