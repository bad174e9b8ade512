// npm run bench:tasks — see the Tasks section of BENCHMARKS.md
//
// End-to-end subtasks per second through the compute market, against the
// same WebAssembly on the same cores run directly in a tab's sandbox Worker
// pool, in one run: two relay processes, one provider tab (the app page)
// lending CORES cores, two requestors (a bench tab, linked to the provider
// over WebRTC, and a Node peer in this process, through a relay), and the
// bench tab's own Worker pool for the direct baseline. Progress goes to
// stderr; stdout gets a table and, last, a JSON summary.
//
// Environment: BENCH_TASKS_CORES (2), BENCH_TASKS_SUBTASKS (100),
// BENCH_TASKS_SIZES (25,100,400 ms), BENCH_TASKS_ROUNDS (3 clean rounds per
// size, at most twice as many tried).
import { BENCHMARKS_MD, loadAverage, log, machineInfo, median, requireTestPage, round, upsertSection, waitForQuiet } from '../common/index.ts'
import { PATH_NAMES, PATHS, tasksSection } from './report.ts'
import { call, direct, network, ranges, setUp } from './rig.ts'
import type { CpuSplit, DirectSample, NetworkSample, PathKey, PathResult, SizeResult, TasksBenchResult } from './report.ts'
import type { ProviderKind, Requestor, Rig } from './rig.ts'

/** Cores the provider lends, and the direct pool's size: the machine's two. */
const CORES = Number(process.env.BENCH_TASKS_CORES ?? 2)
/** Subtasks per measured run. */
const SUBTASKS = Number(process.env.BENCH_TASKS_SUBTASKS ?? 100)
/** Target single-subtask times, ms; the headline is 100. */
const SIZES = (process.env.BENCH_TASKS_SIZES ?? '25,100,400').split(',').map(Number)
const HEADLINE_MS = 100
/** The JSON summary's top level: the browser-first path, both ends tabs. */
const HEADLINE_PATH: Requestor = 'tab'
/** Clean rounds wanted per size, and the most tried. */
const ROUNDS = Number(process.env.BENCH_TASKS_ROUNDS ?? 3)
const MAX_ROUNDS = 2 * ROUNDS
/** Other processes may use at most this many cores during a run for its round to count as clean. */
const QUIET = 0.3
/** Range width of the first calibration probe (≈10 ms on one core). */
const PROBE_WIDTH = 1e7

/**
 * Range width for `targetMs` per subtask on one worker: scaled from the
 * probe, then corrected until the fastest of 5 subtasks (the least
 * disturbed) is within 10% of the target, at most 4 times.
 */
async function calibrate (rig: Rig, targetMs: number, msPerUnit: number): Promise<{ width: number, aloneMs: number }> {
  const fastest = async (width: number): Promise<number> => Math.min(...await call(rig.bench, 'sequential', { ranges: ranges(width, 5) }))
  let width = Math.max(1000, Math.round(targetMs / msPerUnit / 1000) * 1000)
  let aloneMs = await fastest(width)
  for (let i = 0; i < 4 && Math.abs(aloneMs / targetMs - 1) > 0.1; i++) {
    width = Math.max(1000, Math.round(width * targetMs / aloneMs / 1000) * 1000)
    aloneMs = await fastest(width)
  }
  return { width, aloneMs: round(aloneMs) }
}

const GROUPS = ['relays', 'node', 'provider', 'bare', 'bench'] as const

/** CPU ms per subtask by group: cores used × the run's window / subtasks. */
function cpuMs (c: CpuSplit, windowMs: number): Record<typeof GROUPS[number], number> {
  return Object.fromEntries(GROUPS.map(g => [g, c[g] * windowMs / SUBTASKS])) as Record<typeof GROUPS[number], number>
}

