import { GolemClayError } from '../../shared/errors.ts'

/** The chain answered a call with a JSON-RPC error: the call was refused (definitely, not lost on the way). */
export class JsonRpcError extends GolemClayError {
  override name = 'JsonRpcError'
  override readonly code = 'JSON_RPC'
  readonly rpcCode: number
  readonly data?: unknown

  constructor (rpcCode: number, message: string, data?: unknown) {
    super(message)
    this.rpcCode = rpcCode
    if (data !== undefined) this.data = data
  }
}

/** The chain's RPC endpoint could not be reached or gave no JSON-RPC answer: a call may or may not have happened. */
export class ChainUnreachableError extends GolemClayError { override name = 'ChainUnreachableError'; override readonly code = 'CHAIN_UNREACHABLE'; override readonly retryable = true }

export interface JsonRpcCallOptions {
  signal?: AbortSignal
  /** @default 10000 */
  timeoutMs?: number
}

/** One JSON-RPC call over HTTP, answering its result; errors keep the chain's code and message. */
export async function jsonRpc (url: string, method: string, params: unknown[] = [], options: JsonRpcCallOptions = {}): Promise<unknown> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000)
  const signal = options.signal != null ? AbortSignal.any([options.signal, timeout]) : timeout
  let body: any
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal
    })
    body = await res.json()
  } catch (err: any) {
    options.signal?.throwIfAborted()
    throw new ChainUnreachableError(`${method} to ${url}: ${String(err?.cause?.message ?? err?.message)}`)
  }
  if (body?.error != null) throw new JsonRpcError(Number(body.error.code), String(body.error.message), body.error.data)
  if (!('result' in (body ?? {}))) throw new ChainUnreachableError(`${method} to ${url}: no JSON-RPC answer`)
  return body.result
}
