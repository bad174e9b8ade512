// What payments cost end to end, thread by thread: the Node requestor's
// tasks to the provider tab, unpaid and paid (a note per assignment, a cheque
// per verdict) in alternate runs of the same 100 ms subtasks, CPU per thread
// of every process from /proc. Comparing threads leaves out the sandbox
// Workers' compute, whose run-to-run drift (a few % of 100 ms) hides a
// payments cost of a few ms in whole-process figures. Writes the
// "Payments by thread" section of BENCHMARKS.md.
//   npm run bench:tasks:payments
// BENCH_TASKS_CORES=1 has the provider tab lend one core of two (the app's
// default, cores − 1) and writes "Payments by thread, one core lent".
// BENCH_TASKS_CONTROL=1 runs the same rounds with both runs unpaid (an A/A
// control: what the method reports when nothing differs) and writes the
// "Payments by thread, A/A control" section instead.
import { addTicks, BENCHMARKS_MD, HZ, loadAverage, log, machineInfo, machineLine, median, round, threadTable, threadTicks, ticksBetween, upsertSection } from '../common/index.ts'
import { call, network, ranges, setUp } from './rig.ts'

const SUBTASKS = 100
const ROUNDS = Number(process.env.BENCH_TASKS_ROUNDS ?? 5)
const TARGET_MS = 100
/** Both runs of a round unpaid: the method's own bias and spread. */
const CONTROL = process.env.BENCH_TASKS_CONTROL === '1'
/** Cores the provider tab lends: all of them by default; the app's own default leaves one to the page. */
const CORES = Number(process.env.BENCH_TASKS_CORES ?? 2)
const TITLE = CORES === 2 ? 'Payments by thread' : `Payments by thread, ${CORES === 1 ? 'one core' : `${CORES} cores`} lent`

