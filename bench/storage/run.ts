// npm run bench:storage — see the Storage section of BENCHMARKS.md
// BENCH_STORAGE_PROFILE=<dir> also writes CPU profiles of relay A and of the tab (second storage and raw upload) there, and leaves BENCHMARKS.md alone.
// BENCH_STORAGE_TAB_UPLOAD=<n> measures only the tab's upload, n pairs of raw and storage, for quick comparisons, and prints
// the CPU each thread of relays A and B, this process and the tab's Chromium used per upload; BENCHMARKS.md is left alone.
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../e2e/fixtures/ports.ts'
import { ProcessLines } from '../../e2e/fixtures/process-lines.ts'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { RELAY_NODE_FLAGS } from '../../relay/bin/node-flags.ts'
import { loadOrCreateKey } from '../../relay/identity/key-file.ts'
import { createNodePeer } from '../../relay/node-peer/create-node-peer.ts'
import { bytesSource, memorySink } from '../../shared/storage/index.ts'
import {
  addTicks, BENCHMARKS_MD, cpuBetween, cpuSnapshot, launchChromiumWithPid, loadAverage, log, machineInfo, mbps, median, requireTestPage, round, spawnScript, stopChild,
  threadTable, threadTicks, ticksBetween, upsertSection, waitForQuiet, waitUntil
} from '../common/index.ts'
import { rawDownload, rawUpload } from './raw-protocol.ts'
import { medianRatio, pairRatio, pairRatios, storageSection } from './report.ts'
import type { Measure, StorageBenchResult } from './report.ts'
import type { StorageBenchApi } from '../../web/bench/storage-page.ts'
import type { ChildProcess } from 'node:child_process'
import type { Page } from '@playwright/test'

const MiB = 1024 * 1024
/** Bytes per transfer, transfers per figure. */
const SIZE = 64 * MiB
/** Pairs of tab uploads in a quick comparison run (BENCH_STORAGE_TAB_UPLOAD), else 0. */
const TAB_UPLOAD_ONLY = Number(process.env.BENCH_STORAGE_TAB_UPLOAD ?? 0)
const REPS = TAB_UPLOAD_ONLY > 0 ? TAB_UPLOAD_ONLY : 5
const WARMUP = 8 * MiB

/** Where the tab's and relay A's CPU profiles go, when set (a second storage and raw upload from the tab are profiled). */
const PROFILE_DIR = process.env.BENCH_STORAGE_PROFILE
const cleanups: Array<() => Promise<unknown>> = []

interface Relay { child: ChildProcess, lines: ProcessLines, peerId: string, http: string, multiaddrs: string[], dir: string }

/** A relay's data folder with its key made in advance, so others can name its peer ID before it starts. */
async function relayDir (name: string): Promise<{ dir: string, peerId: string }> {
  const dir = await mkdtemp(join(tmpdir(), `golem-clay-bench-${name}-`))
  const { key } = await loadOrCreateKey(dir)
  return { dir, peerId: peerIdFromPrivateKey(key).toString() }
}

async function startRelay (name: string, extra: string[] = [], dir?: string): Promise<Relay> {
  dir ??= (await relayDir(name)).dir
  const args = ['--data', dir, '--web-root', 'dist/test-web', '--host', '127.0.0.1', '--http-port', String(await freePort()), '--ws-port', String(await freePort()), '--tcp-port', String(await freePort()),
    '--difficulty', '8', '--storage-quota', '40GiB', '--storage-peer-quota', '20GiB', '--quiet', ...extra]
  const profile = PROFILE_DIR != null && name === 'a' ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []
  const child = spawnScript('bench/storage/bench-relay.ts', args, [...RELAY_NODE_FLAGS, ...profile])
  const lines = new ProcessLines(child, `relay ${name}`)
  cleanups.push(async () => {
    // a profiled relay writes its profile only when it exits by itself
    await stopChild(child, profile.length > 0 ? { ask: () => { child.stdin?.write('quit\n') } } : {})
    await rm(dir, { recursive: true, force: true })
  })
  const ready = JSON.parse(await lines.waitFor(l => l.startsWith('{"ready"'), 60_000)).ready
  return { child, lines, dir, ...ready }
}

