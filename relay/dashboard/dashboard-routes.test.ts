import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { parseRelayConfig } from '../config/relay-config.ts'
import { startRelayGateway } from '../gateway/relay-gateway.ts'
import type { DashboardSnapshot } from './dashboard-routes.ts'
import type { RelayGateway } from '../gateway/relay-gateway.ts'

let gateway: RelayGateway | undefined
afterEach(async () => { await gateway?.stop(); gateway = undefined })

describe('GET /dashboard/series', () => {
  it('answers samples from the relay\'s metrics with /metrics off; the peer table only with the status token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-dash-'))
    const { config } = parseRelayConfig(['--data', join(dir, 'data'), '--web-root', join(dir, 'web'), '--host', '127.0.0.1', '--http-port', '0', '--ws-port', '0', '--tcp-port', '0', '--metrics-listen', 'off', '--status-token', 's3cret'], {})
    gateway = await startRelayGateway(config)
    expect(gateway.metrics).toBeUndefined()
    const url = new URL('/dashboard/series', gateway.http.url.replace('localhost', '127.0.0.1'))
    const get = async (headers: Record<string, string> = {}, query = ''): Promise<DashboardSnapshot> => {
      const res = await fetch(`${url.toString()}${query}`, { headers })
      expect(res.status).toBe(200)
      expect(res.headers.get('cache-control')).toBe('no-store')
      return await res.json() as DashboardSnapshot
    }

    // the first sample is taken as the relay starts
    const anonymous = await vi.waitFor(async () => {
      const body = await get()
      expect(body.t.length).toBeGreaterThan(0)
      return body
    })
    expect(anonymous).toMatchObject({ interval: 5000, capacity: 720, operator: false, seeds: [] })
    expect(anonymous.series.sessions).toEqual(anonymous.t.map(() => 0))
    expect(anonymous.series.reservations?.at(-1)).toBe(0)
    expect(anonymous.series.rss?.at(-1)).toBeGreaterThan(1024 * 1024)
    expect(anonymous.series.difficulty?.at(-1)).toBe(config.session.difficulty.base)
    expect(anonymous.peers).toBeUndefined()
    expect(JSON.stringify(anonymous)).not.toContain(gateway.node.peerId.toString())

    expect(await get({ Authorization: 'Bearer s3cret' })).toMatchObject({ operator: true, peers: [], peersTotal: 0 })
    expect((await get({ Authorization: 'Bearer wrong' })).peers).toBeUndefined()
    // newer samples only
    const newest = anonymous.t.at(-1) ?? 0
    expect((await get({}, `?since=${newest}`)).t.every(t => t > newest)).toBe(true)
    expect((await get({}, '?since=not-a-number')).t.length).toBeGreaterThan(0)
    expect((await fetch(url, { method: 'POST' })).status).toBe(405)
  })
})
