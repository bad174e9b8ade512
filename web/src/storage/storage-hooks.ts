import { NotStartedError } from '../../../shared/errors.ts'
import { formatAddress } from '../../../shared/storage/index.ts'
import type { DownloadView, StorageState, UploadView } from './storage-state.svelte.ts'

/**
 * `window.golemClayStorage`: a read-only view of the page's transfers for
 * tests and curious users.
 */
export interface StorageHooks {
  uploads: () => UploadView[]
  downloads: () => DownloadView[]
  /** Connected relays that offer storage. */
  relays: () => Promise<string[]>
  /** Upload bytes made in the page (no file dialog), like the file input does. */
  uploadGenerated: (name: string, size: number, seed?: number) => Promise<UploadView>
  /** What a share link gives this tab: the object's full address with its token, who the link is for, until when. */
  resolve: (link: string) => Promise<{ address: string, grantee: string, expiresAt: number }>
}

declare global {
  interface Window {
    golemClayStorage?: StorageHooks
  }
}

/** Deterministic filler, fast enough for large test files. */
function generate (size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size)
  const words = new Uint32Array(out.buffer, 0, Math.floor(size / 4))
  let x = seed >>> 0 || 1
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    words[i] = x >>> 0
  }
  for (let i = words.length * 4; i < size; i++) out[i] = i & 0xff
  return out
}

export function exposeStorageHooks (state: StorageState): void {
  const hooks: StorageHooks = {
    uploads: () => state.uploads.map(u => JSON.parse(JSON.stringify(u))),
    downloads: () => state.downloads.map(d => JSON.parse(JSON.stringify(d))),
    relays: async () => await state.relays(),
    uploadGenerated: async (name, size, seed = 1) => await state.upload(new File([generate(size, seed) as Uint8Array<ArrayBuffer>], name)),
    resolve: async (link) => {
      const storage = state.app.node?.services.storage
      if (storage == null) throw new NotStartedError('The node is not running yet')
      const r = await storage.resolve(link)
      return { address: formatAddress(r.address), grantee: r.grantee, expiresAt: r.expiresAt }
    }
  }
  Object.defineProperty(window, 'golemClayStorage', { value: Object.freeze(hooks), configurable: false, writable: false })
}
