import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AccessDeniedError, bytesSource, ContentHashMismatchError, decodeControl, decodeFrame, encodeControl, encodeData, FrameStream, InvalidTokenError, issueToken, MAX_FRAME, memorySink, ObjectNotFoundError, parseAddress, StorageQuotaExceededError, validateReply } from '../../shared/storage/index.ts'
import { STORAGE_PROTOCOL } from '../../shared/wire/index.ts'
import { createRelayNode } from '../gateway/create-relay-node.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import { tcpAddr, until } from '../testing/wait.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { NodePeer } from '../node-peer/create-node-peer.ts'
import type { StorageReply, TransferTap } from '../../shared/storage/index.ts'
import type { ObjectStore } from './object-store.ts'
import type { PendingRecord } from './pending-uploads.ts'
import type { RelayStorageInit } from './relay-storage.ts'
import type { Hypercore } from 'corestore'
import type { PrivateKey } from '@libp2p/interface'
import { faultyTap } from '../../shared/testing/index.ts'

// proof of work is exercised by its own tests; keep these fast
const LOW_DIFFICULTY = { difficulty: { base: 4, max: 8 } }

let dir: string
let relayKey: PrivateKey
const running: Array<{ stop: () => Promise<void> | void }> = []

beforeAll(async () => { relayKey = await generateKeyPair('Ed25519') })
afterEach(async () => { await Promise.all(running.splice(0).reverse().map(async n => { await n.stop() })) })
afterAll(async () => { if (dir != null) await rm(dir, { recursive: true, force: true }) })

async function startRelay (storage: Partial<RelayStorageInit> = {}, fresh = true): Promise<RelayNode> {
  if (fresh) dir = await mkdtemp(join(tmpdir(), 'golem-clay-storage-'))
  const relay = await createRelayNode({ privateKey: relayKey, host: '127.0.0.1', tcpPort: 0, wsPort: 0, session: LOW_DIFFICULTY, storage: { dir: join(dir, 'storage'), ...storage } })
  await relay.start()
  running.push(relay)
  return relay
}

async function startPeer (relay: RelayNode, tap?: TransferTap): Promise<NodePeer> {
  const peer = await createNodePeer({ relays: [tcpAddr(relay)], session: LOW_DIFFICULTY, maxRelays: 1, storage: { tap } })
  await peer.start()
  running.push(peer)
  await until(async () => (await peer.services.storage.relays()).length > 0, 'a storage relay')
  return peer
}

function storage (relay: RelayNode): NonNullable<RelayNode['services']['storage']> {
  const s = relay.services.storage
  if (s == null) throw new Error('no storage')
  return s
}

/** A storage stream of our own, to send what no honest client would. */
async function raw (peer: NodePeer, relay: RelayNode): Promise<{ fs: FrameStream, reply: () => Promise<StorageReply | null> }> {
  const conn = await peer.dial(relay.peerId)
  await peer.services.sessions.ensure(conn)
  const stream = await conn.newStream(STORAGE_PROTOCOL)
  const fs = new FrameStream(stream, { maxFrameLength: MAX_FRAME })
  return {
    fs,
    reply: async () => {
      const frame = await fs.read({ signal: AbortSignal.timeout(10_000) }).catch(() => null)
      if (frame == null) return null
      const f = decodeFrame(frame)
      return f.kind === 'control' ? decodeControl(f.bytes, validateReply) : null
    }
  }
}

const sha = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest()