async function status (relay: Relay): Promise<any> {
  return await (await fetch(new URL('/status', relay.http))).json()
}

function addr (relay: Relay, ws: boolean): string {
  const found = relay.multiaddrs.find(a => a.startsWith('/ip4/127.0.0.1/') && a.includes('/ws') === ws)
  if (found == null) throw new Error(`relay has no loopback ${ws ? 'WebSocket' : 'TCP'} address`)
  return found
}

interface Sample { MBps: number, ours: number, rest: number }

/** One timed transfer: MB/s with the cores our processes and the rest used meanwhile. */
async function sample (bytes: number, fn: () => Promise<number>): Promise<Sample> {
  const a = cpuSnapshot()
  const ms = await fn()
  const cpu = cpuBetween(a, cpuSnapshot())
  return { MBps: round(mbps(bytes, ms)), ours: round(cpu.ours, 2), rest: round(cpu.rest, 2) }
}

function summary (what: string, samples: Sample[]): Measure {
  const result = { MBps: round(median(samples.map(s => s.MBps))), samples }
  log(`  ${what}: ${samples.map(s => s.MBps).join(', ')} MB/s (median ${result.MBps})`)
  return result
}

/** Runs `fn` `REPS` times. */
async function measure (what: string, bytes: number, fn: () => Promise<number>): Promise<Measure> {
  const samples: Sample[] = []
  for (let i = 0; i < REPS; i++) samples.push(await sample(bytes, fn))
  return summary(what, samples)
}

/**
 * Raw and storage transfers taken in turns, `REPS` of each, so slow spells on
 * the shared machine hit both; `after` runs after each storage one, untimed.
 */
async function measurePair (what: string, bytes: number, raw: () => Promise<number>, storage: () => Promise<number>, after?: () => Promise<void>): Promise<[Measure, Measure]> {
  const r: Sample[] = []
  const s: Sample[] = []
  for (let i = 0; i < REPS; i++) {
    r.push(await sample(bytes, raw))
    s.push(await sample(bytes, storage))
    await after?.()
  }
  return [summary(`raw ${what}`, r), summary(`storage ${what}`, s)]
}

async function call<K extends keyof StorageBenchApi> (page: Page, method: K, arg: Parameters<StorageBenchApi[K]>[0]): Promise<Awaited<ReturnType<StorageBenchApi[K]>>> {
  return await page.evaluate(async ({ method, arg }) => await (window.storageBench![method] as (a: unknown) => Promise<unknown>)(arg), { method, arg: arg as unknown }) as any
}

/** With BENCH_STORAGE_PROFILE set, CPU-profiles the tab's main thread during the second call of each name. */
function profileOnce (page: Page): <T>(name: string, fn: () => Promise<T>) => Promise<T> {
  const calls = new Map<string, number>()
  return async (name, fn) => {
    const n = (calls.get(name) ?? 0) + 1
    calls.set(name, n)
    if (PROFILE_DIR == null || n !== 2) return await fn()
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Profiler.enable')
    await cdp.send('Profiler.start')
    try {
      return await fn()
    } finally {
      const { profile } = await cdp.send('Profiler.stop')
      writeFileSync(join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(profile))
      await cdp.detach()
    }
  }
}

