import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { kadDHT } from '@libp2p/kad-dht'
import { memory } from '@libp2p/memory'
import { ping } from '@libp2p/ping'
import { plaintext } from '@libp2p/plaintext'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { dhtConfig } from '../../shared/peer-keeper/index.ts'
import type { Identify } from '@libp2p/identify'
import type { ComponentLogger, Logger, PrivateKey } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Libp2p } from 'libp2p'

export type SimServices = { identify: Identify, ping: Ping, dht: KadDHT }
export type SimNode = Libp2p<SimServices>

/** Same cap as a relay gateway (`--max-connections` default). */
export const MAX_CONNECTIONS = 1024

/**
 * kad-dht repeats its self-lookup and its routing table refresh every 5 min.
 * In the sim every node shares one CPU: at 1,000 nodes those would be ~7
 * lookups a second, more than the process can serve, on top of what is
 * measured. Both are pushed past the end of the run.
 */
const MAINTENANCE_INTERVAL_MS = 3_600_000

/**
 * Every 5 s each node re-tags its closest peers (keep-alive tags that only
 * matter when the connection manager prunes, which never happens here); at
 * 1,000 nodes that alone keeps a quarter of a core busy, so the sim does it
 * every minute.
 */
const CLOSE_TAG_INTERVAL_MS = 60_000

/** Neither interval has an init option in kad-dht 16; both are read when the node starts. */
interface KadInternals {
  routingTableRefresh: { refreshInterval: number }
  routingTable: { closestPeerTagger: { refreshInterval: number } }
}

/** Logging is off in a bench run anyway; `debug` still costs CPU to create a logger for every connection and stream. */
const silentLog: Logger = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false, newScope: () => silentLog })
const silentLogger: ComponentLogger = { forComponent: () => silentLog }

/** Deterministic Ed25519 identity: the same run seed gives the same peer IDs, so runs are comparable. */
async function seededKey (runSeed: number, index: number): Promise<PrivateKey> {
  const seed = new Uint8Array(32)
  const view = new DataView(seed.buffer)
  view.setUint32(0, runSeed)
  view.setUint32(4, index)
  return await generateKeyPairFromSeed('Ed25519', seed)
}

/**
 * One simulated DHT server: a relay gateway's kad-dht (`dhtConfig(true)`)
 * on an in-memory transport. Plaintext instead of Noise and no session
 * layer or connection monitor: the sim measures routing, and with ~10^5
 * connections in one process those would only cost CPU and memory.
 */
export async function createSimNode (runSeed: number, index: number, latencyMs: number): Promise<SimNode> {
  const node = await createLibp2p({
    privateKey: await seededKey(runSeed, index),
    logger: silentLogger,
    // started by the caller, after the intervals below are set
    start: false,
    addresses: { listen: [`/memory/dht-sim-${runSeed}-${index}`] },
    transports: [memory({ latency: latencyMs })],
    connectionEncrypters: [plaintext()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: MAX_CONNECTIONS },
    connectionMonitor: { enabled: false },
    services: {
      identify: identify(),
      // kad-dht declares it needs the ping service (it pings peers before adding them)
      ping: ping(),
      dht: kadDHT({ ...dhtConfig(true), querySelfInterval: MAINTENANCE_INTERVAL_MS })
    }
  })
  const kad = node.services.dht as unknown as KadInternals
  kad.routingTableRefresh.refreshInterval = MAINTENANCE_INTERVAL_MS
  kad.routingTable.closestPeerTagger.refreshInterval = CLOSE_TAG_INTERVAL_MS
  return node
}