describe('relay storage over real libp2p connections', () => {
  it('stores, serves, and refuses readers without a valid token', async () => {
    const relay = await startRelay()
    const [owner, other] = [await startPeer(relay), await startPeer(relay)]
    const bytes = randomBytes(700_000)
    const put = await owner.services.storage.put(bytesSource(bytes), { path: 'docs/a.bin' })
    expect(put.object).toMatchObject({ path: 'docs/a.bin', size: bytes.length, sha256: sha(bytes).toString('hex'), owner: owner.peerId.toString() })

    const sink = memorySink(bytes.length)
    await owner.services.storage.get(put.address, sink)
    expect(Buffer.from(sink.bytes()).equals(bytes)).toBe(true)

    // the same content again is not sent twice
    const again = await owner.services.storage.put(bytesSource(bytes), { path: 'docs/a.bin' })
    expect(again.deduplicated).toBe(true)
    // other content at that path is never written over
    await expect(owner.services.storage.put(bytesSource(randomBytes(10)), { path: 'docs/a.bin' })).rejects.toThrow(/never overwritten/)

    await expect(other.services.storage.get(put.address, memorySink(bytes.length))).rejects.toThrow(AccessDeniedError)
    const a = parseAddress(put.address)
    const key = await ownerKey(owner)
    const expired = await issueToken(key, { grantee: other.peerId.toString(), op: 'read', drive: a.drive, path: a.path, sha256: a.sha256, ttl: 1000, now: Date.now() - 3_600_000 })
    await expect(other.services.storage.get({ ...a, token: expired }, memorySink(bytes.length))).rejects.toThrow(/expired/)
    const writeOnly = await issueToken(key, { grantee: other.peerId.toString(), op: 'write', drive: a.drive, path: a.path })
    await expect(other.services.storage.get({ ...a, token: writeOnly }, memorySink(bytes.length))).rejects.toThrow(InvalidTokenError)
    const granted = await owner.services.storage.grant(put.address, other.peerId.toString())
    const got = memorySink(bytes.length)
    await other.services.storage.get(granted, got)
    expect(Buffer.from(got.bytes()).equals(bytes)).toBe(true)

    // only the uploader deletes
    await expect(other.services.storage.remove(granted)).rejects.toThrow(AccessDeniedError)
    await owner.services.storage.remove(put.address)
    await expect(owner.services.storage.stat(put.address)).rejects.toThrow(ObjectNotFoundError)
    expect(storage(relay).status).toMatchObject({ objects: 0, bytes: 0 })
  })

  it('a write token lets another peer store into the owner\'s drive', async () => {
    const relay = await startRelay()
    const [owner, worker] = [await startPeer(relay), await startPeer(relay)]
    const { drive } = await owner.services.storage.drive()
    const token = await issueToken(await ownerKey(owner), { grantee: worker.peerId.toString(), op: 'write', drive, path: 'results/1.bin' })
    const bytes = randomBytes(50_000)
    await expect(worker.services.storage.put(bytesSource(bytes), { path: 'results/2.bin', token, drive })).rejects.toThrow(/another object/)
    const put = await worker.services.storage.put(bytesSource(bytes), { path: 'results/1.bin', token, drive })
    expect(put.object).toMatchObject({ drive, owner: owner.peerId.toString() })
    const sink = memorySink(bytes.length)
    await owner.services.storage.get(put.address, sink)
    expect(Buffer.from(sink.bytes()).equals(bytes)).toBe(true)
    await expect(worker.services.storage.get(put.address, memorySink(bytes.length))).rejects.toThrow(AccessDeniedError)
  })

  it('refuses bad paths, garbage, corrupted and out-of-order chunks with typed errors', async () => {
    const relay = await startRelay()
    const peer = await startPeer(relay)
    for (const path of ['../escape', '/etc/passwd', 'a/../../b', 'tab\tin/name', 'x\u0000y']) {
      const r = await raw(peer, relay)
      await r.fs.write(encodeControl({ v: 1, op: 'put', path, size: 10, sha256: 'ab'.repeat(32) }))
      const reply = await r.reply()
      expect(reply).toMatchObject({ type: 'error', error: { name: 'InvalidPathError' } })
    }
    const garbage = await raw(peer, relay)
    await garbage.fs.write(Uint8Array.from([0, ...new TextEncoder().encode('{"v":1,"op":')]))
    expect(await garbage.reply()).toMatchObject({ type: 'error', error: { name: 'StorageProtocolError' } })

    const bytes = randomBytes(300_000)
    const digest = sha(bytes).toString('hex')
    const corrupt = await raw(peer, relay)
    await corrupt.fs.write(encodeControl({ v: 1, op: 'put', path: 'c.bin', size: bytes.length, sha256: digest }))
    expect(await corrupt.reply()).toMatchObject({ type: 'ready', offset: 0 })
    const chunk = bytes.subarray(0, 100_000)
    await corrupt.fs.write(encodeData(0, sha(chunk), chunk))
    const bad = Buffer.from(bytes.subarray(100_000, 200_000))
    const badHash = sha(bad)
    bad[7] = (bad[7] as number) ^ 1
    await corrupt.fs.write(encodeData(100_000, badHash, bad))
    expect(await corrupt.reply()).toMatchObject({ type: 'error', error: { name: 'ChunkCorruptedError', offset: 100_000 } })

    // resuming says where the good bytes end; a chunk from elsewhere is refused
    const skip = await raw(peer, relay)
    await skip.fs.write(encodeControl({ v: 1, op: 'put', path: 'c.bin', size: bytes.length, sha256: digest }))
    expect(await skip.reply()).toMatchObject({ type: 'ready', offset: 100_000 })
    await skip.fs.write(encodeData(200_000, sha(bytes.subarray(200_000)), bytes.subarray(200_000)))
    expect(await skip.reply()).toMatchObject({ type: 'error', error: { name: 'StorageProtocolError' } })

    // a truncated frame: the length promises more than ever comes
    const cut = await raw(peer, relay)
    await cut.fs.write(encodeControl({ v: 1, op: 'put', path: 'c.bin', size: bytes.length, sha256: digest }))
    expect(await cut.reply()).toMatchObject({ type: 'ready', offset: 100_000 })
    cut.fs.stream.send(Uint8Array.from([0x80, 0x80, 0x04, 1, 0, 0]))
    await cut.fs.stream.close()
    expect(await cut.reply()).toMatchObject({ type: 'error', error: { name: 'StorageProtocolError' } })

    // nothing half-written is served, and the honest client finishes the upload from byte 100 000
    expect(storage(relay).status).toMatchObject({ objects: 0, pendingUploads: 1 })
    const before = storage(relay).status.bytesIn
    const put = await peer.services.storage.put(bytesSource(bytes), { path: 'c.bin' })
    expect(put.object.sha256).toBe(digest)
    expect(storage(relay).status.bytesIn - before).toBe(bytes.length - 100_000)
    expect(storage(relay).status).toMatchObject({ objects: 1, pendingUploads: 0 })
    expect(storage(relay).status.refusals).toMatchObject({ 'bad-path': 5, 'corrupt-chunk': 1 })
  })

  it('a large upload names its hash after the last chunk: a wrong one stores nothing, stale bytes of other content restart it', async () => {
    const relay = await startRelay()
    const faults = faultyTap()
    const peer = await startPeer(relay, faults)
    // what the client does above 4 MiB, by hand: no hash in the request, an `end` frame after the last chunk
    const small = randomBytes(200_000)
    const wrong = await raw(peer, relay)
    await wrong.fs.write(encodeControl({ v: 1, op: 'put', path: 'w.bin', size: small.length }))
    expect(await wrong.reply()).toMatchObject({ type: 'ready', offset: 0 })
    await wrong.fs.write(encodeData(0, sha(small), small))
    await wrong.fs.write(encodeControl({ v: 1, type: 'end', sha256: 'ab'.repeat(32) }))
    expect(await wrong.reply()).toMatchObject({ type: 'error', error: { name: 'ContentHashMismatchError' } })
    const garbled = await raw(peer, relay)
    await garbled.fs.write(encodeControl({ v: 1, op: 'put', path: 'w.bin', size: small.length }))
    await garbled.reply()
    await garbled.fs.write(encodeData(0, sha(small), small))
    await garbled.fs.write(encodeData(small.length, sha(small), small))
    expect(await garbled.reply()).toMatchObject({ type: 'error', error: { name: 'StorageProtocolError' } })
    const noHash = await raw(peer, relay)
    await noHash.fs.write(encodeControl({ v: 1, op: 'put', path: 'w.bin', size: 10, token: 'x', drive: 'ab'.repeat(32) }))
    expect(await noHash.reply()).toMatchObject({ type: 'error', error: { name: 'StorageProtocolError' } })

    // an abandoned upload of other content left 200 kB at the same path and size
    const bytes = randomBytes(5 * 1024 * 1024)
    const other = randomBytes(200_000)
    const stale = await raw(peer, relay)
    await stale.fs.write(encodeControl({ v: 1, op: 'put', path: 'big.bin', size: bytes.length }))
    await stale.reply()
    await stale.fs.write(encodeData(0, sha(other), other))
    await until(() => storage(relay).status.bytesIn >= 2 * small.length + other.length, 'the stale chunk')
    stale.fs.stream.abort(new Error('gone'))
    await until(() => storage(relay).status.refusals.abandoned === 1, 'the relay to notice')

    // the client resumes those bytes, learns from the mismatch, and starts once more from scratch
    const before = storage(relay).status.bytesIn
    const put = await peer.services.storage.put(bytesSource(bytes), { path: 'big.bin' })
    expect(put.object.sha256).toBe(sha(bytes).toString('hex'))
    expect(storage(relay).status.bytesIn - before).toBe(2 * bytes.length - other.length)
    const sink = memorySink(bytes.length)
    await peer.services.storage.get(put.address, sink)
    expect(Buffer.from(sink.bytes()).equals(bytes)).toBe(true)

    // the same content again is the same object; other content of the same size is refused at the end
    expect((await peer.services.storage.put(bytesSource(bytes), { path: 'big.bin' })).deduplicated).toBe(true)
    await expect(peer.services.storage.put(bytesSource(randomBytes(bytes.length)), { path: 'big.bin' })).rejects.toThrow(/never overwritten/)
    // the client's wrong-hash fault goes in its end frame: refused, nothing kept, and no fresh start (the resume was not the cause)
    const inBefore = storage(relay).status.bytesIn
    faults.inject({ wrongHash: '0'.repeat(64) })
    await expect(peer.services.storage.put(bytesSource(randomBytes(bytes.length)), { path: 'faulty.bin' })).rejects.toThrow(ContentHashMismatchError)
    expect(storage(relay).status.bytesIn - inBefore).toBe(bytes.length)
    // left: the garbled w.bin, whose checked bytes wait for a resume
    expect(storage(relay).status).toMatchObject({ objects: 1, pendingUploads: 1 })
    expect(storage(relay).status.refusals).toMatchObject({ 'hash-mismatch': 3, exists: 1 })
  })

  it('a client that vanishes mid-upload damages nothing; quotas refuse up front', async () => {
    const relay = await startRelay({ peerQuota: 2_000_000, quota: 3_000_000 })
    const [peer, other] = [await startPeer(relay), await startPeer(relay)]
    const kept = randomBytes(500_000)
    const put = await peer.services.storage.put(bytesSource(kept), { path: 'kept.bin' })

    const half = await raw(peer, relay)
    const bytes = randomBytes(1_000_000)
    await half.fs.write(encodeControl({ v: 1, op: 'put', path: 'gone.bin', size: bytes.length, sha256: sha(bytes).toString('hex') }))
    await half.reply()
    await half.fs.write(encodeData(0, sha(bytes.subarray(0, 200_000)), bytes.subarray(0, 200_000)))
    await until(() => storage(relay).status.bytesIn >= 700_000, 'the first chunk')
    for (const conn of peer.getConnections(relay.peerId)) conn.abort(new Error('vanished'))
    await until(() => storage(relay).status.refusals.abandoned === 1, 'the relay to notice')

    // the pending upload is charged for the 200 KB it holds, not the 1 MB it declared: 0.5 + 0.2 + 1.4 MB > 2 MB
    await expect(peer.services.storage.put(bytesSource(randomBytes(1_400_000)), { path: 'big.bin' })).rejects.toThrow(StorageQuotaExceededError)
    expect(storage(relay).status.pendingBytes).toBe(200_000)
    // and the relay as a whole: 0.7 + 1.9 MB stored, 0.5 MB more > 3 MB
    await other.services.storage.put(bytesSource(randomBytes(1_900_000)), { path: 'big.bin' })
    const third = await startPeer(relay)
    await expect(third.services.storage.put(bytesSource(randomBytes(500_000)), { path: 'big.bin' })).rejects.toThrow(/relay's storage is full/)

    const sink = memorySink(kept.length)
    await peer.services.storage.get(put.address, sink)
    expect(Buffer.from(sink.bytes()).equals(kept)).toBe(true)
    expect(storage(relay).status.refusals.quota).toBe(2)

    // a client that ends its stream cleanly mid-upload abandons it too: not a protocol fault, and the bytes wait for a resume
    const ended = await raw(third, relay)
    const part = randomBytes(100_000)
    await ended.fs.write(encodeControl({ v: 1, op: 'put', path: 'ended.bin', size: 2 * part.length }))
    await ended.reply()
    await ended.fs.write(encodeData(0, sha(part), part))
    await ended.fs.stream.close()
    expect(await ended.reply()).toMatchObject({ type: 'error', error: { name: 'UploadIncompleteError' } })
    expect(storage(relay).status.refusals).toMatchObject({ abandoned: 2, protocol: 0 })
    expect(storage(relay).status.pendingUploads).toBe(2)
  })

  it('an upload is charged by the bytes that arrive: unfed declarations hold nothing, too many at once are refused, a full relay stops an upload mid-way', async () => {
    const relay = await startRelay({ peerQuota: 2_000_000, quota: 3_000_000, maxUploadsPerPeer: 3 })
    const [greedy, honest] = [await startPeer(relay), await startPeer(relay)]
    // three declarations of 1.9 MB that send nothing (the first holds the drive's append lock, the others wait for it)
    const declared = await Promise.all([1, 2, 3].map(async i => {
      const r = await raw(greedy, relay)
      await r.fs.write(encodeControl({ v: 1, op: 'put', path: `never-${i}.bin`, size: 1_900_000, sha256: 'ab'.repeat(32) }))
      return r
    }))
    await until(() => storage(relay).status.pendingUploads === 3, 'three declarations')
    // 5.7 MB declared, nothing received: the relay's 3 MB do not read full
    expect(storage(relay).status.pendingBytes).toBe(0)
    // a fourth from the same peer is one too many
    const fourth = await raw(greedy, relay)
    await fourth.fs.write(encodeControl({ v: 1, op: 'put', path: 'never-4.bin', size: 10, sha256: 'ab'.repeat(32) }))
    expect(await fourth.reply()).toMatchObject({ type: 'error', error: { name: 'TooManyUploadsError' } })
    // an honest put goes through meanwhile
    const small = Buffer.from('seventeen bytes!!')
    expect((await honest.services.storage.put(bytesSource(small), { path: 'small.txt' })).object.size).toBe(17)
    // declarations that end without a byte leave nothing behind, not even a record to resume
    for (const r of declared) await r.fs.stream.close()
    await until(() => storage(relay).status.pendingUploads === 0, 'the declarations to go')
    expect(await pendingRecords()).toEqual([])
    expect(storage(relay).status.refusals).toMatchObject({ 'too-many-uploads': 1, quota: 0 })

    // parked uploads (a chunk sent, then gone) hold slots too, but give them up to a newcomer at the cap
    const abandoned = storage(relay).status.refusals.abandoned
    for (let i = 0; i < 3; i++) {
      const r = await raw(greedy, relay)
      const chunk = randomBytes(20_000)
      await r.fs.write(encodeControl({ v: 1, op: 'put', path: `parked-${i}.bin`, size: 100_000 }))
      await r.reply()
      await r.fs.write(encodeData(0, sha(chunk), chunk))
      await r.fs.stream.close()
      await until(() => storage(relay).status.refusals.abandoned === abandoned + i + 1, 'the upload to be parked')
    }
    expect(storage(relay).status.pendingUploads).toBe(3)
    await greedy.services.storage.put(bytesSource(randomBytes(1000)), { path: 'after-parking.bin' })
    expect(storage(relay).status.pendingUploads).toBe(2)
    expect(storage(relay).status.refusals['too-many-uploads']).toBe(1)

    // room for 1.5 MB when it starts, filled by another upload meanwhile: refused mid-way, nothing of it kept
    const parked = storage(relay).status.pendingBytes
    const slow = await raw(greedy, relay)
    const body = randomBytes(1_500_000)
    await slow.fs.write(encodeControl({ v: 1, op: 'put', path: 'slow.bin', size: body.length, sha256: sha(body).toString('hex') }))
    await slow.reply()
    await slow.fs.write(encodeData(0, sha(body.subarray(0, 100_000)), body.subarray(0, 100_000)))
    await until(() => storage(relay).status.pendingBytes === parked + 100_000, 'the first chunk')
    await honest.services.storage.put(bytesSource(randomBytes(1_900_000)), { path: 'fills.bin' })
    // about 1 MB is left now: the chunk that would pass it is refused
    for (let at = 100_000; at < body.length; at += 200_000) {
      const chunk = body.subarray(at, at + 200_000)
      try {
        await slow.fs.write(encodeData(at, sha(chunk), chunk))
      } catch {
        break
      }
    }
    expect(await slow.reply()).toMatchObject({ type: 'error', error: { name: 'StorageQuotaExceededError' } })
    await until(() => storage(relay).status.pendingUploads === 2, 'the refused upload to be dropped')
    expect(storage(relay).status.pendingBytes).toBe(parked)
  })

  it('an upload resumes after another one appended to its drive, uploads to one drive take turns, and abandoned uploads free their blocks', async () => {
    const relay = await startRelay()
    const peer = await startPeer(relay)
    const bytes = randomBytes(1_000_000)
    const cut = await raw(peer, relay)
    await cut.fs.write(encodeControl({ v: 1, op: 'put', path: 'moved.bin', size: bytes.length, sha256: sha(bytes).toString('hex') }))
    await cut.reply()
    for (const at of [0, 200_000]) await cut.fs.write(encodeData(at, sha(bytes.subarray(at, at + 200_000)), bytes.subarray(at, at + 200_000)))
    await until(() => storage(relay).status.bytesIn >= 400_000, 'two chunks')
    for (const conn of peer.getConnections(relay.peerId)) conn.abort(new Error('cut'))
    await until(() => storage(relay).status.refusals.abandoned === 1, 'the relay to notice')
    const [first] = await pendingRecords()
    expect(first?.blob).toMatchObject({ byteLength: 400_000 })

    // another upload to the same drive lands right after the cut one's blocks
    const between = randomBytes(300_000)
    const b = await peer.services.storage.put(bytesSource(between), { path: 'between.bin' })
    const inBefore = storage(relay).status.bytesIn
    const put = await peer.services.storage.put(bytesSource(bytes), { path: 'moved.bin' })
    // only the missing bytes were sent; the ones held moved to the core's end and their old blocks were freed
    expect(storage(relay).status.bytesIn - inBefore).toBe(600_000)
    const core = await blobCore(relay, put.object.drive)
    expect(await core.has(first!.blob!.blockOffset, first!.blob!.blockOffset + first!.blob!.blockLength)).toBe(false)
    for (const [address, content] of [[put.address, bytes], [b.address, between]] as const) {
      const sink = memorySink(content.length)
      await peer.services.storage.get(address, sink)
      expect(Buffer.from(sink.bytes()).equals(content)).toBe(true)
    }

    // uploads to one drive at the same time take turns appending: each object gets its own bytes
    const twins = [randomBytes(700_000), randomBytes(700_000)]
    const both = await Promise.all(twins.map(async (t, i) => await peer.services.storage.put(bytesSource(t), { path: `twin-${i}.bin` })))
    for (const [i, p] of both.entries()) {
      const sink = memorySink(p.object.size)
      await peer.services.storage.get(p.address, sink)
      expect(Buffer.from(sink.bytes()).equals(twins[i]!)).toBe(true)
    }

    // an upload nobody resumes expires, and its blocks go with it
    const dropped = await raw(peer, relay)
    await dropped.fs.write(encodeControl({ v: 1, op: 'put', path: 'dropped.bin', size: bytes.length, sha256: sha(bytes).toString('hex') }))
    await dropped.reply()
    await dropped.fs.write(encodeData(0, sha(bytes.subarray(0, 200_000)), bytes.subarray(0, 200_000)))
    await until(() => storage(relay).status.bytesIn - inBefore >= 2_200_000, 'the chunk')
    await dropped.fs.stream.close()
    await until(() => storage(relay).status.refusals.abandoned === 2, 'the relay to notice')
    const [left] = await pendingRecords()
    expect(left?.blob?.byteLength).toBe(200_000)
    const range = [left!.blob!.blockOffset, left!.blob!.blockOffset + left!.blob!.blockLength] as const
    expect(await core.has(...range)).toBe(true)
    await storage(relay).collect(Date.now() + 2 * 3600 * 1000)
    expect(storage(relay).status).toMatchObject({ pendingUploads: 0, objects: 4 })
    expect(await core.has(...range)).toBe(false)

    // held bytes that cannot be read any more: the upload starts again from byte 0 and still stores the right content
    const lost = await raw(peer, relay)
    await lost.fs.write(encodeControl({ v: 1, op: 'put', path: 'lost.bin', size: bytes.length, sha256: sha(bytes).toString('hex') }))
    await lost.reply()
    await lost.fs.write(encodeData(0, sha(bytes.subarray(0, 200_000)), bytes.subarray(0, 200_000)))
    await lost.fs.stream.close()
    await until(() => storage(relay).status.refusals.abandoned === 3, 'the relay to notice')
    const [held] = await pendingRecords()
    await core.clear(held!.blob!.blockOffset, held!.blob!.blockOffset + held!.blob!.blockLength)
    const again = storage(relay).status.bytesIn
    const redone = await peer.services.storage.put(bytesSource(bytes), { path: 'lost.bin' })
    expect(storage(relay).status.bytesIn - again).toBe(bytes.length)
    const sink = memorySink(bytes.length)
    await peer.services.storage.get(redone.address, sink)
    expect(Buffer.from(sink.bytes()).equals(bytes)).toBe(true)
  })

  it('keeps everything across a restart; expired objects and stale uploads are collected', async () => {
    // long lifetimes, so a slow restart cannot expire anything early; expiry is then tested by collecting at a later time
    let relay = await startRelay({ maxTtl: 3600, pendingTtl: 600 })
    let peer = await startPeer(relay)
    const key = await ownerKey(peer)
    const bytes = randomBytes(400_000)
    const put = await peer.services.storage.put(bytesSource(bytes), { path: 'persist.bin' })
    const stale = await raw(peer, relay)
    const first = Buffer.from('hello')
    await stale.fs.write(encodeControl({ v: 1, op: 'put', path: 'stale.bin', size: 10, sha256: 'ab'.repeat(32) }))
    await stale.reply()
    await stale.fs.write(encodeData(0, sha(first), first))
    await stale.fs.stream.close()
    await until(() => storage(relay).status.refusals.abandoned === 1, 'the relay to notice')

    await Promise.all(running.splice(0).reverse().map(async n => { await n.stop() }))
    relay = await startRelay({ maxTtl: 3600, pendingTtl: 600 }, false)
    expect(storage(relay).status).toMatchObject({ objects: 1, bytes: bytes.length, pendingUploads: 1 })
    peer = await createNodePeer({ privateKey: key, relays: [tcpAddr(relay)], session: LOW_DIFFICULTY, maxRelays: 1 })
    await peer.start()
    running.push(peer)
    await until(async () => (await peer.services.storage.relays()).length > 0, 'a storage relay')
    const sink = memorySink(bytes.length)
    await peer.services.storage.get(put.address, sink)
    expect(Buffer.from(sink.bytes()).equals(bytes)).toBe(true)

    await storage(relay).collect(put.object.expiresAt - 1)
    expect(storage(relay).status).toMatchObject({ objects: 1, pendingUploads: 0 })
    await storage(relay).collect(put.object.expiresAt + 1)
    expect(storage(relay).status).toMatchObject({ objects: 0, bytes: 0, pendingUploads: 0 })
    await expect(peer.services.storage.stat(put.address)).rejects.toThrow(ObjectNotFoundError)
  })
})

/** The peer's own key, for issuing tokens in its name as the client does. */
async function ownerKey (peer: NodePeer): Promise<PrivateKey> {
  const key = (peer.services.storage as any).components.privateKey as PrivateKey
  if (key == null) throw new Error('no key')
  return key
}

/** The relay's records of uploads in progress, as on disk. */
async function pendingRecords (): Promise<PendingRecord[]> {
  const folder = join(dir, 'storage', 'partial')
  const names = (await readdir(folder)).filter(n => n.endsWith('.json'))
  return await Promise.all(names.map(async n => JSON.parse(await readFile(join(folder, n), 'utf8')) as PendingRecord))
}

/** A drive's blob core on the relay, to see which blocks it holds. */
async function blobCore (relay: RelayNode, drive: string): Promise<Hypercore> {
  const handle = ((storage(relay) as any).store as ObjectStore).driveByKey(drive)
  if (handle == null) throw new Error('no such drive')
  return (await handle.drive.getBlobs()).core
}
