import { lpStream } from '@libp2p/utils'
import { custom } from 'viem'
import { decodeJson, encodeJson, CHAIN_PROTOCOL } from '../wire/index.ts'
import { chequeToWire } from './payment-wire.ts'
import { MAX_CASH_BATCH, MAX_CHAIN_FRAME, validateAccount, validateCashResults, validateChainAnswer, validateChainInfo } from './chain-wire.ts'
import { accountId } from './deposit-typed-data.ts'
import { ChainCallError, ChainUnavailableError } from './payment-errors.ts'
import type { CashResultWire, ChainInfoWire } from './chain-wire.ts'
import type { SignedCheque } from './cheque.ts'
import type { DepositDeployment } from './deposit-typed-data.ts'
import type { SessionManager } from '../peer-session/index.ts'
import type { AbortOptions, ComponentLogger, Logger, PeerId, PeerStore, Startable } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { Address, CustomTransport } from 'viem'

export interface ChainClientInit {
  /** How long what `clay_info` said is kept, ms. @default 60_000 */
  infoTtl?: number
  /** How long a deposit read is kept by default, ms (a provider asks before each offer). @default 5_000 */
  accountTtl?: number
  /** Time for one call, ms (cashing waits for its transaction). @default 45_000 */
  callTimeout?: number
}

export interface ChainClientComponents {
  connectionManager: ConnectionManager
  peerStore: PeerStore
  sessions: SessionManager
  logger: ComponentLogger
}

/** A requestor's deposit and one account's counters: what the contract paid a beneficiary for a provider's work. */
export interface AccountState {
  deposit: bigint
  /** s since the epoch when the deposit may be withdrawn; 0 while locked. */
  unlockAt: number
  paidOut: bigint
  settledSeq: bigint
  drawnSeq: bigint
  block: number
}

/**
 * The relay's chain as tabs and Node peers reach it (`services.chain`):
 * over `/golem-clay/chain/2.0.0` to a connected relay that runs one, so
 * no node needs an RPC endpoint of its own. Reads are cached briefly; a
 * relay that fails is skipped for the next.
 */
export class ChainClient implements Startable {
  private readonly components: ChainClientComponents
  private readonly init: ChainClientInit
  private readonly log: Logger
  private info?: { at: number, value: ChainInfoWire | undefined }
  private readonly accounts = new Map<string, { at: number, value: Promise<AccountState> }>()
  private nextId = 1

