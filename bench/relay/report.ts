// The run's table, its BENCHMARKS.md section and its JSON summary.
import { machineLine, round } from '../common/index.ts'
import { CONFIG } from './config.ts'
import type { MachineInfo } from '../common/index.ts'
import type { ProfileSummary } from './profile-summary.ts'
import type { StepResult } from './step.ts'

export interface RunResult {
  steps: StepResult[]
  /** Why the run stopped growing. */
  stopped: string
  limits: Array<[string, string]>
  machine: MachineInfo
  baseRssMiB: number
  seconds: number
}

/** The largest step whose heartbeat p99 stayed within the limit (the first step when none did). */
export function kneeStep (steps: StepResult[]): StepResult | undefined {
  const ok = steps.filter(s => s.rtt.p99 <= CONFIG.p99LimitMs)
  return ok.length > 0 ? ok[ok.length - 1] : steps[0]
}

const pct = (share: number): string => `${round(share * 100, 1)} %`

export function stepTable (steps: StepResult[]): string {
  const head = '| Tabs | Sessions held (relay) | Reservations / directory subscribers | Join rate (/s) | Heartbeat RTT p50 / p99 (ms) | RTT p99 while joining (ms) | Event-loop delay p99 (ms) | Relay CPU, cores (main thread) | Relay RSS (MiB): as seen / after a full GC | Per session (KiB): RSS as seen / after GC / live heap | One more tab: relay CPU (ms) / RTT max (ms) | Tab processes: cores / event-loop delay p99, steady / growing (ms) | Rest of machine (cores) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|'
  const rows = steps.map(s => `| ${s.target.toLocaleString('en')} | ${s.sessions.toLocaleString('en')}${s.reached ? '' : ' (not all joined)'} | ${s.reservations} / ${s.directorySubscribers} | ${s.joinRate} | ${s.rtt.p50} / ${s.rtt.p99} | ${s.growRttP99} | ${s.lagP99Ms} | ${s.relayCores} (${s.relayMainCores}) | ${s.relayRssMiB} / ${s.rssAfterGcMiB} | ${s.rssPerSessionKiB} / ${s.rssAfterGcPerSessionKiB} / ${s.heapPerSessionKiB} | ${s.churn.cpuMs} / ${s.churn.rttMaxMs} | ${s.tabCores} / ${s.tabLagP99Ms} / ${s.growTabLagP99Ms} | ${s.restCores} |`)
  return [head, ...rows].join('\n')
}

