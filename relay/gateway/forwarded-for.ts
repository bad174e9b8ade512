import { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { parseCidr } from '../../shared/connection/index.ts'
import type { IpNet } from '@chainsafe/netmask'

/**
 * An `http.IncomingMessage` for the WebSocket listener that, when the
 * connection comes from a trusted proxy (Caddy, nginx in front of the
 * relay), takes the client's address from `X-Forwarded-For`: behind a proxy
 * every client would otherwise be the proxy, and per-address limits would
 * lump everyone together. The header is read right to left, skipping
 * trusted proxies; anything a client wrote before that is ignored, and a
 * connection from anyone else keeps its socket address.
 */
export function forwardedForRequest (trustedProxies: string[]): typeof IncomingMessage {
  const trusted = trustedProxies.map(parseCidr)
  // the socket's own peer, kept before any request overrides what libp2p reads
  const peerOf = new WeakMap<object, string | undefined>()
  return class ForwardedForRequest extends IncomingMessage {
    // Node calls this once the request's headers are parsed, before 'upgrade'
    override _addHeaderLines (headers: string[], n: number): void {
      super._addHeaderLines(headers, n)
      const socket = this.socket
      if (socket == null) return
      if (!peerOf.has(socket)) peerOf.set(socket, socket.remoteAddress)
      const peer = peerOf.get(socket)
      // a proxy may carry several clients' requests on one kept-alive socket: each request says whose it is
      const client = peer != null && isTrusted(trusted, peer) ? clientOf(this.headers['x-forwarded-for'], trusted) : undefined
      // libp2p's listener reads the socket's address: give it the client's (or the socket's own again)
      Object.defineProperty(socket, 'remoteAddress', { value: client ?? peer, configurable: true })
    }
  }
}

/** The first address from the right that is not a trusted proxy. */
export function clientOf (header: string | string[] | undefined, trusted: IpNet[]): string | undefined {
  const hops = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').map(h => stripPort(h.trim())).filter(h => h !== '')
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string
    if (isIP(hop) === 0) return undefined
    if (!isTrusted(trusted, hop)) return hop
  }
  return undefined
}

/** A plain HTTP request's client: from `X-Forwarded-For` when the socket's peer is a trusted proxy, else that peer. */
export function requestClient (req: IncomingMessage, trusted: IpNet[]): string | undefined {
  const peer = req.socket.remoteAddress
  if (peer != null && isTrusted(trusted, peer)) return clientOf(req.headers['x-forwarded-for'], trusted) ?? peer
  return peer
}

function isTrusted (trusted: IpNet[], ip: string): boolean {
  const plain = ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1')
  return trusted.some(net => { try { return net.contains(plain) } catch { return false } })
}

/** `1.2.3.4:5678` and `[2001:db8::1]:443` → the address alone. */
function stripPort (hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop)
  if (bracketed?.[1] != null) return bracketed[1]
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop)
  return v4?.[1] ?? hop
}

declare module 'node:http' {
  interface IncomingMessage {
    _addHeaderLines (headers: string[], n: number): void
  }
}
