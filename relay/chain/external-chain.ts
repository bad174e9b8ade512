import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createPublicClient, defineChain, formatEther, getAddress, http, parseTransaction } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { clayDepositAbi, DEPOSIT_DOMAIN_VERSION } from '../../contracts/index.ts'
import { InvalidConfigError, NotStartedError } from '../../shared/errors.ts'
import { JsonRpcError, jsonRpc } from './json-rpc.ts'
import { SILENT_CHAIN_LOG } from './relay-chain.ts'
import { JOURNAL_FILE_NAME, TxJournal } from './tx-journal.ts'
import { TxSender } from './tx-sender.ts'
import type { ChainLog, RelayChain, RelayChainComponents, RelayChainInfo } from './relay-chain.ts'
import type { Address, Hex } from 'viem'

/** `--chain-rpc` can't be used as configured: unreachable, another chain ID, or no contracts at the addresses given. */
export class ExternalChainError extends InvalidConfigError { override name = 'ExternalChainError'; override readonly code = 'EXTERNAL_CHAIN' }

export interface ExternalChainInit {
  /** The chain's JSON-RPC URL (`--chain-rpc`). */
  rpcUrl: string
  /** What the RPC must report (`--chain-id`). */
  chainId: number
  /** The ERC-20 deposits are in (`--token`). */
  token: Address
  /** The ClayDeposit contract (`--deposit-contract`). */
  deposit: Address
  /** How long each check at start may take, in ms. @default 15000 */
  timeoutMs?: number
  /**
   * The relay's account on this chain (its payment key), which cashes
   * providers' cheques and pays the gas: the operator funds it with the
   * chain's coin (POL on Polygon). @default none: the relay cashes nothing
   */
  privateKey?: Hex
  /** Where the journal of the relay's own transactions is kept (with `privateKey`). */
  dir?: string
}

/** Blocks after which a mined transaction leaves the journal: far past any reorganisation. */
const FINAL_AFTER = 256

/**
 * A real chain (Polygon in production) the relay reads and sends to through
 * its RPC: checked at start (chain ID, code at both addresses, the deposit
 * contract's token) so a relay pointed at the wrong chain refuses to start.
 * No Anvil, no faucet: tabs bring their own tokens and gas.
 */
export class ExternalChain implements RelayChain {
  readonly mode = 'external'
  readonly faucet = undefined
  private readonly init: ExternalChainInit
  private sender?: TxSender
  private journal?: TxJournal
  private readonly log: ChainLog
  private checked?: RelayChainInfo

  constructor (components: RelayChainComponents, init: ExternalChainInit) {
    this.init = init
    this.log = components.log ?? SILENT_CHAIN_LOG
  }

  get info (): RelayChainInfo {
    if (this.checked == null) throw new NotStartedError('the chain is not started')
    return this.checked
  }

  get rpcUrl (): string {
    return this.init.rpcUrl
  }

  /** The relay's account, when it has one here (`privateKey`): it cashes cheques. */
  get txSender (): TxSender | undefined {
    return this.sender
  }

