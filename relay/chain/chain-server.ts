import { lpStream } from '@libp2p/utils'
import { createPublicClient, getAddress, http, isAddress } from 'viem'
import { clayDepositAbi } from '../../contracts/index.ts'
import { GolemClayError, MessageTooLargeError, ShuttingDownError } from '../../shared/errors.ts'
import { accountId, CHAIN_ERRORS, chequeFromWire, MAX_CASH_BATCH, MAX_CHAIN_FRAME, sameDeployment, validateChainCall } from '../../shared/payments/index.ts'
import { CHAIN_PROTOCOL, decodeJson, encodeJson } from '../../shared/wire/index.ts'
import { AddressKeys } from '../../shared/connection/index.ts'
import { ChequeCasher } from './cheque-casher.ts'
import { RateLimit } from './rate-limit.ts'
import { JsonRpcError } from './json-rpc.ts'
import { RPC_ERRORS, RpcProxy } from './rpc-proxy.ts'
import type { ChequeCasherInit } from './cheque-casher.ts'
import type { RelayChain } from './relay-chain.ts'
import type { RateLimitInit } from './rate-limit.ts'
import type { RpcProxyInit } from './rpc-proxy.ts'
import type { TxSender } from './tx-sender.ts'
import type { SessionManager } from '../../shared/peer-session/index.ts'
import type { AccountWire, CashResultWire, ChainAnswer, ChainCall, ChainInfoWire, DepositDeployment, SignedCheque } from '../../shared/payments/index.ts'
import type { ComponentLogger, Connection, Logger, Startable, Stream } from '@libp2p/interface'
import type { Address, PublicClient } from 'viem'

export interface ChainServerInit {
  /** The relay's chain, started before the node. */
  chain: RelayChain
  /** How cheques are batched (`clay_cash`). */
  casher?: ChequeCasherInit
  /** The forwarded calls' limits (the same whitelist as `POST /chain/rpc`). */
  proxy?: RpcProxyInit
  /** `clay_faucet` per remote network address (IPv4, IPv6 /64), on top of the faucet's own limits. @default 3, then one every 20 minutes: as over HTTP */
  faucetRate?: RateLimitInit
  /** How long one pair's `clay_account` at one block is answered from memory, in ms (a new block, a deposit mined, is read afresh). @default 1000 */
  accountCacheMs?: number
  /** How long a stream may take to send its call, in ms. @default 10000 */
  readTimeoutMs?: number
  /** How long a call may take to answer (`clay_cash` waits for its batch and the block), in ms. @default 60000 */
  callTimeoutMs?: number
  /** Streams one connection may have open at once. @default 32 */
  maxInboundStreams?: number
}

export interface ChainServerComponents {
  sessions: SessionManager
  logger: ComponentLogger
}

/** Pairs whose accounts are kept in memory before expired ones are swept. */
const MAX_CACHED_ACCOUNTS = 1024

/**
 * The relay's side of `/golem-clay/chain/2.0.0`: one JSON-RPC call per
 * stream, one length-prefixed frame each way. `clay_info`, `clay_account`,
 * `clay_cash` and `clay_faucet` are the relay's own (shared/payments/chain-wire.ts);
 * anything else goes to the RpcProxy, with the HTTP proxy's whitelist
 * (`eth_sendRawTransaction` through the journal). The session layer gates
 * and rate-limits the streams.
 */
export class ChainServer implements Startable {
  private readonly components: ChainServerComponents
  private readonly init: ChainServerInit
  private readonly log: Logger
  private readonly proxy: RpcProxy
  private readonly accounts = new Map<string, { at: number, value: Promise<AccountWire> }>()
  private readonly active = new Set<Stream>()
  private readonly faucetRate: RateLimit
  private readonly addressKeys = new AddressKeys()
  private controller = new AbortController()
  private reader?: { rpcUrl: string, client: PublicClient }
  private casher?: { sender: TxSender, casher: ChequeCasher }

  constructor (components: ChainServerComponents, init: ChainServerInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('golem-clay:chain')
    this.proxy = new RpcProxy({ chain: init.chain }, init.proxy)
    this.faucetRate = new RateLimit(init.faucetRate ?? { perSecond: 1 / 1200, burst: 3 })
  }

