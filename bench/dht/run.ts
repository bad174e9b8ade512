// npm run bench:dht — see the DHT section of BENCHMARKS.md. Progress on
// stderr; the last stdout line is the JSON summary.
// Needs `node --expose-gc` (memory is measured after forced collections).
import { BENCHMARKS_MD, loadAverage, log, machineInfo, upsertSection } from '../common/index.ts'
import { SIM } from './config.ts'
import { measureSize } from './measure.ts'
import { sampleMemory } from './memory.ts'
import { growTo, maintain, settle } from './network.ts'
import { dhtSection } from './report.ts'
import { seededRandom } from './rng.ts'
import { summarize } from './summary.ts'
import type { SimNode } from './sim-node.ts'
import type { SizeSummary } from './summary.ts'


function describe (s: SizeSummary): void {
  log(`N=${s.nodes}: success ${s.successRate}, hops median ${s.hopsMedian} p99 ${s.hopsP99} (log2 N = ${s.log2N}), ${s.lookupMsMedian} ms median, ${s.requestsMedian} requests, ${s.memoryPerNodeKB} KB/node, routing table median ${s.routingTable.median}, ${s.unknownNodes} nodes in no table, closest recall ${s.closest.recallMean}; loop delay p99 ${s.loopDelayP99Ms} ms, GC ${s.gcSeconds} s (max pause ${s.gcMaxPauseMs} ms)`)
}

async function main (): Promise<void> {
  const began = Date.now()
  const loadAtStart = loadAverage()
  log(`bench: 1-minute load average ${loadAtStart}; sizes ${SIM.sizes.join(', ')}`)
  const rand = seededRandom(SIM.seed)
  // the empty process: every size's memory is measured against this
  const baseline = await sampleMemory()
  const nodes: SimNode[] = []
  const sizes: SizeSummary[] = []
  for (const size of SIM.sizes) {
    log(`N=${size}: growing from ${nodes.length}`)
    const grown = await growTo(nodes, size, { seed: SIM.seed, rand, bootstrapPeers: SIM.bootstrapPeers, joinConcurrency: SIM.joinConcurrency, latencyMs: SIM.latencyMs, log })
    log(`N=${size}: joined in ${(grown.joinMs / 1000).toFixed(1)} s (${grown.selfQueryMisses} slow self-lookups), one maintenance round`)
    const maintenance = await maintain(nodes, SIM.joinConcurrency, log)
    log(`N=${size}: maintenance round in ${(maintenance.maintainMs / 1000).toFixed(1)} s (${maintenance.maintainFailures} self-lookups failed), settling`)
    const settled = { ...maintenance, ...await settle(nodes, SIM.settleQuietMs, SIM.settleMaxMs, log) }
    const result = await measureSize(nodes, grown, settled, {
      rand, lookups: SIM.lookups(size), closestLookups: SIM.closestLookups, lookupTimeoutMs: SIM.lookupTimeoutMs, baseline, log
    })
    const summary = summarize(result)
    describe(summary)
    sizes.push(summary)
  }

  const main = [...sizes].reverse().find(s => s.nodes >= 1000) ?? sizes.at(-1)
  if (main == null) throw new Error('no sizes to run')
  const seconds = Math.round((Date.now() - began) / 1000)
  const targetMet = main.nodes >= 1000 && main.successRate === 1 && main.hopsMedian <= main.log2N / 2
  if (process.env.DHT_BENCH_NO_WRITE !== '1') {
    upsertSection(BENCHMARKS_MD, 'DHT', dhtSection({ machine: machineInfo('', loadAtStart), sizes, seconds, closestLookups: SIM.closestLookups, targetMet, loadAtEnd: loadAverage() }))
    log('bench: wrote the DHT section of BENCHMARKS.md')
  }
  const summaryLine = {
    nodes: main.nodes,
    lookups: main.lookups,
    successRate: main.successRate,
    hopsMedian: main.hopsMedian,
    hopsP99: main.hopsP99,
    lookupMsMedian: main.lookupMsMedian,
    memoryPerNodeKB: main.memoryPerNodeKB,
    log2N: main.log2N,
    targetMet,
    seconds,
    sizes
  }
  process.stdout.write(`${JSON.stringify(summaryLine)}\n`)
}

main().then(() => {
  // stopping thousands of nodes takes long and measures nothing
  process.exit(0)
}, err => {
  log(`bench:dht failed: ${err instanceof Error ? err.stack : String(err)}`)
  process.exit(1)
})
