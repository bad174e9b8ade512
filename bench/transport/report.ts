import { BENCH_PROTOCOL, CHUNK_SIZE } from './bench-protocol.ts'
import { mbps, median, percentile, round } from '../common/index.ts'
import { SETUP, THROUGHPUT } from './config.ts'
import type { MachineInfo } from '../common/index.ts'
import type { SetupSamples } from './loops.ts'

export type PathKey = 'webrtc' | 'websocket' | 'tcp' | 'relayed'

export const PATH_LABELS: Record<PathKey, { path: string, libp2p: string, raw: string }> = {
  webrtc: {
    path: 'tab ↔ tab, WebRTC',
    libp2p: '`/p2p-circuit/webrtc` dial (signalled through the relay), Noise, one data channel per stream',
    raw: 'RTCPeerConnection + RTCDataChannel, signalled over a BroadcastChannel'
  },
  websocket: {
    path: 'tab → relay, WebSocket',
    libp2p: '`/ws` dial, Noise, Yamux',
    raw: 'bare WebSocket to a `ws` server'
  },
  tcp: {
    path: 'Node → relay, TCP',
    libp2p: '`/tcp` dial, Noise, Yamux',
    raw: 'bare TCP socket to a `net` server'
  },
  relayed: {
    path: 'Node → tab via relay',
    libp2p: 'circuit relay v2 (HOP/STOP), Noise + Yamux inside the circuit',
    raw: 'bare TCP → forwarder → bare WebSocket to the tab'
  }
}

export interface PathResult {
  setup: SetupSamples
  rawSetup: SetupSamples
  bytes: number
  /** ms per libp2p transfer. */
  ms: number[]
  /** ms per raw transfer. */
  rawMs: number[]
  /** Cores used while this path was measured: by the bench's processes, by everything else. */
  cpu: { ours: number, rest: number }
}

export interface SideSummary {
  setupMs: number
  setupP95Ms: number
  MBps: number
  retries: number
}

export interface PathSummary extends SideSummary {
  raw: SideSummary
}

export type Summary = Record<PathKey, PathSummary>

function side (setup: SetupSamples, bytes: number, ms: number[]): SideSummary {
  return {
    setupMs: round(median(setup.samples), 2),
    setupP95Ms: round(percentile(setup.samples, 95), 2),
    MBps: round(median(ms.map(t => mbps(bytes, t))), 1),
    retries: setup.retries
  }
}

export function summarize (results: Record<PathKey, PathResult>): Summary {
  const out = {} as Summary
  for (const key of Object.keys(PATH_LABELS) as PathKey[]) {
    const r = results[key]
    out[key] = { ...side(r.setup, r.bytes, r.ms), raw: side(r.rawSetup, r.bytes, r.rawMs) }
  }
  return out
}

const MiB = 1024 * 1024
const fmt = (n: number, digits = 1): string => Number.isFinite(n) ? n.toFixed(digits) : 'n/a'
const ratio = (a: number, b: number): string => b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a'

/** Milestones of a libp2p WebRTC dial, from the transport's progress events; null = dial done. */
const WEBRTC_PHASES: Array<[string, string | null]> = [
  ['relayed circuit (HOP/STOP, Noise, Yamux)', 'webrtc:open-signaling-stream'],
  ['signalling stream negotiated, offer created', 'webrtc:send-sdp-offer'],
  ['offer sent, answer back', 'webrtc:read-ice-candidates'],
  ['ICE + DTLS + SCTP, init channel open and closed', 'webrtc:close-signaling-stream'],
  ['signalling stream closed, muxer set up', null]
]

/** Median time spent in each phase, over the reps that reported every milestone. */
function webrtcPhases (s: SetupSamples): string | undefined {
  const perPhase: number[][] = WEBRTC_PHASES.map(() => [])
  s.samples.forEach((total, i) => {
    const marks = s.marks[i] ?? {}
    const at = WEBRTC_PHASES.map(([, mark]) => mark == null ? total : marks[mark])
    if (at.some(t => t == null)) return
    let prev = 0
    at.forEach((t, j) => { perPhase[j]?.push((t ?? 0) - prev); prev = t ?? 0 })
  })
  if ((perPhase[0]?.length ?? 0) === 0) return undefined
  return WEBRTC_PHASES.map(([name], j) => `${name} ${fmt(median(perPhase[j] ?? []))} ms`).join(' → ')
}

