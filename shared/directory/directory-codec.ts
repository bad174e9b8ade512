import { expectList, expectLiteral, expectNumber, expectPeerId, expectRecord, expectString } from '../wire/index.ts'
import type { Fields } from '../wire/index.ts'

export const DIRECTORY_WIRE_VERSION = 1
/** Cap for one directory frame; a list never grows past it. */
export const MAX_DIRECTORY_FRAME = 512 * 1024
/** Largest number of peers one relay lists. */
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

/** The whole list: the first frame of a subscription. */
export interface PeersFrame {
  v: 1
  type: 'peers'
  peers: DirectoryEntry[]
}

/** What changed since the frame before: entries added or replaced, peers gone. */
export interface ChangesFrame {
  v: 1
  type: 'changes'
  added: DirectoryEntry[]
  removed: string[]
}

export type DirectoryFrame = PeersFrame | ChangesFrame

export function validateSubscribeFrame (value: unknown): SubscribeFrame {
  const obj = expectRecord(value, 'subscribe')
  expectLiteral(obj, 'v', [DIRECTORY_WIRE_VERSION])
  expectLiteral(obj, 'type', ['subscribe'])
  return { v: 1, type: 'subscribe', role: expectLiteral(obj, 'role', PEER_ROLES) }
}

function entries (obj: Fields, key: string): DirectoryEntry[] {
  return expectList(obj, key, MAX_DIRECTORY_PEERS, (item, what): DirectoryEntry => {
    const entry = expectRecord(item, what)
    return {
      id: expectPeerId(entry, 'id'),
      role: expectLiteral(entry, 'role', PEER_ROLES),
      record: expectString(entry, 'record', 8192),
      since: expectNumber(entry, 'since')
    }
  })
}

export function validateDirectoryFrame (value: unknown): DirectoryFrame {
  const obj = expectRecord(value, 'directory frame')
  expectLiteral(obj, 'v', [DIRECTORY_WIRE_VERSION])
  const type = expectLiteral(obj, 'type', ['peers', 'changes'])
  if (type === 'peers') return { v: 1, type, peers: entries(obj, 'peers') }
  // only listed peers can leave the list, so a frame never removes more than it can hold
  const removed = expectList(obj, 'removed', MAX_DIRECTORY_PEERS, (item, what) => expectPeerId({ [what]: item }, what))
  return { v: 1, type, added: entries(obj, 'added'), removed }
}
