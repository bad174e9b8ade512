import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { createStore, get, set } from 'idb-keyval'
import type { PrivateKey } from '@libp2p/interface'
import { UsageError } from '../../../shared/errors.ts'

const SLOT_KEY = 'golem-clay:identity-slot'
const MAX_SLOTS = 64

export interface TabIdentity {
  privateKey: PrivateKey
  /** Which stored identity this tab holds. */
  slot: number
  created: boolean
}

export interface ClaimIdentityInit {
  /** How long to wait for this tab's previous slot after a reload, in ms. @default 3_000 */
  reclaimTimeout?: number
}

/**
 * Gives this tab a persistent identity of its own. Keys live in IndexedDB,
 * which every tab of the origin shares, so each open tab holds a Web Lock on
 * one key slot; sessionStorage remembers the slot so a reload gets the same
 * peer ID back, and a second tab gets a different one.
 */
export async function claimIdentity (init: ClaimIdentityInit = {}): Promise<TabIdentity> {
  const store = createStore('golem-clay', 'identity')
  const remembered = Number.parseInt(sessionStorage.getItem(SLOT_KEY) ?? '', 10)
  const order = [...(Number.isInteger(remembered) ? [remembered] : []), ...Array.from({ length: MAX_SLOTS }, (_, i) => i).filter(i => i !== remembered)]

  if (typeof navigator.locks?.request !== 'function') {
    // no Web Locks (insecure origin): a fresh slot per tab session, kept across reloads
    return await loadSlot(store, Number.isInteger(remembered) ? remembered : MAX_SLOTS + crypto.getRandomValues(new Uint32Array(1))[0]!)
  }
  for (const slot of order) {
    const waitMs = slot === remembered ? init.reclaimTimeout ?? 3_000 : 0
    if (await holdLock(`golem-clay:identity:${slot}`, waitMs)) return await loadSlot(store, slot)
  }
  throw new UsageError(`All ${MAX_SLOTS} identity slots are held by open tabs: close one and reload`)
}

async function loadSlot (store: ReturnType<typeof createStore>, slot: number): Promise<TabIdentity> {
  sessionStorage.setItem(SLOT_KEY, String(slot))
  const stored = await get<Uint8Array>(`key:${slot}`, store)
  if (stored != null) {
    try {
      return { privateKey: privateKeyFromProtobuf(stored), slot, created: false }
    } catch {
      // a damaged key can't be repaired; this slot starts over with a new one
    }
  }
  const privateKey = await generateKeyPair('Ed25519')
  await set(`key:${slot}`, privateKeyToProtobuf(privateKey), store)
  return { privateKey, slot, created: true }
}

/**
 * Takes a lock for the life of the page (the browser releases it on unload).
 */
async function holdLock (name: string, waitMs: number): Promise<boolean> {
  return await new Promise<boolean>(resolve => {
    const options: LockOptions = waitMs > 0 ? { signal: AbortSignal.timeout(waitMs) } : { ifAvailable: true }
    navigator.locks.request(name, options, async (lock) => {
      if (lock == null) {
        resolve(false)
        return
      }
      resolve(true)
      await new Promise(() => {})
    }).catch(() => { resolve(false) })
  })
}
