import { multiaddr } from '@multiformats/multiaddr'
import { Circuit, TCP, WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher'
import { InvalidConfigError } from '../errors.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface SelectRelayAddrInit {
  /** What this node can dial: tabs need WebSockets, Node peers prefer TCP. */
  transport: 'websocket' | 'tcp'
  /** Host the relay is known by (the page's hostname, or the URL given). */
  host?: string
  /** Only secure WebSockets will do (the page is served over https). */
  secure?: boolean
}

/** The relay's /status listed no address this node can dial. */
export class NoDialableRelayAddressError extends InvalidConfigError { override name = 'NoDialableRelayAddressError'; override readonly code = 'NO_DIALABLE_RELAY_ADDRESS' }

/**
 * Picks the address to dial a relay at from what its `/status` lists. The
 * host the relay was reached by wins over whatever interfaces it listens on:
 * a page loaded from `example.org:8080` should dial `example.org`, not the
 * server's private address.
 */
export function selectRelayAddr (listed: string[], init: SelectRelayAddrInit): Multiaddr {
  const addrs = listed.flatMap(text => { try { return [multiaddr(text)] } catch { return [] } })
    .filter(ma => !Circuit.matches(ma))
  const candidates = init.transport === 'tcp'
    ? addrs.filter(ma => TCP.exactMatch(ma))
    : addrs.filter(ma => init.secure === true ? WebSocketsSecure.matches(ma) : (WebSockets.matches(ma) || WebSocketsSecure.matches(ma)))
  if (candidates.length === 0) {
    throw new NoDialableRelayAddressError(`The relay lists no ${init.secure === true ? 'secure WebSocket' : init.transport} address (listed: ${listed.join(', ') || 'none'})`)
  }
  const host = init.host?.replace(/^\[|\]$/g, '')
  if (host == null || host === '') return candidates[0] as Multiaddr
  const sameHost = candidates.find(ma => hostOf(ma) === host) ??
    (host === 'localhost' ? candidates.find(ma => hostOf(ma) === '127.0.0.1' || hostOf(ma) === '::1') : undefined)
  if (sameHost != null) return sameHost
  const named = candidates.find(ma => /^\/dns[46a]?\//.test(ma.toString()))
  if (named != null) return named
  // the relay was reached by a name or address it doesn't list: keep the port
  const first = candidates[0] as Multiaddr
  const rest = first.toString().replace(/^\/(ip4|ip6|dns|dns4|dns6)\/[^/]+/, '')
  return multiaddr(`${hostPrefix(host)}${rest}`)
}

function hostOf (ma: Multiaddr): string | undefined {
  return ma.getComponents()[0]?.value
}

function hostPrefix (host: string): string {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return `/ip4/${host}`
  if (host.includes(':')) return `/ip6/${host}`
  return `/dns/${host}`
}
