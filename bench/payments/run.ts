// npm run bench:payments — see the Payments section of BENCHMARKS.md
//
// What payments cost: cheques signed and verified per second (and the
// promissory note of each assignment), on Node and in a tab (headless
// Chromium running the same code, bundled), against the target of at most
// 2 ms of CPU per accepted subtask; and gas per cheque cashed by the real
// ClayDeposit on Anvil, alone and in batches of 10 and 100. Progress goes
// to stderr; stdout gets the section and, last, a JSON summary.
//
// Environment: BENCH_PAYMENTS_QUICK=1 (or --quick) for a run of a few
// seconds that leaves BENCHMARKS.md alone; BENCH_PAYMENTS_OPS (1000
// operations per phase and round), BENCH_PAYMENTS_ROUNDS (5).
import {
  BENCHMARKS_MD, cpuBetween, cpuSnapshot, launchChromium, loadAverage, log, machineInfo, median, round, upsertSection, waitForQuiet
} from '../common/index.ts'
import { measureGas } from './gas.ts'
import { PaymentsBench, PHASES } from './measure.ts'
import { paymentsSection, perSubtask, summary, TARGET_MS } from './report.ts'
import { tabBundle } from './tab-bundle.ts'
import type { Phase, PhaseRun } from './measure.ts'
import type { PaymentsBenchResult, PhaseResult, SideResult } from './report.ts'
import type { Page } from '@playwright/test'

const QUICK = process.env.BENCH_PAYMENTS_QUICK === '1' || process.argv.includes('--quick')
const OPS = Number(process.env.BENCH_PAYMENTS_OPS ?? (QUICK ? 100 : 1000))
const ROUNDS = Number(process.env.BENCH_PAYMENTS_ROUNDS ?? (QUICK ? 1 : 5))
/** First-contact verifications need a new requestor each (a key and a signature to make untimed): fewer of them. */
const opsOf = (phase: Phase): number => (phase === 'verifyFirst' ? Math.min(OPS, 200) : OPS)

interface Sample { cpuMs: number, wallMs: number, rest: number }

/** Runs every phase ROUNDS times (after a warm-up round), phases interleaved so a slow spell of the machine hits them all. */
async function measureSide (name: string, prepare: (phase: Phase, ops: number) => Promise<void>, timed: () => Promise<Sample>): Promise<SideResult> {
  for (const phase of PHASES) {
    await prepare(phase, Math.max(20, Math.round(opsOf(phase) / 5)))
    await timed()
  }
  const samples = Object.fromEntries(PHASES.map(p => [p, [] as Sample[]])) as Record<Phase, Sample[]>
  for (let i = 0; i < ROUNDS; i++) {
    for (const phase of PHASES) {
      await prepare(phase, opsOf(phase))
      samples[phase].push(await timed())
    }
    log(`  ${name} round ${i + 1}: ${PHASES.map(p => `${p} ${round(samples[p][i]?.cpuMs ?? Number.NaN, 3)} ms`).join(', ')}`)
  }
  return Object.fromEntries(PHASES.map(phase => {
    const s = samples[phase]
    const result: PhaseResult = {
      cpuMs: median(s.map(x => x.cpuMs)),
      wallMs: median(s.map(x => x.wallMs)),
      restCores: s.reduce((a, x) => a + x.rest, 0) / s.length,
      rounds: s.map(x => x.cpuMs)
    }
    return [phase, result]
  })) as SideResult
}

async function nodeSide (): Promise<SideResult> {
  const bench = new PaymentsBench()
  return await measureSide('node', async (phase, ops) => { await bench.prepare(phase, ops) }, async () => {
    const machine = cpuSnapshot()
    const cpu = process.cpuUsage()
    const run = await bench.run()
    const used = process.cpuUsage(cpu)
    return perOp(run, (used.user + used.system) / 1000, cpuBetween(machine, cpuSnapshot()).rest)
  })
}

/**
 * The tab's CPU time is its renderer's main thread's, where the code runs
 * (CDP Performance.getMetrics ThreadTime, in µs; the process tree's /proc
 * ticks are 10 ms apiece across several processes, too coarse here).
 */
async function tabSide (page: Page): Promise<SideResult> {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Performance.enable')
  const threadMs = async (): Promise<number> => {
    const { metrics } = await cdp.send('Performance.getMetrics')
    const value = metrics.find(m => m.name === 'ThreadTime')?.value
    if (value == null) throw new Error('Chromium reports no ThreadTime metric')
    return value * 1000
  }
  return await measureSide('tab', async (phase, ops) => {
    await page.evaluate(async ([p, n]) => { await window.paymentsBench.prepare(p, n) }, [phase, ops] as const)
  }, async () => {
    const machine = cpuSnapshot()
    const before = await threadMs()
    const run = await page.evaluate(async () => await window.paymentsBench.run())
    return perOp(run, await threadMs() - before, cpuBetween(machine, cpuSnapshot()).rest)
  })
}

function perOp (run: PhaseRun, cpuMs: number, rest: number): Sample {
  return { cpuMs: cpuMs / run.ops, wallMs: run.wallMs / run.ops, rest: Number.isFinite(rest) ? rest : 0 }
}

async function main (): Promise<void> {
  const began = performance.now()
  // two cores shared with other work: wait a while for a quieter machine (not in a quick run)
  if (!QUICK) await waitForQuiet(log, 0.3, 180_000)
  const loadAtStart = loadAverage()
  log(`bench: ${OPS} operations per phase, ${ROUNDS} round${ROUNDS > 1 ? 's' : ''}${QUICK ? ' (quick run: BENCHMARKS.md is left alone)' : ''}`)

  log('bench: Node')
  const node = await nodeSide()

  log('bench: a tab (headless Chromium, the same code bundled)')
  const code = await tabBundle()
  const browser = await launchChromium()
  let tab: SideResult
  let chromium: string
  try {
    const page = await browser.newPage()
    page.on('pageerror', err => { log(`  page error: ${err.message}`) })
    await page.setContent('<!doctype html><title>bench:payments</title>')
    await page.addScriptTag({ content: code })
    tab = await tabSide(page)
    chromium = `Chromium ${browser.version()}`
  } finally {
    await browser.close()
  }

  log('bench: gas on Anvil')
  const gas = await measureGas(log)

  const result: PaymentsBenchResult = {
    quick: QUICK, ops: OPS, rounds: ROUNDS, node, tab, gas,
    machine: machineInfo(chromium, loadAtStart),
    tookS: Math.round((performance.now() - began) / 1000)
  }
  const section = paymentsSection(result)
  if (!QUICK) {
    upsertSection(BENCHMARKS_MD, 'Payments', section)
    log(`bench: wrote the Payments section of ${BENCHMARKS_MD}`)
  }
  const n = perSubtask(node)
  const t = perSubtask(tab)
  log(`bench: per subtask (sign + verify) ${n.signVerifyMs} ms on Node, ${t.signVerifyMs} ms in a tab; target ${TARGET_MS} ms`)
  process.stdout.write(`${section}\n`)
  process.stdout.write(`${JSON.stringify(summary(result))}\n`)
}

main().then(() => { process.exit(0) }, (err: unknown) => {
  process.stderr.write(`bench:payments failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
