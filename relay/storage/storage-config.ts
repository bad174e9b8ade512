import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidConfigError } from '../../shared/errors.ts'
import type { OptionSpec, OptionValues } from '../config/options.ts'
import type { RelayStorageInit } from './relay-storage.ts'

/** The relay's storage flags (merged into the relay's options). */
export const STORAGE_OPTIONS: OptionSpec[] = [
  { name: 'storage-quota', type: 'string', env: 'GOLEM_CLAY_STORAGE_QUOTA', default: '10GiB', placeholder: '<size>', description: 'Disk for stored objects, replicas and uploads in progress (e.g. 500MB, 10GiB)' },
  { name: 'storage-peer-quota', type: 'string', env: 'GOLEM_CLAY_STORAGE_PEER_QUOTA', default: '1GiB', placeholder: '<size>', description: 'Disk one uploader may use' },
  { name: 'storage-ttl', type: 'string', env: 'GOLEM_CLAY_STORAGE_TTL', default: '7d', placeholder: '<duration>', description: 'Longest (and default) time an object is kept (e.g. 3600, 12h, 7d)' },
  { name: 'storage-gc-interval', type: 'string', env: 'GOLEM_CLAY_STORAGE_GC_INTERVAL', default: '10m', placeholder: '<duration>', description: 'How often expired objects and abandoned uploads are removed' },
  { name: 'replicate-from', type: 'list', env: 'GOLEM_CLAY_REPLICATE_FROM', default: [], placeholder: '<multiaddr,...>', description: 'Relays whose storage this relay copies (each ending in /p2p/<peer ID>)' },
  { name: 'replication-allow', type: 'list', env: 'GOLEM_CLAY_REPLICATION_ALLOW', default: [], placeholder: '<peer ID,...>', description: 'Relays allowed to copy our storage (they read every drive; default: none)' },
  { name: 'replication-allow-any-relay', type: 'boolean', env: 'GOLEM_CLAY_REPLICATION_ALLOW_ANY_RELAY', default: false, description: 'Also let any relay this one verified copy our storage, private files included (not recommended)' },
  { name: 'storage-max-uploads', type: 'integer', env: 'GOLEM_CLAY_STORAGE_MAX_UPLOADS', default: 1024, min: 1, placeholder: '<n>', description: 'Uploads in progress at once, from everyone' },
  { name: 'storage-max-uploads-per-peer', type: 'integer', env: 'GOLEM_CLAY_STORAGE_MAX_UPLOADS_PER_PEER', default: 16, min: 1, placeholder: '<n>', description: 'Uploads in progress at once from one peer' },
  { name: 'storage-max-uploads-per-address', type: 'integer', env: 'GOLEM_CLAY_STORAGE_MAX_UPLOADS_PER_ADDRESS', default: 64, min: 1, placeholder: '<n>', description: 'Uploads in progress at once from one network address' }
]

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, kib: 2 ** 10, m: 1e6, mb: 1e6, mib: 2 ** 20, g: 1e9, gb: 1e9, gib: 2 ** 30, t: 1e12, tb: 1e12, tib: 2 ** 40
}

/** `500MB`, `10GiB`, `1048576` → bytes. */
export function parseSize (text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()]
  if (m == null || unit == null) throw new InvalidConfigError(`--${flag} must be a size like 500MB or 10GiB, got "${text}"`)
  return Math.floor(Number(m[1]) * unit)
}

const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }

/** `3600`, `45s`, `30m`, `12h`, `7d` → seconds. */
export function parseDuration (text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/i.exec(text.trim())
  const unit = DURATION_UNITS[(m?.[2] ?? '').toLowerCase()]
  if (m == null || unit == null) throw new InvalidConfigError(`--${flag} must be a duration like 3600, 30m, 12h or 7d, got "${text}"`)
  const seconds = Number(m[1]) * unit
  if (seconds < 1) throw new InvalidConfigError(`--${flag} must be at least one second`)
  return seconds
}

function parsePeerIds (values: string[], flag: string): string[] {
  for (const value of values) {
    try {
      peerIdFromString(value)
    } catch {
      throw new InvalidConfigError(`--${flag} takes peer IDs (e.g. 12D3KooW…), got "${value}"`)
    }
  }
  return values
}

/** Reads the storage flags; the Corestore lives in `<data>/storage`. */
export function parseStorageConfig (v: OptionValues, dataDir: string): RelayStorageInit {
  const replicateFrom = (v['replicate-from'] as string[] | undefined) ?? []
  for (const addr of replicateFrom) {
    let ok = false
    try {
      ok = multiaddr(addr).getComponents().some(c => c.name === 'p2p')
    } catch {}
    if (!ok) throw new InvalidConfigError(`--replicate-from ${addr} must be a multiaddr ending with /p2p/<peer ID>`)
  }
  return {
    dir: join(dataDir, 'storage'),
    quota: parseSize(String(v['storage-quota'] ?? '10GiB'), 'storage-quota'),
    peerQuota: parseSize(String(v['storage-peer-quota'] ?? '1GiB'), 'storage-peer-quota'),
    maxTtl: parseDuration(String(v['storage-ttl'] ?? '7d'), 'storage-ttl'),
    gcInterval: parseDuration(String(v['storage-gc-interval'] ?? '10m'), 'storage-gc-interval'),
    replicateFrom,
    replicationAllow: parsePeerIds((v['replication-allow'] as string[] | undefined) ?? [], 'replication-allow'),
    replicationAllowAnyRelay: v['replication-allow-any-relay'] === true,
    maxUploads: v['storage-max-uploads'] as number | undefined,
    maxUploadsPerPeer: v['storage-max-uploads-per-peer'] as number | undefined,
    maxUploadsPerAddress: v['storage-max-uploads-per-address'] as number | undefined
  }
}