function profileLines (p: ProfileSummary, n: number): string[] {
  const busy = p.totalMs - p.idleMs
  return [
    `busy ${round(busy / p.totalMs * 100)} % of the ${round(p.totalMs / 1000, 1)} s sampled on the main thread; self time by package: ${p.byPackage.slice(0, n).map(x => `${x.name} ${pct(x.ms / busy)}`).join(', ')}`,
    `by function: ${p.byFunction.slice(0, n).map(x => `\`${x.name}\` ${pct(x.ms / busy)}`).join(', ')}`
  ]
}

/** Cores per session on the relay's main thread: least squares through the steps that held their tabs. */
export function mainCoresPerSession (steps: StepResult[]): number {
  const pts = steps.filter(s => s.reached)
  if (pts.length < 2) return pts[0] != null ? pts[0].relayMainCores / pts[0].sessions : Number.NaN
  const mx = pts.reduce((a, s) => a + s.sessions, 0) / pts.length
  const my = pts.reduce((a, s) => a + s.relayMainCores, 0) / pts.length
  const sxy = pts.reduce((a, s) => a + (s.sessions - mx) * (s.relayMainCores - my), 0)
  const sxx = pts.reduce((a, s) => a + (s.sessions - mx) ** 2, 0)
  return sxx > 0 ? sxy / sxx : Number.NaN
}

/** Main-thread load up to which the heartbeat p99 is taken to stay under the limit, when the relay itself never reached it. */
const ASSUMED_MAIN_LOAD = 0.7

/** A step where the relay, not the machine or the simulated tabs, set the p99: all its tabs held, p99 over the limit, its main thread mostly busy. */
export function relayBound (s: StepResult): boolean {
  return s.reached && s.rtt.p99 > CONFIG.p99LimitMs && s.relayMainCores >= 0.6
}

/** What ended the run, in words: the relay's limit, or the machine's. */
export function whyKnee (r: RunResult): string {
  const bound = r.steps.find(relayBound)
  if (bound != null) return `The relay's main thread set it: at ${bound.sessions.toLocaleString('en')} sessions it was ${bound.relayMainCores} busy and the heartbeat p99 ${bound.rtt.p99} ms.`
  const last = r.steps[r.steps.length - 1]
  if (last == null) return ''
  const over = r.steps.find(s => s.rtt.p99 > CONFIG.p99LimitMs || !s.reached)
  if (over == null) return `No step reached the relay's limit: its main thread was at most ${Math.max(...r.steps.map(s => s.relayMainCores))} busy.`
  const mib = round(over.directoryFrames * over.directoryFrameKiB / 2 ** 10, 1)
  const busy = over.relayCores + over.tabCores + over.restCores
  return `Not the relay's main thread alone: at that step it was ${over.relayMainCores} busy (the process ${over.relayCores} cores) while the simulated tabs' processes used ${over.tabCores} cores with an event-loop delay p99 of ${over.tabLagP99Ms} ms (${over.growTabLagP99Ms} ms while growing), and the rest of the machine ${over.restCores} cores: ${busy >= 1.8 ? 'the two cores were full' : 'the tabs\' processes, at nice 10, waited behind everything else on the machine'}. The tabs fell behind, answered challenges and heartbeats late (the relay's refusals: ${Object.entries(over.refusals).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}) and lost sessions${over.sessionsLost > 0 ? ` (${Object.entries(over.lostWhy).map(([k, v]) => `${v} ${k}`).join(', ')})` : ''}, and their rejoining added to the load. The directory sent ${over.directoryFrames.toLocaleString('en')} frames over that step (${over.directoryFrameKiB} KiB each on average, ${mib} MiB in all).`
}

/**
 * What a 4-core / 8 GB VPS holds, from the measured per-session costs: the
 * memory bound, and the CPU bound of one relay process (its JavaScript runs
 * on one thread, so more cores need more relay processes).
 */
export function vpsEstimate (r: RunResult): string {
  const knee = kneeStep(r.steps)
  const last = r.steps[r.steps.length - 1]
  if (knee == null || last == null) return 'No step finished: no estimate.'
  // the largest step's: at small counts the heap's headroom (128 MB before V8 collects the old space) dominates
  const sized = [...r.steps].reverse().find(s => s.reached && Number.isFinite(s.rssPerSessionKiB)) ?? last
  const perSession = sized.rssPerSessionKiB
  const memoryFor = (relays: number): number => Math.floor((7 * 1024 - relays * r.baseRssMiB) * 1024 / perSession)
  const slope = mainCoresPerSession(r.steps)
  const bound = r.steps.find(relayBound)
  // measured when the relay set the knee; otherwise extrapolated from its cost per session
  const cpu = bound != null ? knee.sessions : Math.floor(ASSUMED_MAIN_LOAD / slope)
  const one = Math.min(memoryFor(1), cpu)
  const four = Math.min(memoryFor(4), 4 * cpu)
  const churn = churnBound(r)
  return `**A 4-core / 8 GB VPS** (an estimate from the costs measured here, a VPS core taken as fast as one of this machine's, the tabs' traffic as here). Memory: ${perSession} KiB of RSS per session at ${sized.sessions.toLocaleString('en')} sessions (${sized.rssAfterGcPerSessionKiB} KiB after a full GC, ${sized.heapPerSessionKiB} KiB of it live V8 heap) over ${r.baseRssMiB} MiB for a relay with no tabs: 7 GiB (1 GiB left to the system) hold about ${memoryFor(1).toLocaleString('en')} sessions. CPU: the relay's JavaScript runs on one thread, its main thread, which cost ${round(slope * 1e6)} µs of CPU per second per session (least squares over the steps that held their tabs; at the knee the whole process used ${knee.relayCores} cores where the main thread used ${knee.relayMainCores}, the rest being GC and I/O threads). ${bound != null ? `That thread set the knee at ${knee.sessions.toLocaleString('en')} sessions` : `The relay never reached its own limit here; taking the p99 to hold until the main thread is ${ASSUMED_MAIN_LOAD * 100} % busy (an assumption: the directory frames each join and leave sets off come on top, see "one more tab") gives ${cpu.toLocaleString('en')} sessions`}. So one relay process holds about **${one.toLocaleString('en')}** sessions with heartbeat p99 ≤ ${CONFIG.p99LimitMs} ms (bound by ${memoryFor(1) < cpu ? 'memory' : 'its main thread'}), and a second core does little for it; four relays side by side (one per core, each with its own ports) would hold about **${four.toLocaleString('en')}** (bound by ${memoryFor(4) < 4 * cpu ? 'memory' : 'CPU'}). ${churn}`
}

