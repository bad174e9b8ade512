import { IpNet } from '@chainsafe/netmask'
import { Circuit } from '@multiformats/multiaddr-matcher'
import { InvalidConfigError } from '../errors.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface AddressKeyInit {
  /**
   * Addresses (CIDRs) that per-address limits skip, e.g. a test network or
   * an office NAT the operator trusts. @default none
   */
  exempt?: string[]
  /** IPv6 addresses are grouped by this prefix: one host usually owns a /64. @default 64 */
  ipv6Prefix?: number
}

/**
 * Peer IDs cost nothing, so limits and bans also count per network address:
 * one per IPv4 address, one per IPv6 /64 (a host usually gets a whole one).
 * Every 127.x.y.z counts as its own host, which is how the tests play
 * several machines on loopback.
 */
export class AddressKeys {
  private readonly exempt: IpNet[]
  private readonly prefix: number

  constructor (init: AddressKeyInit = {}) {
    this.exempt = (init.exempt ?? []).map(cidr => parseCidr(cidr))
    this.prefix = init.ipv6Prefix ?? 64
  }

  /** The limit key of a remote address; undefined when it has none (relayed, exempt, not IP). */
  keyOf (ma: Multiaddr | undefined): string | undefined {
    if (ma == null || Circuit.matches(ma)) return undefined
    const first = ma.getComponents()[0]
    if (first == null) return undefined
    if (first.name === 'ip4' && first.value != null) return this.keyOfIp(first.value, 4)
    if (first.name === 'ip6' && first.value != null) return this.keyOfIp(first.value, 6)
    return undefined
  }

  /**
   * A wider group for shares of something global (the handshake rate that
   * sets everyone's difficulty): an IPv4 /24, an IPv6 /48, where one
   * operator usually holds many addresses. Loopback stays per address, so
   * tests can play many hosts on 127.x.y.z.
   */
  wideKeyOf (ma: Multiaddr | undefined): string | undefined {
    const key = this.keyOf(ma)
    if (key == null) return undefined
    if (key.includes('/')) return new IpNet(key.slice(0, key.indexOf('/')), 48).toString()
    if (key.startsWith('127.')) return key
    return `${key.slice(0, key.lastIndexOf('.'))}.0/24`
  }

  /** The same for a bare IP (e.g. from X-Forwarded-For). */
  keyOfIp (ip: string, family: 4 | 6): string | undefined {
    try {
      let text = ip
      let v = family
      if (v === 6) {
        // an IPv4 client on a dual-stack socket is still that IPv4 host
        const bytes = new IpNet(ip, 128).network
        if (bytes.slice(0, 10).every(b => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
          text = bytes.slice(12).join('.')
          v = 4
        }
      }
      if (this.exempt.some(net => net.contains(text))) return undefined
      return v === 4 ? text : new IpNet(text, this.prefix).toString()
    } catch {
      return undefined
    }
  }
}

/** Parses `a.b.c.d/n`, `x::/n` or a bare address (a /32 or /128). */
export function parseCidr (cidr: string): IpNet {
  const text = cidr.trim()
  try {
    if (text.includes('/')) return new IpNet(text)
    return new IpNet(text, text.includes(':') ? 128 : 32)
  } catch (err: any) {
    throw new InvalidConfigError(`"${cidr}" is not an IP address or CIDR range: ${err.message}`)
  }
}
