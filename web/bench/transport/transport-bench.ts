// first: the browser node module installs the WebRTC init-channel fix
import { createBrowserNode } from '../../src/node/create-browser-node.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { WebRTC } from '@multiformats/multiaddr-matcher'
import { BENCH_PROTOCOL, handleBenchStream } from '../../../bench/transport/bench-protocol.ts'
import { waitUntil } from '../../../bench/common/timing.ts'
import { setupLoop } from '../../../bench/transport/loops.ts'
import { webrtcSetup, webrtcThroughput, wsSetup, wsThroughput } from './libp2p-bench.ts'
import { createBrowserHashcashSolver } from '../../src/hashcash/browser-solver.ts'
import { RawRtc } from './raw-rtc.ts'
import { attachForwarder, openWs, rawWsThroughput } from './raw-ws.ts'
import type { TabInfo, TransportBenchApi } from './bench-api.ts'
import type { BrowserNode } from '../../src/node/create-browser-node.ts'

function log (line: string): void {
  void window.benchLog?.(line).catch(() => {})
}

let node: BrowserNode | undefined
// pays the session-layer Hashcash challenges for connections this tab dials
const solver = createBrowserHashcashSolver()
let rawRtc: RawRtc | undefined
let forwarder: WebSocket | undefined

function started (): { node: BrowserNode, rawRtc: RawRtc } {
  if (node == null || rawRtc == null) throw new Error('call init() first')
  return { node, rawRtc }
}

async function init ({ relayWs }: { relayWs: string }): Promise<TabInfo> {
  const privateKey = await generateKeyPair('Ed25519')
  node = await createBrowserNode({ privateKey, relays: [relayWs], iceServers: [], solver })
  await node.start()
  // the bench dials explicitly; the auto-dialer would race it to the other tab
  node.services.dialer.stop()
  // after start: the session layer gates only protocols registered by then,
  // and the bench measures transports, not sessions
  await node.handle(BENCH_PROTOCOL, (stream) => { handleBenchStream(stream) }, { runOnLimitedConnection: true })
  const self = node
  try {
    await waitUntil(() => self.services.relays.status[0]?.state === 'reserved' &&
      self.getMultiaddrs().some(ma => WebRTC.matches(ma)), 20_000, 'relay reservation and WebRTC address')
  } catch (err: any) {
    throw new Error(`${err.message}; relay ${JSON.stringify(self.services.relays.status)}; addrs ${self.getMultiaddrs().join(' ')}`)
  }
  const peerId = node.peerId.toString()
  rawRtc = new RawRtc(peerId, log)
  const addrs = node.getMultiaddrs().map(ma => ma.toString())
  const webrtcAddr = addrs.find(a => a.includes('/p2p-circuit/webrtc'))
  if (webrtcAddr == null) throw new Error('no WebRTC address')
  return { peerId, webrtcAddr }
}

const api: TransportBenchApi = {
  init,
  libp2pWebrtcSetup: async (opts) => await webrtcSetup(started().node, opts, log),
  libp2pWebrtcThroughput: async (opts) => await webrtcThroughput(started().node, opts),
  rawWebrtcSetup: async (opts) => {
    const { rawRtc } = started()
    let session: string | undefined
    return await setupLoop({
      ...opts,
      log,
      attempt: async (signal) => {
        const link = await rawRtc.connect(opts.answerer, signal)
        session = link.session
        return link.ms
      },
      reset: async () => { if (session != null) rawRtc.close(session) }
    })
  },
  rawWebrtcThroughput: async (opts) => {
    const { rawRtc } = started()
    const link = await rawRtc.connect(opts.answerer, AbortSignal.timeout(5_000))
    try {
      return await rawRtc.throughput(link, opts)
    } finally {
      rawRtc.close(link.session)
    }
  },
  libp2pWsSetup: async (opts) => await wsSetup(opts, log),
  libp2pWsThroughput: async (opts) => await wsThroughput(started().node, opts),
  rawWsSetup: async (opts) => await setupLoop({
    ...opts,
    log,
    attempt: async (signal) => {
      const start = performance.now()
      const ws = await openWs(opts.url, signal)
      const ms = performance.now() - start
      ws.close()
      return ms
    },
    reset: async () => {}
  }),
  rawWsThroughput: async (opts) => await rawWsThroughput(opts.url, opts),
  rawForwardAttach: async ({ url }) => { forwarder = await attachForwarder(url) },
  stop: async () => {
    forwarder?.close()
    rawRtc?.closeAll()
    await node?.stop()
    await solver.stop()
  }
}

window.transportBench = api