  readonly [Symbol.toStringTag] = '@golem-clay/chain-server'

  async start (): Promise<void> {
    this.controller = new AbortController()
    await this.components.sessions.handle(CHAIN_PROTOCOL, (stream, conn) => {
      this.onStream(stream, conn).catch((err: any) => { this.log('chain stream from %p failed - %e', conn.remotePeer, err) })
    }, { maxInboundStreams: this.init.maxInboundStreams ?? 32 })
  }

  async stop (): Promise<void> {
    await this.components.sessions.unhandle(CHAIN_PROTOCOL).catch(() => {})
    this.controller.abort(new ShuttingDownError('Relay shutting down'))
    for (const stream of this.active) stream.abort(new ShuttingDownError('Relay shutting down'))
    // cheques already taken are seen through (and those waiting sent): the chain stops after the node
    await this.casher?.casher.flush().catch(() => {})
    this.accounts.clear()
  }

  /** One call: read, answer, close. A frame that can't be read (too large, too slow) aborts the stream. */
  private async onStream (stream: Stream, conn: Connection): Promise<void> {
    this.active.add(stream)
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_CHAIN_FRAME })
      const frame = await lp.read({ signal: AbortSignal.any([AbortSignal.timeout(this.init.readTimeoutMs ?? 10_000), this.controller.signal]) })
      const answer = await this.answer(frame.subarray(), conn)
      await lp.write(encodeAnswer(answer), { signal: AbortSignal.timeout(10_000) })
      await stream.close({ signal: AbortSignal.timeout(5_000) })
    } catch (err: any) {
      stream.abort(err)
      throw err
    } finally {
      this.active.delete(stream)
    }
  }

  /** The answer to a frame; never throws (what goes wrong is a JSON-RPC error). */
  private async answer (frame: Uint8Array, conn: Connection): Promise<ChainAnswer> {
    let value: unknown
    try {
      value = decodeJson(frame, v => v)
    } catch {
      return rpcError(null, RPC_ERRORS.parse, 'the frame is not JSON')
    }
    let call: ChainCall
    try {
      call = validateChainCall(value)
    } catch (err: any) {
      return rpcError(idOf(value), RPC_ERRORS.invalidRequest, `not a chain call: ${String(err.message)}`)
    }
    const signal = AbortSignal.any([AbortSignal.timeout(this.init.callTimeoutMs ?? 60_000), this.controller.signal])
    try {
      return { jsonrpc: '2.0', id: call.id, result: await this.dispatch(call, signal, conn) }
    } catch (err: any) {
      if (err instanceof JsonRpcError) return rpcError(call.id, err.rpcCode, err.message, err.data)
      this.log('%s from %p failed - %e', call.method, conn.remotePeer, err)
      if (err?.code === 'CHAIN_UNREACHABLE' || err?.name === 'HttpRequestError') return rpcError(call.id, RPC_ERRORS.internal, 'the chain is unreachable')
      if (err instanceof GolemClayError && err.retryable) return rpcError(call.id, RPC_ERRORS.internal, err.message)
      return rpcError(call.id, RPC_ERRORS.internal, 'internal error')
    }
  }

  private async dispatch (call: ChainCall, signal: AbortSignal, conn: Connection): Promise<unknown> {
    switch (call.method) {
      case 'clay_info':
        return this.info()
      case 'clay_account': {
        if (call.params.length !== 3) throw new JsonRpcError(RPC_ERRORS.invalidParams, 'clay_account takes [requestor, beneficiary, provider]')
        return await this.account(address(call.params[0], 'requestor'), address(call.params[1], 'beneficiary'), address(call.params[2], 'provider'))
      }
      case 'clay_cash':
        return await this.cash(call.params, signal, conn)
      case 'clay_faucet':
        return await this.faucet(call.params, conn)
      default: {
        // the whitelist, checks and errors of the HTTP proxy
        const answer = await this.proxy.call(call, signal)
        return answer.error != null ? throwRpc(answer.error) : answer.result
      }
    }
  }

  /** Test tokens and gas for an address (the embedded chain's faucet), for Node peers as `POST /chain/faucet` is for tabs. */
  private async faucet (params: unknown[], conn: Connection): Promise<unknown> {
    const faucet = this.init.chain.faucet
    if (faucet == null) throw new JsonRpcError(CHAIN_ERRORS.unavailable, 'this relay has no faucet (a real chain: bring your own tokens and gas)')
    if (params.length !== 1) throw new JsonRpcError(RPC_ERRORS.invalidParams, 'clay_faucet takes [address]')
    const to = address(params[0], 'address')
    const wait = this.faucetRate.take(this.addressKeys.keyOf(conn.remoteAddr) ?? conn.remotePeer.toString())
    if (wait > 0) throw new JsonRpcError(CHAIN_ERRORS.rateLimited, `too many faucet requests from your address: try again in ${Math.ceil(wait / 60_000)} min`, { name: 'FaucetRateLimitedError', retryAfterMs: wait })
    try {
      const grant = await faucet.grant(to)
      return { ...grant, tokens: String(grant.tokens), gas: String(grant.gas) }
    } catch (err: any) {
      // the faucet's own refusals by code, in words; the rest stays the generic internal error
      if (err?.code === 'FAUCET_RATE_LIMITED' || err?.code === 'FAUCET_REFUSED') throw new JsonRpcError(err.code === 'FAUCET_REFUSED' ? RPC_ERRORS.invalidParams : CHAIN_ERRORS.rateLimited, String(err.message), { name: err.name })
      throw err
    }
  }

  private info (): ChainInfoWire {
    const { mode, chainId, token, deposit, salt } = this.init.chain.info
    return { mode, chainId, token, deposit, salt, cashes: this.init.chain.txSender != null }
  }

  /**
   * A requestor's deposit and one account's counters at the newest block, kept
   * a moment for that block: many providers ask about one requestor, and a
   * deposit just mined is never answered from before it.
   */
  private async account (requestor: Address, beneficiary: Address, provider: Address): Promise<AccountWire> {
    const blockNumber = await this.client().getBlockNumber({ cacheTime: 0 })
    const key = `${accountId(requestor, beneficiary, provider)}@${blockNumber}`
    const now = Date.now()
    const ttl = this.init.accountCacheMs ?? 1000
    const hit = this.accounts.get(key)
    if (hit != null && now - hit.at < ttl) return await hit.value
    if (this.accounts.size >= MAX_CACHED_ACCOUNTS) {
      for (const [k, v] of this.accounts) if (now - v.at >= ttl) this.accounts.delete(k)
    }
    const value = this.readAccount(requestor, beneficiary, provider, blockNumber)
    const entry = { at: now, value }
    this.accounts.set(key, entry)
    // a failed read is not kept
    value.catch(() => { if (this.accounts.get(key) === entry) this.accounts.delete(key) })
    return await value
  }

  private async readAccount (requestor: Address, beneficiary: Address, provider: Address, blockNumber: bigint): Promise<AccountWire> {
    const client = this.client()
    const address = this.init.chain.info.deposit
    const [[deposit, unlockAt], [paidOut, settledSeq, drawnSeq]] = await Promise.all([
      client.readContract({ address, abi: clayDepositAbi, functionName: 'deposits', args: [requestor], blockNumber }),
      client.readContract({ address, abi: clayDepositAbi, functionName: 'accounts', args: [requestor, beneficiary, provider], blockNumber })
    ])
    return { deposit: String(deposit), unlockAt: Number(unlockAt), paidOut: String(paidOut), settledSeq: wireSeq(settledSeq), drawnSeq: wireSeq(drawnSeq), block: Number(blockNumber) }
  }

  private async cash (params: unknown[], signal: AbortSignal, conn: Connection): Promise<CashResultWire[]> {
    const casher = this.cheques()
    if (casher == null) throw new JsonRpcError(CHAIN_ERRORS.unavailable, 'this relay does not cash cheques (it has no account on its chain)')
    const list = params[0]
    if (params.length !== 1 || !Array.isArray(list) || list.length === 0 || list.length > MAX_CASH_BATCH) {
      throw new JsonRpcError(RPC_ERRORS.invalidParams, `clay_cash takes [cheques]: a list of 1 to ${MAX_CASH_BATCH} cheques`)
    }
    const deployment = this.deployment()
    const cheques = list.map((wire: unknown, index): SignedCheque => {
      let signed: SignedCheque
      try {
        signed = chequeFromWire(wire)
      } catch (err: any) {
        throw new JsonRpcError(CHAIN_ERRORS.invalidCheque, `cheque ${index}: ${String(err.message)}`, { index, name: err.name })
      }
      if (!sameDeployment(signed.deployment, deployment)) {
        throw new JsonRpcError(CHAIN_ERRORS.invalidCheque, `cheque ${index} is for chain ${signed.deployment.chainId}, contract ${signed.deployment.address}, salt ${signed.deployment.salt}: this relay cashes on chain ${deployment.chainId}, contract ${deployment.address}, salt ${deployment.salt}`, { index, name: 'WrongDeploymentError' })
      }
      return signed
    })
    // what was just paid is read fresh next time: its block is a new one
    const results = await casher.cash(cheques, { signal })
    this.log('%p cashed %d of %d cheques', conn.remotePeer, results.filter(r => r.ok).length, results.length)
    return results
  }

  private deployment (): DepositDeployment {
    const { chainId, deposit, salt } = this.init.chain.info
    return { chainId, address: deposit, salt }
  }

  /** A client for the chain's RPC; made again if the chain came back elsewhere. */
  private client (): PublicClient {
    const rpcUrl = this.init.chain.rpcUrl
    if (this.reader?.rpcUrl !== rpcUrl) this.reader = { rpcUrl, client: createPublicClient({ transport: http(rpcUrl, { retryCount: 1 }), pollingInterval: 250 }) }
    return this.reader.client
  }

  /** The casher for the chain's current account, or undefined when the relay has none. */
  private cheques (): ChequeCasher | undefined {
    const sender = this.init.chain.txSender
    if (sender == null) return undefined
    if (this.casher?.sender !== sender) {
      this.casher = { sender, casher: new ChequeCasher({ client: this.client(), sender, deployment: this.deployment() }, this.init.casher) }
    }
    return this.casher.casher
  }
}

