import { RelayStatusError } from '../../shared/p2p-service/index.ts'
import { anySignal, Backoff, delay } from '../../shared/util/index.ts'
import { formatTimeout } from './peer-config.ts'
import { JoinTimeoutError } from './peer-errors.ts'
import { resolveRelay } from './resolve-relay.ts'
import type { NodePeer } from './create-node-peer.ts'
import type { RelayStatus } from '../../shared/p2p-service/index.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface JoinOptions {
  /** Aborts when joining has taken too long (--timeout). */
  signal?: AbortSignal
  /** The bound behind `signal`, in ms, for the message. */
  timeout?: number
}

export interface ResolveRelaysOptions extends JoinOptions {
  /** A relay's URL did not answer; another try follows after `retryInMs`. */
  onWaiting?: (wait: { relay: string, message: string, retryInMs: number }) => void
}

function joinTimeout (options: JoinOptions, why: string): JoinTimeoutError {
  const within = options.timeout != null ? ` within ${formatTimeout(options.timeout)} (--timeout)` : ''
  return new JoinTimeoutError(`could not join the network${within}: ${why}`)
}

/**
 * The `--relay` values as multiaddrs to dial. A relay given by URL may
 * still be starting: it is asked again with backoff until `signal` aborts.
 */
export async function resolveRelays (values: string[], options: ResolveRelaysOptions = {}): Promise<Multiaddr[]> {
  const relays: Multiaddr[] = []
  for (const value of values) {
    const backoff = new Backoff({ initialDelay: 500, maxDelay: 15_000 })
    for (;;) {
      try {
        relays.push(await resolveRelay(value, anySignal([options.signal], 10_000)))
        break
      } catch (err: any) {
        if (!(err instanceof RelayStatusError)) throw err
        if (options.signal?.aborted === true) throw joinTimeout(options, err.message)
        const wait = backoff.next()
        options.onWaiting?.({ relay: value, message: err.message, retryInMs: wait })
        try {
          await delay(wait, options.signal)
        } catch {
          throw joinTimeout(options, err.message)
        }
      }
    }
  }
  return relays
}

/** Why no relay has taken us in yet, from the connector's view. */
function whyNot (status: RelayStatus[]): string {
  if (status.length === 0) return 'no relay to join'
  return status.map(r => `relay ${r.addr} ${r.lastError != null ? `unreachable (${r.lastError})` : `still ${r.state}`}`).join('; ')
}

/** Resolves once a relay holds a reservation for `node` (others can reach it); JoinTimeoutError when `signal` aborts first. */
export async function untilReachable (node: NodePeer, options: JoinOptions = {}): Promise<void> {
  const relays = node.services.relays
  const reserved = (): boolean => relays.status.some(r => r.state === 'reserved')
  if (reserved()) return
  if (options.signal?.aborted === true) throw joinTimeout(options, whyNot(relays.status))
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      relays.removeEventListener('relay:status', onStatus)
      options.signal?.removeEventListener('abort', onAbort)
    }
    const onStatus = (): void => {
      if (!reserved()) return
      done()
      resolve()
    }
    const onAbort = (): void => {
      done()
      reject(joinTimeout(options, whyNot(relays.status)))
    }
    relays.addEventListener('relay:status', onStatus)
    options.signal?.addEventListener('abort', onAbort, { once: true })
  })
}
