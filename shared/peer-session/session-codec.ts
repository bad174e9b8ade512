import { InvalidMessageError } from '../errors.ts'
import { expectHex, expectInt, expectList, expectLiteral, expectNumber, expectPeerId, expectRecord, expectString, expectStringList, literalItem } from '../wire/index.ts'
import { DISCONNECT_REASONS } from './disconnect.ts'
import type { DisconnectReason } from './disconnect.ts'

export const SESSION_WIRE_VERSION = 1
/** Cap for one session frame, enforced by the length-prefixed reader before buffering. */
export const MAX_SESSION_FRAME = 4096

export type NodeRole = 'relay' | 'tab' | 'node'
export const NODE_ROLES: readonly NodeRole[] = ['relay', 'tab', 'node']

export interface NodeInfo {
  roles: NodeRole[]
  cores: number
  capabilities: string[]
}

export interface HelloFrame extends NodeInfo {
  v: 1
  type: 'hello'
  protocolVersion: string
  clientVersion: string
  /** Sender's peer ID: must match the Noise-authenticated identity. */
  from: string
  /** Recipient's peer ID: binds the hello to this pair of peers. */
  to: string
  time: number
  /** Listener only: current load, for relay choice. 0..1 */
  load?: number
}

export interface ChallengeFrame {
  v: 1
  type: 'challenge'
  /** 16+ random bytes, hex. */
  salt: string
  difficulty: number
  /** Listener clock, ms since epoch. */
  expiresAt: number
}

export interface SolutionFrame { v: 1, type: 'solution', nonce: string }
export interface WelcomeFrame { v: 1, type: 'welcome' }
/** Heartbeats carry the sender's current load (0..1) so relay choice stays current. */
export interface PingFrame { v: 1, type: 'ping', seq: number, load?: number }
export interface PongFrame { v: 1, type: 'pong', seq: number, load?: number }
export interface DisconnectFrame { v: 1, type: 'disconnect', reason: DisconnectReason, message?: string }

export type SessionFrame = HelloFrame | ChallengeFrame | SolutionFrame | WelcomeFrame | PingFrame | PongFrame | DisconnectFrame

const SEMVER = /^\d{1,4}\.\d{1,4}\.\d{1,4}$/

/** Decodes any session frame; unknown types and bad fields are InvalidMessageError. */
export function validateSessionFrame (value: unknown): SessionFrame {
  const obj = expectRecord(value, 'session frame')
  expectLiteral(obj, 'v', [SESSION_WIRE_VERSION])
  const type = expectLiteral(obj, 'type', ['hello', 'challenge', 'solution', 'welcome', 'ping', 'pong', 'disconnect'] as const)
  switch (type) {
    case 'hello': {
      const roles = expectList(obj, 'roles', NODE_ROLES.length, literalItem(NODE_ROLES))
      const protocolVersion = expectString(obj, 'protocolVersion', 16)
      const clientVersion = expectString(obj, 'clientVersion', 32)
      if (!SEMVER.test(protocolVersion)) throw new InvalidMessageError('"protocolVersion" must be major.minor.patch')
      const frame: HelloFrame = {
        v: 1,
        type,
        protocolVersion,
        clientVersion,
        from: expectPeerId(obj, 'from'),
        to: expectPeerId(obj, 'to'),
        time: expectNumber(obj, 'time'),
        roles,
        cores: expectInt(obj, 'cores', 0, 4096),
        capabilities: expectStringList(obj, 'capabilities', 32, 32)
      }
      if (obj.load !== undefined) frame.load = expectNumber(obj, 'load', 0, 1)
      return frame
    }
    case 'challenge':
      return { v: 1, type, salt: expectHex(obj, 'salt', 16, 64), difficulty: expectInt(obj, 'difficulty', 0, 64), expiresAt: expectNumber(obj, 'expiresAt') }
    case 'solution':
      return { v: 1, type, nonce: expectHex(obj, 'nonce', 8, 8) }
    case 'welcome':
      return { v: 1, type }
    case 'ping':
    case 'pong': {
      const frame: PingFrame | PongFrame = { v: 1, type, seq: expectInt(obj, 'seq', 0, Number.MAX_SAFE_INTEGER) }
      if (obj.load !== undefined) frame.load = expectNumber(obj, 'load', 0, 1)
      return frame
    }
    case 'disconnect': {
      const frame: DisconnectFrame = { v: 1, type, reason: expectLiteral(obj, 'reason', DISCONNECT_REASONS) }
      if (obj.message !== undefined) frame.message = expectString(obj, 'message', 256)
      return frame
    }
  }
}

/** The major part of a `major.minor.patch` version. */
export function majorOf (version: string): number {
  return Number.parseInt(version.split('.')[0] ?? '', 10)
}