/** The relay's chain to its peers over libp2p (`/golem-clay/chain/2.0.0`). */
export function chainServer (init: ChainServerInit): (components: ChainServerComponents) => ChainServer {
  return (components) => new ChainServer(components, init)
}

function rpcError (id: number | null, code: number, message: string, data?: unknown): ChainAnswer {
  return { jsonrpc: '2.0', id, error: { code, message, ...(data !== undefined ? { data } : {}) } }
}

function throwRpc (error: { code: number, message: string, data?: unknown }): never {
  throw new JsonRpcError(error.code, error.message, error.data)
}

/** A malformed call's id, when it has a usable one. */
function idOf (value: unknown): number | null {
  const id = (value as { id?: unknown } | null)?.id
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null
}

function address (value: unknown, name: string): Address {
  if (typeof value !== 'string' || !isAddress(value, { strict: false })) throw new JsonRpcError(RPC_ERRORS.invalidParams, `${name} must be an address (0x and 40 hex digits)`)
  return getAddress(value)
}

/**
 * A seq as the wire carries it (a safe integer). A requestor may cash a
 * cheque with any seq up to 2^64-1; beyond 2^53-1 it reads as 2^53-1, which
 * every seq a node uses stays below, so comparisons with them hold.
 */
function wireSeq (seq: bigint): number {
  return Number(seq > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : seq)
}

/** The answer's frame; one too large for it (a wide eth_getLogs) becomes an error that says so. */
function encodeAnswer (answer: ChainAnswer): Uint8Array {
  try {
    return encodeJson(answer, MAX_CHAIN_FRAME)
  } catch (err) {
    if (!(err instanceof MessageTooLargeError)) throw err
    return encodeJson(rpcError(answer.id, RPC_ERRORS.invalidParams, `the answer is over the ${MAX_CHAIN_FRAME} bytes a frame carries: ask for less`), MAX_CHAIN_FRAME)
  }
}
