// What the soak reads from a tab: a light poll every few seconds (its own
// tasks, the jobs it ran, its links) and, when a task stalls, everything the
// page's debug API and its Compute card show about its market.
import type { Page } from '@playwright/test'

export interface PolledTask {
  id: string
  name: string
  kind: string
  state: string
  done: number
  total: number
  running: number
  providers: number
  startedAt: number
  finishedAt?: number
  error?: string
  reassigned: number
  /** Peers that computed the tiles so far (Mandelbrot). */
  tileProviders: string[]
}

export interface TabPoll {
  tasks: PolledTask[]
  jobs: Array<{ task: string, subtask: number, state: string }>
  /** Peers linked directly (WebRTC, not limited). */
  links: string[]
  reserved: number
}

export async function pollTab (page: Page): Promise<TabPoll | undefined> {
  return await page.evaluate(() => {
    const g = window.golemClay
    const m = window.golemClayMarket
    if (g == null || m == null) return undefined
    return {
      tasks: m.tasks().slice(0, 30).map(t => ({
        id: t.id,
        name: t.name,
        kind: t.kind,
        state: t.state,
        done: t.done,
        total: t.total,
        running: t.running,
        providers: t.providers,
        startedAt: t.startedAt,
        finishedAt: t.finishedAt,
        error: t.error,
        reassigned: t.reassigned,
        tileProviders: [...new Set((t.tiles ?? []).map(x => x.provider))]
      })),
      jobs: m.jobs().map(j => ({ task: j.task, subtask: j.subtask, state: j.state })),
      links: [...new Set(g.connections().filter(c => c.kind === 'webrtc' && !c.limited).map(c => c.peer))],
      reserved: g.relays().filter(r => r.state === 'reserved').length
    }
  })
}

export interface TabCapture {
  peerId?: string
  phase?: string
  relays?: Array<{ peer?: string, state: string, seed: boolean, failures: number, lastError?: string, connectedForS?: number }>
  connections?: Array<{ peer: string, kind: string, direction: string, limited: boolean, multiplexer?: string, remoteAddr: string, ageS: number, rtt?: number }>
  sessions?: Array<{ peer: string, kind: string, dialer: boolean, difficulty: number, rtt?: number }>
  notices?: Array<{ at: number, peer: string, tone: string, text: string }>
  estimate?: unknown
  /** The Compute card as shown: the lending switch, the pause button, its figures and idle line. */
  compute: { lending?: boolean, pauseButton?: string, stats?: string, idle?: string, cores?: string }
  /** The tasks feed: subscribed, peers on the topic, last header, pulls. */
  feed?: { subscribed: boolean, topicPeers: number, lastHeaderAt?: number, pulls: number, pulledNew: number }
  jobs?: Array<{ task: string, taskName: string, requestor: string, subtask: number, state: string, error?: string }>
  tasks?: Array<{ id: string, name: string, state: string, done: number, total: number, running: number, providers: number, error?: string }>
  error?: string
}

/** Everything a tab shows about its node and its market, as plain data. */
export async function captureTab (page: Page): Promise<TabCapture> {
  try {
    return await page.evaluate(() => {
      const now = Date.now()
      const g = window.golemClay
      const m = window.golemClayMarket
      // (no named helpers here: tsx wraps them in a naming function the page does not have)
      const card = document.querySelector('[data-testid="compute-card"]')
      const [pauseButton, stats, idle, cores] = ['compute-pause', 'compute-stats', 'compute-idle', 'compute-cores-value']
        .map(id => card?.querySelector(`[data-testid="${id}"]`)?.textContent?.trim().replace(/\s+/g, ' '))
      return {
        peerId: g?.peerId(),
        phase: g?.phase(),
        relays: g?.relays().map(r => ({ peer: r.peerId, state: r.state, seed: r.seed, failures: r.failures, lastError: r.lastError, connectedForS: r.connectedAt != null ? Math.round((now - r.connectedAt) / 1000) : undefined })),
        connections: g?.connections().map(c => ({ peer: c.peer, kind: c.kind, direction: c.direction, limited: c.limited, multiplexer: c.multiplexer, remoteAddr: c.remoteAddr, ageS: Math.round((now - c.openedAt) / 1000), rtt: c.rtt })),
        sessions: g?.sessions(),
        notices: g?.notices().slice(-8),
        estimate: g?.network()?.estimate,
        compute: { lending: card?.querySelector<HTMLInputElement>('[data-testid="compute-enabled"]')?.checked, pauseButton, stats, idle, cores },
        feed: m?.feed(),
        jobs: m?.jobs().slice(0, 12).map(j => ({ task: j.task, taskName: j.taskName, requestor: j.requestor, subtask: j.subtask, state: j.state, error: j.error })),
        tasks: m?.tasks().slice(0, 5).map(t => ({ id: t.id, name: t.name, state: t.state, done: t.done, total: t.total, running: t.running, providers: t.providers, error: t.error }))
      }
    })
  } catch (err) {
    return { compute: {}, error: (err as Error).message.split('\n')[0] }
  }
}

