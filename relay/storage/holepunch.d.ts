// Just enough typing for the Holepunch modules the relay uses (they ship none).
declare module 'corestore' {
  import type { Duplex } from 'streamx'

  export interface Hypercore {
    readonly key: Buffer
    readonly discoveryKey: Buffer
    readonly length: number
    readonly byteLength: number
    readonly writable: boolean
    readonly opened: boolean
    readonly closed: boolean
    ready: () => Promise<void>
    close: () => Promise<void>
    get: (index: number, opts?: { wait?: boolean, timeout?: number, valueEncoding?: string }) => Promise<any>
    append: (blocks: any) => Promise<{ length: number, byteLength: number }>
    has: (start: number, end?: number) => Promise<boolean>
    /** [block index, offset in that block] of a byte offset. */
    seek: (bytes: number, opts?: { wait?: boolean, timeout?: number }) => Promise<[number, number] | null>
    clear: (start: number, end?: number) => Promise<unknown>
    update: (opts?: { wait?: boolean }) => Promise<boolean>
    download: (range?: { start?: number, end?: number, linear?: boolean }) => { done: () => Promise<void>, destroy: () => void }
    on: (event: string, fn: (...args: any[]) => void) => Hypercore
    off: (event: string, fn: (...args: any[]) => void) => Hypercore
    info: (opts?: { storage?: boolean }) => Promise<any>
  }

  export default class Corestore {
    constructor (storage: string, opts?: Record<string, unknown>)
    readonly primaryKey: Buffer
    ready: () => Promise<void>
    close: () => Promise<void>
    get: (opts: { name?: string, key?: Buffer | Uint8Array, valueEncoding?: string, exclusive?: boolean }) => Hypercore
    namespace: (name: string) => Corestore
    replicate: (isInitiator: boolean, opts?: Record<string, unknown>) => Duplex
  }
}

declare module 'hyperdrive' {
  import type Corestore from 'corestore'
  import type { Hypercore } from 'corestore'
  import type { Readable } from 'streamx'

  export interface BlobId { blockOffset: number, blockLength: number, byteOffset: number, byteLength: number }

  export interface DriveEntry<M = any> {
    seq: number
    key: string
    value: { executable: boolean, linkname: string | null, blob: BlobId | null, metadata: M | null }
  }

  export interface Hyperblobs {
    readonly core: Hypercore
    createReadStream: (id: BlobId, opts?: { start?: number, end?: number, wait?: boolean, timeout?: number }) => Readable
    clear: (id: BlobId) => Promise<unknown>
  }

  export default class Hyperdrive {
    constructor (store: Corestore, key?: Buffer | Uint8Array | null, opts?: Record<string, unknown>)
    readonly key: Buffer
    readonly discoveryKey: Buffer
    readonly core: Hypercore
    readonly db: any
    readonly version: number
    readonly writable: boolean
    blobs: Hyperblobs | null
    ready: () => Promise<void>
    close: () => Promise<void>
    update: (opts?: { wait?: boolean }) => Promise<boolean>
    getBlobs: () => Promise<Hyperblobs>
    entry: <M = any>(path: string, opts?: { wait?: boolean, timeout?: number }) => Promise<DriveEntry<M> | null>
    putEntry: (path: string, value: { blob?: BlobId | null, metadata?: unknown, executable?: boolean }) => Promise<void>
    del: (path: string) => Promise<void>
    list: (folder?: string, opts?: Record<string, unknown>) => AsyncIterable<DriveEntry>
    diff: (version: number, folder?: string, opts?: Record<string, unknown>) => AsyncIterable<{ left: DriveEntry | null, right: DriveEntry | null }>
    createReadStream: (path: string, opts?: { start?: number, end?: number, length?: number, wait?: boolean, timeout?: number }) => Readable
  }
}
