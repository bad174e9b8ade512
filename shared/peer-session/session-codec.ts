import { InvalidMessageError } from '../errors.ts'
import { expectLiteral, expectNumber, expectRecord, expectString } from '../util/index.ts'
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

const HEX = /^[0-9a-f]*$/
const SEMVER = /^\d{1,4}\.\d{1,4}\.\d{1,4}$/

function expectHex (obj: Record<string, unknown>, key: string, minBytes: number, maxBytes: number): string {
  const value = expectString(obj, key, maxBytes * 2)
  if (!HEX.test(value) || value.length % 2 !== 0 || value.length < minBytes * 2) {
    throw new InvalidMessageError(`"${key}" must be ${minBytes}..${maxBytes} bytes of lowercase hex`)
  }
  return value
}

function expectInt (obj: Record<string, unknown>, key: string, min: number, max: number): number {
  const value = expectNumber(obj, key)
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidMessageError(`"${key}" must be an integer in ${min}..${max}`)
  return value
}

function expectStringList (obj: Record<string, unknown>, key: string, maxItems: number, maxLength: number): string[] {
  const value = obj[key]
  if (!Array.isArray(value) || value.length > maxItems || !value.every(v => typeof v === 'string' && v.length <= maxLength)) {
    throw new InvalidMessageError(`"${key}" must be a list of at most ${maxItems} short strings`)
  }
  return value as string[]
}

function expectLoad (obj: Record<string, unknown>): number {
  const load = expectNumber(obj, 'load')
  if (load < 0 || load > 1) throw new InvalidMessageError('"load" must be within 0..1')
  return load
}

/** Decodes any session frame; unknown types and bad fields are InvalidMessageError. */
export function validateSessionFrame (value: unknown): SessionFrame {
  const obj = expectRecord(value, 'session frame')
  expectLiteral(obj, 'v', [SESSION_WIRE_VERSION])
  const type = expectLiteral(obj, 'type', ['hello', 'challenge', 'solution', 'welcome', 'ping', 'pong', 'disconnect'] as const)
  switch (type) {
    case 'hello': {
      const roles = expectStringList(obj, 'roles', 3, 8)
      if (!roles.every(r => (NODE_ROLES as readonly string[]).includes(r))) throw new InvalidMessageError('"roles" has an unknown role')
      const protocolVersion = expectString(obj, 'protocolVersion', 16)
      const clientVersion = expectString(obj, 'clientVersion', 32)
      if (!SEMVER.test(protocolVersion)) throw new InvalidMessageError('"protocolVersion" must be major.minor.patch')
      const frame: HelloFrame = {
        v: 1,
        type,
        protocolVersion,
        clientVersion,
        from: expectString(obj, 'from', 128),
        to: expectString(obj, 'to', 128),
        time: expectNumber(obj, 'time'),
        roles: roles as NodeRole[],
        cores: expectInt(obj, 'cores', 0, 4096),
        capabilities: expectStringList(obj, 'capabilities', 32, 32)
      }
      if (obj.load !== undefined) frame.load = expectLoad(obj)
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
      if (obj.load !== undefined) frame.load = expectLoad(obj)
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
