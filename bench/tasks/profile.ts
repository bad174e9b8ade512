// Where the market's time goes: one direct and two network runs of 100 ms
// subtasks with CPU time per process, and CPU profiles of the provider's
// main thread (Chrome DevTools protocol) and of this process (the Node
// requestor) during the second, written to $BENCH_TASKS_PROFILE_DIR
// (default /tmp) and summarised on stderr. Not part of `npm run bench:tasks`:
//   npx vite build --emptyOutDir=false && node --import tsx bench/tasks/profile.ts
// BENCH_TASKS_REQUESTOR=tab submits from the bench page instead of the Node
// peer; BENCH_TASKS_PROVIDER=bare provides from a UI-less page instead of the
// app; BENCH_TASKS_PING=1 only times bare ping round trips on both paths;
// BENCH_TASKS_PAID=1 makes the Node requestor's runs paid (a note per
// assignment, a cheque per verdict).
import { Session } from 'node:inspector/promises'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { coresBetween, groupSnapshot, log, median, round } from '../common/index.ts'
import { pingRoundTrips } from './ping-round-trips.ts'
import { call, direct, network, ranges, setUp } from './rig.ts'
import type { CpuSplit } from './report.ts'
import type { ProviderKind, Requestor, Rig } from './rig.ts'

const SUBTASKS = Number(process.env.BENCH_TASKS_SUBTASKS ?? 100)
const TARGET_MS = Number(process.env.BENCH_TASKS_SIZES ?? 100)
const OUT = process.env.BENCH_TASKS_PROFILE_DIR ?? '/tmp'
/** Which requestor submits: 'node' (this process, through a relay) or 'tab' (the bench page, WebRTC). */
const FROM: Requestor = process.env.BENCH_TASKS_REQUESTOR === 'tab' ? 'tab' : 'node'
/** Which provider computes: the app page, or the same node without the app's UI ('bare'). */
const PROVIDER: ProviderKind = process.env.BENCH_TASKS_PROVIDER === 'bare' ? 'bare' : 'app'
const PAID = process.env.BENCH_TASKS_PAID === '1'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number, children?: number[] }
interface Profile { nodes: ProfileNode[], startTime: number, endTime: number, samples?: number[], timeDeltas?: number[] }

