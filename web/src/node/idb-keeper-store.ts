import { createStore, get, setMany } from 'idb-keyval'
import { deserializePeers, serializePeers } from '../../../shared/peer-keeper/index.ts'
import type { KeeperStore } from '../../../shared/peer-keeper/index.ts'

/** The list this browser saved last, whichever tab saved it. */
const LATEST = 'latest'

/**
 * PeerKeeper records in IndexedDB, one list per identity slot (each tab is
 * its own node). A slot with no list of its own (a new tab, or a reload
 * slower than the slot's reclaim, which gives the tab a new slot) starts
 * from the list this browser saved last: what one tab learned of the
 * network serves the next when the seeds are down. Every record is
 * verified again on load.
 */
export function idbKeeperStore (slot: number): KeeperStore {
  const store = createStore('golem-clay-peers', 'peers')
  const key = `slot:${slot}`
  return {
    load: async () => deserializePeers((await get<string>(key, store)) ?? (await get<string>(LATEST, store)) ?? '[]'),
    save: async (peers) => {
      const text = serializePeers(peers)
      await setMany([[key, text], [LATEST, text]], store)
    }
  }
}
