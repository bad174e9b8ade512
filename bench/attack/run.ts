// npm run bench:attack — what an honest newcomer sees while each attack of
// the hardening issue runs against a real relay: its time to a verified
// session and a reservation (its own proof-of-work search left out) and the
// difficulty it is asked, quiet and under attack, in one run; and the
// relay's CPU and memory meanwhile. Writes the "Attacks" section of
// BENCHMARKS.md and prints a JSON summary as its last line.
//   BENCH_ATTACK_JOINS=<n>   honest joins per phase (default 30)
//   BENCH_ATTACK_ONLY=<a,b>  only these scenarios (names in scenarios.ts)
import { readFileSync } from 'node:fs'
import { Attacker } from '../../e2e/fixtures/attacks/attacker.ts'
import { honestJoin } from '../../e2e/fixtures/honest.ts'
import { RelayProcess } from '../../e2e/fixtures/relay-process.ts'
import { tcpAddrOf } from '../../e2e/fixtures/rogue.ts'
import { BENCHMARKS_MD, coresBetween, groupSnapshot, loadAverage, log, machineInfo, median, percentile, round, upsertSection } from '../common/index.ts'
import { attackSection } from './report.ts'
import { SCENARIOS } from './scenarios.ts'
import type { PhaseResult, ScenarioResult } from './report.ts'
import type { Scenario } from './scenarios.ts'

const JOINS = Number(process.env.BENCH_ATTACK_JOINS ?? 30)
const ONLY = (process.env.BENCH_ATTACK_ONLY ?? '').split(',').filter(s => s !== '')

/** `n` honest newcomers one after another; each joins, reserves (and stores), measures, and leaves. */
async function joins (tcp: string, n: number, store: boolean): Promise<PhaseResult> {
  const times: number[] = []
  const difficulties: number[] = []
  let ok = 0
  let dialFailures = 0
  const errors: string[] = []
  for (let i = 0; i < n; i++) {
    try {
      const join = await honestJoin(tcp, { store, timeout: 60_000 })
      times.push(join.joinMs)
      difficulties.push(join.difficulty)
      dialFailures += join.dialFailures
      ok++
      await join.stop()
    } catch (err: any) {
      errors.push(String(err.message).slice(0, 120))
    }
  }
  return {
    joins: n,
    succeeded: ok,
    joinMsP50: round(median(times)),
    joinMsP95: round(percentile(times, 95)),
    difficulty: median(difficulties),
    maxDifficulty: Math.max(...difficulties),
    dialFailures,
    errors: [...new Set(errors)]
  }
}

/** Resident memory of a process, MiB. */
function rssMiB (pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN)
    return round(kb / 1024)
  } catch {
    return Number.NaN
  }
}

/** The relay's /status `limits`, flattened: reservations released, relays dialed back, peer exchange records refused. */
function limitsOf (limits: any): Record<string, number> {
  if (limits == null) return {}
  return {
    'reservations released': limits.reservationsReleased,
    'relays verified by dialing back': limits.relayProbes?.verified,
    'relays failing that check': limits.relayProbes?.failed,
    'peer exchange records refused past a source\'s share': limits.keeperRefusedFromSources
  }
}

async function runScenario (s: Scenario): Promise<ScenarioResult> {
  log(`bench: ${s.name} — relay ${s.relayArgs.join(' ') || '(defaults)'}`)
  const relay = await RelayProcess.start({ extraArgs: ['--host', '127.0.0.1', '--quiet', ...s.relayArgs] })
  try {
    const tcp = tcpAddrOf((await relay.status()).multiaddrs)
    const quiet = await joins(tcp, JOINS, s.store === true)
    log(`  quiet: ${quiet.succeeded}/${quiet.joins} joins, p50 ${quiet.joinMsP50} ms, ${quiet.difficulty} bits`)
    const attacker = Attacker.start(s.attack, tcp, s.options({ tcp: relay.ports.tcp, ws: relay.ports.ws }), { nice: true })
    try {
      await attacker.waitFor(e => s.underWay(e), 180_000)
      const pid = relay.child?.pid ?? -1
      const before = groupSnapshot({ relay: pid, attacker: attacker.child.pid ?? -1 })
      let rss = rssMiB(pid)
      const sampler = setInterval(() => { rss = Math.max(rss, rssMiB(pid)) }, 500)
      const attacked = await joins(tcp, JOINS, s.store === true)
      clearInterval(sampler)
      const cores = coresBetween(before, groupSnapshot({ relay: pid, attacker: attacker.child.pid ?? -1 }))
      const counters = await attacker.stop()
      const status = await relay.status()
      log(`  attacked: ${attacked.succeeded}/${attacked.joins} joins, p50 ${attacked.joinMsP50} ms, ${attacked.difficulty} bits; relay ${cores.relay} cores, ${rss} MiB`)
      return {
        scenario: s,
        quiet,
        attacked,
        relayCores: cores.relay ?? Number.NaN,
        attackerCores: cores.attacker ?? Number.NaN,
        relayRssMiB: rss,
        attackCounters: Object.fromEntries(Object.entries(counters).filter(([k]) => k !== 'event')),
        refusals: Object.fromEntries(Object.entries({ ...status.session.refusals, ...((status as any).storage?.refusals ?? {}) }).filter(([, v]) => Number(v) > 0)) as Record<string, number>,
        limits: limitsOf((status as any).limits)
      }
    } finally {
      await attacker.stop()
    }
  } finally {
    await relay.stop()
  }
}

const loadAtStart = loadAverage()
const chromium = 'not used'
const results: ScenarioResult[] = []
for (const s of SCENARIOS.filter(s => ONLY.length === 0 || ONLY.includes(s.name))) results.push(await runScenario(s))
const machine = machineInfo(chromium, loadAtStart)
if (ONLY.length === 0 && JOINS >= 30) upsertSection(BENCHMARKS_MD, 'Attacks', attackSection(results, machine, JOINS))
else log('bench: a partial run (BENCH_ATTACK_ONLY or fewer than 30 joins) leaves BENCHMARKS.md alone')
const summary = {
  attacks: Object.fromEntries(results.map(r => [r.scenario.name, {
    joinMsP50: r.attacked.joinMsP50,
    joinMsP95: r.attacked.joinMsP95,
    baselineJoinMsP50: r.quiet.joinMsP50,
    difficulty: r.attacked.difficulty,
    baselineDifficulty: r.quiet.difficulty,
    honestSuccess: round(r.attacked.succeeded / r.attacked.joins, 3)
  }]))
}
process.stdout.write(`${JSON.stringify(summary)}\n`)
process.exit(0)
