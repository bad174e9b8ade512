// npm run soak:compute [-- --minutes N] — see the Compute soak section of BENCHMARKS.md
//
// Replays a long session on a small network (2 relays, 4 tabs in 2 Chromium
// instances, one phone-sized, all lending their CPU): a task every minute
// from a rotating tab, a relay restart and a tab reload every few minutes,
// and asserts that every task completes within a bound. A stalled task gets
// every tab's market state captured into the report. Everything runs inside a
// network namespace this script makes (root needed), so WebRTC between tabs
// uses an address the run owns.
//
// Options: --minutes N (30), --tabs N (4), --interval S (60), --task-timeout S
// (180), --stall-after S (60), --disrupt-every M (5), --out DIR (.scratch/soak-<time>),
// --no-write (print the report, leave BENCHMARKS.md alone).
// Progress goes to stderr; stdout gets the report, its last line a JSON summary.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createNetns, NETNS_ADDR_ENV, NETNS_ENV, runInside } from './netns.ts'
import { reportSection, summary } from './report.ts'
import { runSoak } from './soak.ts'
import { BENCHMARKS_MD, loadAverage, log, machineInfo, requireTestPage, upsertSection } from '../common/index.ts'
import type { SoakOptions } from './soak.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    tabs: { type: 'string', default: '4' },
    interval: { type: 'string', default: '60' },
    'task-timeout': { type: 'string', default: '180' },
    'stall-after': { type: 'string', default: '60' },
    'disrupt-every': { type: 'string', default: '5' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false }
  }
})

function positive (name: string, value: string | undefined): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) {
    log(`soak: --${name} must be a positive number, got "${value ?? ''}"`)
    process.exit(2)
  }
  return n
}

const options = {
  minutes: positive('minutes', values.minutes),
  tabs: Math.max(4, Math.round(positive('tabs', values.tabs))),
  intervalS: positive('interval', values.interval),
  timeoutS: positive('task-timeout', values['task-timeout']),
  stallAfterS: positive('stall-after', values['stall-after']),
  disruptEveryMin: positive('disrupt-every', values['disrupt-every'])
}

/** Which code the soak ran: the commit, and whether the product's files differ from it. */
function codeVersion (): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = git('status', '--porcelain', '--', 'shared', 'relay', 'web', 'tasks') !== ''
    return `commit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes to the product' : ''}`
  } catch {
    return 'not a git checkout'
  }
}

async function outside (): Promise<number> {
  if (process.getuid?.() !== 0) {
    log('soak: needs root to make its network namespace (ip netns, a veth pair)')
    return 2
  }
  requireTestPage('index.html')
  const netns = createNetns(log)
  log(`soak: network namespace ${netns.name}: ${netns.inner} inside, ${netns.host} on the host end`)
  const code = await runInside(netns, [...process.execArgv, ...process.argv.slice(1)], log)
  log(`soak: namespace ${netns.name} removed`)
  return code
}

async function inside (): Promise<number> {
  const loadAtStart = loadAverage()
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const dir = values.out ?? join(REPO_ROOT, '.scratch', `soak-${stamp}`)
  const o: SoakOptions = { ...options, dir, address: process.env[NETNS_ADDR_ENV] ?? '' }
  const stop = new AbortController()
  let last = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    // a terminal's Ctrl-C reaches this process and the wrapper, which passes it on: one stop
    if (Date.now() - last < 2_000) return
    last = Date.now()
    if (stop.signal.aborted) {
      log(`soak: ${signal} again: exiting without a report`)
      process.exit(130)
    }
    log(`soak: ${signal}: stopping, the report follows (again to exit at once)`)
    stop.abort()
  }
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal)

  log(`soak: run folder ${dir}`)
  const result = await runSoak(o, stop.signal)
  writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2))
  const minutesArg = o.minutes === 30 ? '' : ` -- --minutes ${o.minutes}`
  const section = reportSection(result, machineInfo(result.chromium, loadAtStart), `npm run soak:compute${minutesArg}`, codeVersion())
  writeFileSync(join(dir, 'report.md'), section)
  if (values['no-write'] !== true && !result.interrupted) {
    upsertSection(BENCHMARKS_MD, 'Compute soak', section)
    log('soak: report written to BENCHMARKS.md (Compute soak)')
  }
  log(`soak: run folder ${dir}: result.json, report.md, relay logs, captures`)
  process.stdout.write(section)
  const s = summary(result)
  if (result.interrupted) return s.completed < s.tasks ? 1 : 130
  return s.completed === s.tasks ? 0 : 1
}

const main = process.env[NETNS_ENV] == null ? outside : inside
main().then((code) => { process.exit(code) }, (err: Error) => {
  log(`soak: failed: ${err.stack ?? err.message}`)
  process.exit(1)
})
