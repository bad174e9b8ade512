import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { bytesSource, memorySink, StorageQuotaExceededError } from '../../shared/storage/index.ts'
import { createRelayNode } from '../gateway/create-relay-node.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import { FAST_SESSION } from '../testing/relays.ts'
import { tcpAddr, until } from '../testing/wait.ts'
import { createRelayLog, logRelayEvents } from './relay-log.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { NodePeer } from '../node-peer/create-node-peer.ts'
import type { RelayStorageInit } from '../storage/relay-storage.ts'
import type { PrivateKey } from '@libp2p/interface'

type Entry = Record<string, any>

let dir: string
const running: Array<{ stop: () => Promise<void> | void }> = []
afterEach(async () => { await Promise.all(running.splice(0).reverse().map(async n => { await n.stop() })) })
afterAll(async () => { if (dir != null) await rm(dir, { recursive: true, force: true }) })

/** A relay with storage, its structured log (JSON, as in production) kept in `lines`. */
async function loggedRelay (storage: Partial<RelayStorageInit> = {}, privateKey?: PrivateKey): Promise<{ relay: RelayNode, lines: Entry[] }> {
  dir ??= await mkdtemp(join(tmpdir(), 'golem-clay-log-'))
  const lines: Entry[] = []
  const destination = new Writable({
    write (chunk, _encoding, done) {
      // one event a line, each a JSON object
      for (const line of String(chunk).split('\n').filter(l => l !== '')) lines.push(JSON.parse(line))
      done()
    }
  })
  const relay = await createRelayNode({ privateKey: privateKey ?? await generateKeyPair('Ed25519'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, session: FAST_SESSION, storage: { dir: join(dir, crypto.randomUUID()), ...storage } })
  await relay.start()
  const unlog = logRelayEvents(relay, createRelayLog({ destination, pretty: false }))
  running.push(relay, { stop: unlog })
  return { relay, lines }
}

async function startPeer (relay: RelayNode): Promise<NodePeer> {
  const peer = await createNodePeer({ relays: [tcpAddr(relay)], session: FAST_SESSION, maxRelays: 1 })
  await peer.start()
  running.push(peer)
  await until(async () => (await peer.services.storage.relays()).length > 0, 'a storage relay')
  return peer
}

async function logged (lines: Entry[], fields: Entry): Promise<Entry> {
  const match = (e: Entry): boolean => Object.entries(fields).every(([k, v]) => e[k] === v)
  await until(() => lines.some(match), `a log line with ${JSON.stringify(fields)}`)
  return lines.find(match) as Entry
}

describe('the relay log over real relays and storage', () => {
  it('logs uploads, downloads, deletes, expiry and quota refusals, one JSON event a line, without addresses or tokens', async () => {
    const { relay, lines } = await loggedRelay({ peerQuota: 300_000, maxTtl: 3600 })
    const peer = await startPeer(relay)
    const owner = peer.peerId.toString()
    const bytes = randomBytes(200_000)
    const put = await peer.services.storage.put(bytesSource(bytes), { path: 'logs/a.bin' })
    const drive = put.object.drive.slice(0, 16)
    expect(await logged(lines, { event: 'storage-upload', path: 'logs/a.bin' })).toMatchObject({ level: 30, peer: owner, owner, drive, size: bytes.length, deduplicated: false })

    await peer.services.storage.get(put.address, memorySink(bytes.length))
    expect(await logged(lines, { event: 'storage-download', path: 'logs/a.bin' })).toMatchObject({ level: 30, peer: owner, owner, drive, size: bytes.length, offset: 0, bytes: bytes.length })

    await expect(peer.services.storage.put(bytesSource(randomBytes(200_000)), { path: 'logs/b.bin' })).rejects.toThrow(StorageQuotaExceededError)
    const refused = await logged(lines, { event: 'storage-refused' })
    expect(refused).toMatchObject({ level: 40, peer: owner, reason: 'quota', size: 200_000 })
    expect(refused.detail).toMatch(/quota/)

    await peer.services.storage.remove(put.address)
    expect(await logged(lines, { event: 'storage-delete', path: 'logs/a.bin' })).toMatchObject({ level: 30, peer: owner, owner, drive, size: bytes.length })

    const kept = await peer.services.storage.put(bytesSource(randomBytes(1000)), { path: 'logs/c.bin' })
    await relay.services.storage?.collect(kept.object.expiresAt + 1)
    expect(await logged(lines, { event: 'storage-expire' })).toMatchObject({ level: 30, objects: 1, bytes: 1000, uploads: 0 })

    // no secrets: never a full drive key, address or token
    const text = lines.map(l => JSON.stringify(l)).join('\n')
    expect(text).not.toContain(put.object.drive)
    expect(text).not.toContain('golem-clay:')
    expect(text).not.toContain('token')
  })

  it('a storage failure no peer caused is logged as an error', async () => {
    const { relay, lines } = await loggedRelay()
    const peer = await startPeer(relay)
    // the records of uploads in progress cannot be written any more
    await rm(join((relay.services.storage as any).init.dir, 'partial'), { recursive: true, force: true })
    await expect(peer.services.storage.put(bytesSource(randomBytes(1000)), { path: 'lost.bin' })).rejects.toThrow()
    const error = await logged(lines, { event: 'error', part: 'storage' })
    expect(error).toMatchObject({ level: 50, op: 'put' })
    expect(error.error).toMatch(/ENOENT/)
    // a refusal is no failure: none logged as one
    expect(lines.filter(l => l.event === 'error')).toHaveLength(1)
  })

  it('logs replication trouble; an allowed replica catches up and says how far behind it is', async () => {
    const replicaKey = await generateKeyPair('Ed25519')
    const { relay: origin } = await loggedRelay({ replicationAllow: [peerIdFromPrivateKey(replicaKey).toString()] })
    const originAddr = tcpAddr(origin).toString()
    const peer = await startPeer(origin)
    const put = await peer.services.storage.put(bytesSource(randomBytes(300_000)), { path: 'copied.bin' })

    // a relay the origin does not allow is refused, says so, and keeps trying
    const { lines } = await loggedRelay({ replicateFrom: [originAddr] })
    const error = await logged(lines, { event: 'replication-error' })
    expect(error).toMatchObject({ level: 40, relay: origin.peerId.toString() })
    expect(error.error).toMatch(/replication-allow/)

    const { relay: replica, lines: replicaLines } = await loggedRelay({ replicateFrom: [originAddr] }, replicaKey)
    const storage = replica.services.storage as any
    const status = (): any => storage.status.replication.replicateFrom[0]
    await until(() => status()?.linked === true && storage.status.replication.replicated.bytes === put.object.size, 'the object replicated')
    expect(status().behind).toEqual({ objects: 0, bytes: 0 })
    expect(replicaLines.filter(l => l.event === 'replication-error' || l.event === 'error')).toEqual([])

    // cut off from its origin, a replica that lost the object's blocks knows it lags by that much
    await origin.stop()
    await until(() => status().linked === false, 'the link down')
    const blobs = await storage.store.driveByKey(put.object.drive).drive.getBlobs()
    await blobs.core.clear(0, blobs.core.length)
    for (const sync of storage.replication.syncs.values()) sync.schedule()
    await until(() => status().behind.objects === 1, 'the lag seen')
    expect(status().behind).toEqual({ objects: 1, bytes: put.object.size })
  })
})