  constructor (components: ChainClientComponents, init: ChainClientInit = {}) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('golem-clay:chain-client')
  }

  readonly [Symbol.toStringTag] = '@golem-clay/chain-client'

  start (): void {}
  stop (): void {
    this.info = undefined
    this.accounts.clear()
  }

  /** Connected relays that serve a chain (peer IDs), directly linked. */
  async relays (): Promise<PeerId[]> {
    const found: PeerId[] = []
    for (const conn of this.components.connectionManager.getConnections()) {
      if (conn.status !== 'open' || conn.limits != null || found.some(p => p.equals(conn.remotePeer))) continue
      const peer = await this.components.peerStore.get(conn.remotePeer).catch(() => undefined)
      if (peer?.protocols.includes(CHAIN_PROTOCOL) === true) found.push(conn.remotePeer)
    }
    return found
  }

  /** One JSON-RPC call on a relay's chain; ChainUnavailableError when no relay runs one, ChainCallError when it refuses. */
  async call (method: string, params: unknown[] = [], options: AbortOptions = {}): Promise<unknown> {
    const relays = await this.relays()
    if (relays.length === 0) throw new ChainUnavailableError('No connected relay runs a chain')
    let last: unknown
    for (const relay of relays) {
      try {
        return await this.callOn(relay, method, params, options)
      } catch (err: any) {
        // the chain's answer stands; a relay out of reach does not
        if (err instanceof ChainCallError || options.signal?.aborted === true) throw err
        this.log('%s on %p failed - %s', method, relay, err.message)
        last = err
      }
    }
    throw last
  }

  /** The deployment payments here are made on, when a connected relay runs a chain (cached); undefined when none does. */
  async chainInfo (options: AbortOptions = {}): Promise<ChainInfoWire | undefined> {
    if (this.info != null && Date.now() - this.info.at < (this.init.infoTtl ?? 60_000)) return this.info.value
    let value: ChainInfoWire | undefined
    try {
      value = validateChainInfo(await this.call('clay_info', [], options))
    } catch (err) {
      if (!(err instanceof ChainUnavailableError)) throw err
    }
    // "none" is not kept: a relay with a chain may connect any moment
    if (value != null) this.info = { at: Date.now(), value }
    return value
  }

  /** chainInfo() as the deployment cheques and notes name. */
  async deployment (options: AbortOptions = {}): Promise<DepositDeployment | undefined> {
    const info = await this.chainInfo(options)
    return info == null ? undefined : { chainId: info.chainId, address: info.deposit, salt: info.salt }
  }

  /**
   * A requestor's deposit and the counters of its account with `beneficiary`
   * for `options.provider`'s work (default: the beneficiary's own); a read
   * younger than `maxAgeMs` is reused.
   */
  async account (requestor: Address, beneficiary: Address, options: AbortOptions & { maxAgeMs?: number, provider?: Address } = {}): Promise<AccountState> {
    const provider = options.provider ?? beneficiary
    const key = accountId(requestor, beneficiary, provider)
    const cached = this.accounts.get(key)
    if (cached != null && Date.now() - cached.at < (options.maxAgeMs ?? this.init.accountTtl ?? 5_000)) return await cached.value
    const value = this.call('clay_account', [requestor, beneficiary, provider], options).then(raw => {
      const a = validateAccount(raw)
      return { deposit: BigInt(a.deposit), unlockAt: a.unlockAt, paidOut: BigInt(a.paidOut), settledSeq: BigInt(a.settledSeq), drawnSeq: BigInt(a.drawnSeq), block: a.block }
    })
    this.accounts.set(key, { at: Date.now(), value })
    if (this.accounts.size > 1024) this.accounts.delete(this.accounts.keys().next().value as string)
    value.catch(() => { if (this.accounts.get(key)?.value === value) this.accounts.delete(key) })
    return await value
  }

  /** Has the relay cash `cheques` (at most MAX_CASH_BATCH) in one batch: one result per cheque, in order. */
  async cash (cheques: SignedCheque[], options: AbortOptions = {}): Promise<CashResultWire[]> {
    if (cheques.length > MAX_CASH_BATCH) throw new ChainCallError(`At most ${MAX_CASH_BATCH} cheques per call`, -32602)
    const raw = await this.call('clay_cash', [cheques.map(chequeToWire)], options)
    // paid-out counters changed: the next read must see it
    for (const c of cheques) this.accounts.delete(accountId(c.cheque.requestor, c.cheque.beneficiary, c.cheque.provider))
    return validateCashResults(raw, cheques.length)
  }

  /** Test tokens and gas for `address` from the relay's faucet (an embedded chain only); amounts in base units. */
  async faucet (address: Address, options: AbortOptions = {}): Promise<{ tokens: bigint, gas: bigint }> {
    const grant = await this.call('clay_faucet', [address], options) as { tokens?: unknown, gas?: unknown } | null
    if (typeof grant?.tokens !== 'string' || typeof grant.gas !== 'string' || !/^\d{1,78}$/.test(grant.tokens) || !/^\d{1,78}$/.test(grant.gas)) throw new ChainCallError('The faucet answered something else than a grant', -32603)
    this.accounts.clear()
    return { tokens: BigInt(grant.tokens), gas: BigInt(grant.gas) }
  }

  /** A viem transport over the relay's chain: reads and raw transactions (deposits signed locally). */
  transport (): CustomTransport {
    return custom({
      request: async ({ method, params }) => {
        try {
          return await this.call(method, (params as unknown[] | undefined) ?? [])
        } catch (err) {
          // as a JSON-RPC error, so viem decodes reverts (the contract's error name) like over HTTP
          if (err instanceof ChainCallError) throw Object.assign(new Error(err.message), { code: err.rpcCode, data: err.data })
          throw err
        }
      }
    })
  }

  private async callOn (relay: PeerId, method: string, params: unknown[], options: AbortOptions): Promise<unknown> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.init.callTimeout ?? 45_000), ...(options.signal != null ? [options.signal] : [])])
    const { stream } = await this.components.sessions.open(relay, CHAIN_PROTOCOL, { signal })
    const lp = lpStream(stream, { maxDataLength: MAX_CHAIN_FRAME })
    const id = this.nextId++
    try {
      await lp.write(encodeJson({ jsonrpc: '2.0', id, method, params }, MAX_CHAIN_FRAME), { signal })
      const answer = decodeJson(await lp.read({ signal }), validateChainAnswer)
      await stream.close({ signal }).catch(() => {})
      if ('error' in answer) throw new ChainCallError(answer.error.message, answer.error.code, answer.error.data)
      return answer.result
    } catch (err: any) {
      stream.abort(err)
      throw err
    }
  }
}

export function chainClient (init: ChainClientInit = {}): (components: ChainClientComponents) => ChainClient {
  return (components) => new ChainClient(components, init)
}
