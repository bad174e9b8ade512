import type { AbortOptions, ComponentLogger, Logger, PeerInfo, PeerRouting, Startable } from '@libp2p/interface'
import type { RandomWalk } from '@libp2p/interface-internal'

export interface PacedRandomWalkInit {
  /** Pause after a walk step that turned up a peer not seen before, ms. @default 1_000 */
  minDelay?: number
  /** Longest pause: a step that turns up nothing new doubles the pause up to this, ms. @default 60_000 */
  maxDelay?: number
  /** Peers remembered as already seen, per walk. @default 1_024 */
  maxSeen?: number
}

export interface PacedRandomWalkComponents {
  peerRouting: PeerRouting
  logger: ComponentLogger
}

/**
 * libp2p's random walk (used by the circuit relay transport to find more
 * relays) runs its DHT queries back to back. When the network has fewer
 * relays than a node wants reservations, for instance one relay, every
 * query ends at once with nothing new and the next starts straight away:
 * hundreds of queries a second at the relay, a busy core in the tab, and a
 * relay that rate-limits and bans the peer. This walk pauses between
 * queries and backs off while they find nobody new.
 *
 * Installed as the service `randomWalk`, which replaces libp2p's component
 * of that name.
 */
export class PacedRandomWalk implements RandomWalk, Startable {
  private readonly log: Logger
  private readonly minDelay: number
  private readonly maxDelay: number
  private readonly maxSeen: number
  private controller = new AbortController()

  constructor (private readonly components: PacedRandomWalkComponents, init: PacedRandomWalkInit = {}) {
    this.log = components.logger.forComponent('golem-clay:random-walk')
    this.minDelay = init.minDelay ?? 1_000
    this.maxDelay = init.maxDelay ?? 60_000
    this.maxSeen = init.maxSeen ?? 1_024
  }

  readonly [Symbol.toStringTag] = '@golem-clay/paced-random-walk'

  start (): void {
    this.controller = new AbortController()
  }

  stop (): void {
    this.controller.abort()
  }

  async * walk (options: AbortOptions = {}): AsyncGenerator<PeerInfo> {
    const signal = AbortSignal.any([this.controller.signal, ...(options.signal != null ? [options.signal] : [])])
    const seen = new Set<string>()
    let delay = this.minDelay
    while (!signal.aborted) {
      let fresh = 0
      try {
        const key = crypto.getRandomValues(new Uint8Array(32))
        for await (const peer of this.components.peerRouting.getClosestPeers(key, { signal })) {
          const id = peer.id.toString()
          if (!seen.has(id)) {
            fresh++
            if (seen.size >= this.maxSeen) seen.delete(seen.values().next().value as string)
            seen.add(id)
          }
          yield peer
        }
      } catch (err: any) {
        if (signal.aborted) return
        this.log('walk step failed - %e', err)
      }
      delay = fresh > 0 ? this.minDelay : Math.min(delay * 2, this.maxDelay)
      if (fresh === 0) this.log.trace('nothing new; next step in %d ms', delay)
      await pause(delay, signal)
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
async function pause (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>(resolve => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

export function pacedRandomWalk (init: PacedRandomWalkInit = {}): (components: PacedRandomWalkComponents) => PacedRandomWalk {
  return (components) => new PacedRandomWalk(components, init)
}
