import { GolemClayError } from '../errors.ts'
/** Why a session ended; sent in a Disconnect frame before the connection closes. */
export const DISCONNECT_REASONS = [
  'ProtocolVersion',
  'Unverified',
  'InvalidProof',
  'BadProtocol',
  'Timeout',
  'TooManyPeers',
  'DuplicatePeer',
  'Banned',
  'RateLimited',
  'ShuttingDown'
] as const

/** Reasons sent on the wire, plus the local one for a connection that just went away. */
export type SessionEndReason = DisconnectReason | 'ConnectionLost'

export type DisconnectReason = typeof DISCONNECT_REASONS[number]

export const DISCONNECT_TEXT: Record<SessionEndReason, string> = {
  ConnectionLost: 'connection lost',
  ProtocolVersion: 'incompatible protocol version',
  Unverified: 'no verified session',
  InvalidProof: 'invalid proof of work',
  BadProtocol: 'protocol violation',
  Timeout: 'timed out',
  TooManyPeers: 'too many peers',
  DuplicatePeer: 'replaced by a newer session',
  Banned: 'banned',
  RateLimited: 'rate limit exceeded',
  ShuttingDown: 'shutting down'
}

/** A session ended, by our decision (`remote: false`) or the peer's. */
export class SessionClosedError extends GolemClayError {
  override name = 'SessionClosedError'
  override readonly code: string = 'SESSION_CLOSED'
  constructor (readonly reason: SessionEndReason, readonly remote: boolean, detail?: string) {
    super(`Session closed ${remote ? 'by peer' : 'locally'}: ${DISCONNECT_TEXT[reason]}${detail != null && detail !== '' ? ` (${detail})` : ''}`)
  }
}

/** The session layer refused a connection or a stream (banned, over a limit, a second handshake…), with the reason it would put in a Disconnect. */
export class SessionRefusedError extends GolemClayError {
  override name = 'SessionRefusedError'
  override readonly code: string = 'SESSION_REFUSED'
  constructor (readonly reason: DisconnectReason, detail: string) {
    super(`${DISCONNECT_TEXT[reason]}: ${detail}`)
  }
}

/** A Golem Clay stream was refused because its connection has no verified session. */
export class UnverifiedSessionError extends GolemClayError {
  override name = 'UnverifiedSessionError'
  override readonly code: string = 'UNVERIFIED_SESSION'
  override readonly retryable: boolean = true
}
