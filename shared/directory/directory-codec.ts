import { expectList, expectLiteral, expectNumber, expectPeerId, expectRecord, expectString } from '../wire/index.ts'

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
  const peers = expectList(obj, 'peers', MAX_DIRECTORY_PEERS, (item, what): DirectoryEntry => {
    const entry = expectRecord(item, what)
    return {
      id: expectPeerId(entry, 'id'),
      role: expectLiteral(entry, 'role', PEER_ROLES),
      record: expectString(entry, 'record', 8192),
      since: expectNumber(entry, 'since')
    }
  })
  return { v: 1, type: 'peers', peers }
}
