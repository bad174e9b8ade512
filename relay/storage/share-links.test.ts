import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AccessDeniedError, ANYONE, bytesSource, isShareLink, memorySink, parseShareLink, ShareNotFoundError, TooManyLookupsError } from '../../shared/storage/index.ts'
import { createRelayNode } from '../gateway/create-relay-node.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import { tcpAddr, until } from '../testing/wait.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { NodePeer } from '../node-peer/create-node-peer.ts'
import type { RelayStorageInit } from './relay-storage.ts'
import type { PrivateKey } from '@libp2p/interface'

// proof of work is exercised by its own tests; keep these fast
const LOW_DIFFICULTY = { difficulty: { base: 4, max: 8 } }

let dir: string
let relayKey: PrivateKey
const running: Array<{ stop: () => Promise<void> | void }> = []

beforeAll(async () => { relayKey = await generateKeyPair('Ed25519') })
afterEach(async () => { await Promise.all(running.splice(0).reverse().map(async n => { await n.stop() })) })
afterAll(async () => { if (dir != null) await rm(dir, { recursive: true, force: true }) })

async function startRelay (storage: Partial<RelayStorageInit> = {}, fresh = true): Promise<RelayNode> {
  if (fresh) dir = await mkdtemp(join(tmpdir(), 'golem-clay-shares-'))
  const relay = await createRelayNode({ privateKey: relayKey, host: '127.0.0.1', tcpPort: 0, wsPort: 0, session: LOW_DIFFICULTY, storage: { dir: join(dir, 'storage'), ...storage } })
  await relay.start()
  running.push(relay)
  return relay
}

async function startPeer (relay: RelayNode, privateKey?: PrivateKey): Promise<NodePeer> {
  const peer = await createNodePeer({ relays: [tcpAddr(relay)], session: LOW_DIFFICULTY, maxRelays: 1, ...(privateKey != null ? { privateKey } : {}) })
  await peer.start()
  running.push(peer)
  await until(async () => (await peer.services.storage.relays()).length > 0, 'a storage relay')
  return peer
}

function status (relay: RelayNode): NonNullable<RelayNode['services']['storage']>['status'] {
  const s = relay.services.storage
  if (s == null) throw new Error('no storage')
  return s.status
}

async function download (peer: NodePeer, link: string, size: number): Promise<Buffer> {
  const sink = memorySink(size)
  await peer.services.storage.get(link, sink)
  return Buffer.from(sink.bytes())
}

/** A share ID of the right shape that the relay never made. */
const unknownLink = (link: string): string => link.replace(/share\/[a-z2-7]{26}/, `share/${'a'.repeat(26)}`)

