// The Tasks section of BENCHMARKS.md, from one run of bench/tasks/run.ts.
import { machineLine } from '../common/index.ts'
import type { MachineInfo } from '../common/index.ts'

/** Cores used during one run, by process tree. */
export interface CpuSplit {
  /** Both relay processes. */
  relays: number
  /** This process: the Node requestor (and the Playwright driver, mostly idle). */
  node: number
  /** The provider tab's Chromium: its renderer with the sandbox Workers, browser, GPU and network processes. */
  provider: number
  /** The bench page's Chromium: the direct baseline's Workers, or the requestor tab. */
  bench: number
  /** The UI-less provider's Chromium. */
  bare: number
  /** Everything else on the machine (other jobs). */
  rest: number
}

export interface DirectSample {
  wallMs: number
  /** Mean over subtasks of the time from a worker taking it to its output. */
  meanSubtaskMs: number
  cpu: CpuSplit
}

export interface NetworkSample {
  /** `market.submit()`: hashing, storing module and inputs on the relay, signing and publishing the header. */
  uploadMs: number
  /** From `submit()` returning until `task.done` resolved with every result verified. */
  wallMs: number
  firstAssignMs: number
  firstResultMs: number
  providers: number
  reassigned: number
  /** Over upload and run. */
  cpu: CpuSplit
}

export interface PathResult {
  networkMs: number
  uploadMs: number
  efficiency: number
  overheadMsPerSubtask: number
  networkPerSec: number
  /** CPU time all our processes spent per subtask beyond the direct run's, ms (median over rounds). */
  extraCpuMsPerSubtask: number
  /** CPU time per subtask by process group in the network runs, ms (median over rounds). */
  cpuMsPerSubtask: Omit<CpuSplit, 'rest'>
  /** CPU time of all our processes in a direct run / in a network run, for the same work (median over rounds): efficiency as it would be with the cores to ourselves and no waiting. */
  cpuEfficiency: number
  runs: NetworkSample[]
}

export interface SizeResult {
  targetMs: number
  /** Width of each primes range. */
  width: number
  /** One subtask alone on one worker (calibration, fastest of 5), ms. */
  aloneMs: number
  /** Per subtask in the direct runs, `cores` at once, ms (median of the runs' means). */
  subtaskMs: number
  directMs: number
  directPerSec: number
  direct: DirectSample[]
  /** CPU time per subtask by process group in the direct runs, ms (median over rounds). */
  directCpuMsPerSubtask: Omit<CpuSplit, 'rest'>
  /** Rounds (direct, Node requestor, tab requestor) whose every run had the rest of the machine under the threshold. */
  cleanRounds: number
  /** Indexes of the rounds the medians are taken over. */
  used: number[]
  paths: Partial<Record<PathKey, PathResult>> & Record<'tab' | 'node', PathResult>
}

export interface TasksBenchResult {
  machine: MachineInfo
  cores: number
  subtasks: number
  rounds: number
  /** A round counts as clean when other processes used at most this many cores during each of its runs. */
  quietCores: number
  firstContact: { node: NetworkSample, tab: NetworkSample }
  sizes: SizeResult[]
  seconds: number
}

export const PATH_NAMES = {
  tab: 'requestor tab → provider tab, WebRTC',
  node: 'Node requestor → provider tab, through a relay',
  // right after the unpaid run it is compared with: same provider, nothing switched in between
  nodePaid: 'Node requestor → provider tab, through a relay, payments on',
  tabBare: 'requestor tab → UI-less provider page, WebRTC',
  nodeBare: 'Node requestor → UI-less provider page, through a relay'
} as const

export type PathKey = keyof typeof PATH_NAMES
export const PATHS = Object.keys(PATH_NAMES) as PathKey[]

const cpu = (c: CpuSplit): string => `${c.relays} / ${c.node} / ${c.provider} / ${c.bare} / ${c.bench} / ${c.rest}`

