import { compareDistance, peerKadId } from './kad-id.ts'
import type { SimNode } from './sim-node.ts'
import type { PeerId, PeerInfo } from '@libp2p/interface'
import type { QueryEvent } from '@libp2p/kad-dht'

/** kad-dht's default k (bucket size, peers a query starts from and returns). */
export const K = 20

export interface LookupResult {
  found: boolean
  /** Referral depth of the peer whose response first carried the target (see `HopTracker`); null when not found. */
  hops: number | null
  /** From the call until the target's record arrived (or the query gave up). */
  ms: number
  /** FIND_NODE requests sent until then. */
  rpcs: number
  errors: number
  /** Failed requests by error name and message, and whether the request had been sent (else the stream was still opening); our own cancellation of the rest of the query after a hit is not counted. */
  errorKinds: Record<string, number>
  /** The searcher already had the target in its peer store, so `findPeer` with the cache on would not have gone to the network. */
  knownLocally: boolean
}

/** The runtime routing table; kad-dht's public type only exposes `size`. */
interface RoutingTableInternals {
  size: number
  closestPeers: (kadId: Uint8Array, options?: { count?: number }) => PeerId[]
  find: (peer: PeerId) => Promise<PeerId | undefined>
  kb: { toIterable: () => Iterable<{ peerId: PeerId }> }
}

export function routingTableOf (node: SimNode): RoutingTableInternals {
  return (node.services.dht as unknown as { routingTable: RoutingTableInternals }).routingTable
}

/**
 * Reconstructs the referral tree of one query from its progress events,
 * which kad-dht emits as each request is sent and each response parsed. A
 * peer taken from the searcher's own routing table is at depth 1; a peer
 * first learned from the response of a depth-d peer (and closer to the key
 * than that peer, the condition kad-dht queries it under) is at d + 1.
 * kad-dht asks each peer once per query, on its first referral, so this is
 * the path the query really took.
 */
class HopTracker {
  private readonly depth = new Map<string, number>()
  private readonly referred = new Map<string, number>()
  private readonly ids = new Map<string, Uint8Array>()

  constructor (private readonly target: Uint8Array, private readonly startSet: Set<string>) {}

  private idOf (peer: PeerId): Uint8Array {
    const key = peer.toString()
    let id = this.ids.get(key)
    if (id == null) { id = peerKadId(peer); this.ids.set(key, id) }
    return id
  }

  sent (to: PeerId): void {
    const key = to.toString()
    if (this.depth.has(key)) return
    this.depth.set(key, this.startSet.has(key) ? 1 : this.referred.get(key) ?? 1)
  }

  responded (from: PeerId, closer: PeerInfo[]): void {
    const d = this.depthOf(from)
    const fromId = this.idOf(from)
    for (const peer of closer) {
      const key = peer.id.toString()
      if (this.referred.has(key) || compareDistance(this.target, this.idOf(peer.id), fromId) >= 0) continue
      this.referred.set(key, d + 1)
    }
  }

  depthOf (peer: PeerId): number {
    return this.depth.get(peer.toString()) ?? 1
  }
}

/**
 * One network lookup as libp2p's `peerRouting.findPeer` does it: kad-dht
 * `findPeer` until the first FINAL_PEER, then the query is abandoned. The
 * cache is off so the network is always asked.
 */
export async function findPeerLookup (searcher: SimNode, target: PeerId, timeoutMs: number): Promise<LookupResult> {
  const targetId = peerKadId(target)
  const startSet = new Set(routingTableOf(searcher).closestPeers(targetId, { count: K }).map(p => p.toString()))
  const tracker = new HopTracker(targetId, startSet)
  const knownLocally = await searcher.peerStore.has(target)
  let rpcs = 0
  let errors = 0
  const errorKinds = new Map<string, number>()
  const sentTo = new Set<string>()
  // written from the progress callback, read after the query
  const state: { hit: number | null, finished: boolean } = { hit: null, finished: false }
  const onProgress = (evt: Event): void => {
    // the dialer reports its own progress events through the same callback
    if (!evt.type.startsWith('kad-dht:query:') || state.finished) return
    const event = (evt as CustomEvent<QueryEvent>).detail
    if (event.name === 'SEND_QUERY') { rpcs++; tracker.sent(event.to); sentTo.add(event.to.toString()) }
    if (event.name === 'PEER_RESPONSE') tracker.responded(event.from, event.closer)
    if (event.name === 'QUERY_ERROR') {
      errors++
      const kind = `${errorKind(event.error)} (${sentTo.has(event.from.toString()) ? 'awaiting the reply' : 'opening the stream'})`
      errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1)
    }
    if (event.name === 'FINAL_PEER' && state.hit == null && event.peer.id.equals(target)) state.hit = tracker.depthOf(event.from)
  }
  const start = performance.now()
  try {
    for await (const event of searcher.services.dht.findPeer(target, { useCache: false, signal: AbortSignal.timeout(timeoutMs), onProgress })) {
      // leaving the loop cancels the requests still in flight
      if (event.name === 'FINAL_PEER' && event.peer.id.equals(target)) { state.finished = true; break }
    }
  } catch {
    // NotFoundError or timeout: counted as a failure below
  }
  const ms = performance.now() - start
  state.finished = true
  const found = state.hit
  return {
    found: found != null,
    hops: found,
    ms,
    rpcs,
    errors,
    errorKinds: Object.fromEntries(errorKinds),
    knownLocally
  }
}

/** Groups request failures: name plus the message without peer IDs. */
export function errorKind (err: Error): string {
  return `${err.name}: ${err.message.replace(/\b(12D3Koo|Qm)\w+/g, '<peer>').slice(0, 120)}`
}

export interface ClosestResult {
  /** Share of the true k closest peers that the query returned. */
  recall: number
  ms: number
  rpcs: number
}

/** A full Kademlia node lookup (`getClosestPeers`) for `key`, checked against the true k closest nodes other than the searcher (it never returns itself). */
export async function closestLookup (searcher: SimNode, key: Uint8Array, truth: Set<string>, timeoutMs: number): Promise<ClosestResult> {
  let rpcs = 0
  const returned = new Set<string>()
  const start = performance.now()
  try {
    for await (const event of searcher.services.dht.getClosestPeers(key, { signal: AbortSignal.timeout(timeoutMs) })) {
      if (event.name === 'SEND_QUERY') rpcs++
      if (event.name === 'FINAL_PEER') returned.add(event.peer.id.toString())
    }
  } catch {
    // a timeout keeps what was returned so far
  }
  const ms = performance.now() - start
  const hits = [...truth].filter(p => returned.has(p)).length
  return { recall: truth.size === 0 ? 1 : hits / truth.size, ms, rpcs }
}