describe('share links over real libp2p connections', () => {
  it('a short link lets the peer it names, or anyone for a public one, download; its expiry is the token\'s, never past the object\'s', async () => {
    const relay = await startRelay({ maxTtl: 3600 })
    const [owner, friend, stranger] = [await startPeer(relay), await startPeer(relay), await startPeer(relay)]
    const bytes = randomBytes(300_000)
    const put = await owner.services.storage.put(bytesSource(bytes), { path: 'docs/shared.bin' })

    const before = Date.now()
    const forFriend = await owner.services.storage.share(put.address, { grantee: friend.peerId.toString(), ttl: 600_000 })
    expect(isShareLink(forFriend.link)).toBe(true)
    expect(forFriend.link.length).toBeLessThan(put.address.length)
    expect(forFriend.link.length).toBeLessThan(150)
    expect(parseShareLink(forFriend.link).relays).toHaveLength(1)
    expect(forFriend.grantee).toBe(friend.peerId.toString())
    expect(forFriend.expiresAt).toBeGreaterThanOrEqual(before + 600_000)
    expect(forFriend.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000)

    expect((await download(friend, forFriend.link, bytes.length)).equals(bytes)).toBe(true)
    const resolved = await friend.services.storage.resolve(forFriend.link)
    expect(resolved).toMatchObject({ grantee: friend.peerId.toString(), expiresAt: forFriend.expiresAt, object: { size: bytes.length, path: 'docs/shared.bin' } })
    // the link is for the friend: anyone else is told so, and gets no token
    await expect(stranger.services.storage.resolve(forFriend.link)).rejects.toThrow(AccessDeniedError)
    await expect(stranger.services.storage.resolve(forFriend.link)).rejects.toThrow(/shared with another peer/)

    // a public link: anyone holding it; asked for longer than the object lives, it ends with the object
    const pub = await owner.services.storage.share(put.address, { grantee: ANYONE, ttl: 30 * 86400_000 })
    expect(pub.grantee).toBe(ANYONE)
    expect(pub.expiresAt).toBe(put.object.expiresAt)
    expect((await download(stranger, pub.link, bytes.length)).equals(bytes)).toBe(true)

    // only the uploader shares its object
    await expect(friend.services.storage.share(resolved.address, { grantee: ANYONE })).rejects.toThrow(AccessDeniedError)
    expect(status(relay)).toMatchObject({ shares: 2, downloads: 2 })
  })

  it('an unknown ID is refused with a typed error; an expired link stops working and is collected', async () => {
    const relay = await startRelay()
    const [owner, friend] = [await startPeer(relay), await startPeer(relay)]
    const bytes = randomBytes(1000)
    const put = await owner.services.storage.put(bytesSource(bytes), { path: 'brief.bin' })
    const link = (await owner.services.storage.share(put.address, { grantee: friend.peerId.toString(), ttl: 1500 })).link

    await expect(friend.services.storage.resolve(unknownLink(link))).rejects.toThrow(ShareNotFoundError)
    await expect(friend.services.storage.get(unknownLink(link), memorySink(10))).rejects.toThrow(ShareNotFoundError)
    expect((await download(friend, link, bytes.length)).equals(bytes)).toBe(true)

    await new Promise(resolve => setTimeout(resolve, 1600))
    await expect(friend.services.storage.resolve(link)).rejects.toThrow(ShareNotFoundError)
    expect(status(relay).shares).toBe(1)
    await relay.services.storage?.collect()
    expect(status(relay).shares).toBe(0)
    expect(await readdir(join(dir, 'storage', 'shares'))).toEqual([])
    expect(status(relay).refusals['unknown-share']).toBe(3)
  })

  it('lookups are limited per network address, whatever the peer ID; misses cost more, and going over is a strike', async () => {
    const relay = await startRelay({ shareLookups: { points: 8, duration: 60 } })
    const [owner, a, b] = [await startPeer(relay), await startPeer(relay), await startPeer(relay)]
    const put = await owner.services.storage.put(bytesSource(randomBytes(100)), { path: 'limited.bin' })
    const link = (await owner.services.storage.share(put.address, { grantee: ANYONE })).link

    // one miss (5) and two hits (1 each) from one peer, from 127.0.0.1 ...
    await expect(a.services.storage.resolve(unknownLink(link))).rejects.toThrow(ShareNotFoundError)
    await a.services.storage.resolve(link)
    await a.services.storage.resolve(link)
    // ... leave another peer ID at the same address one lookup
    await b.services.storage.resolve(link)
    await expect(b.services.storage.resolve(link)).rejects.toThrow(TooManyLookupsError)
    await expect(a.services.storage.resolve(link)).rejects.toThrow(/try again in \d+ s/)
    expect(status(relay).refusals['rate-limited']).toBe(2)
    expect(relay.services.sessions.stats.refusals['rate-limited']).toBeGreaterThanOrEqual(2)
  })

  it('links survive a relay restart, and one that expired meanwhile is gone', async () => {
    let relay = await startRelay({ maxTtl: 3600 })
    const friendKey = await generateKeyPair('Ed25519')
    const owner = await startPeer(relay)
    const bytes = randomBytes(200_000)
    const put = await owner.services.storage.put(bytesSource(bytes), { path: 'kept.bin' })
    const kept = await owner.services.storage.share(put.address, { grantee: friendKey.publicKey.toString(), ttl: 3_600_000 })
    const brief = await owner.services.storage.share(put.address, { grantee: ANYONE, ttl: 1000 })
    expect(status(relay).shares).toBe(2)

    await Promise.all(running.splice(0).reverse().map(async n => { await n.stop() }))
    await new Promise(resolve => setTimeout(resolve, 1100))
    relay = await startRelay({ maxTtl: 3600 }, false)
    expect(status(relay).shares).toBe(1)
    expect(await readdir(join(dir, 'storage', 'shares'))).toHaveLength(1)
    const friend = await startPeer(relay, friendKey)
    expect((await download(friend, kept.link, bytes.length)).equals(bytes)).toBe(true)
    await expect(friend.services.storage.resolve(brief.link)).rejects.toThrow(ShareNotFoundError)
  })
})
