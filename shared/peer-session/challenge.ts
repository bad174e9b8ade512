import { sha256 } from '@noble/hashes/sha2.js'
import type { PeerId } from '@libp2p/interface'

const DOMAIN = new TextEncoder().encode('golem-clay/session-challenge/v1')

export interface ChallengeInput {
  salt: Uint8Array
  difficulty: number
  expiresAt: number
  dialer: PeerId
  listener: PeerId
  /** The exact bytes of both Hello frames as sent on the wire. */
  dialerHello: Uint8Array
  listenerHello: Uint8Array
}

/**
 * The 32 bytes the dialer must find a nonce for. Both sides derive it from
 * the listener's salt, the two Noise-authenticated peer IDs and both Hellos,
 * so a solution is worthless on any other connection, to any other peer, or
 * with different Hellos.
 */
export function deriveChallenge (input: ChallengeInput): Uint8Array {
  const meta = new Uint8Array(9)
  const view = new DataView(meta.buffer)
  view.setFloat64(0, input.expiresAt)
  meta[8] = input.difficulty
  const parts = [
    DOMAIN,
    lengthPrefixed(input.salt),
    lengthPrefixed(input.dialer.toMultihash().bytes),
    lengthPrefixed(input.listener.toMultihash().bytes),
    meta,
    sha256(input.dialerHello),
    sha256(input.listenerHello)
  ]
  const total = parts.reduce((n, p) => n + p.byteLength, 0)
  const buf = new Uint8Array(total)
  let offset = 0
  for (const part of parts) {
    buf.set(part, offset)
    offset += part.byteLength
  }
  return sha256(buf)
}

function lengthPrefixed (bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength + 2)
  new DataView(out.buffer).setUint16(0, bytes.byteLength)
  out.set(bytes, 2)
  return out
}

export function toHex (bytes: Uint8Array): string {
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('')
}

export function fromHex (hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}
