export type StorageRefusal = 'quota' | 'too-many-uploads' | 'access-denied' | 'bad-token' | 'bad-path' | 'corrupt-chunk' | 'hash-mismatch' | 'exists' | 'protocol' | 'abandoned' | 'unknown-share' | 'rate-limited'

/** Refusals by kind, for /status. */
export class StorageCounters {
  private readonly counts: Record<StorageRefusal, number> = {
    quota: 0, 'too-many-uploads': 0, 'access-denied': 0, 'bad-token': 0, 'bad-path': 0, 'corrupt-chunk': 0, 'hash-mismatch': 0, exists: 0, protocol: 0, abandoned: 0, 'unknown-share': 0, 'rate-limited': 0
  }

  uploads = 0
  downloads = 0
  bytesIn = 0
  bytesOut = 0

  add (kind: StorageRefusal): void {
    this.counts[kind]++
  }

  toJSON (): Record<StorageRefusal, number> {
    return { ...this.counts }
  }
}
