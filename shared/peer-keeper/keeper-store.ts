import { fromString as fromBase64 } from 'uint8arrays/from-string'
import { toString as toBase64 } from 'uint8arrays/to-string'
import { NODE_ROLES } from '../peer-session/index.ts'
import type { KeptPeer } from './kept-peer.ts'
import type { NodeRole } from '../peer-session/index.ts'

/** Where PeerKeeper keeps its records between runs (IndexedDB in a tab, a file on Node). */
export interface KeeperStore {
  load: () => Promise<KeptPeer[]>
  save: (peers: KeptPeer[]) => Promise<void>
}

interface Serialized {
  id: string
  roles: string[]
  verified?: string[]
  via?: string
  envelope?: string
  lastSeen: number
  rtt?: number
  load?: number
  score: number
  seed?: boolean
}

/** JSON form; addresses are not stored, they are re-read from the verified envelope. */
export function serializePeers (peers: KeptPeer[]): string {
  return JSON.stringify(peers.map((p): Serialized => ({
    id: p.id,
    roles: p.roles,
    ...(p.verified != null ? { verified: p.verified } : {}),
    ...(p.via != null ? { via: p.via } : {}),
    ...(p.envelope != null ? { envelope: toBase64(p.envelope, 'base64') } : {}),
    lastSeen: p.lastSeen,
    ...(p.rtt != null ? { rtt: p.rtt } : {}),
    ...(p.load != null ? { load: p.load } : {}),
    score: p.score,
    ...(p.seed === true ? { seed: true } : {})
  })))
}

/** Parses what serializePeers wrote; malformed entries are skipped, not fatal. */
export function deserializePeers (text: string): KeptPeer[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return []
  }
  if (!Array.isArray(value)) return []
  return value.flatMap((item: Partial<Serialized>): KeptPeer[] => {
    if (typeof item?.id !== 'string' || typeof item.lastSeen !== 'number' || typeof item.score !== 'number') return []
    try {
      return [{
        id: item.id,
        roles: roles(item.roles),
        ...(Array.isArray(item.verified) ? { verified: roles(item.verified) } : {}),
        ...(typeof item.via === 'string' ? { via: item.via } : {}),
        envelope: typeof item.envelope === 'string' ? fromBase64(item.envelope, 'base64') : undefined,
        multiaddrs: [],
        lastSeen: item.lastSeen,
        rtt: typeof item.rtt === 'number' ? item.rtt : undefined,
        load: typeof item.load === 'number' ? item.load : undefined,
        score: item.score,
        seed: item.seed === true
      }]
    } catch {
      return []
    }
  })
}

function roles (value: unknown): NodeRole[] {
  return (Array.isArray(value) ? value : []).filter((r): r is NodeRole => (NODE_ROLES as readonly string[]).includes(r))
}

/** Keeps nothing: for tests and throwaway nodes. */
export function memoryKeeperStore (): KeeperStore & { saved: KeptPeer[] } {
  const store = {
    saved: [] as KeptPeer[],
    load: async () => deserializePeers(serializePeers(store.saved)),
    save: async (peers: KeptPeer[]) => { store.saved = deserializePeers(serializePeers(peers)) }
  }
  return store
}
