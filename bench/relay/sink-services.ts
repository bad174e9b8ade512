// Stand-ins for a tab's directory client and peer exchange that speak the
// same wire protocol to the relay but skip what a tab does with the answer.
// A real tab verifies every signed record it is sent (each directory
// list holds up to 256 peers, each PEX answer up to 64): on its own
// machine that is its own CPU; thousands of simulated tabs on two shared
// cores cannot all do it (150 tabs with the real clients kept one core busy
// verifying records, so joins timed out). The relay does the same work
// either way: the same subscriptions, frames, requests and answers.
import { lpStream } from '@libp2p/utils'
import { DIRECTORY_PROTOCOL, encodeJson, PEX_PROTOCOL } from '../../shared/wire/index.ts'
import type { SessionManager, NodeRole, PeerSession } from '../../shared/peer-session/index.ts'
import type { AbortOptions, Connection, PeerId, Startable } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

/** Large enough for any frame the relay sends (directory frames are capped at 512 KiB). */
const MAX_FRAME = 1024 * 1024

/** What the sinks received, for the tab process's report. */
export interface SinkCounters {
  directoryFrames: number
  directoryBytes: number
  pexAnswers: number
  pexBytes: number
}

export const sinkCounters: SinkCounters = { directoryFrames: 0, directoryBytes: 0, pexAnswers: 0, pexBytes: 0 }

interface SinkComponents {
  registrar: Registrar
  sessions: SessionManager
}

/** DirectoryClient's subscription (subscribe as a tab, then read every frame), without verifying the records. */
export class DirectorySink implements Startable {
  private topologyId?: string
  private readonly subscribed = new Set<string>()
  private readonly controller = new AbortController()

  constructor (private readonly components: SinkComponents) {}

  readonly [Symbol.toStringTag] = 'bench/directory-sink'

  /** Relays whose directory this tab is subscribed to now. */
  get subscriptions (): number {
    return this.subscribed.size
  }

  async start (): Promise<void> {
    // the same topology as DirectoryClient: called once identify says the peer serves a directory
    this.topologyId = await this.components.registrar.register(DIRECTORY_PROTOCOL, {
      onConnect: (peer, conn) => { this.subscribe(peer, conn).catch(() => {}) }
    })
  }

  stop (): void {
    this.controller.abort()
    if (this.topologyId != null) this.components.registrar.unregister(this.topologyId)
  }

  private async subscribe (peer: PeerId, conn: Connection): Promise<void> {
    const key = peer.toString()
    if (this.subscribed.has(key)) return
    this.subscribed.add(key)
    try {
      const { stream } = await this.components.sessions.open(conn, DIRECTORY_PROTOCOL)
      const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
      await lp.write(encodeJson({ v: 1, type: 'subscribe', role: 'tab' }, MAX_FRAME))
      while (stream.status === 'open' && !this.controller.signal.aborted) {
        const frame = await lp.read({ signal: this.controller.signal })
        sinkCounters.directoryFrames++
        sinkCounters.directoryBytes += frame.byteLength
      }
    } finally {
      this.subscribed.delete(key)
    }
  }
}

/**
 * PeerExchange's asking side: the same requests (the relay's relays when a
 * session with it opens, then PeerFinder's asks every 15 s), answers read
 * and dropped unverified. A tab serves PEX too, but relays never ask tabs.
 */
export class PexSink implements Startable {
  constructor (private readonly components: SinkComponents) {}

  readonly [Symbol.toStringTag] = 'bench/pex-sink'

  start (): void {
    this.components.sessions.addEventListener('session:open', this.onSession)
  }

  stop (): void {
    this.components.sessions.removeEventListener('session:open', this.onSession)
  }

  /** What PeerFinder calls; returns how many records came back. */
  async ask (conn: Connection, roles: NodeRole[], max = 32, options: AbortOptions = {}): Promise<number> {
    const signal = AbortSignal.any([AbortSignal.timeout(10_000), ...(options.signal != null ? [options.signal] : [])])
    const { stream } = await this.components.sessions.open(conn, PEX_PROTOCOL, { signal })
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
      await lp.write(encodeJson({ v: 1, type: 'request', roles, max }, MAX_FRAME), { signal })
      const answer = await lp.read({ signal })
      await stream.close({ signal })
      sinkCounters.pexAnswers++
      sinkCounters.pexBytes += answer.byteLength
      return 0
    } catch (err: any) {
      stream.abort(err)
      throw err
    }
  }

  // PeerExchange asks a relay it dialed for the relays it knows, once per session
  private readonly onSession = (evt: CustomEvent<PeerSession>): void => {
    const s = evt.detail
    if (!s.dialer || !s.remoteHello.roles.includes('relay')) return
    this.ask(s.connection, ['relay'], 32).catch(() => {})
  }
}

export function directorySink (): (components: SinkComponents) => DirectorySink {
  return (components) => new DirectorySink(components)
}

export function pexSink (): (components: SinkComponents) => PexSink {
  return (components) => new PexSink(components)
}
