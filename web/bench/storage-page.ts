// The tab side of `npm run bench:storage` (see the Storage section of BENCHMARKS.md).
import { createBrowserNode } from '../src/node/create-browser-node.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { rawDownload, rawUpload } from '../../bench/storage/raw-protocol.ts'
import { bytesSource, memorySink } from '../../shared/storage/index.ts'
import { createBrowserHashcashSolver } from '../src/hashcash/browser-solver.ts'
import type { BrowserNode } from '../src/node/create-browser-node.ts'
import type { Connection } from '@libp2p/interface'

export interface StorageBenchApi {
  init: (arg: { relayWs: string }) => Promise<{ peerId: string }>
  rawUpload: (arg: { size: number }) => Promise<number>
  rawDownload: (arg: { size: number }) => Promise<number>
  /** Stores `size` fresh random bytes at `path`: ms from hashing to the relay's `stored`. */
  put: (arg: { size: number, path: string }) => Promise<{ ms: number, address: string }>
  /** Fetches `address` into memory: ms until the bytes are in and the SHA-256 checked. */
  get: (arg: { address: string }) => Promise<number>
  stop: (arg?: unknown) => Promise<void>
}

declare global {
  interface Window {
    storageBench?: StorageBenchApi
  }
}

let node: BrowserNode | undefined
let relay = ''
const solver = createBrowserHashcashSolver()

function random (size: number): Uint8Array {
  const out = new Uint8Array(size)
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(out.subarray(at, at + 65536))
  return out
}

/** The tab's own WebSocket connection to the relay, the one storage uses too. */
function relayConnection (): Connection {
  const conn = node?.getConnections().find(c => c.remotePeer.toString() === relay && c.status === 'open' && c.limits == null)
  if (conn == null) throw new Error('no open connection to the relay')
  return conn
}

async function until (check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!await check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

const api: StorageBenchApi = {
  init: async ({ relayWs }) => {
    relay = multiaddr(relayWs).getComponents().findLast(c => c.name === 'p2p')?.value ?? ''
    node = await createBrowserNode({ privateKey: await generateKeyPair('Ed25519'), relays: [relayWs], solver, maxRelays: 1 })
    await node.start()
    const self = node
    await until(async () => (await self.services.storage.relays()).includes(relay), 30_000, 'the relay\'s storage')
    return { peerId: node.peerId.toString() }
  },
  rawUpload: async ({ size }) => await rawUpload(relayConnection(), random(size), AbortSignal.timeout(120_000)),
  rawDownload: async ({ size }) => await rawDownload(relayConnection(), size, AbortSignal.timeout(120_000)),
  put: async ({ size, path }) => {
    const data = random(size)
    const start = performance.now()
    const result = await node!.services.storage.put(bytesSource(data), { path, relay, signal: AbortSignal.timeout(120_000) })
    return { ms: performance.now() - start, address: result.address }
  },
  get: async ({ address }) => {
    const start = performance.now()
    const sink = memorySink(Number(/size=(\d+)/.exec(address)?.[1]))
    await node!.services.storage.get(address, sink, { signal: AbortSignal.timeout(120_000) })
    return performance.now() - start
  },
  stop: async () => {
    await node?.stop()
    await solver.stop()
  }
}

window.storageBench = api
