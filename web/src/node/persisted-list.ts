import { createStore, del, get, set } from 'idb-keyval'

export interface PersistedListInit {
  /** What the list holds, e.g. 'uploads', 'tasks', 'messages'. */
  name: string
  /** The identity it belongs to (the tab's peer ID): each tab is its own node, a reload keeps its ID. */
  owner: string
  /** Newest items kept; older ones are dropped on save. */
  max: number
}

export interface PersistedList<T> {
  load: () => Promise<T[]>
  /** Replaces the stored list with the newest `max` of `items` (last = newest). Writes are serialised. */
  save: (items: readonly T[]) => Promise<void>
  clear: () => Promise<void>
}

const store = (): ReturnType<typeof createStore> => createStore('golem-clay-history', 'lists')

/**
 * A bounded list of what a user made (uploads, tasks, messages), kept in
 * IndexedDB per identity so a reload or a crash loses none of it. Items go
 * through structured clone: plain data, Uint8Array and Blob are fine; a
 * Svelte `$state` proxy is not (pass `$state.snapshot(items)`).
 */
export function persistedList<T> (init: PersistedListInit): PersistedList<T> {
  const key = `${init.owner}:${init.name}`
  let queue: Promise<void> = Promise.resolve()
  // a failed write must not stop the next: the page keeps working, the list is only a copy
  const enqueue = async (write: () => Promise<void>): Promise<void> => {
    queue = queue.then(write).catch(err => { console.warn(`golem-clay: could not keep ${init.name}`, err) })
    await queue
  }
  return {
    load: async () => {
      try {
        const items = await get<T[]>(key, store())
        return Array.isArray(items) ? items.slice(-init.max) : []
      } catch {
        return []
      }
    },
    save: async (items) => { await enqueue(async () => { await set(key, items.slice(-init.max), store()) }) },
    clear: async () => { await enqueue(async () => { await del(key, store()) }) }
  }
}
