import { encodeFunctionData, getAddress, isAddress, parseEther, parseUnits } from 'viem'
import { clayTestTokenAbi } from '../../contracts/index.ts'
import { GolemClayError } from '../../shared/errors.ts'
import type { TxSender } from './tx-sender.ts'
import type { Address, Hex, PublicClient } from 'viem'

/** The faucet gives nothing now: this address had its grant lately, or everyone's share is used up; try again after `retryAfterMs`. */
export class FaucetRateLimitedError extends GolemClayError {
  override name = 'FaucetRateLimitedError'
  override readonly code = 'FAUCET_RATE_LIMITED'
  override readonly retryable = true
  readonly retryAfterMs: number

  constructor (message: string, retryAfterMs: number) {
    super(message)
    this.retryAfterMs = retryAfterMs
  }
}

/** The faucet gives nothing to this address (not an address, or it already holds test tokens). */
export class FaucetRefusedError extends GolemClayError { override name = 'FaucetRefusedError'; override readonly code = 'FAUCET_REFUSED' }

export interface FaucetInit {
  /** Test tokens per grant, in the token's smallest unit. @default 100 tokens (18 decimals) */
  tokens?: bigint
  /** Native currency per grant, for the gas of a deposit and what follows, in wei. @default 1 ether */
  gas?: bigint
  /** One grant per address this often, in ms. @default 24 hours */
  addressIntervalMs?: number
  /** Grants to all addresses together in any hour. @default 120 */
  maxPerHour?: number
}

export interface FaucetComponents {
  client: PublicClient
  /** Sends from the owner of the test token, which mints. */
  sender: TxSender
  /** The test token. */
  token: () => Address
}

export interface FaucetGrant {
  address: Address
  tokens: bigint
  gas: bigint
  transactions: Hex[]
}

/** Addresses remembered for their interval at most: beyond, the oldest go (they would be allowed again anyway soon). */
const MAX_REMEMBERED = 100_000

/**
 * Test tokens and gas for new accounts on the embedded chain: minted and
 * sent by the owner through the journal, at most one grant per address an
 * interval and so many an hour in all (kept in memory: a restart forgets
 * them, and an address that still holds test tokens is refused anyway).
 */
export class Faucet {
  readonly tokens: bigint
  readonly gas: bigint
  private readonly components: FaucetComponents
  private readonly addressIntervalMs: number
  private readonly maxPerHour: number
  private readonly lastGrant = new Map<Address, number>()
  private recent: number[] = []

  constructor (components: FaucetComponents, init: FaucetInit = {}) {
    this.components = components
    this.tokens = init.tokens ?? parseUnits('100', 18)
    this.gas = init.gas ?? parseEther('1')
    this.addressIntervalMs = init.addressIntervalMs ?? 24 * 3600_000
    this.maxPerHour = init.maxPerHour ?? 120
  }

  /** Gives `address` its grant; throws FaucetRateLimitedError or FaucetRefusedError when it gets none. */
  async grant (address: string, options: { signal?: AbortSignal } = {}): Promise<FaucetGrant> {
    if (typeof address !== 'string' || !isAddress(address, { strict: false })) throw new FaucetRefusedError('not an address')
    const to = getAddress(address)
    const now = Date.now()
    const last = this.lastGrant.get(to)
    if (last != null && now - last < this.addressIntervalMs) {
      throw new FaucetRateLimitedError(`${to} had its grant ${Math.round((now - last) / 1000)} s ago`, last + this.addressIntervalMs - now)
    }
    this.recent = this.recent.filter(t => now - t < 3600_000)
    if (this.recent.length >= this.maxPerHour) {
      throw new FaucetRateLimitedError('the faucet gave all it gives in an hour', (this.recent[0] ?? now) + 3600_000 - now)
    }
    // held before the first await, so concurrent requests count
    this.remember(to, now)
    this.recent.push(now)
    try {
      const { client, sender } = this.components
      const held = await client.readContract({ address: this.components.token(), abi: clayTestTokenAbi, functionName: 'balanceOf', args: [to] })
      if (held >= this.tokens) throw new FaucetRefusedError(`${to} already holds test tokens`)
      const gas = await sender.submit({ kind: 'faucet', to, value: this.gas }, options)
      const data = encodeFunctionData({ abi: clayTestTokenAbi, functionName: 'mint', args: [to, this.tokens] })
      const mint = await sender.submit({ kind: 'faucet', to: this.components.token(), data }, options)
      return { address: to, tokens: this.tokens, gas: this.gas, transactions: [gas.transactionHash, mint.transactionHash] }
    } catch (err) {
      if (this.lastGrant.get(to) === now) this.lastGrant.delete(to)
      this.recent.splice(this.recent.indexOf(now), 1)
      throw err
    }
  }

  private remember (to: Address, now: number): void {
    this.lastGrant.delete(to)
    this.lastGrant.set(to, now)
    for (const [address, at] of this.lastGrant) {
      if (this.lastGrant.size <= MAX_REMEMBERED && now - at < this.addressIntervalMs) break
      this.lastGrant.delete(address)
    }
  }
}
