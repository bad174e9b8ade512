import { isIP } from 'node:net'
import { AddressKeys, parseCidr } from '../../shared/connection/index.ts'
import { requestClient } from '../gateway/forwarded-for.ts'
import { RateLimit } from './rate-limit.ts'
import { RPC_ERRORS, RpcProxy, rpcError } from './rpc-proxy.ts'
import type { RateLimitInit } from './rate-limit.ts'
import type { RelayChain } from './relay-chain.ts'
import type { RpcProxyInit } from './rpc-proxy.ts'
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface ChainHttpInit {
  /** The largest request body, in bytes. @default 65536 */
  maxBodyBytes?: number
  /** The most calls in one JSON-RPC batch. @default 20 */
  maxBatch?: number
  /** Calls per client address (IPv4, IPv6 /64). @default 20 a second, 100 at once */
  rpcRate?: RateLimitInit
  /** Faucet requests per client address, on top of the faucet's own limits. @default 3, then one every 20 minutes */
  faucetRate?: RateLimitInit
  /** Proxies whose X-Forwarded-For names the client (`--trusted-proxy`). @default none */
  trustedProxies?: string[]
  proxy?: RpcProxyInit
}

/** The relay's HTTP endpoints under `/chain`: what the chain is, the RPC proxy, the faucet. */
export interface ChainHttpHandler {
  prefix: string
  handle: (req: IncomingMessage, res: ServerResponse) => void
}

/**
 * `GET /chain` (chain ID, contracts, whether there is a faucet),
 * `POST /chain/rpc` (JSON-RPC, whitelisted reads and
 * `eth_sendRawTransaction`; body, batch and per-address rate caps) and
 * `POST /chain/faucet` (`{ "address": "0x…" }`). Tabs never need an RPC
 * endpoint of their own. Without a chain, each says so (404).
 */
