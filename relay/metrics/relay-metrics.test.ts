import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signMessage } from '../../shared/market/index.ts'
import { bytesSource, StorageQuotaExceededError } from '../../shared/storage/index.ts'
import { createRelayNode } from '../gateway/create-relay-node.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import { FAST_SESSION } from '../testing/relays.ts'
import { tcpAddr, until } from '../testing/wait.ts'
import { createRelayMetrics } from './relay-metrics.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { NodePeer } from '../node-peer/create-node-peer.ts'
import type { TaskHeader } from '../../shared/market/index.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { RelayMetrics } from './relay-metrics.ts'

const PEER_QUOTA = 256 * 1024
const QUOTA = 1024 * 1024
const HOP = '/libp2p/circuit/relay/0.2.0/hop'
const STOP = '/libp2p/circuit/relay/0.2.0/stop'

let dir: string
let relay: RelayNode
let metrics: RelayMetrics
let a: NodePeer
let b: NodePeer
let aKey: PrivateKey

/** One sample of a metric, labels matched exactly (a histogram's by its sample name, e.g. `_count`). */
async function sample (name: string, labels: Record<string, string | number> = {}, sampleName = name): Promise<number | undefined> {
  const family = (await metrics.registry.getMetricsAsJSON()).find(m => m.name === name)
  // a histogram's samples name themselves (`_bucket`, `_sum`, `_count`); the typings leave it out
  const found = family?.values.find(v => ((v as { metricName?: string }).metricName ?? name) === sampleName && JSON.stringify(v.labels) === JSON.stringify(labels))
  return found?.value
}

// the gateway's wiring: libp2p's metrics (and the process's) and the relay's in one registry
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'golem-clay-metrics-'))
  const registry = new Registry()
  relay = await createRelayNode({
    metrics: prometheusMetrics({ registry, preserveExistingMetrics: true }),
    privateKey: await generateKeyPair('Ed25519'),
    host: '127.0.0.1',
    tcpPort: 0,
    wsPort: 0,
    session: FAST_SESSION,
    storage: { dir: join(dir, 'storage'), quota: QUOTA, peerQuota: PEER_QUOTA }
  })
  await relay.start()
  metrics = createRelayMetrics(relay, { registry, processMetrics: false })
  aKey = await generateKeyPair('Ed25519')
  a = await createNodePeer({ privateKey: aKey, relays: [tcpAddr(relay)], session: FAST_SESSION, maxRelays: 1 })
  b = await createNodePeer({ relays: [tcpAddr(relay)], session: FAST_SESSION, maxRelays: 1 })
  await Promise.all([a.start(), b.start()])
  await until(() => [a, b].every(n => n.services.relays.status[0]?.state === 'reserved'), 'reservations')
})

afterAll(async () => {
  await Promise.all([a, b].map(async n => { await n?.stop() }))
  await relay?.stop()
  if (dir != null) await rm(dir, { recursive: true, force: true })
})

