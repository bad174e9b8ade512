import { GolemClayError, InvalidMessageError } from '../errors.ts'
import { decodeJson, encodeJson, ErrorTable, errorToWire, expectBase64, expectBoolean, expectLiteral, expectRecord, expectString, MARKET_PROTOCOL, TASKS_TOPIC } from '../wire/index.ts'
import { InputMismatchError, InvalidSignatureError, InvalidTaskError, MarketRateLimitedError, NoProvidersError, ReplayedMessageError, ResultMismatchError, TaskDeadlineError, UnknownTaskError } from './market-errors.ts'
import type { WireError } from '../wire/index.ts'
import { lpStream } from '@libp2p/utils'
import { toString } from 'uint8arrays/to-string'
import {
  ChequeInvalidError, ChequeNotHigherError, ChequeSeqBackwardsError, DepositTooSmallError, InsufficientDepositError, NoteInvalidError, NoteReplayedError,
  PayerDefaultedError, PaymentBindingInvalidError, PaymentRefusedError, WrongBeneficiaryError, WrongProviderError, WrongDeploymentError, WrongRequestorError, WrongSignerError
} from '../payments/index.ts'
import type { MarketCheque, MarketNote } from '../payments/index.ts'
import { MAX_TOKEN_LENGTH } from '../storage/index.ts'
import { MAX_RESULT_BYTES } from './market-codec.ts'
import { MAX_SIGNED_LENGTH } from './signed.ts'
import type { Connection, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

export { MARKET_PROTOCOL, TASKS_TOPIC }

/** Base64 of the largest result plus the signed messages; checked before buffering. */
export const MAX_MARKET_FRAME = Math.ceil(MAX_RESULT_BYTES * 4 / 3) + 3 * MAX_SIGNED_LENGTH

/** `tasks` asks a peer (a relay) for the open task headers it has seen: the pull path beside gossip. */
export type RequestKind = 'offer' | 'assign' | 'report' | 'verdict' | 'tasks'

/** Signed task headers in one answer to `tasks`, newest first. */
export const MAX_PULLED_HEADERS = 16
/** A signed header's text is far below this (a header is a few KB). */
const MAX_HEADER_LENGTH = 32 * 1024

export interface MarketRequest {
  v: 1
  kind: RequestKind
  /** The signed message ('' for `tasks`, which asks rather than tells). */
  msg: string
  /** With `assign`: the signed task header, so the provider needn't have seen the gossip. */
  header?: string
  /**
   * With `assign`: read tokens for the module and the inputs, issued to the
   * provider. They ride beside the signed assignment, not in it: a provider
   * fetches a task's resources once, and every report and verdict nests the
   * assignment (the tokens would triple a subtask's bytes on the wire).
   */
  tokens?: ReadTokens
  /** With `report`: the result bytes (their hash is in the signed report). */
  data?: Uint8Array
  /** With `assign` of a paid task: the requestor's promissory note for it (EIP-712; compact, the provider completes it from the task's header and the assignment: shared/payments). */
  note?: MarketNote
  /** With an accepted `verdict` of a paid task: the requestor's next cumulative cheque to the provider. */
  cheque?: MarketCheque
}

export interface ReadTokens { module: string, inputs: string }

export interface MarketResponse {
  v: 1
  ok: boolean
  error?: { name: string, message: string }
  /** Answering a `report`: the requestor's signed verdict on it, when it could decide at once (saves the provider a round trip). */
  verdict?: string
  /** Answering a `report`: the provider's next signed assignment in the same task (whose header it already holds). */
  assign?: string
  /** Answering `tasks`: signed task headers, each verified by the asker as if gossip had brought it. */
  headers?: string[]
  /** With `assign`: its promissory note (a paid task). */
  note?: MarketNote
  /** With an accepted `verdict`: its cheque (a paid task). */
  cheque?: MarketCheque
}

/** What a request handler may add to its `ok` answer. */
export interface MarketReply {
  verdict?: string
  assign?: string
  headers?: string[]
  note?: MarketNote
  cheque?: MarketCheque
  /** Called when the answer could not be written. */
  undelivered?: () => void
}

/** Largest encoded response: a verdict (nesting the report, which nests an assignment) and an assignment. */
const MAX_RESPONSE_FRAME = Math.max(2 * MAX_SIGNED_LENGTH, MAX_PULLED_HEADERS * MAX_HEADER_LENGTH) + 4096

export function encodeRequest (req: MarketRequest): Uint8Array {
  return encodeJson({ ...req, data: req.data == null ? undefined : toString(req.data, 'base64') }, MAX_MARKET_FRAME)
}

export function validateRequest (value: unknown): MarketRequest {
  const obj = expectRecord(value, 'market request')
  expectLiteral(obj, 'v', [1])
  const req: MarketRequest = {
    v: 1,
    kind: expectLiteral(obj, 'kind', ['offer', 'assign', 'report', 'verdict', 'tasks'] as const),
    msg: expectString(obj, 'msg', MAX_SIGNED_LENGTH)
  }
  if (obj.header != null) req.header = expectString(obj, 'header', MAX_SIGNED_LENGTH)
  if (obj.tokens != null) {
    if (req.kind !== 'assign') throw new InvalidMessageError('Only an assignment carries read tokens')
    const tokens = expectRecord(obj.tokens, 'tokens')
    req.tokens = { module: expectString(tokens, 'module', MAX_TOKEN_LENGTH), inputs: expectString(tokens, 'inputs', MAX_TOKEN_LENGTH) }
  }
  // the frame cap bounds the bytes; the signed report says how many there must be
  if (obj.data != null) req.data = expectBase64(obj, 'data', Math.floor(MAX_MARKET_FRAME * 3 / 4))
  // their form and signatures are the payment parts' to check (noteFromWire, chequeFromWire)
  if (obj.note != null) {
    if (req.kind !== 'assign') throw new InvalidMessageError('Only an assignment carries a promissory note')
    req.note = expectRecord(obj.note, 'note') as unknown as MarketNote
  }
  if (obj.cheque != null) {
    if (req.kind !== 'verdict') throw new InvalidMessageError('Only a verdict carries a cheque')
    req.cheque = expectRecord(obj.cheque, 'cheque') as unknown as MarketCheque
  }
  return req
}

export function validateResponse (value: unknown): MarketResponse {
  const obj = expectRecord(value, 'market response')
  expectLiteral(obj, 'v', [1])
  if (expectBoolean(obj, 'ok')) {
    const res: MarketResponse = { v: 1, ok: true }
    if (obj.verdict != null) res.verdict = expectString(obj, 'verdict', MAX_SIGNED_LENGTH)
    if (obj.assign != null) res.assign = expectString(obj, 'assign', MAX_SIGNED_LENGTH)
    if (obj.note != null) res.note = expectRecord(obj.note, 'note') as unknown as MarketNote
    if (obj.cheque != null) res.cheque = expectRecord(obj.cheque, 'cheque') as unknown as MarketCheque
    if (obj.headers != null) {
      if (!Array.isArray(obj.headers) || obj.headers.length > MAX_PULLED_HEADERS) throw new InvalidMessageError(`headers must be a list of at most ${MAX_PULLED_HEADERS}`)
      res.headers = obj.headers.map((h: unknown) => {
        if (typeof h !== 'string' || h.length > MAX_HEADER_LENGTH) throw new InvalidMessageError(`each header must be a signed message of at most ${MAX_HEADER_LENGTH} characters`)
        return h
      })
    }
    return res
  }
  const e = expectRecord(obj.error, 'error')
  const error: WireError = { name: expectString(e, 'name', 80), message: expectString(e, 'message', 1000) }
  if (e.code != null) error.code = expectString(e, 'code', 80)
  return { v: 1, ok: false, error }
}

/** Errors a market peer may refuse a request with. */
const REFUSALS = new ErrorTable([
  InvalidSignatureError, ReplayedMessageError, InvalidTaskError, InputMismatchError, ResultMismatchError,
  UnknownTaskError, TaskDeadlineError, NoProvidersError, MarketRateLimitedError, InvalidMessageError, PaymentBindingInvalidError,
  PaymentRefusedError, ChequeInvalidError, ChequeNotHigherError, ChequeSeqBackwardsError, NoteInvalidError, NoteReplayedError, WrongDeploymentError,
  WrongSignerError, WrongRequestorError, WrongBeneficiaryError, WrongProviderError, InsufficientDepositError, DepositTooSmallError, PayerDefaultedError
])

/** The remote refused a request: `cause` is its typed error, rebuilt; `reason` that error's name. */
export class MarketRefusedError extends GolemClayError {
  override name = 'MarketRefusedError'
  override readonly code: string = 'MARKET_REFUSED'
  readonly reason: string
  constructor (refusal: WireError) {
    const cause = REFUSALS.fromWire(refusal)
    super(`${cause.name}: ${cause.message}`, { cause })
    this.reason = cause.name
  }
}

/** One request, one response, on a fresh stream. */
export async function exchange (stream: Stream, req: MarketRequest, signal: AbortSignal): Promise<MarketResponse> {
  const lp = lpStream(stream, { maxDataLength: MAX_MARKET_FRAME })
  try {
    await lp.write(encodeRequest(req), { signal })
    const res = decodeJson(await lp.read({ signal }), validateResponse)
    await stream.close({ signal })
    if (!res.ok) throw new MarketRefusedError(res.error ?? { name: 'InternalError', message: '' })
    return res
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}

/** How long a served stream waits for its next request before closing it, ms. */
export const SERVE_IDLE_MS = 60_000
/** How long a pooled stream waits for reuse before the client closes it, ms: less than SERVE_IDLE_MS, so a request never meets the server's close. */
export const POOL_IDLE_MS = 20_000
/** Idle streams a client keeps per connection. */
export const POOL_MAX_IDLE = 8

export interface ServeOptions {
  /** Time to wait for the next request, ms. @default SERVE_IDLE_MS */
  idleMs?: number
  /** Time to handle one request and answer it, ms. @default 30_000 */
  requestMs?: number
  /** Called after each answer; `ok` false when the request was refused. */
  onServed?: (req: MarketRequest, ok: boolean) => void
  /** Aborts serving (the node stops). */
  signal?: AbortSignal
}

/**
 * Serves requests on one stream, one after another: reads a request, runs
 * `handle`, answers ok or the typed error, and waits for the next, until the
 * remote closes the stream or it stays idle for `idleMs`. Requesters keep
 * streams open between requests (MarketStreamPool): opening a stream costs
 * several round trips' worth of messages, more than the request itself on a
 * relayed connection. A malformed frame aborts the stream and throws.
 */
export async function serve (stream: Stream, handle: (req: MarketRequest) => Promise<MarketReply | undefined | void>, options: ServeOptions = {}): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: MAX_MARKET_FRAME })
  for (;;) {
    let req: MarketRequest
    try {
      const idle = AbortSignal.timeout(options.idleMs ?? SERVE_IDLE_MS)
      const frame = await lp.read({ signal: options.signal != null ? AbortSignal.any([idle, options.signal]) : idle })
      req = decodeJson(frame, validateRequest)
    } catch (err: any) {
      // the remote closed its side between requests, or nothing came: done
      const between = stream.readBufferLength === 0 && (stream.remoteWriteStatus !== 'writable' || err.name === 'TimeoutError' || err.name === 'AbortError')
      if (between && stream.status === 'open') {
        await stream.close({ signal: AbortSignal.timeout(5_000) }).catch(() => { stream.abort(err) })
        return
      }
      if (between) return
      stream.abort(err)
      throw err
    }
    const signal = AbortSignal.timeout(options.requestMs ?? 30_000)
    let response: MarketResponse = { v: 1, ok: true }
    let reply: MarketReply | undefined | void
    try {
      reply = await handle(req)
      if (reply?.verdict != null) response.verdict = reply.verdict
      if (reply?.assign != null) response.assign = reply.assign
      if (reply?.headers != null) response.headers = reply.headers
      if (reply?.note != null) response.note = reply.note
      if (reply?.cheque != null) response.cheque = reply.cheque
    } catch (err: any) {
      const wire = errorToWire(err)
      response = { v: 1, ok: false, error: { ...wire, message: wire.message.slice(0, 1000) } }
    }
    try {
      await lp.write(encodeJson(response, MAX_RESPONSE_FRAME), { signal })
    } catch (err: any) {
      stream.abort(err)
      reply?.undelivered?.()
      options.onServed?.(req, response.ok)
      return
    }
    options.onServed?.(req, response.ok)
  }
}

