import type { Faucet } from './faucet.ts'
import type { TxSender } from './tx-sender.ts'
import type { Address, Hex } from 'viem'

/** Where a relay's chain log lines go: the relay's pino log fits. */
export interface ChainLog {
  info: (fields: object, message?: string) => void
  warn: (fields: object, message?: string) => void
  error: (fields: object, message?: string) => void
}

export const SILENT_CHAIN_LOG: ChainLog = { info: () => {}, warn: () => {}, error: () => {} }

/** What tabs are told about the relay's chain (`GET /chain`). */
export interface RelayChainInfo {
  /** `embedded`: the relay's own Anvil; `external`: a real chain the relay reads through its RPC. */
  mode: 'embedded' | 'external'
  chainId: number
  /** The ERC-20 deposits are in. */
  token: Address
  /** The ClayDeposit contract. */
  deposit: Address
  /** The deposit contract's EIP-712 salt. */
  salt: Hex
  /** The block the deposit contract was made in, when known. */
  blockNumber?: number
}

export interface RelayChainComponents {
  log?: ChainLog
}

/**
 * A relay's chain: the embedded Anvil (with its faucet) or an external
 * chain. Tabs reach it only through the relay's HTTP proxy.
 */
export interface RelayChain {
  readonly mode: RelayChainInfo['mode']
  /** Throws NotStartedError before `start()`. */
  readonly info: RelayChainInfo
  /** The chain's JSON-RPC endpoint (the relay's own; never handed to tabs). */
  readonly rpcUrl: string
  /** Test tokens and gas for new accounts: the embedded chain only. */
  readonly faucet?: Faucet
  /**
   * The relay's own account on the chain, which sends (and pays the gas of)
   * what the relay does there, such as cashing cheques for its peers. The
   * embedded chain's once started; none on an external chain.
   */
  readonly txSender?: TxSender
  /** Sends a transaction someone signed (a tab's deposit); the chain's refusal is a JsonRpcError. */
  sendRawTransaction: (raw: Hex, options?: { signal?: AbortSignal }) => Promise<Hex>
  start: (options?: { signal?: AbortSignal }) => Promise<void>
  stop: () => Promise<void>
}
