import { lpStream } from '@libp2p/utils'
import { MAX_WIDGET_FRAME, validateWidgetReport } from '../../shared/widget/index.ts'
import { decodeJson, encodeJson, WIDGET_PROTOCOL } from '../../shared/wire/index.ts'
import type { SessionManager } from '../../shared/peer-session/index.ts'
import type { ComponentLogger, Connection, Logger, Startable, Stream } from '@libp2p/interface'

export interface WidgetBoardInit {
  /** A widget counts as working now when it reported this recently, ms. @default 90_000 */
  liveMs?: number
  /** Shortest time between two reports of one run that are taken, ms; sooner ones are dropped. @default 5_000 */
  minIntervalMs?: number
  /** Runs (a node's page loads) remembered; the one that reported longest ago goes first. @default 10_000 */
  maxPeers?: number
}

export interface WidgetBoardComponents {
  sessions: SessionManager
  logger: ComponentLogger
}

/** What an account's widgets did, as the site owner's page shows it. */
export interface WidgetStats {
  account: string
  /** Widgets (runs of a node: page loads) working now: they said so within `liveMs`. */
  working: number
  /** Widget runs seen since the relay started. */
  seen: number
  /** Subtasks they computed. */
  subtasks: number
  /** What their cheques credit the account, base units (decimal), as the widgets report it (what was cashed is on chain). */
  earned: string
}

interface Entry { peer: string, account: string, done: number, earned: bigint, working: boolean, at: number }

/** Runs (page loads) of one peer kept: a reload makes a new one, a peer can't crowd others out with made-up runs. */
const RUNS_PER_PEER = 2

/**
 * The relay's board of widgets: each widget's node reports over
 * `/golem-clay/widget/1.0.0` whom it works for and what it did in this
 * run (page load), and the site owner's page reads the sums per account
 * (`GET /widget/stats`). A report counts for the peer whose session sent
 * it, so nobody reports for others' runs; the board lives in memory (a
 * relay restart starts the counts again).
 */
export class WidgetBoard implements Startable {
  private readonly peers = new Map<string, Entry>()
  private readonly log: Logger

  constructor (private readonly components: WidgetBoardComponents, private readonly init: WidgetBoardInit = {}) {
    this.log = components.logger.forComponent('golem-clay:widget-board')
  }

  readonly [Symbol.toStringTag] = '@golem-clay/widget-board'

  async start (): Promise<void> {
    await this.components.sessions.handle(WIDGET_PROTOCOL, (stream, conn) => {
      this.onStream(stream, conn).catch((err: Error) => { this.log('widget report from %p refused - %s', conn.remotePeer, err.message) })
    }, { maxInboundStreams: 4 })
  }

  async stop (): Promise<void> {
    await this.components.sessions.unhandle(WIDGET_PROTOCOL).catch(() => {})
  }

  /** The sums for one account (case-insensitive). */
  stats (account: string): WidgetStats {
    const key = account.toLowerCase()
    const now = Date.now()
    const out = { account, working: 0, seen: 0, subtasks: 0, earned: 0n }
    for (const e of this.peers.values()) {
      if (e.account !== key) continue
      out.seen++
      if (e.working && now - e.at <= (this.init.liveMs ?? 90_000)) out.working++
      out.subtasks += e.done
      out.earned += e.earned
    }
    return { ...out, earned: out.earned.toString() }
  }

  private async onStream (stream: Stream, conn: Connection): Promise<void> {
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_WIDGET_FRAME })
      const frame = await lp.read({ signal: AbortSignal.timeout(10_000) })
      const report = decodeJson(frame.subarray(), validateWidgetReport)
      this.take(conn.remotePeer.toString(), report.run, report)
      await lp.write(encodeJson({ ok: true }, 64), { signal: AbortSignal.timeout(5_000) })
      await stream.close({ signal: AbortSignal.timeout(5_000) })
    } catch (err: any) {
      stream.abort(err)
      throw err
    }
  }

  private take (peer: string, run: string, report: { account: string, done: number, earned: string, working: boolean }): void {
    const now = Date.now()
    const key = `${peer}/${run}`
    const before = this.peers.get(key)
    if (before != null && now - before.at < (this.init.minIntervalMs ?? 5_000)) return
    if (before == null) {
      const runs = [...this.peers].filter(([, e]) => e.peer === peer)
      for (const [k] of runs.slice(0, Math.max(0, runs.length - RUNS_PER_PEER + 1))) this.peers.delete(k)
    }
    this.peers.delete(key)
    this.peers.set(key, { peer, account: report.account.toLowerCase(), done: report.done, earned: BigInt(report.earned), working: report.working, at: now })
    if (this.peers.size > (this.init.maxPeers ?? 10_000)) this.peers.delete(this.peers.keys().next().value as string)
  }
}

export function widgetBoard (init: WidgetBoardInit = {}): (components: WidgetBoardComponents) => WidgetBoard {
  return (components) => new WidgetBoard(components, init)
}
