import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { connectionKind } from './connection-kind.ts'

const R = '12D3KooWSWSy6aSxE7GoGSEEoonvFPa8pYLxg1xQ7hWXHYfZX7ZR'
const T = '12D3KooWBjqt3YyZGgLfAMHN97PPA25ymGMZMrmYEWpxfoJKpumi'
const circuit = `/ip4/127.0.0.1/tcp/9090/ws/p2p/${R}/p2p-circuit`

describe('connectionKind', () => {
  it('tells a WebRTC link from the circuit it was signalled over by its limits', () => {
    const addr = multiaddr(`${circuit}/webrtc/p2p/${T}`)
    expect(connectionKind({ remoteAddr: addr, limits: undefined, multiplexer: '/webrtc' })).toBe('webrtc')
    expect(connectionKind({ remoteAddr: addr, limits: { bytes: 1000n }, multiplexer: '/yamux/1.0.0' })).toBe('relayed')
  })

  it('recognises relayed, WebSocket and TCP connections', () => {
    expect(connectionKind({ remoteAddr: multiaddr(`${circuit}/p2p/${T}`), limits: { seconds: 60 }, multiplexer: '/yamux/1.0.0' })).toBe('relayed')
    expect(connectionKind({ remoteAddr: multiaddr(`/ip4/127.0.0.1/tcp/9090/ws/p2p/${R}`), limits: undefined, multiplexer: '/yamux/1.0.0' })).toBe('websocket')
    expect(connectionKind({ remoteAddr: multiaddr(`/ip4/127.0.0.1/tcp/9091/p2p/${R}`), limits: undefined, multiplexer: '/yamux/1.0.0' })).toBe('tcp')
    expect(connectionKind({ remoteAddr: multiaddr('/ip4/127.0.0.1/udp/1/quic-v1'), limits: undefined, multiplexer: undefined })).toBe('other')
  })
})
