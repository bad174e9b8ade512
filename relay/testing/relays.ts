import { generateKeyPair } from '@libp2p/crypto/keys'
import { createRelayNode } from '../gateway/create-relay-node.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Proof of work is tested on its own: relays in other tests ask next to none. */
export const FAST_SESSION = { difficulty: { base: 4, max: 6 } }

/** A started relay on loopback with any free ports, joined to `seeds`; pushed to `running` for the test's cleanup. */
export async function startTestRelay (running: Array<{ stop: () => Promise<void> | void }>, seeds: Multiaddr[] = []): Promise<RelayNode> {
  const node = await createRelayNode({ privateKey: await generateKeyPair('Ed25519'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, seeds, session: FAST_SESSION })
  await node.start()
  running.push(node)
  return node
}
