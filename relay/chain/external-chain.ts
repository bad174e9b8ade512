import { createPublicClient, getAddress, http, parseTransaction } from 'viem'
import { clayDepositAbi } from '../../contracts/index.ts'
import { InvalidConfigError, NotStartedError } from '../../shared/errors.ts'
import { JsonRpcError, jsonRpc } from './json-rpc.ts'
import { SILENT_CHAIN_LOG } from './relay-chain.ts'
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
}

/**
 * A real chain (Polygon in production) the relay reads and sends to through
 * its RPC: checked at start (chain ID, code at both addresses, the deposit
 * contract's token) so a relay pointed at the wrong chain refuses to start.
 * No Anvil, no faucet: tabs bring their own tokens and gas.
 */
export class ExternalChain implements RelayChain {
  readonly mode = 'external'
  readonly faucet = undefined
  /** The relay has no account of its own here: it cashes nothing. */
  readonly txSender = undefined
  private readonly init: ExternalChainInit
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
    let token: Address, salt: Hex
    try {
      [token, salt] = await Promise.all([
        client.readContract({ address: this.init.deposit, abi: clayDepositAbi, functionName: 'token' }),
        client.readContract({ address: this.init.deposit, abi: clayDepositAbi, functionName: 'salt' })
      ])
    } catch (err: any) {
      throw new ExternalChainError(`--deposit-contract ${this.init.deposit} does not answer as a ClayDeposit (${String(err.shortMessage ?? err.message)})`)
    }
    if (getAddress(token) !== getAddress(this.init.token)) throw new ExternalChainError(`--deposit-contract ${this.init.deposit} holds deposits in ${token}, not --token ${this.init.token}`)
    this.checked = { mode: 'external', chainId, token: getAddress(this.init.token), deposit: getAddress(this.init.deposit), salt }
    this.log.info({ event: 'chain-start', mode: 'external', chainId, rpc: redact(rpcUrl), deposit: this.checked.deposit, token: this.checked.token }, 'external chain checked')
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
