import { createServer } from 'node:net'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { until } from '../testing/wait.ts'
import { parseRelayConfig } from '../config/relay-config.ts'
import { PortInUseError, startRelayGateway } from './relay-gateway.ts'
import type { RelayGateway } from './relay-gateway.ts'
import type { RelayStatusReport } from '../http/status.ts'

const running: RelayGateway[] = []
afterEach(async () => { await Promise.all(running.splice(0).map(async g => { await g.stop() })) })

async function configIn (dir: string, extra: string[] = []): Promise<ReturnType<typeof parseRelayConfig>['config']> {
  return parseRelayConfig(['--data', join(dir, 'data'), '--web-root', join(dir, 'web'), '--host', '127.0.0.1', '--http-port', '0', '--ws-port', '0', '--tcp-port', '0', ...extra], {}).config
}

describe('relay gateway', () => {
  it('serves the page, /status and /healthz next to a real libp2p relay', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-gw-'))
    await mkdir(join(dir, 'web'))
    await writeFile(join(dir, 'web', 'index.html'), '<!doctype html><title>Golem Clay</title>')
    const gateway = await startRelayGateway(await configIn(dir, ['--status-token', 's3cret']))
    running.push(gateway)
    const base = gateway.http.url.replace('localhost', '127.0.0.1')

    const status = await (await fetch(new URL('/status', base))).json() as RelayStatusReport
    expect(status.peerId).toBe(gateway.node.peerId.toString())
    // the relay's payment account, for everyone: the address is public (offers and headers carry it too)
    expect(status.paymentAddress).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(status.paymentAddress).toBe(gateway.node.services.payments.address)
    expect(status.version).toMatch(/^\d+\.\d+\.\d+$/)
    expect(status.multiaddrs.some((a: string) => a.includes('/ws/p2p/'))).toBe(true)
    expect(status.multiaddrs.some((a: string) => /\/tcp\/\d+\/p2p\//.test(a))).toBe(true)
    expect(status).toMatchObject({ connectedPeers: 0, reservations: 0 })
    expect(typeof status.uptime).toBe('number')
    // counts for everyone; who is connected only for the status token, and nothing for other methods
    expect(status.peers).toBeUndefined()
    expect(typeof status.connections).toBe('object')
    const detailed = await (await fetch(new URL('/status', base), { headers: { Authorization: 'Bearer s3cret' } })).json() as RelayStatusReport
    expect(detailed.peers).toEqual([])
    expect((await (await fetch(new URL('/status', base), { headers: { Authorization: 'Bearer wrong' } })).json() as RelayStatusReport).peers).toBeUndefined()
    const post = await fetch(new URL('/status', base), { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')

    const health = await fetch(new URL('/healthz', base))
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ ok: true })

    // the widgets' board: an account's sums, and a typed 400 for a query that names none
    const stats = await fetch(new URL(`/widget/stats?account=0x${'ab'.repeat(20)}`, base))
    expect(stats.status).toBe(200)
    expect(await stats.json()).toMatchObject({ working: 0, subtasks: 0 })
    for (const account of ['', '0x12', 'not-an-address']) {
      const bad = await fetch(new URL(`/widget/stats?account=${account}`, base))
      expect(bad.status).toBe(400)
      expect(await bad.json()).toMatchObject({ code: 'INVALID_MESSAGE', error: expect.stringContaining('account') })
    }

    const page = await fetch(base)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('Golem Clay')
    // client-side routes fall back to the page
    expect((await fetch(new URL('/some/route', base))).status).toBe(200)
    expect((await fetch(base, { method: 'POST' })).status).toBe(405)
  })

  it('reports unhealthy once it drains, and refuses new connections (the peers it told goodbye redial at once)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-gw-'))
    const gateway = await startRelayGateway(await configIn(dir))
    running.push(gateway)
    const health = new URL('/healthz', gateway.http.url.replace('localhost', '127.0.0.1'))
    expect((await fetch(health)).status).toBe(200)
    const client = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], connectionGater: { denyDialMultiaddr: () => false } })
    const tcpAddr = gateway.node.getMultiaddrs().find(ma => !ma.toString().includes('/ws'))
    if (tcpAddr == null) throw new Error('no TCP address')
    try {
      // a connection before the drain is let in (and counted by it)
      const before = await client.dial(tcpAddr)
      await before.close()
      await until(() => gateway.node.getConnections(client.peerId).length === 0, 'the first connection to close')
      expect(await gateway.drain(1_000)).toMatchObject({ sessions: 0, left: 0 })
      await expect(client.dial(tcpAddr, { signal: AbortSignal.timeout(10_000) })).rejects.toThrow()
      expect(gateway.node.getConnections(client.peerId)).toEqual([])
    } finally {
      await client.stop()
    }
    const res = await fetch(health)
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ ok: false })
    expect(gateway.node.services.sessions.draining).toBe(true)
  })

  it('sees a WebSocket link its peer aborts close at once (patches/@libp2p+websockets: a reset closed nothing)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-gw-'))
    const gateway = await startRelayGateway(await configIn(dir))
    running.push(gateway)
    const client = await createLibp2p({ transports: [webSockets()], connectionEncrypters: [noise()], streamMuxers: [yamux()], connectionGater: { denyDialMultiaddr: () => false } })
    try {
      const wsAddr = gateway.node.getMultiaddrs().find(ma => ma.toString().includes('/ws'))
      if (wsAddr == null) throw new Error('no WebSocket address')
      const conn = await client.dial(wsAddr)
      await until(() => gateway.node.getConnections(client.peerId).length === 1, 'the relay to see the link')
      const closed = new Promise<void>(resolve => {
        gateway.node.addEventListener('connection:close', (evt) => { if (evt.detail.remotePeer.equals(client.peerId)) resolve() })
      })
      conn.abort(new Error('going away'))
      // the relay's own timeouts (its session's hello deadline, yamux keep-alive) are far longer
      await Promise.race([closed, new Promise((_resolve, reject) => setTimeout(() => { reject(new Error('the aborted link is still open on the relay')) }, 3_000))])
    } finally {
      await client.stop()
    }
  })

  it('keeps its peer ID and payment account across restarts from the same data folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-gw-'))
    const first = await startRelayGateway(await configIn(dir))
    const id = first.node.peerId.toString()
    const address = first.node.services.payments.address
    expect(first.keyCreated).toBe(true)
    expect(first.paymentKeyCreated).toBe(true)
    await first.stop()
    const second = await startRelayGateway(await configIn(dir))
    running.push(second)
    expect(second.keyCreated).toBe(false)
    expect(second.paymentKeyCreated).toBe(false)
    expect(second.node.peerId.toString()).toBe(id)
    expect(second.node.services.payments.address).toBe(address)
  })

  it('says which flag to change when a port is taken', async () => {
    const blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const dir = await mkdtemp(join(tmpdir(), 'gc-gw-'))
      const attempt = startRelayGateway(await configIn(dir, ['--ws-port', String(port)]))
      await expect(attempt).rejects.toThrow(PortInUseError)
      await expect(startRelayGateway(await configIn(dir, ['--http-port', String(port)]))).rejects.toThrow(/Port \d+ is already in use.*--http-port/)
    } finally {
      blocker.close()
    }
  })

  it('explains how to build the page when it is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-gw-'))
    const gateway = await startRelayGateway(await configIn(dir))
    running.push(gateway)
    const res = await fetch(gateway.http.url.replace('localhost', '127.0.0.1'))
    expect(res.status).toBe(503)
    expect(await res.text()).toContain('npm run build')
  })
})
