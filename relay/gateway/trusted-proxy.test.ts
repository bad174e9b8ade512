import { createServer, connect } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { noise } from '@libp2p/noise'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { until } from '../testing/wait.ts'
import { createRelayNode } from './create-relay-node.ts'
import type { AddressInfo, Server } from 'node:net'

const running: Array<{ stop: () => unknown }> = []
afterEach(async () => { for (const n of running.splice(0).reverse()) await n.stop() })

/** A stand-in for Caddy or nginx: forwards bytes, adding `X-Forwarded-For: <client>` to the request it passes on. */
async function proxy (to: number, client: string): Promise<number> {
  const server: Server = createServer(socket => {
    const upstream = connect(to, '127.0.0.1')
    let head = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) return
      socket.off('data', onData)
      upstream.write(Buffer.concat([head.subarray(0, end), Buffer.from(`\r\nX-Forwarded-For: ${client}`), head.subarray(end)]))
      socket.pipe(upstream).pipe(socket)
    }
    socket.on('data', onData)
    socket.on('error', () => upstream.destroy())
    upstream.on('error', () => socket.destroy())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  running.push({ stop: async () => { server.close() } })
  return (server.address() as AddressInfo).port
}

describe('--trusted-proxy', () => {
  it('per-address limits see the client a trusted proxy names, and the socket for anyone else', async () => {
    for (const [trusted, expected] of [[['127.0.0.1'], '127.0.0.9'], [[], '127.0.0.1']] as const) {
      const relay = await createRelayNode({ privateKey: await generateKeyPair('Ed25519'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, trustedProxies: [...trusted], session: { difficulty: { base: 4 } } })
      await relay.start()
      running.push(relay)
      const ws = relay.getMultiaddrs().find(ma => ma.toString().includes('/ws'))
      const port = Number(ws?.getComponents().find(c => c.name === 'tcp')?.value)
      const front = await proxy(port, '127.0.0.9')
      const client = await createLibp2p({ transports: [webSockets()], connectionEncrypters: [noise()], streamMuxers: [yamux()], connectionGater: { denyDialMultiaddr: () => false } })
      running.push(client)
      await client.dial(multiaddr(`/ip4/127.0.0.1/tcp/${front}/ws/p2p/${relay.peerId.toString()}`))
      await until(() => relay.getConnections(client.peerId).length > 0, 'the relay to see the client')
      const conn = relay.getConnections(client.peerId)[0]!
      expect(relay.services.sessions.addressOf(conn)).toBe(expected)
    }
  })
})