interface Pooled { stream: Stream, connection: Connection, lp: LengthPrefixedStream<Stream>, timer?: ReturnType<typeof setTimeout> }

/** Opens a fresh market stream to one peer: `sessions.open(peer, MARKET_PROTOCOL, { signal })`. */
export type OpenMarketStream = (signal: AbortSignal) => Promise<{ stream: Stream, connection: Connection }>

/** A stream whose both directions are still open, on an open connection, and which holds no stray bytes. */
function reusable (e: Pooled): boolean {
  const { stream } = e
  return e.connection.status === 'open' && stream.status === 'open' && stream.writeStatus === 'writable' && stream.remoteWriteStatus === 'writable' && stream.readBufferLength === 0
}

/**
 * The requesting side: market streams kept open per peer and reused for
 * later requests (one request at a time per stream), so a request costs its
 * two messages instead of a stream's setup and teardown. An idle stream on
 * a direct link goes before one on a relayed link.
 */
export class MarketStreamPool {
  private readonly idle = new Map<string, Pooled[]>()
  private closed = false

  constructor (private readonly init: { idleMs?: number, maxIdle?: number } = {}) {}

  /** Sends `req` to `peer` on an idle stream (or a new one from `open`) and waits for the answer; throws MarketRefusedError on a refusal. */
  async request (peer: string, open: OpenMarketStream, req: MarketRequest, signal: AbortSignal): Promise<MarketResponse> {
    const entry = this.take(peer) ?? await this.open(open, signal)
    let res: MarketResponse
    try {
      await entry.lp.write(encodeRequest(req), { signal })
      res = decodeJson(await entry.lp.read({ signal }), validateResponse)
    } catch (err: any) {
      entry.stream.abort(err)
      throw err
    }
    this.put(peer, entry)
    if (!res.ok) throw new MarketRefusedError(res.error ?? { name: 'InternalError', message: '' })
    return res
  }