async function main (): Promise<StorageBenchResult | null> {
  const began = Date.now()
  const loadAtStart = loadAverage()
  requireTestPage('bench/storage.html')
  await waitForQuiet(log)

  log('bench: starting relay A, and relay B replicating A')
  // A lets only B copy it (replication is by allowlist)
  const bDir = await relayDir('b')
  const a = await startRelay('a', ['--replication-allow', bDir.peerId])
  const b = await startRelay('b', ['--replicate-from', addr(a, false)], bDir.dir)
  await waitUntil(async () => (await status(a)).storage.replication.replicas.includes(b.peerId), 60_000, 'B to register as A\'s replica')

  log('bench: opening the bench tab and a Node peer, both on relay A')
  const { browser, pid: tabPid } = await launchChromiumWithPid()
  const roots = { a: a.child.pid ?? -1, b: b.child.pid ?? -1, tab: tabPid }
  cleanups.push(async () => { await browser.close() })
  const page = await browser.newPage()
  page.on('pageerror', (err) => { log(`[tab] page error: ${err.message}`) })
  await page.goto(new URL('/bench/storage.html', a.http).toString())
  await page.waitForFunction(() => window.storageBench != null)
  await call(page, 'init', { relayWs: addr(a, true) })
  cleanups.push(async () => { await call(page, 'stop', undefined).catch(() => {}) })
  const peer = await createNodePeer({ relays: [addr(a, false)], maxRelays: 1 })
  await peer.start()
  cleanups.push(async () => { await peer.stop() })
  await waitUntil(async () => (await peer.services.storage.relays()).includes(a.peerId), 30_000, 'the Node peer to see A\'s storage')
  const conn = (): any => peer.getConnections().find(c => c.remotePeer.toString() === a.peerId && c.status === 'open' && c.limits == null)

  let n = 0
  const path = (): string => `bench/${Date.now()}-${n++}.bin`
  // B copies every object A stores; each timed transfer starts once it has, so none competes with that copy
  let stored = 0
  const replicated = async (): Promise<{ objects: number, last?: { ms: number, bytes: number } }> => (await status(b)).storage.replication.replicated
  const replicaCaughtUp = async (): Promise<void> => {
    await waitUntil(async () => (await replicated()).objects >= stored, 120_000, 'B to replicate what A stored')
  }
  const tabPut = async (size: number): Promise<{ ms: number, address: string }> => {
    const r = await call(page, 'put', { size, path: path() })
    stored++
    return r
  }
  const nodeData = randomBytes(SIZE)
  const nodePut = async (bytes: Uint8Array): Promise<{ ms: number, address: string }> => {
    const start = performance.now()
    const r = await peer.services.storage.put(bytesSource(bytes), { path: path(), relay: a.peerId })
    const ms = performance.now() - start
    stored++
    return { ms, address: r.address }
  }
  const nodeGet = async (address: string, size: number): Promise<number> => {
    const start = performance.now()
    await peer.services.storage.get(address, memorySink(size))
    return performance.now() - start
  }

  log('bench: warming up')
  const warm = await tabPut(WARMUP)
  await call(page, 'get', { address: warm.address })
  await call(page, 'rawUpload', { size: WARMUP })
  await call(page, 'rawDownload', { size: WARMUP })
  const warmNode = await nodePut(nodeData.subarray(0, WARMUP))
  await nodeGet(warmNode.address, WARMUP)
  await rawUpload(conn(), nodeData.subarray(0, WARMUP), AbortSignal.timeout(60_000))
  await rawDownload(conn(), WARMUP, AbortSignal.timeout(60_000))
  await replicaCaughtUp()

  log(`bench: tab ↔ relay A over WebSocket, ${SIZE / MiB} MiB × ${REPS}`)
  let tabAddress = ''
  const profiled = profileOnce(page)
  const threads = { raw: new Map<string, number>(), storage: new Map<string, number>() }
  const counted = (kind: 'raw' | 'storage', fn: () => Promise<number>) => async (): Promise<number> => {
    if (TAB_UPLOAD_ONLY === 0) return await fn()
    const before = threadTicks(roots)
    const ms = await fn()
    addTicks(threads[kind], ticksBetween(before, threadTicks(roots)))
    return ms
  }
  const [tabRawUpload, tabUpload] = await measurePair('upload', SIZE, counted('raw', async () => await profiled('tab-raw-upload', async () => await call(page, 'rawUpload', { size: SIZE }))), counted('storage', async () => await profiled('tab-upload', async () => {
    const r = await tabPut(SIZE)
    tabAddress = r.address
    return r.ms
  })), replicaCaughtUp)
  if (TAB_UPLOAD_ONLY > 0) {
    const ratios = pairRatios(tabUpload, tabRawUpload).map(x => round(x, 2))
    log(`bench: tab upload / raw, pair by pair: ${ratios.join(', ')} (median ${pairRatio(tabUpload, tabRawUpload)}); ratio of medians ${medianRatio(tabUpload, tabRawUpload)}`)
    for (const line of threadTable(threads.raw, threads.storage, REPS, { labels: ['raw', 'storage'], per: 'upload', minMs: 10, digits: 0 })) log(line)
    return null
  }
  const [tabRawDownload, tabDownload] = await measurePair('download', SIZE, async () => await call(page, 'rawDownload', { size: SIZE }), async () => await call(page, 'get', { address: tabAddress }))
  const tab = { rawUpload: tabRawUpload, upload: tabUpload, rawDownload: tabRawDownload, download: tabDownload }

  log(`bench: Node peer ↔ relay A over TCP, ${SIZE / MiB} MiB × ${REPS}`)
  let nodeAddress = ''
  const [nodeRawUpload, nodeUpload] = await measurePair('upload', SIZE, async () => await rawUpload(conn(), nodeData, AbortSignal.timeout(120_000)), async () => {
    const r = await nodePut(nodeData)
    nodeAddress = r.address
    return r.ms
  }, replicaCaughtUp)
  const [nodeRawDownload, nodeDownload] = await measurePair('download', SIZE, async () => await rawDownload(conn(), SIZE, AbortSignal.timeout(120_000)), async () => await nodeGet(nodeAddress, SIZE))
  const node = { rawUpload: nodeRawUpload, upload: nodeUpload, rawDownload: nodeRawDownload, download: nodeDownload }

  log(`bench: relay A → relay B over TCP, ${SIZE / MiB} MiB × ${REPS}`)
  await replicaCaughtUp()
  const replication = await measure('replication', SIZE, async () => {
    const before = (await replicated()).objects
    await nodePut(randomBytes(SIZE))
    await waitUntil(async () => (await replicated()).objects > before, 120_000, 'B to replicate the new object')
    const last = (await replicated()).last
    if (last == null || last.bytes !== SIZE) throw new Error('unexpected replication figures')
    return last.ms
  })
  const rawReplication = await measure('raw A → B', SIZE, async () => {
    const from = b.lines.lines.length
    b.child.stdin?.write(`raw-pull ${addr(a, false)} ${SIZE}\n`)
    const line = await b.lines.waitFor(l => l.startsWith('{"rawPull"') || l.startsWith('{"error"'), 120_000, from)
    const parsed = JSON.parse(line)
    if (parsed.error != null) throw new Error(parsed.error)
    return parsed.rawPull.ms as number
  })

  const chromium = `Chromium ${browser.version()}`
  return { machine: machineInfo(chromium, loadAtStart), size: SIZE, reps: REPS, tab, node, replication, rawReplication, seconds: Math.round((Date.now() - began) / 1000) }
}