/**
 * The directory's share once tabs come and go: from the measured cost of
 * one more tab (directory frames per join, CPU per frame) at the largest step
 * that held its tabs, what a relay spends when each tab stays `stay` on
 * average; and where that alone fills the assumed main-thread load.
 */
function churnBound (r: RunResult): string {
  const s = [...r.steps].reverse().find(x => x.reached && x.churn.cpuMs > 0 && x.churn.snapshots > 0)
  if (s == null) return ''
  const perSnapshotMs = s.churn.cpuMs / s.churn.snapshots
  const roundsPerJoin = s.churn.snapshots / s.directorySubscribers
  // a leave changes the directory once; a join as often as measured
  const msPerPairPerSubscriber = (roundsPerJoin + 1) * perSnapshotMs
  const at = (stayS: number): number => Math.floor(Math.sqrt(ASSUMED_MAIN_LOAD * stayS * 1000 / msPerPairPerSubscriber))
  return `**With tabs coming and going**: one more tab at ${s.sessions.toLocaleString('en')} sessions cost the relay ${s.churn.cpuMs} ms (${round(roundsPerJoin, 1)} directory rounds to its ${s.directorySubscribers} subscribers, ${round(perSnapshotMs, 3)} ms per frame written, within the step's noise). Every subscriber still hears of every join and leave, so counting a leave as one round, N tabs that stay T seconds on average make the relay spend about N² × ${round(msPerPairPerSubscriber, 3)} ms / T of CPU a second on the directory, which would fill ${ASSUMED_MAIN_LOAD * 100} % of the main thread at about ${at(600).toLocaleString('en')} tabs if they stay 10 minutes and ${at(3600).toLocaleString('en')} if they stay an hour (changes within one broadcast share a frame: broadcasts are spaced 2 ms per subscriber, so bursts cost less; each frame is ${s.directoryFrameKiB} KiB on average).`
}

/** Share of a profile's busy time spent in functions whose name contains `name` (0 when absent). */
function shareOf (p: ProfileSummary | undefined, name: string): number {
  if (p == null) return 0
  return p.byFunction.filter(f => f.name.includes(name)).reduce((a, f) => a + f.ms, 0) / Math.max(p.totalMs - p.idleMs, 1)
}

