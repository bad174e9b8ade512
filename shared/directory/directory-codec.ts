import { InvalidMessageError } from '../errors.ts'
import { expectLiteral, expectNumber, expectRecord, expectString } from '../util/index.ts'

export const DIRECTORY_WIRE_VERSION = 1
/** Cap for one directory frame; a snapshot never grows past it. */
export const MAX_DIRECTORY_FRAME = 512 * 1024
/** Largest number of peers one snapshot lists. */
export const MAX_DIRECTORY_PEERS = 256

export type PeerRole = 'tab' | 'node'
export const PEER_ROLES: readonly PeerRole[] = ['tab', 'node']

export interface SubscribeFrame {
  v: 1
  type: 'subscribe'
  role: PeerRole
}

export interface DirectoryEntry {
  id: string
  role: PeerRole
  /** The peer's signed peer record envelope, base64. */
  record: string
  /** When the peer subscribed at this relay, relay clock (ms since epoch). */
  since: number
}

export interface PeersFrame {
  v: 1
  type: 'peers'
  peers: DirectoryEntry[]
}

export function validateSubscribeFrame (value: unknown): SubscribeFrame {
  const obj = expectRecord(value, 'subscribe')
  expectLiteral(obj, 'v', [DIRECTORY_WIRE_VERSION])
  expectLiteral(obj, 'type', ['subscribe'])
  return { v: 1, type: 'subscribe', role: expectLiteral(obj, 'role', PEER_ROLES) }
}

export function validatePeersFrame (value: unknown): PeersFrame {
  const obj = expectRecord(value, 'peers')
  expectLiteral(obj, 'v', [DIRECTORY_WIRE_VERSION])
  expectLiteral(obj, 'type', ['peers'])
  const list = obj.peers
  if (!Array.isArray(list)) throw new InvalidMessageError('"peers" must be an array')
  if (list.length > MAX_DIRECTORY_PEERS) throw new InvalidMessageError(`"peers" lists more than ${MAX_DIRECTORY_PEERS} entries`)
  const peers = list.map((item): DirectoryEntry => {
    const entry = expectRecord(item, 'peer entry')
    return {
      id: expectString(entry, 'id', 128),
      role: expectLiteral(entry, 'role', PEER_ROLES),
      record: expectString(entry, 'record', 8192),
      since: expectNumber(entry, 'since')
    }
  })
  return { v: 1, type: 'peers', peers }
}
