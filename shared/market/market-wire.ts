import { lpStream } from '@libp2p/utils'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { InvalidMessageError } from '../errors.ts'
import { MARKET_PROTOCOL } from '../protocols.ts'
import { decodeJson, encodeJson, expectLiteral, expectRecord, expectString } from '../util/json-codec.ts'
import { MAX_RESULT_BYTES } from './market-codec.ts'
import { MAX_SIGNED_LENGTH } from './signed.ts'
import type { Stream } from '@libp2p/interface'

export { MARKET_PROTOCOL }
/** The pub/sub topic task headers and closings spread on. */
export const TASKS_TOPIC = 'golem-clay/tasks/1'

/** Base64 of the largest result plus the signed messages; checked before buffering. */
export const MAX_MARKET_FRAME = Math.ceil(MAX_RESULT_BYTES * 4 / 3) + 3 * MAX_SIGNED_LENGTH

export type RequestKind = 'offer' | 'assign' | 'report' | 'verdict'

export interface MarketRequest {
  v: 1
  kind: RequestKind
  /** The signed message. */
  msg: string
  /** With `assign`: the signed task header, so the provider needn't have seen the gossip. */
  header?: string
  /** With `report`: the result bytes (their hash is in the signed report). */
  data?: Uint8Array
}

export interface MarketResponse { v: 1, ok: boolean, error?: { name: string, message: string } }

export function encodeRequest (req: MarketRequest): Uint8Array {
  return encodeJson({ ...req, data: req.data == null ? undefined : toString(req.data, 'base64') }, MAX_MARKET_FRAME)
}

export function validateRequest (value: unknown): MarketRequest {
  const obj = expectRecord(value, 'market request')
  expectLiteral(obj, 'v', [1])
  const req: MarketRequest = {
    v: 1,
    kind: expectLiteral(obj, 'kind', ['offer', 'assign', 'report', 'verdict'] as const),
    msg: expectString(obj, 'msg', MAX_SIGNED_LENGTH)
  }
  if (obj.header != null) req.header = expectString(obj, 'header', MAX_SIGNED_LENGTH)
  if (obj.data != null) {
    const text = expectString(obj, 'data', MAX_MARKET_FRAME)
    try {
      req.data = fromString(text, 'base64')
    } catch {
      throw new InvalidMessageError('"data" is not base64')
    }
  }
  return req
}

export function validateResponse (value: unknown): MarketResponse {
  const obj = expectRecord(value, 'market response')
  expectLiteral(obj, 'v', [1])
  if (typeof obj.ok !== 'boolean') throw new InvalidMessageError('"ok" must be a boolean')
  if (obj.ok) return { v: 1, ok: true }
  const e = expectRecord(obj.error, 'error')
  return { v: 1, ok: false, error: { name: expectString(e, 'name', 80), message: expectString(e, 'message', 1000) } }
}

/** The remote refused a request; `name` is its typed error's name. */
export class MarketRefusedError extends Error {
  override name = 'MarketRefusedError'
  readonly reason: string
  constructor (reason: string, message: string) {
    super(`${reason}: ${message}`)
    this.reason = reason
  }
}

/** One request, one response, on a fresh stream. */
export async function exchange (stream: Stream, req: MarketRequest, signal: AbortSignal): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: MAX_MARKET_FRAME })
  try {
    await lp.write(encodeRequest(req), { signal })
    const res = decodeJson(await lp.read({ signal }), validateResponse)
    await stream.close({ signal })
    if (!res.ok) throw new MarketRefusedError(res.error?.name ?? 'Error', res.error?.message ?? '')
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}

/** Serves one request: reads it, runs `handle`, answers ok or the typed error. */
export async function serve (stream: Stream, handle: (req: MarketRequest) => Promise<void>, signal: AbortSignal): Promise<MarketRequest | undefined> {
  const lp = lpStream(stream, { maxDataLength: MAX_MARKET_FRAME })
  let req: MarketRequest
  try {
    req = decodeJson(await lp.read({ signal }), validateRequest)
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
  let response: MarketResponse = { v: 1, ok: true }
  try {
    await handle(req)
  } catch (err: any) {
    response = { v: 1, ok: false, error: { name: String(err.name ?? 'Error').slice(0, 80), message: String(err.message ?? '').slice(0, 1000) } }
  }
  try {
    await lp.write(encodeJson(response, 4096), { signal })
    await stream.close({ signal })
  } catch (err: any) {
    stream.abort(err)
  }
  return response.ok ? req : undefined
}
