import { GolemClayError } from '../errors.ts'
import { lpStream } from '@libp2p/utils'
import { decodeJson, encodeJson } from '../wire/index.ts'
import { PROTOCOL_VERSION } from '../version.ts'
import { deriveChallenge, fromHex, toHex } from './challenge.ts'
import { DISCONNECT_TEXT, SessionRefusedError } from './disconnect.ts'
import { MAX_SESSION_FRAME, majorOf, validateSessionFrame } from './session-codec.ts'
import type { DisconnectReason } from './disconnect.ts'
import type { RefusalKind } from './refusals.ts'
import type { ChallengeFrame, HelloFrame, NodeInfo, SessionFrame } from './session-codec.ts'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Progress of a proof-of-work search, for progress bars. */
export interface SolveProgress {
  hashes: number
  /** Hashes per second so far. */
  rate: number
  /** Mean time to a solution at this rate, in ms. */
  expectedMs: number
  elapsedMs: number
}

/** What the session layer needs from a Hashcash solver pool. */
export interface ChallengeSolver {
  solve: (challenge: Uint8Array, difficulty: number, options: { signal?: AbortSignal, onProgress?: (progress: SolveProgress) => void }) => Promise<{ nonce: Uint8Array, hashes?: number, ms?: number }>
}

export type SolutionVerifier = (challenge: Uint8Array, nonce: Uint8Array, difficulty: number) => boolean

/** The handshake failed; `reason` goes into the Disconnect frame. */
export class HandshakeError extends GolemClayError {
  override name = 'HandshakeError'
  override readonly code: string = 'HANDSHAKE'
  constructor (readonly reason: DisconnectReason, readonly refusal: RefusalKind | undefined, message: string, readonly remote = false) {
    super(message)
  }
}

export interface HandshakeResult {
  lp: LengthPrefixedStream<Stream>
  remoteHello: HelloFrame
  difficulty: number
  /**
   * How long the proof of work took, in ms: for the listener, from sending
   * the challenge to holding a valid proof (the dialer's solve plus a round
   * trip, what a relay can see); for the dialer, its own search.
   */
  solveMs: number
}

function hello (self: PeerId, remote: PeerId, info: LocalNodeInfo, load?: number): HelloFrame {
  return {
    v: 1,
    type: 'hello',
    protocolVersion: info.protocolVersion ?? PROTOCOL_VERSION,
    clientVersion: info.clientVersion,
    from: self.toString(),
    to: remote.toString(),
    time: Date.now(),
    roles: info.roles,
    cores: info.cores,
    capabilities: info.capabilities,
    ...(load != null ? { load: Math.round(load * 1000) / 1000 } : {})
  }
}

export interface LocalNodeInfo extends NodeInfo {
  clientVersion: string
  /** What we claim to speak. @default PROTOCOL_VERSION (only tests change it) */
  protocolVersion?: string
}

async function readFrame (lp: LengthPrefixedStream<Stream>, signal: AbortSignal, timeout?: HandshakeError): Promise<{ frame: SessionFrame, bytes: Uint8Array }> {
  let raw: Uint8ArrayList
  try {
    raw = await lp.read({ signal })
  } catch (err: any) {
    if (signal.aborted) throw signal.reason instanceof HandshakeError ? signal.reason : timeout ?? new HandshakeError('Timeout', 'handshake-timeout', 'handshake timed out')
    if (err.name === 'InvalidDataLengthError' || err.name === 'InvalidDataLengthLengthError') throw new HandshakeError('BadProtocol', 'oversized-frame', err.message)
    throw err
  }
  const bytes = raw.subarray()
  try {
    return { frame: decodeJson(bytes, validateSessionFrame), bytes }
  } catch (err: any) {
    throw new HandshakeError('BadProtocol', 'bad-frame', err.message)
  }
}

function checkHello (frame: SessionFrame, self: PeerId, remote: PeerId): HelloFrame {
  if (frame.type === 'disconnect') throw new HandshakeError(frame.reason, undefined, `peer refused: ${DISCONNECT_TEXT[frame.reason]}${frame.message != null ? ` (${frame.message})` : ''}`, true)
  if (frame.type !== 'hello') throw new HandshakeError('BadProtocol', 'bad-frame', `expected hello, got ${frame.type}`)
  if (majorOf(frame.protocolVersion) !== majorOf(PROTOCOL_VERSION)) {
    throw new HandshakeError('ProtocolVersion', 'version-mismatch', `peer speaks ${frame.protocolVersion}, we speak ${PROTOCOL_VERSION}`)
  }
  // identity comes from Noise: the hello must name the authenticated peers
  if (frame.from !== remote.toString() || frame.to !== self.toString()) {
    throw new HandshakeError('BadProtocol', 'wrong-identity', 'hello is not bound to this pair of peers')
  }
  return frame
}

