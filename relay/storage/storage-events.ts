/** An object, as the relay's log names it: a drive key prefix, never a full address or token. */
export interface StoredObjectRef {
  /** The drive key's first 16 hex characters. */
  drive: string
  path: string
  /** Bytes. */
  size: number
  /** The uploader, whose quota the object counts against. */
  owner: string
}

/** Upload refusals for lack of room, which an operator may want to act on. */
export type RoomRefusal = 'quota' | 'too-many-uploads'

export interface RelayStorageEvents {
  /** An upload was committed (or matched the same content already stored: `deduplicated`). */
  'storage:stored': CustomEvent<StoredObjectRef & { peer: string, deduplicated: boolean }>
  /** A download was served to its end; `bytes` from `offset`. */
  'storage:served': CustomEvent<StoredObjectRef & { peer: string, offset: number, bytes: number }>
  /** Its uploader deleted an object. */
  'storage:deleted': CustomEvent<StoredObjectRef & { peer: string }>
  /** A collection pass removed expired objects, or uploads abandoned long enough. */
  'storage:expired': CustomEvent<{ objects: number, bytes: number, uploads: number }>
  /** An upload was refused for lack of room. */
  'storage:refused': CustomEvent<{ peer: string, reason: RoomRefusal, size: number, message: string }>
  /** Copying another relay's storage failed (the link, a drive's sync); it is retried. */
  'storage:replication-error': CustomEvent<{ relay: string, drive?: string, error: Error }>
  /** Something failed that a peer did not cause: the disk, the store, a bug. `part` says where. */
  'storage:error': CustomEvent<{ part: string, error: Error }>
}

/** How the storage parts report what they did, without each holding the emitter. */
export type StorageEmit = <K extends keyof RelayStorageEvents>(type: K, detail: RelayStorageEvents[K]['detail']) => void

/** A drive key as logs and events show it. */
export function shortDrive (key: string): string {
  return key.slice(0, 16)
}