let exitCode = 0
try {
  const result = await main()
  if (result != null) {
    // a profiled run is slower than a real one: its figures stay out of BENCHMARKS.md
    if (PROFILE_DIR == null) upsertSection(BENCHMARKS_MD, 'Storage', storageSection(result))
    const summary = {
      upload: { MBps: result.tab.upload.MBps, ratioToRaw: pairRatio(result.tab.upload, result.tab.rawUpload), rawMBps: result.tab.rawUpload.MBps, ratioOfMedians: medianRatio(result.tab.upload, result.tab.rawUpload) },
      download: { MBps: result.tab.download.MBps, ratioToRaw: pairRatio(result.tab.download, result.tab.rawDownload), rawMBps: result.tab.rawDownload.MBps, ratioOfMedians: medianRatio(result.tab.download, result.tab.rawDownload) },
      replication: { MBps: result.replication.MBps, rawMBps: result.rawReplication.MBps },
      node: {
        upload: { MBps: result.node.upload.MBps, ratioToRaw: pairRatio(result.node.upload, result.node.rawUpload) },
        download: { MBps: result.node.download.MBps, ratioToRaw: pairRatio(result.node.download, result.node.rawDownload) }
      }
    }
    log(`bench: done in ${result.seconds} s; ${PROFILE_DIR == null ? 'BENCHMARKS.md updated' : `profiles in ${PROFILE_DIR}`}`)
    process.stdout.write(`${JSON.stringify(summary)}\n`)
  }
} catch (err: any) {
  log(`bench: failed - ${err?.stack ?? String(err)}`)
  exitCode = 1
} finally {
  for (const fn of cleanups.reverse()) await fn().catch(() => {})
}
process.exit(exitCode)