export function tasksSection (r: TasksBenchResult): string {
  const m = r.machine
  const lines = [
    '## Tasks',
    '',
    `The compute market end to end, against the same WebAssembly run directly, in one run of \`npm run bench:tasks\` (${r.seconds} s): ${r.subtasks} prime-counting subtasks (\`tasks/primes\`) computed by one provider tab (the app page) lending ${r.cores} cores, submitted with k = 1 by a requestor tab (WebRTC to the provider) or by a Node requestor (the CLI's peer, through a relay), every result verified; the direct baseline runs the same inputs in a tab's own pool of ${r.cores} sandbox Workers. At ${r.sizes.find(s => s.paths.tabBare != null)?.subtaskMs ?? 100} ms the same tasks also go to a provider without the app's UI (the same browser node on a bare page), to tell what the page's UI costs from what the market costs.`,
    '',
    machineLine(m, true),
    '',
    '| Subtask | Path | Direct, subtasks/s | Network, subtasks/s | Efficiency | Overhead per subtask | Extra CPU per subtask | CPU efficiency | Upload + publish |',
    '|---|---|---|---|---|---|---|---|---|'
  ]
  for (const s of r.sizes) {
    for (const path of PATHS) {
      const p = s.paths[path]
      if (p == null) continue
      lines.push(`| ${s.subtaskMs} ms | ${PATH_NAMES[path]} | ${s.directPerSec} | ${p.networkPerSec} | **${p.efficiency}** | ${p.overheadMsPerSubtask} ms | ${p.extraCpuMsPerSubtask} ms | ${p.cpuEfficiency} | ${p.uploadMs} ms |`)
    }
  }
  lines.push('')
  lines.push(`Efficiency is direct wall time / network wall time for the same ${r.subtasks} subtasks on the same ${r.cores} cores; overhead per subtask is (network − direct) × ${r.cores} / ${r.subtasks}, the core time the market costs per subtask. Both are taken per round, each network run against the direct run of its own round (minutes apart, the machine's pace drifts), and the median over the clean rounds is shown; subtasks/s are from the median wall times. Extra CPU per subtask is the CPU time all our processes (relays, Node requestor, the Chromiums) used in a network run beyond a direct run, per subtask, and CPU efficiency the ratio of their CPU time in the two runs: these hardly depend on how the machine's other jobs were scheduled, and are the figures to trust when the rounds were disturbed. Target: efficiency ≥ 0.9 for 100 ms subtasks.`)
  const paid = r.sizes.find(s => s.paths.nodePaid != null)
  if (paid?.paths.nodePaid != null) {
    const off = paid.paths.node
    const on = paid.paths.nodePaid
    const perRound = (p: PathResult): number[] => paid.used.map(i => (paid.direct[i]?.wallMs ?? Number.NaN) / (p.runs[i]?.wallMs ?? Number.NaN))
    const spread = perRound(off)
    const lo = Math.min(...spread)
    const hi = Math.max(...spread)
    lines.push('')
    lines.push(`**Payments** (${paid.subtaskMs} ms subtasks, the same rounds): the Node requestor's tasks paid through relay A's embedded chain (a promissory note signed with each assignment and checked by the provider, a cumulative cheque signed with each accepted verdict and checked by the provider against the requestor's deposit, read through the relay) reach efficiency **${on.efficiency}** against ${off.efficiency} unpaid, whose rounds spread over ${lo.toFixed(3)}–${hi.toFixed(3)}: ${on.efficiency >= lo ? 'within' : 'below'} that spread. Extra CPU per subtask ${on.extraCpuMsPerSubtask} ms paid against ${off.extraCpuMsPerSubtask} ms unpaid: payments cost ${(on.extraCpuMsPerSubtask - off.extraCpuMsPerSubtask).toFixed(1)} ms of CPU per subtask over all processes (target ≤ 2 ms); by process (relays / Node requestor / provider tab), ${(on.cpuMsPerSubtask.relays - off.cpuMsPerSubtask.relays).toFixed(1)} / ${(on.cpuMsPerSubtask.node - off.cpuMsPerSubtask.node).toFixed(1)} / ${(on.cpuMsPerSubtask.provider - off.cpuMsPerSubtask.provider).toFixed(1)} ms.`)
  }
  lines.push('')
  lines.push('CPU time per subtask by process, ms (relays / Node requestor / provider tab\'s Chromium / UI-less provider\'s Chromium / bench page\'s Chromium), medians:')
  lines.push('')
  const ms = (x: Omit<CpuSplit, 'rest'>): string => `${x.relays} / ${x.node} / ${x.provider} / ${x.bare} / ${x.bench}`
  for (const s of r.sizes) {
    const parts = PATHS.flatMap(path => {
      const x = s.paths[path]?.cpuMsPerSubtask
      return x == null ? [] : [`${PATH_NAMES[path]} ${ms(x)}`]
    })
    lines.push(`- ${s.subtaskMs} ms subtasks: direct ${ms(s.directCpuMsPerSubtask)}; ${parts.join('; ')}.`)
  }
  lines.push('')
  lines.push(`Every round, wall ms (cores used by relays / Node requestor / provider tab / UI-less provider / bench page / the rest of the machine); a round is clean when the rest stayed at or under ${r.quietCores} cores in each of its runs:`)
  lines.push('')
  const short: Record<PathKey, string> = { tab: 'tab', node: 'Node', tabBare: 'tab → UI-less', nodeBare: 'Node → UI-less', nodePaid: 'Node paid' }
  for (const s of r.sizes) {
    const rounds = s.direct.map((d, i) => {
      const runs = PATHS.flatMap(path => {
        const n = s.paths[path]?.runs[i]
        return n == null ? [] : [`${short[path]} ${n.wallMs} (${cpu(n.cpu)})`]
      })
      const tag = s.used.includes(i) ? '' : ' (not used)'
      return `direct ${d.wallMs} (${cpu(d.cpu)}), ${runs.join(', ')}${tag}`
    })
    lines.push(`- ${s.subtaskMs} ms subtasks (primes ranges ${s.width.toLocaleString('en')} wide from 10^10, ${s.aloneMs} ms alone on one worker; ${s.cleanRounds} clean rounds): ${rounds.join('; ')}.`)
  }
  lines.push(`- First contact (warm-up, not in the table: ${r.cores * 4} short subtasks, opening the requestor↔provider connection and session): requestor tab ${r.firstContact.tab.wallMs} ms after an upload of ${r.firstContact.tab.uploadMs} ms; Node requestor ${r.firstContact.node.wallMs} ms after ${r.firstContact.node.uploadMs} ms.`)
  lines.push('')
  lines.push('### Method')
  lines.push('')
  lines.push(...METHOD)
  return lines.join('\n')
}