export interface DialerHandshakeInit {
  stream: Stream
  connection: Connection
  self: PeerId
  info: LocalNodeInfo
  solver: ChallengeSolver
  /** Refuse challenges harder than this (a hostile listener could ask for years of work). @default 32 */
  maxDifficulty?: number
  signal: AbortSignal
  onChallenge?: (difficulty: number) => void
  onProgress?: (progress: SolveProgress) => void
}

/** The dialer's side: say hello, pay the listener's proof of work, get welcomed. */
export async function dialerHandshake (init: DialerHandshakeInit): Promise<HandshakeResult> {
  const { stream, connection, self, signal } = init
  const remote = connection.remotePeer
  const lp = lpStream(stream, { maxDataLength: MAX_SESSION_FRAME })
  const ownHello = encodeJson(hello(self, remote, init.info), MAX_SESSION_FRAME)
  await lp.write(ownHello, { signal })
  const theirs = await readFrame(lp, signal)
  const remoteHello = checkHello(theirs.frame, self, remote)
  const next = (await readFrame(lp, signal)).frame
  if (next.type === 'disconnect') throw new HandshakeError(next.reason, undefined, `peer refused: ${DISCONNECT_TEXT[next.reason]}${next.message != null ? ` (${next.message})` : ''}`, true)
  if (next.type !== 'challenge') throw new HandshakeError('BadProtocol', 'bad-frame', `expected challenge, got ${next.type}`)
  const challengeFrame: ChallengeFrame = next
  if (challengeFrame.difficulty > (init.maxDifficulty ?? 32)) {
    throw new HandshakeError('BadProtocol', 'difficulty-too-high', `peer asked for ${challengeFrame.difficulty} bits of work`)
  }
  init.onChallenge?.(challengeFrame.difficulty)
  const challenge = deriveChallenge({
    salt: fromHex(challengeFrame.salt),
    difficulty: challengeFrame.difficulty,
    expiresAt: challengeFrame.expiresAt,
    dialer: self,
    listener: remote,
    dialerHello: ownHello,
    listenerHello: theirs.bytes
  })
  // the listener may give up on us while we search (overdue, full, shutting down): listen, and stop searching then
  const searching = new AbortController()
  const verdictFrame = readFrame(lp, signal)
  verdictFrame.then(() => { searching.abort(new HandshakeError('Timeout', undefined, 'the listener answered before our solution')) }, (err) => { searching.abort(err) })
  let solution
  const solveStarted = performance.now()
  try {
    solution = await init.solver.solve(challenge, challengeFrame.difficulty, { signal: AbortSignal.any([signal, searching.signal]), onProgress: init.onProgress })
  } catch (err) {
    if (!searching.signal.aborted || signal.aborted) throw err
    // what the listener said (its Disconnect) explains the abort best
    const early = await verdictFrame
    if (early.frame.type === 'disconnect') throw new HandshakeError(early.frame.reason, undefined, `peer refused: ${DISCONNECT_TEXT[early.frame.reason]}${early.frame.message != null ? ` (${early.frame.message})` : ''}`, true)
    throw new HandshakeError('BadProtocol', 'bad-frame', `expected nothing before our solution, got ${early.frame.type}`)
  }
  const { nonce } = solution
  const solveMs = performance.now() - solveStarted
  // a lucky solve may finish before the first progress report: report the totals
  if (solution.hashes != null && solution.ms != null && solution.ms > 0) {
    const rate = solution.hashes / (solution.ms / 1000)
    init.onProgress?.({ hashes: solution.hashes, rate, expectedMs: 2 ** challengeFrame.difficulty / rate * 1000, elapsedMs: solution.ms })
  }
  await lp.write(encodeJson({ v: 1, type: 'solution', nonce: toHex(nonce) }, MAX_SESSION_FRAME), { signal })
  const verdict = (await verdictFrame).frame
  if (verdict.type === 'disconnect') throw new HandshakeError(verdict.reason, undefined, `peer refused: ${DISCONNECT_TEXT[verdict.reason]}${verdict.message != null ? ` (${verdict.message})` : ''}`, true)
  if (verdict.type !== 'welcome') throw new HandshakeError('BadProtocol', 'bad-frame', `expected welcome, got ${verdict.type}`)
  return { lp, remoteHello, difficulty: challengeFrame.difficulty, solveMs }
}

/**
 * Half a handshake, to check what a peer is without becoming its session:
 * say hello, read its Hello (bound to both peer IDs) and its challenge, then
 * leave without solving. A relay that answers this at its own address is a
 * relay; the challenge costs it little and us nothing.
 */