/** Self time per function, ms, the top `n`. */
function topSelf (profile: Profile, n = 25): string[] {
  const byId = new Map(profile.nodes.map(node => [node.id, node]))
  const self = new Map<string, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i] as number)
    if (node == null) continue
    const f = node.callFrame
    const key = `${f.functionName === '' ? '(anonymous)' : f.functionName} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0) / 1000)
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  return [`total ${round(total)} ms`, ...[...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, ms]) => `${round(ms).toString().padStart(8)} ms  ${k}`)]
}

/**
 * CPU ms per bare ping round trip (32 bytes each way) from each requestor to
 * the provider, on a fresh stream each time or all on one stream: what a
 * market request costs on each path before any market code runs.
 */
async function pings (rig: Rig, n = 200): Promise<void> {
  const conn = rig.requestor.getConnections(peerIdFromString(rig.providerId)).find(c => c.status === 'open')
  if (conn == null) throw new Error('the Node requestor has no connection to the provider')
  for (const from of ['node', 'tab'] as const) {
    for (const reuse of [false, true]) {
      const a = groupSnapshot(rig.pids)
      const ms = from === 'node' ? await pingRoundTrips(conn, n, reuse) : await call(rig.bench, 'pingPeer', { peer: rig.providerId, n, reuse })
      const c = coresBetween(a, groupSnapshot(rig.pids))
      const per = (x: number | undefined): number => round((x ?? 0) * ms, 2)
      log(`ping ${from === 'node' ? 'Node requestor → provider (relayed)' : 'requestor tab → provider (WebRTC)'}, ${reuse ? 'one stream' : 'a stream each'}: ${round(ms, 2)} ms each; CPU ms per round trip: relays ${per((c.relay ?? 0) + (c.relayB ?? 0))}, Node ${per(c.self)}, provider ${per(c.provider)}, bench ${per(c.bench)} (rest of the machine ${c.rest} cores)`)
    }
  }
}

const rig = await setUp(2, log)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void rig.close().finally(() => process.exit(130)) })
try {
  if (process.env.BENCH_TASKS_PING != null) {
    await network(rig, 'node', ranges(1e7, 8))
    await pings(rig)
  } else {
    await profileRuns(rig)
  }
} finally {
  await rig.close()
  setTimeout(() => process.exit(), 1000).unref()
}

async function profileRuns (rig: Rig): Promise<void> {
  await call(rig.bench, 'direct', { ranges: ranges(1e7, 8) })
  await network(rig, FROM, ranges(1e7, 8), undefined, PROVIDER, PAID)
  const probe = Math.min(...await call(rig.bench, 'sequential', { ranges: ranges(1e7, 5) }))
  let width = Math.round(TARGET_MS / probe * 1e7 / 1000) * 1000
  const alone = Math.min(...await call(rig.bench, 'sequential', { ranges: ranges(width, 5) }))
  width = Math.round(width * TARGET_MS / alone / 1000) * 1000
  log(`profile: ranges ${width} wide, ${round(Math.min(...await call(rig.bench, 'sequential', { ranges: ranges(width, 5) })))} ms alone`)
  const rs = ranges(width, SUBTASKS)

  const perSubtask = (c: CpuSplit, ms: number): string => `relays ${round(c.relays * ms / SUBTASKS)}, Node ${round(c.node * ms / SUBTASKS)}, provider tab ${round(c.provider * ms / SUBTASKS)}, UI-less provider ${round(c.bare * ms / SUBTASKS)}, bench ${round(c.bench * ms / SUBTASKS)} (rest of the machine ${c.rest} cores)`
  const d = await direct(rig, rs)
  log(`direct: ${d.wallMs} ms; CPU ms per subtask: ${perSubtask(d.cpu, d.wallMs)}`)
  const n0 = await network(rig, FROM, rs, d.outputs, PROVIDER, PAID)
  log(`network: ${n0.wallMs} ms, first assignment ${n0.firstAssignMs} ms; CPU ms per subtask: ${perSubtask(n0.cpu, n0.wallMs + n0.uploadMs)}`)

  // profiled run: the provider tab's main thread, and this process
  const page = PROVIDER === 'app' ? rig.provider : rig.bare
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
  // the requestor tab too, when it is the one submitting
  const requestorCdp = FROM === 'tab' ? await rig.bench.context().newCDPSession(rig.bench) : undefined
  await requestorCdp?.send('Profiler.enable')
  await requestorCdp?.send('Profiler.setSamplingInterval', { interval: 200 })
  const inspector = new Session()
  inspector.connect()
  await inspector.post('Profiler.enable')
  await inspector.post('Profiler.start')
  await cdp.send('Profiler.start')
  await requestorCdp?.send('Profiler.start')
  const n1 = await network(rig, FROM, rs, d.outputs, PROVIDER, PAID)
  const tab = (await cdp.send('Profiler.stop')).profile as unknown as Profile
  if (requestorCdp != null) {
    const requestorTab = (await requestorCdp.send('Profiler.stop')).profile as unknown as Profile
    writeFileSync(join(OUT, 'tasks-requestor-tab.cpuprofile'), JSON.stringify(requestorTab))
    log('--- requestor tab main thread, self time ---')
    for (const l of topSelf(requestorTab)) log(l)
  }
  const node = (await inspector.post('Profiler.stop')).profile as unknown as Profile
  inspector.disconnect()
  log(`profiled network run: ${n1.wallMs} ms, ${JSON.stringify(n1.cpu)}`)
  writeFileSync(join(OUT, 'tasks-provider-tab.cpuprofile'), JSON.stringify(tab))
  writeFileSync(join(OUT, 'tasks-requestor.cpuprofile'), JSON.stringify(node))
  log('--- provider tab main thread, self time ---')
  for (const l of topSelf(tab)) log(l)
  log('--- Node requestor, self time ---')
  for (const l of topSelf(node)) log(l)
  log(`median of the two unprofiled/profiled network runs: ${median([n0.wallMs, n1.wallMs])} ms`)
}