/** The `## Transport` section of BENCHMARKS.md (without a trailing newline). */
export function transportSection (results: Record<PathKey, PathResult>, summary: Summary, machine: MachineInfo, elapsedS: number): string {
  const keys = Object.keys(PATH_LABELS) as PathKey[]
  const rows = keys.map(k => {
    const s = summary[k]
    const cpu = results[k].cpu
    return `| ${PATH_LABELS[k].path} | ${fmt(s.setupMs)} / ${fmt(s.setupP95Ms)} | ${fmt(s.raw.setupMs, 2)} / ${fmt(s.raw.setupP95Ms, 2)} | ` +
      `${ratio(s.setupMs, s.raw.setupMs)} | ${fmt(s.MBps)} | ${fmt(s.raw.MBps)} | ${ratio(s.MBps, s.raw.MBps)} | ${fmt(cpu.ours, 2)} / ${fmt(cpu.rest, 2)} |`
  })
  const perTransfer = (bytes: number, ms: number[]): string => ms.map(t => fmt(mbps(bytes, t))).join(', ')
  const transfers = keys.map(k => `${PATH_LABELS[k].path}: libp2p ${perTransfer(results[k].bytes, results[k].ms)}; raw ${perTransfer(results[k].bytes, results[k].rawMs)}`)
  const webrtc = results.webrtc.setup
  const phases = webrtcPhases(webrtc)
  const errors = [...new Set(webrtc.errors)].slice(0, 3)
  const sizes = keys.map(k => `${results[k].bytes / MiB} MiB for ${PATH_LABELS[k].path}`).join(', ')
  const lines = [
    '## Transport',
    '',
    `Connection set-up time and bulk throughput of each way a Golem Clay node moves bytes, each next to a bare baseline over the same path, all measured in one run of \`npm run bench:transport\` (${Math.round(elapsedS)} s).`,
    '',
    '### Machine',
    '',
    `- CPU: ${machine.cpu}, ${machine.cores} cores; RAM: ${machine.ramGiB} GiB`,
    `- Node ${machine.node}; ${machine.chromium} (headless, driven by Playwright)`,
    `- Date: ${machine.date}; 1-minute load average at the start: ${machine.loadAtStart}`,
    '',
    '### Results',
    '',
    '| Path | libp2p set-up median / p95 (ms) | raw set-up median / p95 (ms) | set-up libp2p / raw | libp2p MB/s | raw MB/s | throughput libp2p / raw | cores busy: bench / others |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `MB/s is 10^6 bytes per second, the median of ${THROUGHPUT.reps} transfers; each transfer in MB/s: ${transfers.join('; ')}. ` +
      'The last column is the CPU (in cores, from /proc) that the bench\'s own processes (this one, the server process, Chromium) and everything else on the machine used while that path was measured; with 2 cores, other work shows up directly in the results.',
    '',
    `libp2p WebRTC dials that needed a retry (${SETUP.webrtc.timeoutMs / 1000} s timeout per attempt): **${webrtc.retries}** of ${webrtc.attempts} attempts` +
      (errors.length > 0 ? ` (${errors.join('; ')})` : '') +
      `; p95 of the set-up time a caller saw, retries included: ${fmt(percentile(webrtc.totals, 95))} ms. ` +
      `Retried attempts elsewhere: WebSocket ${results.websocket.setup.retries}, TCP ${results.tcp.setup.retries}, relayed ${results.relayed.setup.retries}; raw WebRTC ${results.webrtc.rawSetup.retries}.`,
    ...(phases != null ? ['', `Where a libp2p WebRTC dial spends its time (median per phase, from the transport's progress events): ${phases}.`] : []),
    '',
    '### Method',
    '',
    '- **Processes.** The relay gateway (`createRelayNode`, relay data limit raised to 1 GiB so bulk transfers through the circuit are not cut) and the raw baseline servers run together in one child Node process on 127.0.0.1. The bench process holds the Node peer (`createNodePeer`, reserved on the relay) and drives two tabs of one headless Chromium; each tab runs the bench page (`web/bench/transport.html`) with its own `createBrowserNode`, reserved on the relay over WebSocket. No STUN servers: WebRTC uses the machine\'s non-loopback interface.',
    `- **Paths.** ${keys.map(k => `*${PATH_LABELS[k].path}*: libp2p = ${PATH_LABELS[k].libp2p}; raw = ${PATH_LABELS[k].raw}.`).join(' ')}`,
    `- **Set-up** is timed from the start of the dial until the connection is usable. libp2p: until \`node.dial()\` resolves with an open connection of the expected kind (transport, Noise handshake and Yamux where the transport uses them). Raw WebRTC: from \`createOffer()\` to the data channel's \`open\`; raw WebSocket: \`new WebSocket()\` to \`open\`; raw TCP: \`connect()\` to \`'connect'\`; raw relayed shape: \`connect()\` until the tab's confirmation came back through the forwarder. ${SETUP.other.reps} measured reps per side after ${SETUP.other.warmup} discarded warm-up reps; each rep starts with no connection between the two ends (all closed, and gone, before the next dial). Attempts start ≥ ${SETUP.other.spacingMs} ms apart (≥ ${SETUP.webrtc.spacingMs} ms for WebRTC) because libp2p refuses more than 5 inbound connections per second from one host. Each attempt has a ${SETUP.other.timeoutMs / 1000} s timeout and is retried up to ${SETUP.other.maxAttempts - 1} times; the times reported are those of the successful attempt. The Node→relay and tab→relay libp2p dials come from a second, bare node (same transport, Noise and Yamux as the real ones) so the real nodes keep their relay connection and reservation.`,
    '- **WebRTC isolation.** The tabs\' auto-dialer (`direct-dialer`) is stopped right after start, so every tab-to-tab connection is the bench\'s own explicit `node.dial(webrtcMultiaddr, { signal })`. With no connection to the other tab, that dial first opens a relayed circuit through the relay, exchanges SDP and trickled ICE candidates over it, then waits for ICE, DTLS and SCTP and for libp2p\'s `init` data channel to open and close. libp2p runs no Noise handshake on tab-to-tab WebRTC (DTLS encrypts; the peers were authenticated by the Noise-secured circuit that carried the SDP). The raw baseline signals through a BroadcastChannel between the two tabs, which costs next to nothing, so the set-up gap is mostly the relay circuit and signalling round trips.',
    `- **Throughput.** ${sizes}, written in ${CHUNK_SIZE / 1024} KiB chunks with backpressure and timed from the first write until the receiver's acknowledgement arrives, so every byte has reached the far end; a discarded warm-up transfer of a quarter of that size goes first. libp2p senders open a stream of \`${BENCH_PROTOCOL}\` (registered only by the bench: a sink that counts bytes and, when the sender closes its write side, replies with the total) on an open connection: the tab's own relay connection, the Node peer's own relay connection, a fresh WebRTC connection (each stream is a new data channel) and one relayed connection. Raw senders use the same chunk size: \`socket.write()\` + \`'drain'\`, then a half-close, for TCP (a fresh socket per transfer); \`bufferedAmount\` for WebSocket (pause above 4 MiB as libp2p does, resume below 1 MiB by polling) and RTCDataChannel (a new channel per transfer, pause above 2 MiB as libp2p does, resume at the 1 MiB \`bufferedamountlow\` event), then an \`end\` message answered with the count. The raw forwarder pipes TCP into the tab's WebSocket, pausing the socket above 4 MiB queued.`,
    '- **Not included.** Golem Clay\'s own per-connection session handshake, which starts once libp2p has opened a connection, runs in the background and is not part of the set-up times; the bench protocol is registered after the nodes start, outside that session gate.',
    '- **Reading the ratios.** libp2p over WebSocket and TCP encrypts every byte with Noise (ChaCha20-Poly1305, in JavaScript in the tab) and frames it with Yamux, where the baselines send plaintext. Over WebRTC both sides are encrypted by DTLS and limited by Chromium\'s SCTP stack (bare data channels stayed in the same range with 16–256 KiB messages and 256 KiB–8 MiB buffer thresholds when this bench was built); libp2p adds a protobuf frame per ≤ 16 KiB message and waits for `bufferedAmount` to reach 0 before writing again. The relayed path carries Noise + Yamux twice (the circuit runs inside each hop\'s own Noise + Yamux connection) and every byte passes through the relay\'s JavaScript.'
  ]
  return lines.join('\n')
}