/** What this bench changed in the relay's hot path, and what it found and left for others. */
function findings (r: RunResult, biggest: StepResult | undefined): string {
  const p = biggest?.profile
  const at = biggest != null ? `${biggest.sessions.toLocaleString('en')} sessions` : ''
  const share = (name: string): string => shareOf(p, name) > 0 ? ` (${pct(shareOf(p, name))} of the relay's busy main-thread time at ${at})` : ''
  return `**Changed in the relay's hot path for this bench.** *The directory* (protocol 2.0.0, \`relay/gateway/directory-server.ts\`) sent its whole list (up to 256 signed records, ~110 KiB) to every subscriber on every change, which capped the first runs at ~510 sessions (95,298 snapshots, ~10 GiB in one step); it now sends the list once and then one shared frame of what changed per broadcast, written a slice of 64 subscribers per event-loop turn. *@libp2p/noise's frame decoder* ended every read by throwing and catching a RangeError (\`uint16BEDecode\` on an empty buffer, through @libp2p/utils' LengthPrefixedDecoder: 8–12 % of the relay's busy time before); a patch-package patch of @libp2p/utils stops on an empty buffer first${share('uint16BEDecode')}. A relay answers each PEX request (every tab asks every 15 s, PeerFinder) with the peers it keeps, checking each with \`PeerKeeper.isVerifiedRelay\`, which scanned all sessions: work proportional to kept peers × sessions per answer: 16 % of the relay's busy main-thread time at 205 sessions and 31 % at 300 (development runs on this machine, with other work on it). \`PeerKeeper.verifiedRelays()\` reads the sessions once per answer (and per PEX gossip round) with the same result: 3 % at 205 sessions${shareOf(biggest?.profile, 'peer-keeper/pex.ts') > 0 ? `, ${pct(shareOf(biggest?.profile, 'peer-keeper/'))} at ${biggest?.sessions.toLocaleString('en') ?? ''} in this run` : ''}. What was left still grew with the tabs (each answer filtered, sorted and encoded every kept peer: 19 % of the relay's busy time at 1,510 sessions): answers are now ranked once a second, or after the kept peers change (\`shared/peer-keeper/pex-answers.ts\`)${shareOf(biggest?.profile, 'pex') > 0 ? `: ${pct(shareOf(biggest?.profile, 'pex'))} at ${biggest?.sessions.toLocaleString('en') ?? ''} in this run` : ''}. *libp2p pings*: a tab pinged its relay every 5 s (\`connectionMonitor\` in create-browser-node.ts) and the relay's connection monitor pinged every connection every 10 s, each a new stream (Yamux, multistream-select, new loggers whose set-up calls isatty); the session heartbeat already checks liveness and RTT both ways, so a relay runs no connection monitor now and a tab pings at libp2p's default 10 s: at 1,010 sessions the heartbeat p99 went from 231.5 ms to 18.9 ms and the relay from 0.49 to 0.35 cores.

**Found and left as they are** (in files others are changing, or in dependencies):
- *AbortSignal.timeout* on per-stream paths (PEX, pings) builds a DOMException with a stack when it fires, long after the stream is done${share('DOMException')}.
- *One relay, two reservations wanted*: a tab (\`DEFAULT_MAX_RELAYS\` = 2) on a network with a single relay keeps the circuit relay transport's discovery running, and it dials every peer the tab hears of (directory, PEX) through the relay; the simulated tabs ask for one reservation.
`
}