  async start (options: { signal?: AbortSignal } = {}): Promise<void> {
    const { rpcUrl, chainId } = this.init
    const call = async (method: string, params: unknown[]): Promise<unknown> => {
      try {
        return await jsonRpc(rpcUrl, method, params, { signal: options.signal, timeoutMs: this.init.timeoutMs ?? 15_000 })
      } catch (err: any) {
        options.signal?.throwIfAborted()
        throw new ExternalChainError(`--chain-rpc ${redact(rpcUrl)}: ${method} failed (${String(err.message)})`)
      }
    }
    const actual = Number(await call('eth_chainId', []))
    if (actual !== chainId) throw new ExternalChainError(`--chain-rpc ${redact(rpcUrl)} is chain ${actual}, not --chain-id ${chainId}: refusing to start on the wrong chain`)
    for (const [flag, address] of [['--token', this.init.token], ['--deposit-contract', this.init.deposit]] as const) {
      const code = await call('eth_getCode', [address, 'latest'])
      if (typeof code !== 'string' || code === '0x' || code === '') throw new ExternalChainError(`${flag} ${address}: no contract there on chain ${chainId}`)
    }
    const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 1 }) })
    let token: Address, salt: Hex, version: string
    try {
      // ERC-5267 tells the version and the salt in one read
      [token, [, , version, , , salt]] = await Promise.all([
        client.readContract({ address: this.init.deposit, abi: clayDepositAbi, functionName: 'token' }),
        client.readContract({ address: this.init.deposit, abi: clayDepositAbi, functionName: 'eip712Domain' })
      ])
    } catch (err: any) {
      throw new ExternalChainError(`--deposit-contract ${this.init.deposit} does not answer as a ClayDeposit (${String(err.shortMessage ?? err.message)})`)
    }
    if (version !== DEPOSIT_DOMAIN_VERSION) throw new ExternalChainError(`--deposit-contract ${this.init.deposit} is ClayDeposit version ${version}; this relay signs for version ${DEPOSIT_DOMAIN_VERSION}: deploy the current contracts/ClayDeposit.sol and point --deposit-contract at it`)
    if (getAddress(token) !== getAddress(this.init.token)) throw new ExternalChainError(`--deposit-contract ${this.init.deposit} holds deposits in ${token}, not --token ${this.init.token}`)
    this.checked = { mode: 'external', chainId, token: getAddress(this.init.token), deposit: getAddress(this.init.deposit), salt }
    this.log.info({ event: 'chain-start', mode: 'external', chainId, rpc: redact(rpcUrl), deposit: this.checked.deposit, token: this.checked.token }, 'external chain checked')
    if (this.init.privateKey != null) await this.startSender(this.init.privateKey, options.signal)
  }

  /** The relay's own transactions (cashing), journaled like the embedded chain's; what a restart finds unsent goes again. */
  private async startSender (privateKey: Hex, signal?: AbortSignal): Promise<void> {
    const { rpcUrl, chainId } = this.init
    if (this.init.dir == null) throw new ExternalChainError('An external chain with a relay account needs a folder for its journal')
    await mkdir(this.init.dir, { recursive: true, mode: 0o700 })
    const journal = new TxJournal(join(this.init.dir, JOURNAL_FILE_NAME))
    await journal.open()
    const chain = defineChain({ id: chainId, name: `chain ${chainId}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } })
    const client = createPublicClient({ chain, transport: http(rpcUrl, { retryCount: 1 }) })
    const sender = new TxSender({ client, journal }, { rpcUrl, chainId, privateKey, receiptTimeoutMs: 120_000 })
    const { resubmitted, dropped } = await sender.resubmit({ signal })
    if (resubmitted > 0 || dropped > 0) this.log.warn({ event: 'chain-resubmit', resubmitted, dropped }, 'sent again the transactions the chain had lost')
    const block = Number(await client.getBlockNumber())
    if (block > FINAL_AFTER) await sender.prune(block - FINAL_AFTER)
    this.journal = journal
    this.sender = sender
    const address = privateKeyToAccount(privateKey).address
    const balance = await client.getBalance({ address })
    // a relay without gas refuses to cash (clay_cash answers each cheque's failure); the operator must know why
    if (balance === 0n) this.log.warn({ event: 'chain-no-gas', address }, 'the relay\'s account holds none of the chain\'s coin: it cannot cash cheques until it is funded')
    else this.log.info({ event: 'chain-account', address, balance: formatEther(balance) }, 'the relay cashes cheques from its payment account')
  }

  /** Passes a signed transaction on, if it is for this chain. */
  async sendRawTransaction (raw: Hex, options: { signal?: AbortSignal } = {}): Promise<Hex> {
    let txChain: number | undefined
    try {
      txChain = parseTransaction(raw).chainId
    } catch {
      throw new JsonRpcError(-32602, 'not a signed transaction')
    }
    if (txChain !== this.init.chainId) throw new JsonRpcError(-32602, `the transaction is for chain ${String(txChain ?? 'none (pre-EIP-155)')}, this is chain ${this.init.chainId}`)
    return await jsonRpc(this.init.rpcUrl, 'eth_sendRawTransaction', [raw], options) as Hex
  }

  async stop (): Promise<void> {
    this.checked = undefined
    this.sender = undefined
    await this.journal?.close()
    this.journal = undefined
  }
}

/** RPC URLs often carry an API key in their path or query: the log gets the host only. */
export function redact (url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}/…`
  } catch {
    return '(not a URL)'
  }
}

export function createExternalChain (components: RelayChainComponents, init: ExternalChainInit): ExternalChain {
  return new ExternalChain(components, init)
}