function pathResult (direct: DirectSample[], runs: NetworkSample[], used: number[]): PathResult {
  const chosen = used.map(i => runs[i] as NetworkSample)
  const networkMs = median(chosen.map(r => r.wallMs))
  // each network run against the direct run of its own round: the machine's pace drifts between rounds
  const paired = used.map(i => ({ d: (direct[i] as DirectSample).wallMs, n: (runs[i] as NetworkSample).wallMs }))
  const total = (x: Record<typeof GROUPS[number], number>): number => GROUPS.reduce((sum, g) => sum + x[g], 0)
  const cpuRatio: number[] = []
  const extra = used.map(i => {
    const n = cpuMs((runs[i] as NetworkSample).cpu, (runs[i] as NetworkSample).wallMs + (runs[i] as NetworkSample).uploadMs)
    const d = cpuMs((direct[i] as DirectSample).cpu, (direct[i] as DirectSample).wallMs)
    cpuRatio.push(total(d) / total(n))
    return Object.fromEntries(GROUPS.map(g => [g, n[g] - d[g]])) as Record<typeof GROUPS[number], number>
  })
  const cpuMsPerSubtask = Object.fromEntries(GROUPS.map(g => [g, round(median(used.map(i => cpuMs((runs[i] as NetworkSample).cpu, (runs[i] as NetworkSample).wallMs + (runs[i] as NetworkSample).uploadMs)[g])), 1)])) as PathResult['cpuMsPerSubtask']
  return {
    networkMs: round(networkMs),
    uploadMs: round(median(chosen.map(r => r.uploadMs))),
    efficiency: round(median(paired.map(r => r.d / r.n)), 3),
    overheadMsPerSubtask: round(median(paired.map(r => (r.n - r.d) * CORES / SUBTASKS)), 1),
    networkPerSec: round(SUBTASKS / networkMs * 1000, 2),
    extraCpuMsPerSubtask: round(median(extra.map(total)), 1),
    cpuEfficiency: round(median(cpuRatio), 3),
    cpuMsPerSubtask,
    runs
  }
}

/** The requestor and provider of each path. */
const ROUTES: Record<PathKey, { from: Requestor, provider: ProviderKind, paid?: boolean }> = {
  tab: { from: 'tab', provider: 'app' },
  node: { from: 'node', provider: 'app' },
  tabBare: { from: 'tab', provider: 'bare' },
  nodeBare: { from: 'node', provider: 'bare' },
  nodePaid: { from: 'node', provider: 'app', paid: true }
}

async function measureSize (rig: Rig, target: number, msPerUnit: number): Promise<SizeResult> {
  const { width, aloneMs } = await calibrate(rig, target, msPerUnit)
  // the UI-less provider only at the headline size: it tells the app's UI apart from the market
  const paths: PathKey[] = target === HEADLINE_MS ? PATHS : ['tab', 'node']
  log(`bench: ${target} ms subtasks: primes ranges ${width.toLocaleString('en')} wide, ${aloneMs} ms alone on one worker; ${paths.join(', ')}`)
  const rs = ranges(width, SUBTASKS)
  const directRuns: DirectSample[] = []
  const runs: Partial<Record<PathKey, NetworkSample[]>> = {}
  const clean: number[] = []
  let expected: string[] | undefined
  for (let i = 0; clean.length < ROUNDS && i < MAX_ROUNDS; i++) {
    await waitForQuiet(log, QUIET, 30_000)
    const d = await direct(rig, rs)
    expected ??= d.outputs
    if (d.outputs.some((o, j) => o !== expected?.[j])) throw new Error('two direct runs disagree')
    directRuns.push({ wallMs: d.wallMs, meanSubtaskMs: d.meanSubtaskMs, cpu: d.cpu })
    const round: Array<[PathKey, NetworkSample]> = []
    for (const path of paths) {
      const n = await network(rig, ROUTES[path].from, rs, expected, ROUTES[path].provider, ROUTES[path].paid)
      ;(runs[path] ??= []).push(n)
      round.push([path, n])
    }
    const quiet = d.cpu.rest <= QUIET && round.every(([, n]) => n.cpu.rest <= QUIET)
    if (quiet) clean.push(i)
    log(`  round ${i + 1}${quiet ? '' : ' (disturbed)'}: direct ${d.wallMs} ms; ${round.map(([path, n]) => `${path} ${n.wallMs} ms → ${(d.wallMs / n.wallMs).toFixed(3)}`).join('; ')}; rest of the machine ${[d.cpu.rest, ...round.map(([, n]) => n.cpu.rest)].join(' / ')} cores`)
    const reassigned = round.reduce((sum, [, n]) => sum + n.reassigned, 0)
    if (reassigned > 0) log(`  ${reassigned} subtasks reassigned`)
  }
  const used = clean.length >= 2 ? clean : directRuns.map((_, i) => i)
  if (clean.length < 2) log(`bench: only ${clean.length} clean rounds for ${target} ms subtasks; using every round`)
  const directMs = median(used.map(i => (directRuns[i] as DirectSample).wallMs))
  const results = Object.fromEntries(paths.map(path => [path, pathResult(directRuns, runs[path] ?? [], used)])) as SizeResult['paths']
  return {
    targetMs: target,
    width,
    aloneMs,
    subtaskMs: round(median(used.map(i => (directRuns[i] as DirectSample).meanSubtaskMs))),
    directMs: round(directMs),
    directPerSec: round(SUBTASKS / directMs * 1000, 2),
    direct: directRuns,
    directCpuMsPerSubtask: Object.fromEntries(GROUPS.map(g => [g, round(median(used.map(i => cpuMs((directRuns[i] as DirectSample).cpu, (directRuns[i] as DirectSample).wallMs)[g])), 1)])) as SizeResult['directCpuMsPerSubtask'],
    cleanRounds: clean.length,
    used,
    paths: results
  }
}