/**
 * The WebRTC host candidates this browser gathers, from a throwaway pair of
 * peer connections in the page: inside the soak's namespace they must all be
 * the namespace's veth address.
 */
export async function iceHostAddresses (page: Page): Promise<string[]> {
  return await page.evaluate(async () => {
    const a = new RTCPeerConnection()
    const b = new RTCPeerConnection()
    const found = new Set<string>()
    a.onicecandidate = (e) => { if (e.candidate != null) { found.add(e.candidate.address ?? '?'); void b.addIceCandidate(e.candidate) } }
    b.onicecandidate = (e) => { if (e.candidate != null) { found.add(e.candidate.address ?? '?'); void a.addIceCandidate(e.candidate) } }
    const channel = a.createDataChannel('probe')
    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription!)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription!)
    await Promise.race([new Promise(resolve => { channel.onopen = resolve }), new Promise(resolve => setTimeout(resolve, 5_000))])
    a.close()
    b.close()
    return [...found].sort()
  })
}

/**
 * Installed in every soak tab before the page's own scripts (an init
 * script): keeps a weak list of the page's RTCPeerConnections, so the soak
 * can ask them which addresses their selected candidate pairs use. A string,
 * not a function: tsx names functions with a helper the page does not have.
 */
export const TRACK_PEER_CONNECTIONS = `(() => {
  const Native = window.RTCPeerConnection
  const live = []
  window.RTCPeerConnection = class extends Native {
    constructor (config) { super(config); live.push(new WeakRef(this)) }
  }
  Object.defineProperty(window, 'soakPeerConnections', { value: () => live.map(w => w.deref()).filter(pc => pc != null) })
})()`

/** Local → remote address (and candidate type) of the selected candidate pair of each connected RTCPeerConnection in the tab. */
export async function webrtcAddressPairs (page: Page): Promise<string[]> {
  return await page.evaluate(async () => {
    const list = (window as unknown as { soakPeerConnections?: () => RTCPeerConnection[] }).soakPeerConnections?.() ?? []
    const out: string[] = []
    for (const pc of list) {
      if (pc.connectionState !== 'connected') continue
      const stats = await pc.getStats()
      let pairId: string | undefined
      stats.forEach((s: { type: string, selectedCandidatePairId?: string }) => { if (s.type === 'transport' && s.selectedCandidatePairId != null) pairId = s.selectedCandidatePairId })
      const pair = pairId != null ? stats.get(pairId) : [...stats.values()].find((s: { type: string, nominated?: boolean, state?: string }) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded')
      if (pair == null) continue
      const local = stats.get(pair.localCandidateId)
      const remote = stats.get(pair.remoteCandidateId)
      // (a peer-reflexive remote candidate, learnt from a check that came before its signalled one, has its address hidden by Chromium)
      const far = remote?.address != null && remote.address !== '' ? String(remote.address) : 'hidden'
      out.push(`${String(local?.address)} (${String(local?.candidateType)}) → ${far} (${String(remote?.candidateType)})`)
    }
    return out
  })
}

/** Market and session figures from a relay's /metrics (its own and libp2p's gossipsub ones). */
export async function relayMetrics (url: string): Promise<string[]> {
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text()
    return text.split('\n').filter(l => /^(golem_clay_(market|sessions|reservations|directory_subscribers|connections)|gossipsub_(topic_peer_count|topic_subscription_status|mesh_peer_count|peers_per_protocol_count))/.test(l))
  } catch (err) {
    return [`unreachable: ${(err as Error).message}`]
  }
}