export function chainHttpHandler (components: { chain?: RelayChain }, init: ChainHttpInit = {}): ChainHttpHandler {
  const { chain } = components
  const proxy = chain != null ? new RpcProxy({ chain }, init.proxy) : undefined
  const rpcRate = new RateLimit(init.rpcRate ?? { perSecond: 20, burst: 100 })
  const faucetRate = new RateLimit(init.faucetRate ?? { perSecond: 1 / 1200, burst: 3 })
  const trusted = (init.trustedProxies ?? []).map(parseCidr)
  const keys = new AddressKeys()
  const maxBody = init.maxBodyBytes ?? 65_536
  const maxBatch = init.maxBatch ?? 20
  const clientKey = (req: IncomingMessage): string => {
    const ip = (requestClient(req, trusted) ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1')
    const family = isIP(ip)
    return (family !== 0 ? keys.keyOfIp(ip, family as 4 | 6) : undefined) ?? ip
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]
    res.setHeader('Access-Control-Allow-Origin', '*')
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, POST, OPTIONS', 'Access-Control-Allow-Headers': 'Content-Type', 'Access-Control-Max-Age': '86400' })
      res.end()
      return
    }
    const route = path === '/chain' ? 'info' : path === '/chain/rpc' ? 'rpc' : path === '/chain/faucet' ? 'faucet' : undefined
    if (route == null) return send(res, 404, { error: 'not found' })
    const method = route === 'info' ? 'GET' : 'POST'
    if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) {
      res.setHeader('Allow', method === 'GET' ? 'GET, HEAD, OPTIONS' : 'POST, OPTIONS')
      return send(res, 405, { error: 'method not allowed' })
    }
    if (chain == null || proxy == null) return send(res, 404, { error: 'this relay runs no chain', code: 'NO_CHAIN' })
    if (route === 'info') return send(res, 200, { ...chain.info, rpc: '/chain/rpc', faucet: chain.faucet != null ? { url: '/chain/faucet', tokens: String(chain.faucet.tokens), gas: String(chain.faucet.gas) } : null })

    const controller = new AbortController()
    res.once('close', () => { controller.abort() })
    const body = await readJson(req, maxBody)
    if (body === TOO_LARGE) return send(res, 413, route === 'rpc' ? rpcError(null, RPC_ERRORS.invalidRequest, `the body is over ${maxBody} bytes`) : { error: `the body is over ${maxBody} bytes` }, true)
    if (body === NOT_JSON) return send(res, 400, route === 'rpc' ? rpcError(null, RPC_ERRORS.parse, 'the body is not JSON') : { error: 'the body is not JSON' })

    if (route === 'faucet') {
      if (chain.faucet == null) return send(res, 404, { error: 'this relay has no faucet (a real chain: bring your own tokens and gas)', code: 'NO_FAUCET' })
      const wait = faucetRate.take(clientKey(req))
      if (wait > 0) return sendRetry(res, wait, { error: 'too many faucet requests from your address', code: 'FAUCET_RATE_LIMITED' })
      try {
        // not cut short when the caller leaves: once journaled, transactions are seen through
        const grant = await chain.faucet.grant((body as { address?: string } | null)?.address ?? '')
        return send(res, 200, { ...grant, tokens: String(grant.tokens), gas: String(grant.gas) })
      } catch (err: any) {
        // by code: this file stays free of the contracts (a relay without a chain loads it too)
        if (err?.code === 'FAUCET_RATE_LIMITED') return sendRetry(res, err.retryAfterMs, { error: err.message, code: err.code })
        if (err?.code === 'FAUCET_REFUSED') return send(res, 400, { error: err.message, code: err.code })
        return send(res, 502, { error: 'the faucet failed', code: 'FAUCET_FAILED' })
      }
    }

    const calls = Array.isArray(body) ? body : [body]
    if (calls.length === 0) return send(res, 400, rpcError(null, RPC_ERRORS.invalidRequest, 'an empty batch'))
    if (calls.length > maxBatch) return send(res, 400, rpcError(null, RPC_ERRORS.invalidRequest, `a batch of ${calls.length} calls: at most ${maxBatch}`))
    const wait = rpcRate.take(clientKey(req), calls.length)
    if (wait > 0) return sendRetry(res, wait, rpcError(null, RPC_ERRORS.limitExceeded, 'too many calls from your address: slow down'))
    const answers = await Promise.all(calls.map(async call => await proxy.call(call, controller.signal)))
    send(res, 200, Array.isArray(body) ? answers : answers[0])
  }

  return {
    prefix: '/chain',
    handle: (req, res) => {
      handle(req, res).catch(() => { if (!res.headersSent) send(res, 500, { error: 'internal error' }) })
    }
  }
}

const TOO_LARGE = Symbol('too large')
const NOT_JSON = Symbol('not JSON')

/** The body parsed, or why not; a body over `max` is not read on (the answer closes the connection). */
async function readJson (req: IncomingMessage, max: number): Promise<unknown> {
  if (Number(req.headers['content-length'] ?? 0) > max) return TOO_LARGE
  return await new Promise(resolve => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > max) {
        req.off('data', onData)
        req.pause()
        resolve(TOO_LARGE)
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch {
        resolve(NOT_JSON)
      }
    })
    // a client that went away: the first answer wins, and nobody reads this one
    req.once('close', () => { resolve(NOT_JSON) })
    req.once('error', () => { resolve(NOT_JSON) })
  })
}

function sendRetry (res: ServerResponse, waitMs: number, body: unknown): void {
  res.setHeader('Retry-After', String(Math.max(1, Math.ceil(waitMs / 1000))))
  send(res, 429, body)
}

/** `close`: the rest of the request was not read, so the connection can't carry another. */
function send (res: ServerResponse, code: number, body: unknown, close = false): void {
  if (res.headersSent) return
  res.writeHead(code, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...(close ? { Connection: 'close' } : {}) })
  res.end(JSON.stringify(body))
}
