import { logger } from '@libp2p/logger'
import { keccak256, parseTransaction } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { GolemClayError } from '../../shared/errors.ts'
import { JsonRpcError, jsonRpc } from './json-rpc.ts'
import { mutex } from './mutex.ts'
import type { Exclusive } from './mutex.ts'
import type { JournalEntry, TxJournal } from './tx-journal.ts'
import type { Address, Hex, PrivateKeyAccount, PublicClient, TransactionReceipt } from 'viem'

const log = logger('golem-clay:chain')

/** A transaction the relay sends was refused by the chain, or not mined in time. */
export class ChainTxError extends GolemClayError { override name = 'ChainTxError'; override readonly code = 'CHAIN_TX' }

export interface TxRequest {
  to?: Address
  data?: Hex
  value?: bigint
  /** @default estimated, plus a fifth */
  gas?: bigint
  /** What it is for, in the journal and the log (deploy, faucet, cashout, …). */
  kind: string
}

export interface TxSenderComponents {
  /** Reads the chain (viem, with its chain set). */
  client: PublicClient
  journal: TxJournal
  /**
   * Makes a block of what was sent (the embedded Anvil mines only when told,
   * so that nothing is mined while a snapshot is taken). A transaction still
   * not mined after it (a nonce gap, a fee under the base fee) is dropped,
   * from the chain's pool and the journal, and refused.
   * @default none: the chain mines by itself
   */
  mine?: () => Promise<void>
  /** The lock snapshots take too: each transaction is sent and mined under it. @default none */
  exclusive?: Exclusive
}

export interface TxSenderInit {
  rpcUrl: string
  chainId: number
  /** The relay's account on this chain. */
  privateKey: Hex
  /** Called once a transaction sent through here is mined (the embedded chain takes a snapshot). @default nothing */
  onSent?: () => void
  /** How long `submit` waits for a receipt, in ms. @default 30000 */
  receiptTimeoutMs?: number
}

/**
 * Sends the relay's transactions through the journal: each is signed
 * locally with the next nonce, journaled (fsync), then sent; nonces are
 * handed out one transaction at a time. `resubmit()` runs first on every
 * start and sends again, byte for byte, what the chain lost; nothing new is
 * sent before it is done. Tabs' signed transactions (`sendRaw`) are
 * journaled the same way.
 */
export class TxSender {
  readonly account: PrivateKeyAccount
  private readonly components: TxSenderComponents
  private readonly init: TxSenderInit
  private nonce?: number
  private readonly serially = mutex()
  private readyResolve!: () => void
  private readonly ready = new Promise<void>(resolve => { this.readyResolve = resolve })

  constructor (components: TxSenderComponents, init: TxSenderInit) {
    this.components = components
    this.init = init
    this.account = privateKeyToAccount(init.privateKey)
  }

  get address (): Address {
    return this.account.address
  }

  /** Sends again every journaled transaction the chain does not know; drops those it refuses now. */
  async resubmit (options: { signal?: AbortSignal } = {}): Promise<{ resubmitted: number, dropped: number }> {
    let resubmitted = 0
    let dropped = 0
    for (const entry of this.components.journal.entries()) {
      options.signal?.throwIfAborted()
      if (await this.isKnown(entry.hash, options.signal)) continue
      try {
        await this.deliver(entry, options.signal)
        resubmitted++
        log('resubmitted %s %s', entry.kind, entry.hash)
      } catch (err) {
        // refused now: deliver() dropped it from the journal
        if (!(err instanceof JsonRpcError)) throw err
        log.error('journaled %s %s refused on resubmission: %s', entry.kind, entry.hash, err.message)
        dropped++
      }
    }
    this.readyResolve()
    return { resubmitted, dropped }
  }

  /** Whether the chain has the transaction (mined or pending). */
  async isKnown (hash: Hex, signal?: AbortSignal): Promise<boolean> {
    if (await jsonRpc(this.init.rpcUrl, 'eth_getTransactionReceipt', [hash], { signal }) != null) return true
    return await jsonRpc(this.init.rpcUrl, 'eth_getTransactionByHash', [hash], { signal }) != null
  }

  /** Signs, journals and sends a transaction from the relay's account; answers its receipt once mined. */
  async submit (request: TxRequest, options: { signal?: AbortSignal } = {}): Promise<TransactionReceipt> {
    await this.ready
    const hash = await this.serially(async () => await this.signAndSend(request, options.signal))
    const client = this.components.client
    // the embedded chain mined it before send() returned
    const receipt = await client.getTransactionReceipt({ hash }).catch(() => undefined) ?? await client.waitForTransactionReceipt({ hash, timeout: this.init.receiptTimeoutMs ?? 30_000 }).catch((err: any) => {
      throw new ChainTxError(`${request.kind} ${hash} not mined: ${String(err.shortMessage ?? err.message)}`)
    })
    this.init.onSent?.()
    if (receipt.status !== 'success') throw new ChainTxError(`${request.kind} ${hash} reverted`)
    return receipt
  }

