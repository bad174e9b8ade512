import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { InvalidConfigError } from '../errors.ts'
import { AddressKeys, parseCidr } from './address-key.ts'

describe('AddressKeys', () => {
  it('one key per IPv4 address, per IPv6 /64, none for relayed or exempt addresses', () => {
    const keys = new AddressKeys({ exempt: ['10.0.0.0/8', '2001:db8:ffff::/48'] })
    expect(keys.keyOf(multiaddr('/ip4/127.0.0.2/tcp/1'))).toBe('127.0.0.2')
    expect(keys.keyOf(multiaddr('/ip4/127.0.0.3/tcp/1/ws'))).toBe('127.0.0.3')
    const a = keys.keyOf(multiaddr('/ip6/2001:db8:1:2:aaaa::1/tcp/1'))
    expect(a).toBeDefined()
    expect(keys.keyOf(multiaddr('/ip6/2001:db8:1:2:bbbb::7/tcp/9/ws'))).toBe(a)
    expect(keys.keyOf(multiaddr('/ip6/2001:db8:1:3::1/tcp/1'))).not.toBe(a)
    // an IPv4 client on a dual-stack socket is the same host
    expect(keys.keyOf(multiaddr('/ip6/::ffff:1.2.3.4/tcp/2'))).toBe('1.2.3.4')
    expect(keys.keyOf(multiaddr('/ip4/10.1.2.3/tcp/4'))).toBeUndefined()
    expect(keys.keyOf(multiaddr('/ip6/2001:db8:ffff:1::1/tcp/4'))).toBeUndefined()
    expect(keys.keyOf(multiaddr('/ip4/1.2.3.4/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA/p2p-circuit'))).toBeUndefined()
    expect(keys.keyOf(multiaddr('/dns4/relay.example.org/tcp/443/tls/ws'))).toBeUndefined()
  })

  it('refuses a CIDR it cannot read with a clear error', () => {
    expect(() => parseCidr('10.0.0.0/33')).toThrow(InvalidConfigError)
    expect(() => new AddressKeys({ exempt: ['nope'] })).toThrow(/not an IP address or CIDR/)
    expect(parseCidr('192.168.1.7').contains('192.168.1.7')).toBe(true)
  })
})
