// Everything a run holds: the relay, the probe process and the tab
// processes, and the heartbeat RTTs the probes report, timestamped so a
// step can take those of any window.
import { log, sleep } from '../common/index.ts'
import { ChildLink } from './child-link.ts'
import { CONFIG } from './config.ts'
import { benchRelayLimits, BenchRelay } from './relay-process.ts'
import type { ChildEvent } from './child-link.ts'

export interface RttSample { at: number, ms: number }

export class Rig {
  readonly rtts: RttSample[] = []
  /** The probe process's own event-loop delay p99 each second, ms. */
  readonly probeLag: RttSample[] = []
  /** The tab processes' event-loop delay p99 each second, ms (every process's). */
  readonly tabLag: RttSample[] = []

  private constructor (readonly relay: BenchRelay, readonly probes: ChildLink, readonly tabs: ChildLink[]) {
    probes.on((e) => {
      if (e.event !== 'rtt') return
      const at = performance.now()
      for (const ms of e.samples as number[]) this.rtts.push({ at, ms })
      this.probeLag.push({ at, ms: e.lagP99Ms })
    })
    for (const t of tabs) t.on((e) => { if (e.event === 'progress') this.tabLag.push({ at: performance.now(), ms: e.lagP99Ms }) })
  }

  static async start (): Promise<Rig> {
    const relay = await BenchRelay.start(benchRelayLimits(CONFIG.difficulty, CONFIG.maxSessions))
    log(`bench: relay ${relay.peerId} on ${relay.wsAddr} (pid ${relay.pid})`)
    const probes = ChildLink.start('probes', 'bench/relay/probe-process.ts', { relay: relay.wsAddr, hosts: CONFIG.probeHosts })
    const tabs = Array.from({ length: CONFIG.tabProcesses }, (_, i) => ChildLink.start(`tabs-${i}`, 'bench/relay/tab-process.ts', {
      relay: relay.wsAddr,
      // each process its own share of the addresses
      hosts: CONFIG.tabHosts.filter((_h, j) => j % CONFIG.tabProcesses === i),
      perHost: CONFIG.joinsPerHost,
      inFlight: CONFIG.joinsPerProcess
    }, { nice: CONFIG.tabNice, nodeFlags: CONFIG.tabNodeFlags }))
    const rig = new Rig(relay, probes, tabs)
    await probes.waitFor(e => e.event === 'rtt' && e.sessions === CONFIG.probeHosts.length && e.reserved === CONFIG.probeHosts.length, 60_000)
    log(`bench: ${CONFIG.probeHosts.length} probes hold sessions and reservations`)
    return rig
  }

  /** Heartbeat RTTs the probes measured between `from` and `to` (performance.now()). */
  rttsBetween (from: number, to: number): number[] {
    return this.rtts.filter(s => s.at >= from && s.at <= to).map(s => s.ms)
  }

  probeLagBetween (from: number, to: number): number[] {
    return this.probeLag.filter(s => s.at >= from && s.at <= to).map(s => s.ms)
  }

  tabLagBetween (from: number, to: number): number[] {
    return this.tabLag.filter(s => s.at >= from && s.at <= to).map(s => s.ms)
  }

  /** Why the tabs' sessions with the relay ended, over the whole run. */
  lostWhy (): Record<string, number> {
    const all: Record<string, number> = {}
    for (const e of this.progress()) for (const [k, v] of Object.entries(e.lostWhy ?? {})) all[k] = (all[k] ?? 0) + Number(v)
    return all
  }

  /** The newest progress line of every tab process. */
  progress (): ChildEvent[] {
    return this.tabs.map(t => t.last.get('progress') ?? { event: 'progress' })
  }

  /** Sum of a numeric field over the tab processes' newest progress lines. */
  total (field: string): number {
    return this.progress().reduce((n, e) => n + Number(e[field] ?? 0), 0)
  }

  /** Asks the tab processes to hold `tabs` tabs between them. */
  grow (tabs: number): void {
    const n = this.tabs.length
    this.tabs.forEach((t, i) => { t.send({ cmd: 'grow', to: Math.floor(tabs / n) + (i < tabs % n ? 1 : 0) }) })
  }

  /** A helper process that died, if any. */
  dead (): string | undefined {
    for (const c of [this.probes, ...this.tabs]) if (c.exited) return `${c.name} exited:\n${c.tail.slice(-10).join('\n')}`
    if (this.relay.child.exitCode != null || this.relay.child.signalCode != null) return `the relay exited:\n${this.relay.tail.slice(-10).join('\n')}`
    return undefined
  }

  async stop (): Promise<void> {
    await Promise.all([this.probes, ...this.tabs].map(async c => { await c.stop() }))
    // let the relay see the connections go before it is asked to stop
    await sleep(1_000)
    await this.relay.stop()
  }
}
