import { isHex } from 'viem'
import { JsonRpcError, jsonRpc } from './json-rpc.ts'
import type { RelayChain } from './relay-chain.ts'
import type { Hex } from 'viem'

/**
 * What tabs may ask the relay's chain: reads, and sending a transaction
 * they signed themselves. Never Anvil's or other nodes' own methods
 * (`anvil_*`, `evm_*`, `debug_*`), the node's accounts (`eth_accounts`,
 * `eth_sendTransaction`, `eth_sign*`, `personal_*`) or filters kept on the
 * node.
 */
export const PROXIED_METHODS: ReadonlySet<string> = new Set([
  'eth_chainId', 'net_version', 'eth_blockNumber', 'eth_gasPrice', 'eth_maxPriorityFeePerGas', 'eth_feeHistory',
  'eth_call', 'eth_estimateGas', 'eth_getBalance', 'eth_getCode', 'eth_getTransactionCount',
  'eth_getTransactionByHash', 'eth_getTransactionReceipt', 'eth_getBlockByNumber', 'eth_getLogs',
  'eth_sendRawTransaction'
])

/** JSON-RPC error codes the proxy answers with. */
export const RPC_ERRORS = { parse: -32700, invalidRequest: -32600, methodNotFound: -32601, invalidParams: -32602, internal: -32603, limitExceeded: -32005 } as const

export interface RpcResponse {
  jsonrpc: '2.0'
  id: unknown
  result?: unknown
  error?: { code: number, message: string, data?: unknown }
}

export interface RpcProxyInit {
  /** The most blocks one `eth_getLogs` may span (a `blockHash` filter is one block). @default 10000 */
  maxLogBlockRange?: number
  /** How long one forwarded call may take, in ms. @default 10000 */
  timeoutMs?: number
}

export function rpcError (id: unknown, code: number, message: string, data?: unknown): RpcResponse {
  return { jsonrpc: '2.0', id: id ?? null, error: { code, message, ...(data !== undefined ? { data } : {}) } }
}

/**
 * One JSON-RPC call from a tab to the relay's chain: refused unless
 * whitelisted, checked (a bounded `eth_getLogs`, no full blocks), then
 * forwarded; `eth_sendRawTransaction` goes through the chain, which journals
 * it on the embedded chain.
 */
export class RpcProxy {
  private readonly chain: Pick<RelayChain, 'rpcUrl' | 'sendRawTransaction'>
  private readonly init: RpcProxyInit
  private head?: { block: number, at: number }

  constructor (components: { chain: Pick<RelayChain, 'rpcUrl' | 'sendRawTransaction'> }, init: RpcProxyInit = {}) {
    this.chain = components.chain
    this.init = init
  }

  async call (request: unknown, signal?: AbortSignal): Promise<RpcResponse> {
    if (typeof request !== 'object' || request == null || Array.isArray(request)) return rpcError(null, RPC_ERRORS.invalidRequest, 'not a JSON-RPC request')
    const { id, method, params = [] } = request as { id?: unknown, method?: unknown, params?: unknown }
    if (typeof method !== 'string') return rpcError(id, RPC_ERRORS.invalidRequest, 'no method')
    if (!PROXIED_METHODS.has(method)) return rpcError(id, RPC_ERRORS.methodNotFound, `${method.slice(0, 64)} is not served by this relay (reads and eth_sendRawTransaction only)`)
    if (!Array.isArray(params) || params.length > 4) return rpcError(id, RPC_ERRORS.invalidParams, 'params must be a list of at most 4')
    try {
      const refusal = await this.check(method, params, signal)
      if (refusal != null) return rpcError(id, RPC_ERRORS.invalidParams, refusal)
      const options = { signal, timeoutMs: this.init.timeoutMs ?? 10_000 }
      // a send is seen through when the caller leaves: it may be journaled already
      const result = method === 'eth_sendRawTransaction'
        ? await this.chain.sendRawTransaction(params[0] as Hex)
        : await jsonRpc(this.chain.rpcUrl, method, params, options)
      return { jsonrpc: '2.0', id: id ?? null, result }
    } catch (err: any) {
      if (err instanceof JsonRpcError) return rpcError(id, err.rpcCode, err.message, err.data)
      return rpcError(id, RPC_ERRORS.internal, err?.code === 'CHAIN_UNREACHABLE' ? 'the chain is unreachable' : 'internal error')
    }
  }

  /** Why the call is refused, or undefined when it may go on. */
  private async check (method: string, params: unknown[], signal?: AbortSignal): Promise<string | undefined> {
    if (method === 'eth_sendRawTransaction') return isHex(params[0]) && params.length === 1 ? undefined : 'one signed transaction (hex)'
    if (method === 'eth_getBlockByNumber' && params[1] === true) return 'full transactions are not served: ask for hashes (false)'
    if (method !== 'eth_getLogs') return undefined
    const filter = params[0] as { fromBlock?: unknown, toBlock?: unknown, blockHash?: unknown } | undefined
    if (typeof filter !== 'object' || filter == null) return 'a filter object'
    if (filter.blockHash != null) return filter.fromBlock == null && filter.toBlock == null ? undefined : 'blockHash or a block range, not both'
    const from = await this.blockOf(filter.fromBlock, signal)
    const to = await this.blockOf(filter.toBlock, signal)
    if (from == null || to == null) return 'fromBlock and toBlock must be block numbers (hex) or tags'
    const max = this.init.maxLogBlockRange ?? 10_000
    if (to - from + 1 > max) return `the block range spans ${to - from + 1} blocks, at most ${max} are served: ask in parts`
    return undefined
  }

  private async blockOf (tag: unknown, signal?: AbortSignal): Promise<number | undefined> {
    if (tag === 'earliest') return 0
    if (typeof tag === 'string' && /^0x[0-9a-fA-F]{1,16}$/.test(tag)) return Number(tag)
    if (tag != null && !['latest', 'pending', 'safe', 'finalized'].includes(tag as string)) return undefined
    if (this.head == null || Date.now() - this.head.at > 1000) {
      this.head = { block: Number(await jsonRpc(this.chain.rpcUrl, 'eth_blockNumber', [], { signal })), at: Date.now() }
    }
    return this.head.block
  }
}
