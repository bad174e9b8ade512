import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { kadId, peerKadId, trueClosest } from './kad-id.ts'
import { closestLookup, findPeerLookup, K, routingTableOf } from './lookup.ts'
import { sampleMemory } from './memory.ts'
import { waitForQuiet } from './quiet.ts'
import { pick } from './rng.ts'
import type { ClosestResult, LookupResult } from './lookup.ts'
import type { MemorySample } from './memory.ts'
import type { GrowResult, MaintainResult, SettleResult } from './network.ts'
import type { SimNode } from './sim-node.ts'

/** Why a lookup failed, as far as the network's state tells. */
export interface FailedLookup {
  /** Join order of the target (0 = first node). */
  targetIndex: number
  /** Nodes holding the target in their routing table. */
  knownBy: number
  result: LookupResult
}

/** What one network size measured (raw samples; summary.ts condenses them). */
export interface SizeResult {
  nodes: number
  grow: GrowResult
  settle: SettleResult & MaintainResult
  /** Live memory held by the whole network after settling (minus the empty process). */
  memory: MemorySample
  routingTableSizes: number[]
  /** Nodes in nobody's routing table after the lookups: no lookup can find them. */
  unknownNodes: number
  connectionsBefore: number[]
  connectionsAfter: number[]
  lookups: LookupResult[]
  failed: FailedLookup[]
  lookupWallMs: number
  /** Time from one lookup's end until the process was idle again, ms. */
  quietWaitMs: number[]
  /** Event loop delay during the lookups, ms: a request waits 5 s at least before kad-dht times it out. */
  loopDelayP99Ms: number
  loopDelayMaxMs: number
  /** Garbage collection during the lookups: one process holds every node, so a pause stalls them all at once. */
  gcMs: number
  gcMaxPauseMs: number
  closest: ClosestResult[]
}

export interface MeasureOptions {
  rand: () => number
  lookups: number
  closestLookups: number
  lookupTimeoutMs: number
  baseline: MemorySample
  log: (line: string) => void
}

function unknownNodes (nodes: SimNode[]): number {
  const known = new Set<string>()
  for (const node of nodes) for (const { peerId } of routingTableOf(node).kb.toIterable()) known.add(peerId.toString())
  return nodes.filter(node => !known.has(node.peerId.toString())).length
}

/** Total and longest garbage collection pause while `fn` runs. */
async function watchGc<T> (fn: () => Promise<T>): Promise<{ value: T, gcMs: number, gcMaxPauseMs: number }> {
  let gcMs = 0
  let gcMaxPauseMs = 0
  const observer = new PerformanceObserver(list => {
    for (const e of list.getEntries()) { gcMs += e.duration; gcMaxPauseMs = Math.max(gcMaxPauseMs, e.duration) }
  })
  observer.observe({ entryTypes: ['gc'] })
  try {
    const value = await fn()
    return { value, gcMs, gcMaxPauseMs }
  } finally {
    observer.disconnect()
  }
}

async function knownBy (nodes: SimNode[], target: SimNode): Promise<number> {
  const found = await Promise.all(nodes.map(async n => await routingTableOf(n).find(target.peerId)))
  return found.filter(p => p != null).length
}

/** findPeer from random searchers to random other nodes. */
async function runLookups (nodes: SimNode[], opts: MeasureOptions): Promise<{ lookups: LookupResult[], failed: FailedLookup[], quietWaitMs: number[] }> {
  const lookups: LookupResult[] = []
  const failed: FailedLookup[] = []
  const quietWaitMs: number[] = []
  const start = performance.now()
  for (let i = 0; i < opts.lookups; i++) {
    // the wait is the background work the previous lookup left behind
    quietWaitMs.push(await waitForQuiet())
    const searcher = pick(opts.rand, nodes)
    let target = pick(opts.rand, nodes)
    while (target === searcher) target = pick(opts.rand, nodes)
    const result = await findPeerLookup(searcher, target.peerId, opts.lookupTimeoutMs)
    lookups.push(result)
    if (!result.found) {
      const failure = { targetIndex: nodes.indexOf(target), knownBy: await knownBy(nodes, target), result }
      failed.push(failure)
      opts.log(`  lookup ${i + 1} failed: target #${failure.targetIndex}, in ${failure.knownBy} routing tables, ${result.rpcs} requests, ${JSON.stringify(result.errorKinds)}`)
    }
    if ((i + 1) % 50 === 0) opts.log(`  ${i + 1}/${opts.lookups} lookups, ${failed.length} failed, ${((performance.now() - start) / 1000).toFixed(0)} s`)
  }
  return { lookups, failed, quietWaitMs: quietWaitMs.slice(1) }
}

/** findPeer from random searchers to random other nodes, then a few full `getClosestPeers` lookups checked against the true k closest. */
export async function measureSize (nodes: SimNode[], grow: GrowResult, settled: SettleResult & MaintainResult, opts: MeasureOptions): Promise<SizeResult> {
  const n = nodes.length
  const now = await sampleMemory()
  const memory = { heapAndExternal: now.heapAndExternal - opts.baseline.heapAndExternal, rss: now.rss - opts.baseline.rss }
  const routingTableSizes = nodes.map(node => routingTableOf(node).size)
  const connectionsBefore = nodes.map(node => node.getConnections().length)

  opts.log(`N=${n}: ${opts.lookups} findPeer lookups`)
  const loopDelay = monitorEventLoopDelay({ resolution: 20 })
  loopDelay.enable()
  const start = performance.now()
  const { value: { lookups, failed, quietWaitMs }, gcMs, gcMaxPauseMs } = await watchGc(async () => await runLookups(nodes, opts))
  const lookupWallMs = performance.now() - start
  loopDelay.disable()

  opts.log(`N=${n}: ${opts.closestLookups} getClosestPeers lookups`)
  const ids = nodes.map(node => peerKadId(node.peerId))
  const closest: ClosestResult[] = []
  for (let i = 0; i < opts.closestLookups; i++) {
    const searcher = nodes.indexOf(pick(opts.rand, nodes))
    const key = Uint8Array.from({ length: 32 }, () => Math.floor(opts.rand() * 256))
    // kad-dht never returns the searcher itself
    const others = nodes.map((_, j) => j).filter(j => j !== searcher)
    const truth = trueClosest(kadId(key), others.map(j => ids[j] ?? new Uint8Array(32)), K)
    const truthIds = new Set(truth.map(t => nodes[others[t] ?? 0]?.peerId.toString() ?? ''))
    const node = nodes[searcher]
    await waitForQuiet()
    if (node != null) closest.push(await closestLookup(node, key, truthIds, opts.lookupTimeoutMs))
  }

  return {
    nodes: n,
    grow,
    settle: settled,
    memory,
    routingTableSizes,
    unknownNodes: unknownNodes(nodes),
    connectionsBefore,
    connectionsAfter: nodes.map(node => node.getConnections().length),
    lookups,
    failed,
    lookupWallMs,
    quietWaitMs,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
    gcMs,
    gcMaxPauseMs,
    closest
  }
}
