import { errorKind, routingTableOf } from './lookup.ts'
import { sample } from './rng.ts'
import { createSimNode } from './sim-node.ts'
import type { SimNode } from './sim-node.ts'

export interface GrowOptions {
  seed: number
  rand: () => number
  /** Existing nodes each newcomer dials. */
  bootstrapPeers: number
  /** Nodes joining at once; each waits ~1 s for kad-dht's initial self-lookup, so joins overlap. */
  joinConcurrency: number
  latencyMs: number
  log: (line: string) => void
}

export interface GrowResult {
  joinMs: number
  /** Join attempts where no bootstrap dial succeeded. */
  joinFailures: number
  /** Joins tried again with other bootstrap peers because the routing table stayed empty. */
  retries: number
  dialErrors: Record<string, number>
  /** Joins whose self-lookup had not reported success after `SELF_QUERY_WAIT_MS` (kad-dht keeps it running). */
  selfQueryMisses: number
}

/** kad-dht starts its self-lookup 1 s after start (once a peer is in the routing table). */
const SELF_QUERY_WAIT_MS = 15_000
const DIAL_TIMEOUT_MS = 10_000
const MAX_JOIN_ATTEMPTS = 3
/** kad-dht dispatches this on the node's event bus when a self-lookup ends; libp2p's event map does not list it. */
const SELF_QUERY_EVENT = 'kad-dht:query:self' as 'start'

function count (into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1
}

/** Resolves true when the node's self-lookup finished, false after `ms` (kad-dht reports no event when it fails). */
async function selfQueryDone (node: SimNode, ms: number): Promise<boolean> {
  return await new Promise(resolve => {
    const done = (ok: boolean): void => {
      clearTimeout(timer)
      node.removeEventListener(SELF_QUERY_EVENT, onEvent)
      resolve(ok)
    }
    const onEvent = (): void => { done(true) }
    const timer = setTimeout(() => { done(false) }, ms)
    node.addEventListener(SELF_QUERY_EVENT, onEvent)
  })
}

/**
 * Adds nodes to `nodes` until it holds `size`, a few at a time. A join is
 * the Kademlia one: start, dial a few random nodes that have already
 * joined, and wait for kad-dht's own start-up self-lookup, which walks to
 * the newcomer's closest peers and so puts it in their routing tables
 * (kad-dht also starts a routing table refresh on start, in the background).
 */
export async function growTo (nodes: SimNode[], size: number, opts: GrowOptions): Promise<GrowResult> {
  const joined = [...nodes]
  let next = nodes.length
  let joinFailures = 0
  let selfQueryMisses = 0
  let retries = 0
  const dialErrors: Record<string, number> = {}
  const start = performance.now()

  const join = async (index: number): Promise<void> => {
    const node = await createSimNode(opts.seed, index, opts.latencyMs)
    nodes[index] = node
    await node.start()
    // a node that could not reach anyone tries other bootstrap peers, as a relay retries its seeds
    for (let attempt = 1; joined.length > 0; attempt++) {
      const selfQuery = selfQueryDone(node, SELF_QUERY_WAIT_MS)
      const peers = sample(opts.rand, joined, opts.bootstrapPeers)
      const dials = await Promise.allSettled(peers.map(async peer => {
        const addr = peer.getMultiaddrs()[0]
        if (addr == null) throw new Error('bootstrap peer has no address')
        await node.dial(addr, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      }))
      for (const d of dials) if (d.status === 'rejected') count(dialErrors, errorKind(d.reason as Error))
      const connected = dials.some(d => d.status === 'fulfilled')
      if (!connected) joinFailures++
      // kad-dht runs its self-lookup once the first peer is in the routing table
      if (connected && !await selfQuery) selfQueryMisses++
      if (routingTableOf(node).size > 0 || attempt === MAX_JOIN_ATTEMPTS) break
      retries++
    }
    joined.push(node)
  }

  // the very first node must be up before anyone can dial it
  if (next === 0 && size > 0) await join(next++)
  await inParallel(next, size, opts.joinConcurrency, join, (seconds) => {
    opts.log(`  joined ${joined.length}/${size} (${seconds} s)`)
  })
  return { joinMs: performance.now() - start, joinFailures, selfQueryMisses, retries, dialErrors }
}

/**
 * Runs `task(i)` for every i in [from, to), `concurrency` at a time, in
 * order of i; `progress(seconds, started)` at most every 10 s.
 */
async function inParallel (from: number, to: number, concurrency: number, task: (i: number) => Promise<void>, progress: (seconds: string, started: number) => void): Promise<void> {
  const start = performance.now()
  let next = from
  let lastLog = start
  const worker = async (): Promise<void> => {
    while (next < to) {
      await task(next++)
      const now = performance.now()
      if (now - lastLog > 10_000) {
        lastLog = now
        progress(((now - start) / 1000).toFixed(0), next)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

export interface SettleResult {
  settleMs: number
  routingTableSum: number
}

/** The maintenance round before settling: every node's self-lookup. */
export interface MaintainResult {
  maintainMs: number
  maintainFailures: number
}

/**
 * One round of kad-dht's periodic maintenance, which the sim otherwise pushes
 * past the run (see sim-node.ts): every node looks itself up, as kad-dht's
 * self-query does every 5 minutes, so nodes that joined after their
 * neighbours learn of each other as they would in a network that has run
 * for a few minutes. `concurrency` lookups at a time.
 */
export async function maintain (nodes: SimNode[], concurrency: number, log: (line: string) => void): Promise<MaintainResult> {
  const start = performance.now()
  let failures = 0
  await inParallel(0, nodes.length, concurrency, async (i) => {
    const node = nodes[i] as SimNode
    try {
      for await (const _ of node.services.dht.getClosestPeers(node.peerId.toMultihash().bytes, { signal: AbortSignal.timeout(SELF_QUERY_WAIT_MS) })) {} // eslint-disable-line no-empty
    } catch {
      failures++
    }
  }, (seconds, done) => { log(`  maintenance: ${done}/${nodes.length} self-lookups (${seconds} s)`) })
  return { maintainMs: performance.now() - start, maintainFailures: failures }
}

/**
 * Waits until the routing tables stop changing: the start-up refreshes and
 * the pings that admit peers to routing tables have run their course.
 */
export async function settle (nodes: SimNode[], quietMs: number, maxMs: number, log: (line: string) => void): Promise<SettleResult> {
  const start = performance.now()
  let last = -1
  let stableSince = start
  let lastLog = start
  while (true) {
    await new Promise(resolve => setTimeout(resolve, 1000))
    const sum = nodes.reduce((acc, n) => acc + routingTableOf(n).size, 0)
    const now = performance.now()
    if (sum !== last) { last = sum; stableSince = now }
    if (now - lastLog >= 5000) {
      lastLog = now
      log(`  settling: ${sum} routing table entries (mean ${(sum / nodes.length).toFixed(1)}), ${((now - start) / 1000).toFixed(0)} s`)
    }
    if (now - stableSince >= quietMs || now - start >= maxMs) return { settleMs: now - start, routingTableSum: sum }
  }
}