const METHOD = [
  '- **Processes.** Two relay gateways (`relay/bin/relay.ts` with default settings, each its own Node process; B seeded with A), as the network runs them: a tab keeps reservations on two relays, and with only one to be had its circuit-relay transport keeps walking the DHT for another, which on this machine costs an idle tab 0.85 cores and the relay 0.3 cores (measured while writing this bench). The provider is the app page served by relay A, in its own headless Chromium, lending both cores (the saved setting of its Compute card), reserved on both relays. A second Chromium holds the bench page (`web/bench/tasks.html`): the direct baseline\'s Worker pool and the requestor tab, a browser node made as the app makes it (`createBrowserNode`) that lends no cores and is linked to the provider over WebRTC before anything is timed. The Node requestor is `createNodePeer` in the bench process, reserved on both relays; it reaches the tab through a relay circuit, as the CLI does (a Node peer cannot dial a tab). A third Chromium holds the UI-less provider: the bench page with the same browser node lending both cores, switched on only for its own runs (the app tab is switched off through its Compute card meanwhile, and each run checks that one provider did all the work). All of it shares the machine\'s two cores.',
  '- **Work.** `tasks/primes` on consecutive ranges of width w from 10^10, w calibrated per size at the start so that one subtask alone on one Worker takes the target (fastest of 5, then corrected once). The table\'s subtask time is the mean per subtask in the direct runs, two at a time.',
  '- **Direct** is timed from handing all N inputs at once to the bench page\'s pool (`createBrowserTaskRunner({ cores: 2 })`: the provider\'s runner code, worker script and CSP; module compiled in the warm-up) until the last output is back.',
  '- **Network** is timed from `market.submit()` returning until `task.done` resolves: the header\'s gossip, the offer, assignments, the provider fetching module and inputs from relay A, the runs, reports carrying the results, hash and signature checks, verdicts. Upload + publish (`market.submit()` itself: hashing, storing module and inputs on relay A, signing and gossiping the header) is reported beside it and not included. Every network result is compared byte for byte with the direct run\'s.',
  '- **Rounds.** Per size: a direct run, then the same inputs from the requestor tab and from the Node requestor (at the headline size also both to the UI-less provider); repeated until three rounds were clean (other processes, i.e. other jobs on this shared machine, used at most the threshold in each run, read from /proc) or six were tried. Medians over the clean rounds (over all of them when fewer than two were clean). A warm-up task per requestor goes first.',
  '- **Payments.** Relay A runs the embedded chain (`--chain embedded`, its own Anvil child process, counted with the relays), and the Node requestor holds a deposit there (faucet, then approve and deposit through the chain protocol). At the headline size each round adds a paid run of the same inputs from the Node requestor to the app tab, right after the unpaid one (same provider, nothing switched between them) (`paid: true`, a price of 10^15 base units): the provider checks the requestor\'s deposit through relay A before offering (a read kept for 5 s), each assignment carries a promissory note the provider verifies, each accepted verdict a cumulative cheque the provider verifies and checks against the deposit; nothing is cashed during the run. The unpaid runs say `paid: false`. A paid warm-up task goes first.',
  '- **CPU** per process tree from /proc (utime + stime): the relays, the bench process (the Node requestor and the mostly idle Playwright driver), each Chromium (renderer with its Workers, browser, GPU and network-service processes). Not timed: page loads, node start-up, joining, calibration, waiting for a quiet machine.',
  '- **Per subtask, the market sends two messages:** the provider\'s report (signed, nesting its signed assignment, with the result bytes) and its answer, which carries the requestor\'s signed verdict when it could decide at once (k = 1) and the provider\'s next signed assignment; in steady state only a provider\'s first assignments in a task (cores + 1) and reassigned subtasks travel as requests of their own, with the signed header and the read tokens (kept beside the assignment, not inside it, so the nesting stays small: about 1.5 KB for a report and 3 KB for its answer). Market streams stay open between requests, and a signature already verified, or made by the node itself (the header with every assignment, assignments nested in reports and verdicts), is not verified again. Bare ping round trips on the same connections (`BENCH_TASKS_PING=1 node --import tsx bench/tasks/profile.ts`) put the floor at about 3.8 ms of CPU (relays, Node, Chromium together) per round trip on the relayed path and 2.3 ms over WebRTC, on an open stream; a fresh stream per request costs about 27 ms and 15 ms.',
  '- **What moved the figures** (at ~120 ms subtasks, from 0.84 with 21.6 ms of extra CPU per subtask to the table\'s): two patches of libp2p packages (`patches/`, applied on `npm install`) and smaller messages. Yamux sent a window update for every data frame it received; on the relayed path each one crossed both Noise sessions and the relay. It now grants credit once half the window is used, as go-yamux and rust-yamux do: a relayed ping round trip went from 9.7 to 3.8 ms of CPU in a back-to-back comparison. The WebRTC transport sent every frame\'s length prefix as a data channel message of its own, and each `RTCDataChannel.send` is a thread hop in Chromium (about 0.25 ms of the main thread here); prefix and frame now go as one message. The read tokens left the signed assignment (each report nested them and each verdict nested them again, in base64 of base64: about 10 KB per subtask on the wire, now about 4.5 KB), and a tab imports its signing key into WebCrypto once instead of on every signature. `node --import tsx bench/tasks/threads.ts` shows where the remaining CPU goes, thread by thread: the provider tab\'s main thread (about 3 ms per subtask: receiving, checking and answering messages, the sandbox pool, the page), Chromium\'s WebRTC and network-service threads (about 3 ms over both tabs) and the requestor\'s main thread (about 1 ms).'
]
