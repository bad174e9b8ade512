import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { createStore, get, set } from 'idb-keyval'
import type { PrivateKey } from '@libp2p/interface'
import { UsageError } from '../../../shared/errors.ts'
import { generatePaymentKey, parsePaymentKey } from '../../../shared/payments/index.ts'
import type { Hex } from '../../../shared/payments/index.ts'

const SLOT_KEY = 'golem-clay:identity-slot'
const MAX_SLOTS = 64

export interface TabIdentity {
  privateKey: PrivateKey
  /** The payment key (secp256k1, 0x hex) kept with this identity: the account bound to its peer ID. */
  paymentKey: Hex
  /** Which stored identity this tab holds. */
  slot: number
  created: boolean
  /** The payment key was made now (a new payment account). */
  paymentKeyCreated: boolean
}

export interface ClaimIdentityInit {
  /** How long to wait for this tab's previous slot after a reload, in ms. @default 3_000 */
  reclaimTimeout?: number
}

/**
 * Gives this tab a persistent identity of its own, and the payment account
 * that goes with it. Keys live in IndexedDB,
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
  const payment = await loadPaymentKey(store, slot)
  const stored = await get<Uint8Array>(`key:${slot}`, store)
  if (stored != null) {
    try {
      return { privateKey: privateKeyFromProtobuf(stored), slot, created: false, paymentKey: payment.key, paymentKeyCreated: payment.created }
    } catch {
      // a damaged key can't be repaired; this slot starts over with a new one
    }
  }
  const privateKey = await generateKeyPair('Ed25519')
  await set(`key:${slot}`, privateKeyToProtobuf(privateKey), store)
  return { privateKey, slot, created: true, paymentKey: payment.key, paymentKeyCreated: payment.created }
}

/**
 * The slot's payment key, made on first use (an identity from before
 * payments gets one too). Only the page's node reads it: task code runs in
 * sandboxed workers without IndexedDB (compute/lockdown.ts).
 */
async function loadPaymentKey (store: ReturnType<typeof createStore>, slot: number): Promise<{ key: Hex, created: boolean }> {
  const stored = await get<string>(`payment-key:${slot}`, store)
  if (stored != null) {
    try {
      return { key: parsePaymentKey(stored), created: false }
    } catch {
      // unlike an identity, a payment key may hold money: a damaged one is put aside, not overwritten
      await set(`payment-key:${slot}:damaged:${Date.now()}`, stored, store)
    }
  }
  const key = generatePaymentKey()
  await set(`payment-key:${slot}`, key, store)
  return { key, created: true }
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
