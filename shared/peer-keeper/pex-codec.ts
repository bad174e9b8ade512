import { InvalidMessageError } from '../errors.ts'
import { NODE_ROLES } from '../peer-session/index.ts'
import { expectLiteral, expectNumber, expectRecord, expectString } from '../util/index.ts'
import type { NodeRole } from '../peer-session/index.ts'

export const MAX_PEX_FRAME = 256 * 1024
export const MAX_PEX_PEERS = 64

export interface PexRequest { v: 1, type: 'request', roles: NodeRole[], max: number }
/** `age`: ms since the sender last saw the peer, so stale peers fade out as they travel. */
export interface PexEntry { roles: NodeRole[], record: string, age: number }
export interface PexResponse { v: 1, type: 'peers', peers: PexEntry[] }

function roles (value: unknown): NodeRole[] {
  if (!Array.isArray(value) || value.length > NODE_ROLES.length || !value.every(r => (NODE_ROLES as readonly string[]).includes(r))) {
    throw new InvalidMessageError('"roles" must list known roles')
  }
  return value as NodeRole[]
}

export function validatePexRequest (value: unknown): PexRequest {
  const obj = expectRecord(value, 'pex request')
  expectLiteral(obj, 'v', [1])
  expectLiteral(obj, 'type', ['request'])
  const max = expectNumber(obj, 'max')
  if (!Number.isInteger(max) || max < 1 || max > MAX_PEX_PEERS) throw new InvalidMessageError(`"max" must be 1..${MAX_PEX_PEERS}`)
  return { v: 1, type: 'request', roles: roles(obj.roles), max }
}

export function validatePexResponse (value: unknown): PexResponse {
  const obj = expectRecord(value, 'pex response')
  expectLiteral(obj, 'v', [1])
  expectLiteral(obj, 'type', ['peers'])
  if (!Array.isArray(obj.peers) || obj.peers.length > MAX_PEX_PEERS) throw new InvalidMessageError(`"peers" must be a list of at most ${MAX_PEX_PEERS}`)
  return {
    v: 1,
    type: 'peers',
    peers: obj.peers.map(item => {
      const entry = expectRecord(item, 'pex entry')
      const age = expectNumber(entry, 'age')
      if (age < 0 || age > 1e10) throw new InvalidMessageError('"age" must be a duration in ms')
      return { roles: roles(entry.roles), record: expectString(entry, 'record', 8192), age }
    })
  }
}
