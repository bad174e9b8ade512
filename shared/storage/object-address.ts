import { InvalidAddressError } from './errors.ts'
import { isHex, isSha256Hex } from '../wire/index.ts'
import { validateObjectPath } from './object-path.ts'
import { MAX_OBJECT_SIZE } from './storage-protocol.ts'

/** The scheme of a Golem Clay storage address. */
export const ADDRESS_SCHEME = 'golem-clay:'

/**
 * Where an object lives and what it must hash to:
 * `golem-clay:<drive key hex>/<path>?sha256=<hex>&size=<bytes>&relay=<multiaddr>…[&token=<token>]`.
 * The relays are the uploader's relay first, then its replicas; a download
 * tries them in that order.
 */
export interface ObjectAddress {
  /** The Hyperdrive's key, 64 hex characters. */
  drive: string
  path: string
  sha256: string
  size: number
  /** Multiaddrs (with /p2p/) of relays that hold the drive, best first. */
  relays: string[]
  /** A transfer token granting access to someone other than the uploader. */
  token?: string
}

export function formatAddress (a: ObjectAddress): string {
  const path = a.path.split('/').map(encodeURIComponent).join('/')
  const query = [`sha256=${a.sha256}`, `size=${a.size}`, ...a.relays.map(r => `relay=${encodeURI(r)}`)]
  if (a.token != null) query.push(`token=${encodeURIComponent(a.token)}`)
  return `${ADDRESS_SCHEME}${a.drive}/${path}?${query.join('&')}`
}

export function parseAddress (text: string): ObjectAddress {
  const value = text.trim()
  if (!value.startsWith(ADDRESS_SCHEME)) throw new InvalidAddressError(`A storage address starts with "${ADDRESS_SCHEME}"`)
  const rest = value.slice(ADDRESS_SCHEME.length)
  const q = rest.indexOf('?')
  const location = q === -1 ? rest : rest.slice(0, q)
  const slash = location.indexOf('/')
  if (slash === -1) throw new InvalidAddressError('The address names no path')
  const drive = location.slice(0, slash).toLowerCase()
  if (!isHex(drive, 32)) throw new InvalidAddressError('The drive key must be 64 hex characters')
  let path: string
  try {
    path = location.slice(slash + 1).split('/').map(decodeURIComponent).join('/')
  } catch {
    throw new InvalidAddressError('The path is not properly escaped')
  }
  try {
    validateObjectPath(path)
  } catch (err: any) {
    throw new InvalidAddressError(`Bad path in address: ${err.message}`)
  }
  const relays: string[] = []
  let sha256: string | undefined
  let size: string | undefined
  let token: string | undefined
  for (const pair of (q === -1 ? '' : rest.slice(q + 1)).split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const key = eq === -1 ? pair : pair.slice(0, eq)
    let val: string
    try {
      val = decodeURIComponent(eq === -1 ? '' : pair.slice(eq + 1))
    } catch {
      throw new InvalidAddressError(`The "${key}" value is not properly escaped`)
    }
    if (key === 'sha256') sha256 = val.toLowerCase()
    else if (key === 'size') size = val
    else if (key === 'relay') relays.push(val)
    else if (key === 'token') token = val
  }
  if (!isSha256Hex(sha256)) throw new InvalidAddressError('The address needs sha256=<64 hex characters>')
  return { drive, path, sha256, size: parseSize(size), relays, ...(token != null ? { token } : {}) }
}

/** The `size=` of an address: digits only, and no larger than any object may be. */
function parseSize (text: string | undefined): number {
  if (text == null || text === '') throw new InvalidAddressError('The address needs size=<bytes>')
  const shown = text.length > 20 ? `${text.slice(0, 20)}…` : text
  if (!/^\d+$/.test(text)) throw new InvalidAddressError(`The address's size "${shown}" is not a number of bytes`)
  const size = Number(text)
  if (size > MAX_OBJECT_SIZE) throw new InvalidAddressError(`The address's size (${shown} bytes) is larger than any stored object can be`)
  return size
}

/** The address without its token (what an uploader keeps for itself). */
export function withoutToken (a: ObjectAddress): ObjectAddress {
  const { token: _token, ...rest } = a
  return rest
}