describe('relay metrics over real connections', () => {
  it('time each inbound handshake from challenge to proof, and count handshakes by outcome', async () => {
    // two peers dialled in; the relay may have dialled nobody
    expect(await sample('golem_clay_handshake_solve_seconds', {}, 'golem_clay_handshake_solve_seconds_count')).toBe(2)
    const sum = await sample('golem_clay_handshake_solve_seconds', {}, 'golem_clay_handshake_solve_seconds_sum') ?? -1
    expect(sum).toBeGreaterThan(0)
    expect(sum).toBeLessThan(30)
    expect(await sample('golem_clay_handshake_solve_seconds', { le: '+Inf' }, 'golem_clay_handshake_solve_seconds_bucket')).toBe(2)
    expect(await sample('golem_clay_handshakes_total', { direction: 'inbound', outcome: 'verified' })).toBe(2)
    expect(await sample('golem_clay_handshakes_total', { direction: 'inbound', outcome: 'refused' })).toBe(0)
    // the session itself knows its time too: the log says it
    expect(relay.services.sessions.list().filter(s => !s.dialer).every(s => (s.solveMs ?? -1) >= 0)).toBe(true)
  })

  it('relayed bytes are libp2p\'s own traffic counts on the circuit relay hop and stop streams', async () => {
    const relayedIn = async (): Promise<number> => (await sample('libp2p_data_transfer_bytes_total', { protocol: `${HOP} received` }) ?? 0) + (await sample('libp2p_data_transfer_bytes_total', { protocol: `${STOP} received` }) ?? 0)
    await until(() => a.services.directory.peers.some(p => p.id.equals(b.peerId) && p.multiaddrs.some(ma => ma.toString().includes('/p2p-circuit'))), 'b listed at its circuit address')
    const before = await relayedIn()
    const text = 'x'.repeat(4000)
    for (let i = 0; i < 5; i++) expect((await a.services.messaging.send(b.peerId, text)).kind).toBe('relayed')
    // every byte once as it comes in on one side, plus framing, Noise and the acks
    expect(await relayedIn() - before).toBeGreaterThan(5 * 4000)
  })

  it('task headers gossip brings count as relayed', async () => {
    const header: TaskHeader = {
      v: 1, type: 'task', id: 'metrics-task', requestor: a.peerId.toString(), requestorAddrs: [], name: 'counted',
      module: { address: 'golem-clay:x', sha256: 'a'.repeat(64), size: 10 }, inputs: { address: 'golem-clay:y', sha256: 'a'.repeat(64), size: 20 },
      subtasks: 1, price: 0, deadline: Date.now() + 60_000, subtaskTimeout: 1000,
      requirements: { runtimes: ['node'], memoryMB: 16 }, verification: { mode: 'none', k: 1 }, createdAt: Date.now(),
      payment: await a.services.payments.binding()
    }
    // the gossip mesh forms on heartbeats: publish until the relay has it
    await until(async () => {
      await a.services.market.router.publish('task', await signMessage(aKey, 'task', header))
      return (await sample('golem_clay_market_task_headers_relayed_total') ?? 0) > 0
    }, 'a task header at the relay')
    expect(await sample('golem_clay_market_tasks_seen')).toBe(1)
  })

  it('storage: bytes against the quota, its share, uploads, refusals', async () => {
    expect(await sample('golem_clay_storage_used_bytes')).toBe(0)
    await a.services.storage.put(bytesSource(randomBytes(100_000)), { path: 'm/one.bin' })
    expect(await sample('golem_clay_storage_used_bytes')).toBe(100_000)
    expect(await sample('golem_clay_storage_quota_used_ratio')).toBeCloseTo(100_000 / QUOTA, 6)
    expect(await sample('golem_clay_storage_uploads_total')).toBe(1)
    expect(await sample('golem_clay_storage_uploads_in_progress')).toBe(0)
    await expect(a.services.storage.put(bytesSource(randomBytes(PEER_QUOTA)), { path: 'm/two.bin' })).rejects.toThrow(StorageQuotaExceededError)
    expect(await sample('golem_clay_storage_refusals_total', { kind: 'quota' })).toBe(1)
    expect(await sample('golem_clay_storage_used_bytes')).toBe(100_000)
    // nothing replicated here: no origin to lag behind
    expect(await sample('golem_clay_storage_replication_behind_bytes')).toBeUndefined()
  })

  it('process figures come once, from libp2p\'s collection into the shared registry', async () => {
    const text = await metrics.scrape()
    for (const name of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_p50_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'golem_clay_handshake_solve_seconds']) {
      expect(text.split('\n').filter(line => line.startsWith(`# TYPE ${name} `))).toHaveLength(1)
    }
    // the relay's own again would be a second registration
    expect(() => createRelayMetrics(relay, { registry: metrics.registry })).toThrow(/already been registered/)
  })
})