const loadAtStart = loadAverage()
const began = Date.now()
const rig = await setUp(CORES, log)
try {
  // first contact, the deposit's first read and the cheque book's first entry stay out of the measured runs
  await network(rig, 'node', ranges(1e7, 8))
  await network(rig, 'node', ranges(1e7, 8), undefined, 'app', true)
  const probe = Math.min(...await call(rig.bench, 'sequential', { ranges: ranges(1e7, 5) }))
  let width = Math.round(TARGET_MS / probe * 1e7 / 1000) * 1000
  const alone = Math.min(...await call(rig.bench, 'sequential', { ranges: ranges(width, 5) }))
  width = Math.round(width * TARGET_MS / alone / 1000) * 1000
  const rs = ranges(width, SUBTASKS)
  const sums = { unpaid: new Map<string, number>(), paid: new Map<string, number>() }
  /** Each round's ticks, unpaid then paid: the rounds' paired differences. */
  const rounds: Array<[Map<string, number>, Map<string, number>]> = []
  const walls: string[] = []
  /** Each run's time from the header's publication to its first assignment, unpaid and paid: a paid task's deposit checks come before it. */
  const firsts: [number[], number[]] = [[], []]
  for (let i = 0; i < ROUNDS; i++) {
    const wall: number[] = []
    const round: Array<Map<string, number>> = []
    // the order alternates (unpaid first in even rounds, paid first in odd ones): what a run leaves to
    // the next (garbage, caches, a warmer or cooler machine) falls on both kinds alike
    for (const paid of i % 2 === 0 ? [false, true] : [true, false]) {
      const a = threadTicks(rig.pids)
      const n = await network(rig, 'node', rs, undefined, 'app', paid && !CONTROL)
      const ticks = ticksBetween(a, threadTicks(rig.pids))
      addTicks(paid ? sums.paid : sums.unpaid, ticks)
      round[paid ? 1 : 0] = ticks
      wall[paid ? 1 : 0] = n.wallMs
      firsts[paid ? 1 : 0].push(n.firstAssignMs)
    }
    rounds.push(round as [Map<string, number>, Map<string, number>])
    walls.push(`${wall[0]} / ${wall[1]}`)
    log(`round ${i}: unpaid ${wall[0]} ms, paid ${wall[1]} ms; first assignment after ${firsts[0].at(-1)} / ${firsts[1].at(-1)} ms`)
  }
  const units = ROUNDS * SUBTASKS
  const table = threadTable(sums.unpaid, sums.paid, units, { labels: CONTROL ? ['A', 'B'] : ['unpaid', 'paid'], per: 'subtask', minMs: 0.1, digits: 2 })
  for (const line of table) log(line)
  // by part: relays (their chain included), the Node requestor, the provider tab outside its Workers, and the Workers' compute
  const part = (key: string): string => key.startsWith('relay') ? 'relays' : key.startsWith('self') ? 'requestor' : key.startsWith('provider') ? (/DedicatedWorker/.test(key) ? 'workers' : 'provider') : 'other'
  const extra = new Map<string, number>()
  for (const key of new Set([...sums.unpaid.keys(), ...sums.paid.keys()])) {
    const ms = ((sums.paid.get(key) ?? 0) - (sums.unpaid.get(key) ?? 0)) * 1000 / HZ / units
    extra.set(part(key), (extra.get(part(key)) ?? 0) + ms)
  }
  const x = (p: string): number => round(extra.get(p) ?? 0, 2)
  const beyondWorkers = round(x('relays') + x('requestor') + x('provider') + x('other'), 2)
  // the threads payment code runs on (and IndexedDB's in the provider's browser process): less noise than the sum over all, whose GC threads swing both ways
  const ms = (key: string): number => ((sums.paid.get(key) ?? 0) - (sums.unpaid.get(key) ?? 0)) * 1000 / HZ / units
  // the threads payment code runs on, by part; one list for the sums and for the rounds
  const parts = {
    provMain: (k: string) => k === 'provider renderer chromium',
    provBrowser: (k: string) => k.startsWith('provider browser '),
    reqMain: (k: string) => k === 'self node MainThread',
    // the requestor's ledger writes (a journal append and its fsync) run on libuv's workers
    reqFiles: (k: string) => k === 'self node libuv-worker'
  }
  const keys = [...new Set([...sums.unpaid.keys(), ...sums.paid.keys()])]
  const partMs = (is: (k: string) => boolean): number => round(keys.filter(is).reduce((t, k) => t + ms(k), 0), 2)
  const provMain = partMs(parts.provMain)
  const provBrowser = partMs(parts.provBrowser)
  const reqMain = partMs(parts.reqMain)
  const reqFiles = partMs(parts.reqFiles)
  const where = round(provMain + provBrowser + reqMain + reqFiles, 2)
  // the same threads round by round: a round another process disturbs moves the sum, hardly the median
  const isWhere = (k: string): boolean => Object.values(parts).some(is => is(k))
  const whereTicks = (m: Map<string, number>): number => [...m].reduce((t, [k, v]) => t + (isWhere(k) ? v : 0), 0)
  const perRound = rounds.map(([u, p]) => (whereTicks(p) - whereTicks(u)) * 1000 / HZ / SUBTASKS).sort((a, b) => a - b)
  // quantiles by linear interpolation between the sorted rounds
  const q = (f: number): number => {
    const at = f * (perRound.length - 1)
    const lo = perRound[Math.floor(at)] as number
    const hi = perRound[Math.ceil(at)] as number
    return round(lo + (hi - lo) * (at - Math.floor(at)), 2)
  }
  if (CONTROL) {
    const control = [
      '## Payments by thread, A/A control',
      '',
      `The method of "Payments by thread" with nothing to tell apart, in one run of \`BENCH_TASKS_CONTROL=1 npm run bench:tasks:payments\` (${Math.round((Date.now() - began) / 1000)} s): the same ${ROUNDS} rounds of two runs of ${SUBTASKS} subtasks to the provider tab lending ${CORES} of 2 cores, both unpaid (run B is where the paid run goes, its order alternating the same way). What it reports as the difference is the method's own bias and noise.`,
      '',
      machineLine(machineInfo(rig.chromium, loadAtStart), true),
      '',
      `**On the threads the payment code would run on, B − A is ${where} ms of CPU per subtask**: the provider tab's main thread ${provMain}, its browser process ${provBrowser}, the Node requestor's main thread ${reqMain} and its libuv workers ${reqFiles}. Round by round, the median is **${q(0.5)} ms** (quartiles ${q(0.25)} and ${q(0.75)}, from ${q(0)} to ${q(1)}). Over every thread outside the provider's Workers, ${beyondWorkers} ms (relays ${x('relays')}, Node requestor ${x('requestor')}, provider tab ${x('provider')}, the other pages ${x('other')}); the Workers ${x('workers')} ms. Wall times, A / B, ms: ${walls.join('; ')}.`
    ].join('\n')
    upsertSection(BENCHMARKS_MD, 'Payments by thread, A/A control', control)
    log(`A/A control: ${where} ms (median of rounds ${q(0.5)}); written to ${BENCHMARKS_MD}`)
  } else {
    const section = [
      `## ${TITLE}`,
      '',
      `What payments cost end to end, in one run of \`npm run bench:tasks:payments\` (${Math.round((Date.now() - began) / 1000)} s): the Node requestor's tasks of ${SUBTASKS} prime-counting subtasks of ~${TARGET_MS} ms (k = 1) to the provider tab (the app page lending ${CORES} of the machine's 2 cores${CORES < 2 ? ', its default' : ''}) through a relay, unpaid and paid in alternate runs, ${ROUNDS} of each (unpaid first in even rounds, paid first in odd ones); a paid run signs a promissory note with each assignment and a cumulative cheque with each accepted verdict; the requestor saves its cheque book in files as \`peer --data\` does (a journal line per cheque, written to the operating system at once and fsynced within 100 ms, the default durability; assignment seqs reserved 32 at a time), and the provider checks each cheque's terms at once and settles a requestor's verdicts with more work under way together (the highest cheque's signature checked, against the requestor's deposit read through relay A's chain, and one IndexedDB write per second at most). CPU time per thread of every process from /proc, summed over the runs, per subtask. Target (issue 17): payments add at most 2 ms of CPU per subtask.`,
      '',
      machineLine(machineInfo(rig.chromium, loadAtStart), true),
      '',
      `**Where the payment code runs, payments add ${where} ms of CPU per subtask** (${where <= 2 ? 'within' : 'above'} the 2 ms target): the provider tab's main thread ${provMain}, its browser process (IndexedDB's side of each write) ${provBrowser}, the Node requestor's main thread ${reqMain} and its libuv workers (the ledger's writes) ${reqFiles}. Round by round (each round's paired difference on these threads), the median is **${q(0.5)} ms** (quartiles ${q(0.25)} and ${q(0.75)}, from ${q(0)} to ${q(1)}): a round that another process disturbs moves the sum above, hardly the median. Over every thread outside the provider's sandbox Workers the difference is ${beyondWorkers} ms (${beyondWorkers <= 2 ? 'within' : 'above'} the target), by process: relays ${x('relays')} (the chain's reads and the cashing of each run's cheques included), Node requestor ${x('requestor')}, provider tab ${x('provider')}, the other pages ${x('other')}; GC threads swing both ways between runs, so this sum is the noisier figure. The provider's Workers, which compute, differ by ${x('workers')} ms: the drift of the compute itself, left out. Wall times, unpaid / paid, ms: ${walls.join('; ')}. From the header's publication to the first assignment (the provider's offer; a paid one checks the requestor's deposit through the relay first), median unpaid / paid: ${round(median(firsts[0]))} / ${round(median(firsts[1]))} ms.`,
      '',
      'CPU ms per subtask by thread (group, process type, thread name), unpaid / paid / difference, largest difference first (rows under 0.1 ms left out):',
      '',
      '```',
      ...table,
      '```',
      '',
      '- **Where it goes** (`BENCH_TASKS_PAID=1 node --import tsx bench/tasks/profile.ts` profiles a paid run): in the Node requestor, two signatures per subtask (the note and the cheque, about 0.14 ms each in WebAssembly libsecp256k1) and the cheque book\'s journal write (an append to the page cache, about 15 µs, and an fsync every 100 ms on libuv\'s workers); in the provider tab, what is left once a second\'s cheques share one signature check (a public-key recovery, about 0.2 ms in a tab) and one IndexedDB write: taking each cheque (wire form, terms) and the earned event. What remains beside these is the payments\' share of everything else: larger assignments and verdicts (a compact note and cheque of under 200 bytes each, about 550 before they went compact) to encrypt, sign, parse and collect. Before the grouping (the wallet wrote every 100 ms and checked every cheque) and the seq blocks, the same bench measured 2.63 ms, 1.09 of it on the provider tab\'s main thread and 0.66 in IndexedDB\'s side of the browser process.'
    ].join('\n')
    upsertSection(BENCHMARKS_MD, TITLE, section)
    log(`payments add ${where} ms (median of rounds ${q(0.5)}); written to ${BENCHMARKS_MD}`)
  }
} finally {
  await rig.close()
  setTimeout(() => process.exit(), 1000).unref()
}
