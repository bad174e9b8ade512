import { createStore, get, set } from 'idb-keyval'
import { deserializePeers, serializePeers } from '../../../shared/peer-keeper/index.ts'
import type { KeeperStore } from '../../../shared/peer-keeper/index.ts'

/** PeerKeeper records in IndexedDB, one list per identity slot (each tab is its own node). */
export function idbKeeperStore (slot: number): KeeperStore {
  const store = createStore('golem-clay-peers', 'peers')
  const key = `slot:${slot}`
  return {
    load: async () => deserializePeers((await get<string>(key, store)) ?? '[]'),
    save: async (peers) => { await set(key, serializePeers(peers), store) }
  }
}
