import { describe, expect, it } from 'vitest'
import { NoDialableRelayAddressError, selectRelayAddr } from './relay-addresses.ts'

const ID = '12D3KooWSWSy6aSxE7GoGSEEoonvFPa8pYLxg1xQ7hWXHYfZX7ZR'
const listed = [
  `/ip4/127.0.0.1/tcp/9091/p2p/${ID}`,
  `/ip4/192.0.2.2/tcp/9091/p2p/${ID}`,
  `/ip4/127.0.0.1/tcp/9090/ws/p2p/${ID}`,
  `/ip4/192.0.2.2/tcp/9090/ws/p2p/${ID}`
]

describe('selectRelayAddr', () => {
  it('picks the WebSocket address on the host the page came from', () => {
    expect(selectRelayAddr(listed, { transport: 'websocket', host: '192.0.2.2' }).toString()).toBe(`/ip4/192.0.2.2/tcp/9090/ws/p2p/${ID}`)
    expect(selectRelayAddr(listed, { transport: 'websocket', host: '127.0.0.1' }).toString()).toBe(`/ip4/127.0.0.1/tcp/9090/ws/p2p/${ID}`)
  })

  it('maps localhost to the loopback address', () => {
    expect(selectRelayAddr(listed, { transport: 'websocket', host: 'localhost' }).toString()).toBe(`/ip4/127.0.0.1/tcp/9090/ws/p2p/${ID}`)
  })

  it('keeps the port but uses the name the relay was reached by', () => {
    expect(selectRelayAddr(listed, { transport: 'websocket', host: 'relay.example.org' }).toString()).toBe(`/dns/relay.example.org/tcp/9090/ws/p2p/${ID}`)
  })

  it('prefers an announced DNS address over a guess', () => {
    const announced = [...listed, `/dns4/gw.example.net/tcp/443/tls/ws/p2p/${ID}`]
    expect(selectRelayAddr(announced, { transport: 'websocket', host: 'other.example.org' }).toString()).toBe(`/dns4/gw.example.net/tcp/443/tls/ws/p2p/${ID}`)
  })

  it('picks TCP for Node peers, never the WebSocket port', () => {
    expect(selectRelayAddr(listed, { transport: 'tcp', host: '127.0.0.1' }).toString()).toBe(`/ip4/127.0.0.1/tcp/9091/p2p/${ID}`)
  })

  it('insists on secure WebSockets for an https page', () => {
    expect(() => selectRelayAddr(listed, { transport: 'websocket', host: '127.0.0.1', secure: true })).toThrow(NoDialableRelayAddressError)
  })

  it('ignores garbage and circuit addresses, and says what it saw when nothing fits', () => {
    const junk = ['not-a-multiaddr', `/ip4/1.2.3.4/tcp/1/p2p/${ID}/p2p-circuit`]
    expect(() => selectRelayAddr(junk, { transport: 'tcp' })).toThrow(/lists no tcp address/)
  })
})