async function main (): Promise<TasksBenchResult> {
  const began = Date.now()
  const loadAtStart = loadAverage()
  requireTestPage('bench/tasks.html')
  await waitForQuiet(log, QUIET, 60_000)
  const rig = await setUp(CORES, log)
  // interrupted: stop the relay processes and browsers too
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void rig.close().finally(() => process.exit(130)) })
  try {
    log('bench: warming up (workers compile the module; each requestor opens its connection and session to the provider)')
    const warm = ranges(PROBE_WIDTH, CORES * 4)
    await call(rig.bench, 'direct', { ranges: warm })
    const firstContact = { tab: await network(rig, 'tab', warm), node: await network(rig, 'node', warm) }
    log(`  first tasks of ${warm.length} subtasks: requestor tab ${firstContact.tab.wallMs} ms, Node requestor ${firstContact.node.wallMs} ms`)
    // the provider's first read of the requestor's deposit, and the cheque book's first entry, stay out of the paid rounds
    await network(rig, 'node', warm, undefined, 'app', true)
    const probe = Math.min(...await call(rig.bench, 'sequential', { ranges: ranges(PROBE_WIDTH, 5) }))
    const sizes: SizeResult[] = []
    for (const target of SIZES) sizes.push(await measureSize(rig, target, probe / PROBE_WIDTH))
    return {
      machine: machineInfo(rig.chromium, loadAtStart),
      cores: CORES,
      subtasks: SUBTASKS,
      rounds: ROUNDS,
      quietCores: QUIET,
      firstContact,
      sizes,
      seconds: Math.round((Date.now() - began) / 1000)
    }
  } finally {
    await rig.close()
  }
}

try {
  const result = await main()
  upsertSection(BENCHMARKS_MD, 'Tasks', tasksSection(result))
  log('bench: wrote the Tasks section of BENCHMARKS.md')
  const head = result.sizes.find(s => s.targetMs === HEADLINE_MS) ?? result.sizes[0]
  if (head == null) throw new Error('no sizes measured')
  for (const s of result.sizes) {
    for (const path of PATHS) {
      const p = s.paths[path]
      if (p == null) continue
      process.stdout.write(`${s.subtaskMs} ms subtasks, ${PATH_NAMES[path]}: direct ${s.directPerSec}/s, network ${p.networkPerSec}/s, efficiency ${p.efficiency}, overhead ${p.overheadMsPerSubtask} ms per subtask, extra CPU ${p.extraCpuMsPerSubtask} ms per subtask (CPU efficiency ${p.cpuEfficiency})\n`)
    }
  }
  const h = head.paths[HEADLINE_PATH]
  const brief = (p: PathResult): Record<string, number> => ({ efficiency: p.efficiency, overheadMsPerSubtask: p.overheadMsPerSubtask, networkSubtasksPerSec: p.networkPerSec, extraCpuMsPerSubtask: p.extraCpuMsPerSubtask, cpuEfficiency: p.cpuEfficiency, uploadMs: p.uploadMs })
  process.stdout.write(`${JSON.stringify({
    subtasks: result.subtasks,
    subtaskMs: head.subtaskMs,
    providers: 1,
    cores: result.cores,
    requestor: PATH_NAMES[HEADLINE_PATH],
    efficiency: h.efficiency,
    overheadMsPerSubtask: h.overheadMsPerSubtask,
    directSubtasksPerSec: head.directPerSec,
    networkSubtasksPerSec: h.networkPerSec,
    extraCpuMsPerSubtask: h.extraCpuMsPerSubtask,
    cpuEfficiency: h.cpuEfficiency,
    uploadMs: h.uploadMs,
    target: 0.9,
    targetMet: h.efficiency >= 0.9,
    nodeRequestor: brief(head.paths.node),
    ...(head.paths.nodePaid != null ? { nodeRequestorPaid: brief(head.paths.nodePaid) } : {}),
    ...(head.paths.tabBare != null && head.paths.nodeBare != null ? { uiLessProvider: { tab: brief(head.paths.tabBare), node: brief(head.paths.nodeBare) } } : {}),
    cleanRounds: head.cleanRounds,
    sizes: result.sizes.map(s => ({ subtaskMs: s.subtaskMs, directSubtasksPerSec: s.directPerSec, tab: brief(s.paths.tab), node: brief(s.paths.node) }))
  })}\n`)
} catch (err: any) {
  log(`bench failed: ${err?.stack ?? err}`)
  process.exitCode = 1
} finally {
  // libp2p and Playwright leave handles behind
  setTimeout(() => process.exit(), 1000).unref()
}
