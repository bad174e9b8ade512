import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { lpStream } from '@libp2p/utils'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_DIRECTORY_FRAME, validateDirectoryFrame } from '../../shared/directory/index.ts'
import { verifySolution } from '../../shared/hashcash/index.ts'
import { sessionManager } from '../../shared/peer-session/index.ts'
import { decodeJson, DIRECTORY_PROTOCOL, encodeJson } from '../../shared/wire/index.ts'
import { createNodeHashcashSolver } from '../hashcash/node-solver.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import { FAST_SESSION, startTestRelay } from '../testing/relays.ts'
import { tcpAddr, until } from '../testing/wait.ts'
import type { DirectoryFrame } from '../../shared/directory/index.ts'
import type { RelayNode } from './create-relay-node.ts'

const running: Array<{ stop: () => Promise<void> | void }> = []

afterEach(async () => {
  await Promise.all(running.splice(0).reverse().map(async n => { await n.stop() }))
})

/** A bare subscriber that keeps every frame the relay sends it. */
async function subscriber (relay: RelayNode): Promise<{ id: string, frames: DirectoryFrame[] }> {
  const node = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      sessions: sessionManager({ roles: ['node'], verify: verifySolution, solver: createNodeHashcashSolver({ workers: 1 }), difficulty: FAST_SESSION.difficulty }),
      identify: identify()
    }
  })
  running.push(node)
  await node.start()
  const conn = await node.dial(tcpAddr(relay))
  const { stream } = await node.services.sessions.open(conn, DIRECTORY_PROTOCOL)
  const lp = lpStream(stream)
  await lp.write(encodeJson({ v: 1, type: 'subscribe', role: 'node' }, MAX_DIRECTORY_FRAME))
  const frames: DirectoryFrame[] = []
  void (async () => {
    while (stream.status === 'open') frames.push(decodeJson(await lp.read(), validateDirectoryFrame))
  })().catch(() => {})
  return { id: node.peerId.toString(), frames }
}

const ids = (frame: DirectoryFrame | undefined): string[] => frame == null ? [] : (frame.type === 'peers' ? frame.peers : frame.added).map(e => e.id)

describe('the relay directory', () => {
  it('sends the whole list once, then only what changed: a join adds one entry, a leave removes it', async () => {
    const relay = await startTestRelay(running)
    const watcher = await subscriber(relay)
    await until(() => watcher.frames.length > 0, 'the first list')
    // the first frame is the list, with the subscriber's own entry (its join time orders links)
    expect(watcher.frames[0]?.type).toBe('peers')
    expect(ids(watcher.frames[0])).toEqual([watcher.id])

    const a = await createNodePeer({ relays: [tcpAddr(relay)], session: FAST_SESSION })
    running.push(a)
    await a.start()
    const aId = a.peerId.toString()
    await until(() => watcher.frames.some(f => f.type === 'changes' && ids(f).includes(aId)), 'A to be announced')
    const announced = watcher.frames.find(f => f.type === 'changes' && ids(f).includes(aId))
    // A change names the newcomer, not everyone listed again
    expect(ids(announced)).not.toContain(watcher.id)

    // a peer joining later gets the list, which already holds A and the watcher
    const b = await createNodePeer({ relays: [tcpAddr(relay)], session: FAST_SESSION })
    running.push(b)
    await b.start()
    await until(() => b.services.directory.peers.some(p => p.id.equals(a.peerId)) && b.services.directory.peers.some(p => p.id.toString() === watcher.id), 'B to list A and the watcher')
    await until(() => a.services.directory.peers.some(p => p.id.equals(b.peerId)), 'A to hear of B')

    await a.stop()
    await until(() => watcher.frames.some(f => f.type === 'changes' && f.removed.includes(aId)), 'A to be removed')
    // B applies the removal to the list it holds
    await until(() => !b.services.directory.peers.some(p => p.id.equals(a.peerId)), 'B to drop A')
    expect(watcher.frames.slice(1).every(f => f.type === 'changes')).toBe(true)
  })
})