  /**
   * A transaction someone signed (a tab's deposit): journaled, then sent.
   * The chain's refusal comes back as a JsonRpcError with its code.
   */
  async sendRaw (raw: Hex, options: { kind?: string, signal?: AbortSignal } = {}): Promise<Hex> {
    let chainId: number | undefined
    try {
      chainId = parseTransaction(raw).chainId
    } catch {
      throw new JsonRpcError(-32602, 'not a signed transaction')
    }
    if (chainId !== this.init.chainId) throw new JsonRpcError(-32602, `the transaction is for chain ${String(chainId ?? 'none (pre-EIP-155)')}, this is chain ${this.init.chainId}`)
    await this.ready
    const hash = keccak256(raw)
    const entry = { hash, raw, kind: options.kind ?? 'tab', at: Date.now() }
    if (this.components.journal.has(hash)) {
      // sent again (a tab retrying): journaled already; delivered again only if the chain lacks it
      if (!await this.isKnown(hash, options.signal)) await this.deliver(entry, options.signal)
      return hash
    }
    await this.send(entry, options.signal)
    this.init.onSent?.()
    return hash
  }

  /** Leaves out of the journal what both snapshots hold (mined at or below `coveredBlock`). */
  async prune (coveredBlock: number): Promise<number> {
    const journal = this.components.journal
    for (const entry of journal.entries()) {
      if (entry.block != null) continue
      const receipt = await jsonRpc(this.init.rpcUrl, 'eth_getTransactionReceipt', [entry.hash]).catch(() => null) as { blockNumber?: Hex } | null
      if (receipt?.blockNumber != null) entry.block = Number(receipt.blockNumber)
    }
    return await journal.compact(e => e.block != null && e.block <= coveredBlock, coveredBlock)
  }

  private async signAndSend (request: TxRequest, signal?: AbortSignal): Promise<Hex> {
    const client = this.components.client
    const from = this.account.address
    this.nonce ??= await client.getTransactionCount({ address: from, blockTag: 'pending' })
    const fees = await client.estimateFeesPerGas()
    const gas = request.gas ?? (await client.estimateGas({ account: from, to: request.to, data: request.data, value: request.value })) * 6n / 5n
    const raw = await this.account.signTransaction({
      chainId: this.init.chainId,
      type: 'eip1559',
      nonce: this.nonce,
      ...(request.to != null ? { to: request.to } : {}),
      ...(request.data != null ? { data: request.data } : {}),
      value: request.value ?? 0n,
      gas,
      // room for the base fee to rise before a resubmission
      maxFeePerGas: fees.maxFeePerGas * 2n,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas
    })
    const hash = keccak256(raw)
    try {
      await this.send({ hash, raw, kind: request.kind, at: Date.now() }, signal)
    } catch (err: any) {
      this.nonce = undefined
      throw new ChainTxError(`${request.kind}: ${String(err.message)}`)
    }
    this.nonce++
    return hash
  }

  /** Journal first, then the chain. */
  private async send (entry: JournalEntry, signal?: AbortSignal): Promise<void> {
    await this.components.journal.append(entry)
    await this.deliver(entry, signal)
  }

  /**
   * Sends a journaled transaction (and mines it, on the embedded chain). A
   * refusal (a JsonRpcError) is dropped from the journal first; a lost
   * answer leaves it there for the next start.
   */
  private async deliver (entry: JournalEntry, signal?: AbortSignal): Promise<void> {
    const { journal, mine, exclusive } = this.components
    const rpcUrl = this.init.rpcUrl
    await (exclusive ?? (async fn => await fn()))(async () => {
      try {
        await jsonRpc(rpcUrl, 'eth_sendRawTransaction', [entry.raw], { signal })
      } catch (err) {
        // "already known", or the answer was lost on the way: the chain has it all the same
        const known = await this.isKnown(entry.hash).catch(() => undefined)
        if (known !== true) {
          if (err instanceof JsonRpcError && known === false) await journal.drop(entry.hash)
          throw err
        }
      }
      if (mine == null) return
      await mine()
      if (await jsonRpc(rpcUrl, 'eth_getTransactionReceipt', [entry.hash]) != null) return
      // left in the pool it would be mined some time later, maybe while a snapshot is taken; under
      // the lock, whatever is still there after a block can't be mined (anvil_dropTransaction keeps queued ones)
      await jsonRpc(rpcUrl, 'anvil_dropAllTransactions').catch(() => {})
      await journal.drop(entry.hash)
      throw new JsonRpcError(-32000, 'the transaction could not be mined (a nonce gap, or a fee under the base fee): dropped')
    })
  }
}
