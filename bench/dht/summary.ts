import { median, percentile, round } from '../common/index.ts'
import type { SizeResult } from './measure.ts'

/** Per-size figures as printed in the JSON line and BENCHMARKS.md. */
export interface SizeSummary {
  nodes: number
  log2N: number
  lookups: number
  successRate: number
  hopsMedian: number
  hopsP99: number
  hopsMax: number
  /** Lookups (that found the target) by hop count. */
  hopsHistogram: Record<string, number>
  lookupMsMedian: number
  lookupMsP99: number
  /** After a lookup, until the process is idle again: pings and identify of the peers the lookup told nodes about (median, ms). */
  aftermathMsMedian: number
  /** FIND_NODE requests sent per lookup until the hit. */
  requestsMedian: number
  requestsP99: number
  /** Failed requests (timeouts, resets) per 100 lookups, our own cancellations not counted. */
  requestErrorsPer100: number
  requestErrorKinds: Record<string, number>
  /** Share of lookups whose target was already in the searcher's peer store (a `findPeer` with the cache on would have answered locally). */
  targetKnownLocally: number
  memoryPerNodeKB: number
  rssPerNodeKB: number
  routingTable: { min: number, median: number, max: number }
  /** Nodes in nobody's routing table. */
  unknownNodes: number
  connectionsMedian: { beforeLookups: number, afterLookups: number }
  /** Seconds to add the nodes since the previous size, and how many joins' self-lookups took over 15 s. */
  growSeconds: number
  selfQueryMisses: number
  joinFailures: number
  joinRetries: number
  dialErrors: Record<string, number>
  settleSeconds: number
  maintainSeconds: number
  maintainFailures: number
  loopDelayP99Ms: number
  loopDelayMaxMs: number
  gcSeconds: number
  gcMaxPauseMs: number
  closest: { lookups: number, recallMean: number, recallMin: number, msMedian: number, requestsMedian: number }
  failures: Array<{ targetIndex: number, knownBy: number, requests: number, errors: Record<string, number> }>
}

const mean = (xs: number[]): number => xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length

export function summarize (r: SizeResult): SizeSummary {
  const hits = r.lookups.filter(l => l.found)
  const hops = hits.map(l => l.hops ?? 0)
  const histogram: Record<string, number> = {}
  for (const h of hops) histogram[h] = (histogram[h] ?? 0) + 1
  const errorKinds: Record<string, number> = {}
  for (const l of r.lookups) for (const [k, v] of Object.entries(l.errorKinds)) errorKinds[k] = (errorKinds[k] ?? 0) + v
  const errors = r.lookups.reduce((a, l) => a + l.errors, 0)
  return {
    nodes: r.nodes,
    log2N: round(Math.log2(r.nodes), 2),
    lookups: r.lookups.length,
    successRate: round(hits.length / r.lookups.length, 4),
    hopsMedian: median(hops),
    hopsP99: percentile(hops, 99),
    hopsMax: Math.max(...hops),
    hopsHistogram: histogram,
    lookupMsMedian: round(median(r.lookups.map(l => l.ms))),
    lookupMsP99: round(percentile(r.lookups.map(l => l.ms), 99)),
    aftermathMsMedian: round(median(r.quietWaitMs)),
    requestsMedian: median(r.lookups.map(l => l.rpcs)),
    requestsP99: percentile(r.lookups.map(l => l.rpcs), 99),
    requestErrorsPer100: round(errors / r.lookups.length * 100),
    requestErrorKinds: errorKinds,
    targetKnownLocally: round(r.lookups.filter(l => l.knownLocally).length / r.lookups.length, 2),
    memoryPerNodeKB: Math.round(r.memory.heapAndExternal / r.nodes / 1024),
    rssPerNodeKB: Math.round(r.memory.rss / r.nodes / 1024),
    routingTable: { min: Math.min(...r.routingTableSizes), median: median(r.routingTableSizes), max: Math.max(...r.routingTableSizes) },
    unknownNodes: r.unknownNodes,
    connectionsMedian: { beforeLookups: median(r.connectionsBefore), afterLookups: median(r.connectionsAfter) },
    growSeconds: round(r.grow.joinMs / 1000),
    selfQueryMisses: r.grow.selfQueryMisses,
    joinFailures: r.grow.joinFailures,
    joinRetries: r.grow.retries,
    dialErrors: r.grow.dialErrors,
    settleSeconds: round(r.settle.settleMs / 1000),
    maintainSeconds: round(r.settle.maintainMs / 1000),
    maintainFailures: r.settle.maintainFailures,
    loopDelayP99Ms: round(r.loopDelayP99Ms),
    loopDelayMaxMs: round(r.loopDelayMaxMs),
    gcSeconds: round(r.gcMs / 1000),
    gcMaxPauseMs: round(r.gcMaxPauseMs),
    closest: {
      lookups: r.closest.length,
      recallMean: round(mean(r.closest.map(c => c.recall)), 3),
      recallMin: round(Math.min(...r.closest.map(c => c.recall)), 2),
      msMedian: round(median(r.closest.map(c => c.ms))),
      requestsMedian: median(r.closest.map(c => c.rpcs))
    },
    failures: r.failed.map(f => ({ targetIndex: f.targetIndex, knownBy: f.knownBy, requests: f.result.rpcs, errors: f.result.errorKinds }))
  }
}