export function capacitySection (r: RunResult): string {
  const knee = kneeStep(r.steps)
  const last = r.steps[r.steps.length - 1]
  const biggest = [...r.steps].reverse().find(s => s.profile != null && s.reached) ?? [...r.steps].reverse().find(s => s.profile != null)
  const rest = r.steps.map(s => s.restCores)
  const idle = Math.max(...rest) < 0.15
  const past = r.steps.find(s => s.rtt.p99 > CONFIG.p99LimitMs)
  return `## Relay capacity

\`npm run bench:relay\`: how many tabs one relay holds (a verified session, a circuit relay reservation and a directory subscription each, heartbeats going), grown in steps until the heartbeat p99 passes ${CONFIG.p99LimitMs} ms, memory runs short or the time budget ends; one run (${Math.round(r.seconds / 60)} min).

${machineLine(r.machine, false)} ${idle ? 'The machine was otherwise idle during the run (the last column).' : `Other people's work ran on the machine meanwhile (the last column: up to ${round(Math.max(...rest), 2)} cores), so the figures may be pessimistic.`}

${stepTable(r.steps)}

Sessions are the relay's own count (\`/status\`, ${CONFIG.probeHosts.length} probes included). RTT: session heartbeats (ping → pong through the relay's session layer) measured by the probes over ${CONFIG.measureMs / 1000} s with nobody joining; "while joining" covers the step's growth. Event-loop delay: ${r.steps[0]?.lagSource ?? 'n/a'} over the same window (prom-client's histogram samples every 10 ms and counts that interval in: an idle relay reads about 10 ms). Relay CPU from /proc/<pid>/stat over the window, its main thread (where all its JavaScript runs) in brackets. Memory from /proc/<pid>/status (VmRSS) at the end of the window, and again after a full garbage collection forced through the inspector once the profile was taken; per session: each minus the relay's with the probes only (${r.baseRssMiB} MiB RSS), divided by the sessions added, and the same for the V8 heap in use after that collection. The relay runs with \`--initial-old-space-size=128\`, so V8 lets up to 128 MB of garbage build up before it collects the old space: at small steps that headroom, not the sessions, is most of the RSS "as seen".

**The knee.** ${knee != null ? `${knee.sessions.toLocaleString('en')} sessions is the largest step whose heartbeat p99 (${knee.rtt.p99} ms) stayed under ${CONFIG.p99LimitMs} ms` : 'No step finished'}${past != null ? `; at ${past.sessions.toLocaleString('en')} it was ${past.rtt.p99} ms.` : '.'} The run stopped: ${r.stopped}. ${whyKnee(r)}

**Where the relay's CPU goes** (V8 CPU profile through the inspector, ${CONFIG.profileMs / 1000} s right after each step's measuring window, nobody joining)${biggest != null ? ` at ${biggest.sessions.toLocaleString('en')} sessions: ${profileLines(biggest.profile as ProfileSummary, 8).join('; ')}.` : ': no profile.'}
${r.steps.filter(s => s.profile != null && s !== biggest).map(s => `- ${s.sessions.toLocaleString('en')} sessions${s.reached ? '' : ' (tabs still joining and rejoining)'}: ${(s.reached ? profileLines(s.profile as ProfileSummary, 4).slice(0, 1) : profileLines(s.profile as ProfileSummary, 6)).join('; ')}`).join('\n')}
${r.steps.filter(s => s.growProfile != null).map(s => `- while growing to ${s.target.toLocaleString('en')} tabs (slow: ${s.joinRate} joins/s): ${profileLines(s.growProfile as ProfileSummary, 6).join('; ')}`).join('\n')}

**One more tab** (the column before last): once a step is measured, one tab joins: the relay's CPU over the 5 s after it was started, less its CPU over the 5 s before (nobody joining; the steady load's own noise is about ± the step's cores × 5 s / 10), and the largest heartbeat RTT the probes saw in those 5 s. Its join changes the directory: the newcomer gets the list, and every other subscriber a frame naming it with the next broadcast (frames written meanwhile: ${r.steps.map(s => `${s.churn.snapshots.toLocaleString('en')} at ${s.sessions.toLocaleString('en')} sessions`).join(', ')}; they include the steady load's own changes). That is ${r.steps.map(s => s.churn.snapshots > 0 && s.churn.cpuMs > 0 ? `${round(s.churn.cpuMs / s.churn.snapshots, 3)} ms` : 'n/a (within the noise)').join(', ')} of relay CPU per frame at the steps above. Every join and leave does this, so with tabs coming and going all the time the relay's cost per change grows with the number of subscribers, and the number of changes with the number of tabs.

${vpsEstimate(r)}

