import { toString } from 'uint8arrays/to-string'
import { InvalidAddressError } from './errors.ts'
import { ADDRESS_SCHEME } from './object-address.ts'

/**
 * A share link: `golem-clay:share/<id>?relay=<multiaddr>`. The relay keeps
 * the owner's transfer token under `id` until it expires and hands it to
 * whoever the token is for; the ID is therefore a bearer capability, 128
 * random bits, never logged.
 */
export interface ShareLink {
  id: string
  /** Relays that hold the share (multiaddrs with /p2p/), best first. */
  relays: string[]
}

export const SHARE_PREFIX = `${ADDRESS_SCHEME}share/`

/** Random bytes in a share ID: 128 bits, so guessing one is hopeless even without the relay's lookup limits. */
export const SHARE_ID_BYTES = 16

/** Base32 (RFC 4648, lower case, unpadded) of SHARE_ID_BYTES. */
const SHARE_ID = /^[a-z2-7]{26}$/

/** A share ID from `random` (SHARE_ID_BYTES of a cryptographic source). */
export function shareIdFrom (random: Uint8Array): string {
  if (random.byteLength !== SHARE_ID_BYTES) throw new RangeError(`A share ID is made of ${SHARE_ID_BYTES} random bytes`)
  return toString(random, 'base32')
}

export function isShareId (value: unknown): value is string {
  return typeof value === 'string' && SHARE_ID.test(value)
}

/** Whether `text` is a share link rather than an object's full address (it may still be malformed). */
export function isShareLink (text: string): boolean {
  return text.trim().toLowerCase().startsWith(SHARE_PREFIX)
}

export function formatShareLink (link: ShareLink): string {
  const query = link.relays.map(r => `relay=${encodeURI(r)}`).join('&')
  return `${SHARE_PREFIX}${link.id}${query === '' ? '' : `?${query}`}`
}

export function parseShareLink (text: string): ShareLink {
  const value = text.trim()
  if (!isShareLink(value)) throw new InvalidAddressError(`A share link starts with "${SHARE_PREFIX}"`)
  const rest = value.slice(SHARE_PREFIX.length)
  const q = rest.indexOf('?')
  const id = (q === -1 ? rest : rest.slice(0, q)).toLowerCase()
  if (!isShareId(id)) throw new InvalidAddressError('This share link is damaged: its ID should be 26 letters and digits (was it cut short when copied?)')
  const relays: string[] = []
  for (const pair of (q === -1 ? '' : rest.slice(q + 1)).split('&')) {
    if (!pair.startsWith('relay=')) continue
    try {
      relays.push(decodeURIComponent(pair.slice('relay='.length)))
    } catch {
      throw new InvalidAddressError('This share link is damaged: a relay address in it is not properly escaped')
    }
  }
  return { id, relays }
}
