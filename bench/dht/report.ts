import { DHT_PROTOCOL } from '../../shared/wire/index.ts'
import type { MachineInfo } from '../common/index.ts'
import type { SizeSummary } from './summary.ts'

export interface DhtBenchResult {
  machine: MachineInfo
  sizes: SizeSummary[]
  seconds: number
  closestLookups: number
  targetMet: boolean
  loadAtEnd: number
}

const hist = (h: Record<string, number>): string => Object.entries(h).map(([hops, n]) => `${n} × ${hops}`).join(', ')
const kinds = (k: Record<string, number>): string => Object.keys(k).length === 0 ? 'none' : Object.entries(k).map(([what, n]) => `${n} × ${what}`).join('; ')

function sizeTable (s: SizeSummary): string {
  return `#### ${s.nodes.toLocaleString('en-US')} nodes (log2 N = ${s.log2N})

| Figure | Value |
|---|---|
| findPeer success | ${s.successRate} (${Math.round(s.successRate * s.lookups)} of ${s.lookups})${s.failures.length > 0 ? `; failed: ${s.failures.map(f => `node #${f.targetIndex} (in ${f.knownBy} routing tables, ${f.requests} requests, ${Object.keys(f.errors).length === 0 ? 'no request failed' : kinds(f.errors)})`).join(', ')}` : ''} |
| Hops median / p99 / max (log2 N / 2 = ${(s.log2N / 2).toFixed(2)}) | ${s.hopsMedian} / ${s.hopsP99} / ${s.hopsMax}; lookups × hops: ${hist(s.hopsHistogram)} |
| Time per lookup, median / p99 | ${s.lookupMsMedian} ms / ${s.lookupMsP99} ms |
| Requests per lookup, median / p99 | ${s.requestsMedian} / ${s.requestsP99} |
| Failed requests | ${s.requestErrorsPer100} per 100 lookups (${kinds(s.requestErrorKinds)}) |
| Target already in the searcher's peer store | ${Math.round(s.targetKnownLocally * 100)} % |
| Background work a lookup leaves, median | ${s.aftermathMsMedian} ms |
| getClosestPeers recall of the true 20 closest, mean / min | ${s.closest.recallMean} / ${s.closest.recallMin} (${s.closest.lookups} lookups; median ${s.closest.msMedian} ms, ${s.closest.requestsMedian} requests) |
| Memory per node: V8 heap + external / RSS | ${s.memoryPerNodeKB} KB / ${s.rssPerNodeKB} KB |
| Routing table size min / median / max; nodes in no table | ${s.routingTable.min} / ${s.routingTable.median} / ${s.routingTable.max}; ${s.unknownNodes} |
| Connections per node (median), before / after the lookups | ${s.connectionsMedian.beforeLookups} / ${s.connectionsMedian.afterLookups} |
| Growing to this size | ${s.growSeconds} s; ${s.selfQueryMisses} self-lookups over 15 s; ${s.joinRetries} joins retried; maintenance round ${s.maintainSeconds} s (${s.maintainFailures} self-lookups failed); settled in ${s.settleSeconds} s |
| During the lookups: event loop delay p99 / max; GC | ${s.loopDelayP99Ms} ms / ${s.loopDelayMaxMs} ms; ${s.gcSeconds} s in all, longest pause ${s.gcMaxPauseMs} ms |
`
}

function trendTable (sizes: SizeSummary[]): string {
  const rows = sizes.map(s => `| ${s.nodes} | ${s.log2N} | ${s.lookups} | ${s.successRate} | ${s.hopsMedian} / ${s.hopsP99} | ${s.lookupMsMedian} | ${s.requestsMedian} | ${s.memoryPerNodeKB} / ${s.rssPerNodeKB} | ${s.routingTable.median} | ${s.closest.recallMean} |`)
  return `| Nodes | log2 N | Lookups | Success | Hops median / p99 | ms per lookup (median) | Requests per lookup | KB per node (heap / RSS) | Routing table (median) | Closest-20 recall |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}`
}

