import { join } from 'node:path'
import { getAddress, isAddress } from 'viem'
import { InvalidConfigError } from '../../shared/errors.ts'
import { parseDuration } from '../storage/storage-config.ts'
import type { OptionSpec, OptionValues } from '../config/options.ts'
import type { Address } from 'viem'

/** The relay's chain, from `--chain` and friends. */
export type ChainConfig =
  | { mode: 'off' }
  | { mode: 'embedded', dir: string, chainId: number, snapshotIntervalMs: number }
  | { mode: 'external', rpcUrl: string, chainId: number, token: Address, deposit: Address, dir: string }

/** The embedded chain's ID unless `--chain-id` says otherwise (Anvil's usual one). */
export const EMBEDDED_CHAIN_ID = 31337

export const CHAIN_OPTIONS: OptionSpec[] = [
  { name: 'chain', type: 'string', env: 'GOLEM_CLAY_CHAIN', placeholder: '<off|embedded|external>', description: 'The payments chain: embedded runs a local Anvil (state in <data>/chain) with a test-token faucet, as npm start does; external uses --chain-rpc; off runs no chain (default: off, or external when --chain-rpc is given)' },
  { name: 'chain-rpc', type: 'string', env: 'GOLEM_CLAY_CHAIN_RPC', placeholder: '<url>', description: 'A real chain\'s JSON-RPC URL (Polygon in production) instead of Anvil: no faucet; needs --chain-id, --token and --deposit-contract, checked at start' },
  { name: 'chain-id', type: 'integer', env: 'GOLEM_CLAY_CHAIN_ID', min: 1, placeholder: '<id>', description: `The chain ID --chain-rpc must report; the embedded chain's ID (${EMBEDDED_CHAIN_ID} when not given)` },
  { name: 'token', type: 'string', env: 'GOLEM_CLAY_TOKEN', placeholder: '<address>', description: 'With --chain-rpc: the ERC-20 deposits are in' },
  { name: 'deposit-contract', type: 'string', env: 'GOLEM_CLAY_DEPOSIT_CONTRACT', placeholder: '<address>', description: 'With --chain-rpc: the ClayDeposit contract' },
  { name: 'chain-snapshot-interval', type: 'string', env: 'GOLEM_CLAY_CHAIN_SNAPSHOT_INTERVAL', default: '30s', placeholder: '<duration>', description: 'Embedded chain: save its state this often (also after each transaction sent through the relay, and on stop)' }
]

/** `--chain`, `--chain-rpc`, `--chain-id`, `--token`, `--deposit-contract`, `--chain-snapshot-interval`. */
export function parseChainConfig (v: OptionValues, dataDir: string): ChainConfig {
  const given = (value: unknown): value is string => typeof value === 'string' && value.trim() !== ''
  const rpc = v['chain-rpc']
  const mode = given(v.chain) ? v.chain.trim() : given(rpc) ? 'external' : 'off'
  const chainId = v['chain-id'] as number | undefined
  const externalOnly = ['chain-rpc', 'token', 'deposit-contract'].filter(name => given(v[name]))
  if (mode === 'off' || mode === 'embedded') {
    if (externalOnly.length > 0) throw new InvalidConfigError(`--${externalOnly[0] ?? ''} is for an external chain, but --chain is ${mode}`)
    if (mode === 'off') return { mode }
    return { mode, dir: join(dataDir, 'chain'), chainId: chainId ?? EMBEDDED_CHAIN_ID, snapshotIntervalMs: parseDuration(v['chain-snapshot-interval'] as string, 'chain-snapshot-interval') * 1000 }
  }
  if (mode !== 'external') throw new InvalidConfigError(`--chain must be off, embedded or external, got "${mode}"`)
  if (!given(rpc)) throw new InvalidConfigError('--chain external needs --chain-rpc <url>')
  let url: URL
  try {
    url = new URL(rpc)
  } catch {
    throw new InvalidConfigError(`--chain-rpc must be an http(s) URL, got "${rpc}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidConfigError(`--chain-rpc must be an http(s) URL, got "${rpc}"`)
  if (chainId == null) throw new InvalidConfigError('--chain-rpc needs --chain-id (e.g. 137 for Polygon): the relay refuses to start on another chain')
  return { mode, rpcUrl: rpc, chainId, token: address(v.token, 'token'), deposit: address(v['deposit-contract'], 'deposit-contract'), dir: join(dataDir, 'chain') }
}

function address (value: unknown, flag: string): Address {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidConfigError(`--chain-rpc needs --${flag} <address>`)
  if (!isAddress(value.trim(), { strict: false })) throw new InvalidConfigError(`--${flag} must be an address (0x and 40 hex digits), got "${value}"`)
  return getAddress(value.trim())
}
