import { transferLoop } from '../../../bench/transport/loops.ts'
import { attachRawSink, rawTransfer, untilOpen } from './raw-channel.ts'
import type { ThroughputRequest } from './bench-api.ts'

/** Same ceiling as libp2p's WebRTC streams (MAX_BUFFERED_AMOUNT); resume at half. */
const HIGH_WATER = 2 * 1024 * 1024
const LOW_WATER = 1024 * 1024
const CHANNEL_NAME = 'golem-clay-bench-rtc'

type SignalMessage = { session: string, from: string, to: string } & (
  | { kind: 'offer' | 'answer', sdp: string }
  | { kind: 'candidate', candidate: RTCIceCandidateInit }
  | { kind: 'close' }
)

interface Session {
  pc: RTCPeerConnection
  peer: string
  remoteSet: boolean
  pending: RTCIceCandidateInit[]
  answer?: PromiseWithResolvers<string>
}

export interface RawRtcLink {
  session: string
  pc: RTCPeerConnection
  /** ms from createOffer to the data channel's 'open'. */
  ms: number
}

/**
 * The bare baseline for tab-to-tab WebRTC: one RTCPeerConnection and
 * RTCDataChannel per link, signalled over a BroadcastChannel between the two
 * bench tabs (same origin, same browser), trickling ICE like libp2p does.
 */
export class RawRtc {
  private readonly channel = new BroadcastChannel(CHANNEL_NAME)
  private readonly sessions = new Map<string, Session>()

  constructor (private readonly self: string, private readonly log: (line: string) => void) {
    this.channel.onmessage = (evt: MessageEvent<SignalMessage>) => {
      if (evt.data.to !== this.self) return
      this.onSignal(evt.data).catch(err => { this.log(`raw rtc signal failed: ${err.message}`) })
    }
  }

  /** Offerer side: a connected link whose first data channel is open. */
  async connect (to: string, signal: AbortSignal): Promise<RawRtcLink> {
    const session = crypto.randomUUID()
    const pc = new RTCPeerConnection({ iceServers: [] })
    const entry: Session = { pc, peer: to, remoteSet: false, pending: [], answer: Promise.withResolvers() }
    this.sessions.set(session, entry)
    try {
      this.trickle(pc, session, to)
      const dc = pc.createDataChannel('bench')
      const opened = waitOpen(dc, signal)
      const start = performance.now()
      const offer = await pc.createOffer()
      await pc.setLocalDescription(offer)
      this.post({ kind: 'offer', session, from: this.self, to, sdp: offer.sdp ?? '' })
      const sdp = await race(entry.answer!.promise, signal)
      await pc.setRemoteDescription({ type: 'answer', sdp })
      await this.remoteReady(entry)
      await opened
      return { session, pc, ms: performance.now() - start }
    } catch (err) {
      this.close(session)
      throw err
    }
  }

  /** Times transfers, each on a fresh data channel of `link` (as libp2p opens a stream per transfer). */
  async throughput (link: RawRtcLink, req: ThroughputRequest): Promise<number[]> {
    let n = 0
    return await transferLoop(req, async (bytes, signal) => {
      const dc = link.pc.createDataChannel(`bulk-${n++}`)
      dc.binaryType = 'arraybuffer'
      dc.bufferedAmountLowThreshold = LOW_WATER
      await waitOpen(dc, signal)
      const waitLow = async (): Promise<void> => {
        await new Promise<void>((resolve, reject) => {
          const onAbort = (): void => { reject(signal.reason) }
          dc.addEventListener('bufferedamountlow', () => { signal.removeEventListener('abort', onAbort); resolve() }, { once: true })
          signal.addEventListener('abort', onAbort, { once: true })
        })
      }
      try {
        return await rawTransfer(dc, bytes, HIGH_WATER, waitLow, signal)
      } finally {
        dc.close()
      }
    })
  }

  close (session: string): void {
    const entry = this.sessions.get(session)
    if (entry == null) return
    this.sessions.delete(session)
    entry.pc.close()
    this.post({ kind: 'close', session, from: this.self, to: entry.peer })
  }

  closeAll (): void {
    for (const session of [...this.sessions.keys()]) this.close(session)
    this.channel.close()
  }

  private async onSignal (msg: SignalMessage): Promise<void> {
    if (msg.kind === 'offer') {
      await this.answer(msg.session, msg.from, msg.sdp)
      return
    }
    const entry = this.sessions.get(msg.session)
    if (entry == null) return
    if (msg.kind === 'answer') {
      entry.answer?.resolve(msg.sdp)
    } else if (msg.kind === 'candidate') {
      if (entry.remoteSet) await entry.pc.addIceCandidate(msg.candidate)
      else entry.pending.push(msg.candidate)
    } else {
      this.sessions.delete(msg.session)
      entry.pc.close()
    }
  }

  /** Answerer side: every data channel the offerer opens becomes a raw sink. */
  private async answer (session: string, from: string, sdp: string): Promise<void> {
    const pc = new RTCPeerConnection({ iceServers: [] })
    const entry: Session = { pc, peer: from, remoteSet: false, pending: [] }
    // registered before any await so trickled candidates find the session
    this.sessions.set(session, entry)
    this.trickle(pc, session, from)
    pc.ondatachannel = (evt) => {
      evt.channel.binaryType = 'arraybuffer'
      attachRawSink(evt.channel)
    }
    await pc.setRemoteDescription({ type: 'offer', sdp })
    await this.remoteReady(entry)
    const answer = await pc.createAnswer()
    await pc.setLocalDescription(answer)
    this.post({ kind: 'answer', session, from: this.self, to: from, sdp: answer.sdp ?? '' })
  }

  private trickle (pc: RTCPeerConnection, session: string, to: string): void {
    pc.onicecandidate = ({ candidate }) => {
      if (candidate == null || candidate.candidate === '') return
      this.post({ kind: 'candidate', session, from: this.self, to, candidate: candidate.toJSON() })
    }
  }

  /** Candidates that arrived before the remote description are applied now. */
  private async remoteReady (entry: Session): Promise<void> {
    entry.remoteSet = true
    for (const candidate of entry.pending.splice(0)) await entry.pc.addIceCandidate(candidate)
  }

  private post (msg: SignalMessage): void {
    this.channel.postMessage(msg)
  }
}

async function waitOpen (dc: RTCDataChannel, signal: AbortSignal): Promise<void> {
  if (dc.readyState === 'open') return
  await untilOpen(dc, 'close', () => new Error(`data channel ${dc.label} closed before opening`), signal)
}

async function race<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}