  /** Closes every idle stream. */
  close (): void {
    this.closed = true
    for (const list of this.idle.values()) for (const e of list) this.discard(e)
    this.idle.clear()
  }

  private async open (open: OpenMarketStream, signal: AbortSignal): Promise<Pooled> {
    const { stream, connection } = await open(signal)
    return { stream, connection, lp: lpStream(stream, { maxDataLength: MAX_MARKET_FRAME }) }
  }

  /** The idle stream used last, one on a direct link before any on a relayed link. */
  private take (peer: string): Pooled | undefined {
    for (const e of [...this.idle.get(peer) ?? []]) if (!reusable(e)) this.drop(peer, e)
    const list = this.idle.get(peer) ?? []
    const e = [...list].reverse().find(e => e.connection.limits == null) ?? list[list.length - 1]
    if (e != null) this.remove(peer, e)
    return e
  }

  private put (peer: string, e: Pooled): void {
    const list = this.idle.get(peer) ?? []
    if (this.closed || !reusable(e) || list.length >= (this.init.maxIdle ?? POOL_MAX_IDLE)) {
      this.discard(e)
      return
    }
    e.timer = setTimeout(() => { this.drop(peer, e) }, this.init.idleMs ?? POOL_IDLE_MS)
    ;(e.timer as { unref?: () => void }).unref?.()
    list.push(e)
    this.idle.set(peer, list)
  }

  /** Takes `e` out of the idle list (its timer stops). */
  private remove (peer: string, e: Pooled): void {
    clearTimeout(e.timer)
    const list = this.idle.get(peer)
    const at = list?.indexOf(e) ?? -1
    if (list != null && at >= 0) list.splice(at, 1)
    if (list?.length === 0) this.idle.delete(peer)
  }

  private drop (peer: string, e: Pooled): void {
    this.remove(peer, e)
    this.discard(e)
  }

  private discard (e: Pooled): void {
    clearTimeout(e.timer)
    if (e.stream.status !== 'open') return
    e.stream.close({ signal: AbortSignal.timeout(5_000) }).catch((err: Error) => { e.stream.abort(err) })
  }
}
