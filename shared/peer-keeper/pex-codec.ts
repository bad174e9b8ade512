import { NODE_ROLES } from '../peer-session/index.ts'
import { expectInt, expectList, expectLiteral, expectNumber, expectRecord, expectString, literalItem } from '../wire/index.ts'
import type { Fields } from '../wire/index.ts'
import type { NodeRole } from '../peer-session/index.ts'

export const MAX_PEX_FRAME = 256 * 1024
export const MAX_PEX_PEERS = 64

export interface PexRequest { v: 1, type: 'request', roles: NodeRole[], max: number }
/** `age`: ms since the sender last saw the peer, so stale peers fade out as they travel. */
export interface PexEntry { roles: NodeRole[], record: string, age: number }
export interface PexResponse { v: 1, type: 'peers', peers: PexEntry[] }

function roles (obj: Fields): NodeRole[] {
  return expectList(obj, 'roles', NODE_ROLES.length, literalItem(NODE_ROLES))
}

export function validatePexRequest (value: unknown): PexRequest {
  const obj = expectRecord(value, 'pex request')
  expectLiteral(obj, 'v', [1])
  expectLiteral(obj, 'type', ['request'])
  return { v: 1, type: 'request', roles: roles(obj), max: expectInt(obj, 'max', 1, MAX_PEX_PEERS) }
}

export function validatePexResponse (value: unknown): PexResponse {
  const obj = expectRecord(value, 'pex response')
  expectLiteral(obj, 'v', [1])
  expectLiteral(obj, 'type', ['peers'])
  return {
    v: 1,
    type: 'peers',
    peers: expectList(obj, 'peers', MAX_PEX_PEERS, (item, what) => {
      const entry = expectRecord(item, what)
      // a duration in ms
      const age = expectNumber(entry, 'age', 0, 1e10)
      return { roles: roles(entry), record: expectString(entry, 'record', 8192), age }
    })
  }
}