${findings(r, biggest)}
Method:
- **Relay.** The relay CLI (\`relay/bin/relay.ts\`, \`--initial-old-space-size=128\` as \`npm run relay\` runs it) in a process of its own on 127.0.0.1, a fresh data folder, \`--metrics-listen\` and its inspector on loopback. Changed from the defaults so that a few dozen loopback addresses can stand for thousands of machines and the price of a join stays fixed: ${r.limits.map(([k, v]) => `\`${k} ${v}\``).join(', ')}. Everything else as shipped: the 2.5 s heartbeat with 3 missed beats (and no libp2p connection monitor, as relays now run), the DHT server, PEX gossip, the directory's 100 ms debounce and 2 ms-per-subscriber spacing between broadcasts.
- **Tabs.** ${CONFIG.tabProcesses} Node processes at \`nice ${CONFIG.tabNice}\` (the relay and the probes go first), each holding its share of the tabs, dialing from ${CONFIG.tabHosts.length} loopback addresses (127.0.0.2 and up) because libp2p admits 5 new connections a second per host; at most ${CONFIG.joinsPerHost} joins under way per address and ${CONFIG.joinsPerProcess} per process, so the join rate is what the relay (and these processes) sustain. A tab is \`peerPreset\` in the "tab" role, as \`web/src/node/create-browser-node.ts\` builds it, with what Node can run of its platform: WebSockets (the \`ws\` package, bound to the tab's address) and no WebRTC; libp2p pings every 10 s (libp2p's default) as a page's node does; its own session layer solving the relay's ${CONFIG.difficulty}-bit challenge on one worker thread per process. Two differences, both on the tab's side: a tab wants 1 reservation here, not 2 (with one relay and 2 wanted, the circuit relay transport's discovery never ends and dials every peer the tab hears of through the relay), and the directory client and peer exchange are stand-ins that send the same subscriptions and requests and read the same answers but do not verify the signed records in them (a real tab verifies each record it is sent on its own CPU; 150 simulated tabs verifying whole lists kept a core busy). The relay does the same work either way. Pub/sub's heartbeat runs every 10 s instead of every second (its own bookkeeping: with no tasks published it sends the relay nothing more than the GRAFT a tab sends when it joins).
- **Probes.** ${CONFIG.probeHosts.length} more such tabs in a process of their own at normal priority, from 127.0.1.x, whose session heartbeat fires every 500 ms so that they send the pings (a session pings when it has been quiet for an interval; the relay's is 2.5 s): about one RTT a second each. Their process's own event-loop delay p99 stayed at ${round(Math.max(...r.steps.map(s => s.probeLagP99Ms)), 1)} ms or less (10 ms of it the histogram's interval).
- **Steps.** Grow to the step's tab count (done when the relay holds them all, or 98 % and no more for 5 s), wait ${CONFIG.settleMs / 1000} s, measure ${CONFIG.measureMs / 1000} s, profile ${CONFIG.profileMs / 1000} s. The run stops after a step whose heartbeat p99 passes ${CONFIG.p99LimitMs} ms, when the machine's available memory would fall under ${CONFIG.memoryFloorMiB} MiB, when a step could not grow, or before a step that would not fit the ${CONFIG.budgetMs / 60_000} min budget. Traffic stays on 127.0.0.0/8.
- **Not included.** Tab-to-tab links (WebRTC, signalled through the relay), relayed connections, tasks and storage: the tabs hold their place and nothing else. Churn beyond the growth itself: every join and leave reaches every subscriber in a directory frame (${last != null ? `${last.directoryFrameKiB} KiB on average in the last step` : 'n/a'}), which the "while joining" column only starts to show (the tabs received ${r.steps.map(s => s.directoryFrames.toLocaleString('en')).join(', ')} frames over the steps).
`
}

export function summary (r: RunResult): { sessions: number, heartbeatP99Ms: number, relayCpuCores: number, memoryPerSessionKB: number } {
  const knee = kneeStep(r.steps)
  return {
    sessions: knee?.sessions ?? 0,
    heartbeatP99Ms: knee?.rtt.p99 ?? Number.NaN,
    relayCpuCores: knee?.relayCores ?? Number.NaN,
    memoryPerSessionKB: knee != null ? round(knee.rssPerSessionKiB * 1.024, 1) : Number.NaN
  }
}