export async function askHello (init: Pick<DialerHandshakeInit, 'stream' | 'connection' | 'self' | 'info' | 'signal'>): Promise<HelloFrame> {
  const { stream, connection, self, signal } = init
  const remote = connection.remotePeer
  const lp = lpStream(stream, { maxDataLength: MAX_SESSION_FRAME })
  await lp.write(encodeJson(hello(self, remote, init.info), MAX_SESSION_FRAME), { signal })
  const remoteHello = checkHello((await readFrame(lp, signal)).frame, self, remote)
  const next = (await readFrame(lp, signal)).frame
  // a challenge, or a refusal (a full node still said who it is): either way its Hello is its answer
  if (next.type !== 'challenge' && next.type !== 'disconnect') throw new HandshakeError('BadProtocol', 'bad-frame', `expected challenge, got ${next.type}`)
  if (next.type === 'disconnect') {
    stream.abort(new SessionRefusedError('ShuttingDown', 'only checking'))
    return remoteHello
  }
  await lp.write(encodeJson({ v: 1, type: 'disconnect', reason: 'ShuttingDown', message: 'only checking' }, MAX_SESSION_FRAME), { signal }).catch(() => {})
  await stream.close({ signal }).catch(() => { stream.abort(new SessionRefusedError('ShuttingDown', 'only checking')) })
  return remoteHello
}

export interface ListenerHandshakeInit {
  stream: Stream
  connection: Connection
  self: PeerId
  info: LocalNodeInfo
  verify: SolutionVerifier
  /** The Hello must arrive within this, in ms. */
  helloTimeout: number
  /**
   * Called once the Hello is known: admits the dialer (throw a HandshakeError
   * to refuse) and sets its price: the difficulty, how long the challenge
   * stays valid (ms), and our load to tell it.
   */
  challenge: (hello: HelloFrame) => { difficulty: number, ttl: number, load?: number }
  /** Marks a challenge salt as spent; false if it already was. */
  spend: (salt: string, until: number) => boolean
  signal: AbortSignal
}

/** A solution may arrive this late (network delay) and still be read, in ms; it is judged by `expiresAt`. */
const SOLUTION_GRACE = 2_000

/** The listener's side: check the hello, set a bound challenge, verify with one hash. */
export async function listenerHandshake (init: ListenerHandshakeInit): Promise<HandshakeResult> {
  const { stream, connection, self, signal } = init
  const remote = connection.remotePeer
  const lp = lpStream(stream, { maxDataLength: MAX_SESSION_FRAME })
  const helloBy = AbortSignal.any([signal, AbortSignal.timeout(init.helloTimeout)])
  const theirs = await readFrame(lp, helloBy, new HandshakeError('Timeout', 'handshake-timeout', `no hello within ${init.helloTimeout} ms`))
  const remoteHello = checkHello(theirs.frame, self, remote)
  let price: { difficulty: number, ttl: number, load?: number }
  try {
    price = init.challenge(remoteHello)
  } catch (err) {
    // full: still say who we are (a relay checking us learns what we are even when we can't take it)
    if (err instanceof HandshakeError && err.reason === 'TooManyPeers') await lp.write(encodeJson(hello(self, remote, init.info, 1), MAX_SESSION_FRAME), { signal }).catch(() => {})
    throw err
  }
  const { difficulty, ttl, load } = price
  const ownHello = encodeJson(hello(self, remote, init.info, load), MAX_SESSION_FRAME)
  const salt = crypto.getRandomValues(new Uint8Array(16))
  const expiresAt = Date.now() + ttl
  await lp.writeV([ownHello, encodeJson({ v: 1, type: 'challenge', salt: toHex(salt), difficulty, expiresAt }, MAX_SESSION_FRAME)], { signal })
  const challengeSent = performance.now()
  // the dialer's time to solve is the challenge's life: nobody holds a slot longer
  const solutionBy = AbortSignal.any([signal, AbortSignal.timeout(ttl + SOLUTION_GRACE)])
  const answer = (await readFrame(lp, solutionBy, new HandshakeError('Timeout', 'expired-challenge', `no solution within ${ttl} ms`))).frame
  if (answer.type === 'disconnect') throw new HandshakeError(answer.reason, undefined, `peer gave up: ${DISCONNECT_TEXT[answer.reason]}`, true)
  if (answer.type !== 'solution') throw new HandshakeError('BadProtocol', 'bad-frame', `expected solution, got ${answer.type}`)
  if (Date.now() > expiresAt) throw new HandshakeError('Timeout', 'expired-challenge', 'challenge expired before the solution arrived')
  if (!init.spend(toHex(salt), expiresAt)) throw new HandshakeError('InvalidProof', 'replayed-challenge', 'challenge already answered')
  const challenge = deriveChallenge({ salt, difficulty, expiresAt, dialer: remote, listener: self, dialerHello: theirs.bytes, listenerHello: ownHello })
  if (!init.verify(challenge, fromHex(answer.nonce), difficulty)) {
    throw new HandshakeError('InvalidProof', 'invalid-proof', `nonce does not meet ${difficulty} bits`)
  }
  const solveMs = performance.now() - challengeSent
  await lp.write(encodeJson({ v: 1, type: 'welcome' }, MAX_SESSION_FRAME), { signal })
  return { lp, remoteHello, difficulty, solveMs }
}
