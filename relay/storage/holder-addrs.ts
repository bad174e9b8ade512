import { multiaddr } from '@multiformats/multiaddr'
import { Circuit, TCP, WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher'
import type { Multiaddr } from '@multiformats/multiaddr'

function isLoopback (host: string | undefined): boolean {
  return host != null && (host.startsWith('127.') || host === '::1' || host === 'localhost')
}

/**
 * Picks, from a relay's addresses, the few an object address carries: one
 * WebSocket address (tabs) and one TCP address (Node peers), on loopback
 * when the client is on this machine, on a public name or IP otherwise.
 */
export function pickHolderAddrs (listed: Array<string | Multiaddr>, peerId: string, client?: Multiaddr): string[] {
  const local = isLoopback(client?.getComponents()[0]?.value)
  const addrs = listed.flatMap(a => { try { return [typeof a === 'string' ? multiaddr(a) : a] } catch { return [] } })
    .filter(ma => !Circuit.matches(ma))
  const rank = (ma: Multiaddr): number => {
    const host = ma.getComponents()[0]
    if (host?.name.startsWith('dns') === true) return local ? 1 : 0
    return isLoopback(host?.value) === local ? 0 : 2
  }
  const best = (list: Multiaddr[]): Multiaddr | undefined => [...list].sort((a, b) => rank(a) - rank(b))[0]
  const picked = [
    best(addrs.filter(ma => WebSockets.matches(ma) || WebSocketsSecure.matches(ma))),
    best(addrs.filter(ma => TCP.exactMatch(ma)))
  ]
  return picked.filter((ma): ma is Multiaddr => ma != null).map(ma => {
    const text = ma.toString()
    return text.includes('/p2p/') ? text : `${text}/p2p/${peerId}`
  })
}