/** The `## DHT` section of BENCHMARKS.md. */
export function dhtSection (r: DhtBenchResult): string {
  const m = r.machine
  const largest = r.sizes.at(-1)
  return `## DHT

Golem Clay's kad-dht (\`@libp2p/kad-dht\` with \`dhtConfig(true)\`, the relay gateways' settings) in simulated networks of up to ${largest?.nodes.toLocaleString('en-US') ?? 0} nodes in one process, from one run of \`npm run bench:dht\` (${Math.round(r.seconds / 60)} min). Target: findPeer success 1.0 at ≥ 1,000 nodes and median hops ≤ log2(N)/2: **${r.targetMet ? 'met' : 'not met'}**.

Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM; Node ${m.node}. Date: ${m.date}; 1-minute load average ${m.loadAtStart} at the start, ${r.loadAtEnd} at the end. The machine is shared: other work slows the joins and lookups (times), not their hops or success.

${trendTable(r.sizes)}

${r.sizes.map(sizeTable).join('\n')}
### Method

- **Network.** One network grows through the sizes above and is measured at each. Every node is a full libp2p node: identify, ping, Yamux and kad-dht in server mode with \`dhtConfig(true)\` (our protocol \`${DHT_PROTOCOL}\`; kad-dht's defaults: k = 20, α = 10, 20 disjoint paths, a routing table of up to 64 buckets of 20 peers, each peer pinged before it is admitted). The transport is \`@libp2p/memory\` (in-process), with plaintext instead of Noise and no added latency: a lookup's time is the CPU time this one process needed to serve it, not network time. Peer keys and every random choice come from a fixed seed.
- **Join.** A node starts, dials 3 random nodes that have already joined and waits for kad-dht's own start-up self-lookup (1 s after the first peer arrives), which walks to its closest peers; they add the newcomer after pinging it. kad-dht also runs its start-up routing table refresh. 8 joins are in flight at once; a node whose routing table stays empty retries with other bootstrap peers (at most 3 times, as a relay retries its seeds). Before measuring, the run waits until no routing table has changed for 5 s.
- **What the sim changes.** kad-dht repeats its self-lookup and routing table refresh every 5 min and re-tags its closest peers every 5 s. With every node sharing one CPU, at 1,000 nodes that is several lookups a second on top of what is measured, so the repeats are pushed past the end of the run (1 h) and the tagging runs every minute. In their place, once a size is reached and before it is measured, every node runs one self-lookup (\`getClosestPeers\` of its own ID, 8 at a time): one round of that maintenance, as in a network that has been up for a few minutes. Without it, in an earlier run, 1 of 200 lookups at 1,000 nodes failed: a node that joined late was in 59 routing tables, but not in those of the peers the lookup walked through.
- **Lookups.** \`findPeer(target, { useCache: false })\` (always asks the network) from a random node for another random node, stopped at the first answer carrying the target as libp2p's peer routing does, 30 s limit. Success = the target's peer info came back. Each lookup starts once the process is idle again (under a quarter of a core for 200 ms, at most 20 s): a response's closer peers are each pinged by the node that heard of them, so a lookup leaves new connections and routing table entries behind ("background work"), and a lookup started in the middle of that would queue behind other nodes' work in this shared process. This also means later sizes start from a busier mesh.
- **Hops.** kad-dht reports each request and response as a progress event; the bench rebuilds the query's referral tree from them. A peer from the searcher's own routing table is at depth 1; a peer first learned from the response of a depth-d peer (and closer to the target than it, the condition under which kad-dht asks it) is at depth d + 1. Hops = the depth of the peer whose response first carried the target, i.e. sequential request rounds on that path (1 = the searcher asked a peer it already knew). kad-dht sends 20 requests at once (one per disjoint path), so requests per lookup measure the work and hops the latency in round trips.
- **getClosestPeers**: ${r.closestLookups} full Kademlia lookups per size for random keys; recall = share of the true 20 closest nodes to the key (from all node IDs, the searcher excluded) that the lookup returned.
- **Memory per node** = (V8 heap used + external memory after three forced collections, \`--expose-gc\`) with N nodes, minus the same for the process before the first node, divided by N; RSS likewise. It counts both ends of every connection (both live in this process), peer stores, routing tables and the bench's bookkeeping, after joining and before that size's lookups.
- **Not included.** Real latency, loss and churn (no node leaves), Noise, Golem Clay's session handshake and Hashcash, tabs and Node peers in client mode, and records (\`put\`/\`get\`). 2,000 nodes (\`DHT_BENCH_SIZES=100,250,500,1000,2000\`) did not fit a reasonable run time on this 2-core machine: a join costs ~0.5–1 s of CPU here.
`
}
