import {
  BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, defineChain, formatUnits, getAddress, http, HttpRequestError,
  InsufficientFundsError, isAddress, isAddressEqual, parseUnits, TimeoutError
} from 'viem'
import { untrack } from 'svelte'
// the page's calls are the CLI's: one human-readable ABI, no dependency on the contracts' build
import { DEPOSIT_ABI, TOKEN_ABI } from '../../../shared/payments/index.ts'
import { EarningsState } from './earnings-state.svelte.ts'
import { readPageConfig } from '../node/page-config.ts'
import type { Address, Chain, Hex, PublicClient, Transport, WalletClient } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import type { NodeState } from '../node/node-state.svelte.ts'
import type { Lifetime } from '../lifetime.ts'

/** What `GET /chain` says (relay/chain/chain-http.ts). */
export interface ChainInfo {
  mode: 'embedded' | 'external'
  chainId: number
  token: Address
  deposit: Address
  rpc: string
  faucet: { url: string, tokens: string, gas: string } | null
}

/** 'checking': GET /chain not answered yet; 'none': the relay runs no chain (the card is not shown). */
export type WalletPhase = 'checking' | 'none' | 'ready'
export type WalletAction = 'faucet' | 'approving' | 'depositing' | 'unlocking' | 'withdrawing'

export interface WalletBalances {
  /** Test tokens (the deposit token), in its smallest unit. */
  tokens: bigint
  /** Native currency for gas, in wei. */
  gas: bigint
  deposit: bigint
  /** When an unlocked deposit may be withdrawn, seconds since 1970; 0: locked. */
  unlockAt: number
}

/** The chain's name and gas currency, as far as the card needs them. */
const KNOWN_CHAINS: Record<number, { name: string, symbol: string }> = {
  31337: { name: 'Local chain (Anvil)', symbol: 'ETH' },
  137: { name: 'Polygon', symbol: 'POL' },
  80002: { name: 'Polygon Amoy', symbol: 'POL' }
}

/** GET /chain is asked again this long after an answer that says nothing (relay down, not JSON), ms. */
const INFO_RETRY_MS = 30_000
/** Balances are read again this often while the tab is visible, ms. */
const REFRESH_MS = 20_000

const READ_FAILED = 'Balances not read: '

/** Where the relay says what chain it runs: beside the /status the page reads, so a page from elsewhere asks its relay. */
export function chainInfoUrl (): string {
  try {
    return new URL('chain', readPageConfig().statusUrl).toString()
  } catch {
    return new URL('/chain', window.location.href).toString()
  }
}

/** `value` in whole units, at most `digits` decimals, trailing zeros dropped. */
export function formatAmount (value: bigint, decimals: number, digits = 4): string {
  const [whole = '0', fraction = ''] = formatUnits(value, decimals).split('.')
  const cut = fraction.slice(0, digits).replace(/0+$/, '')
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return cut === '' ? grouped : `${grouped}.${cut}`
}

/** A wallet failure with a message for the visitor. */
export class WalletError extends Error {
  override name = 'WalletError'
}

/**
 * The page's wallet for the relay's payments chain: reads the tab's
 * balances through `POST /chain/rpc` and sends transactions signed by the
 * node's payment account (`services.payments.account`; its key never leaves
 * that account's closure). Without a chain (`GET /chain` 404) it does
 * nothing more.
 */
export class WalletState {
  phase = $state<WalletPhase>('checking')
  info = $state<ChainInfo>()
  chainName = $state('')
  gasSymbol = $state('ETH')
  token = $state<{ symbol: string, decimals: number }>()
  /** Seconds from unlock to withdraw. */
  withdrawDelay = $state<number>()
  balances = $state<WalletBalances>()
  busy = $state<WalletAction>()
  error = $state<string>()
  /** What the last action did, for the visitor. */
  done = $state<string>()
  /** What this tab earned as a provider, and its cashouts. */
  readonly earnings: EarningsState
  private publicClient?: PublicClient<Transport, Chain>
  private walletClient?: WalletClient<Transport, Chain, PrivateKeyAccount>
  private transport?: Transport
  private chain?: Chain
  private reading?: Promise<void>

  constructor (private readonly app: NodeState, private readonly life: Lifetime, private readonly url: () => string = chainInfoUrl) {
    // a cashout pays this tab's address: its token balance changes
    this.earnings = new EarningsState(life, () => { void this.refresh(true) })
    // balances are read as soon as both the chain and this tab's address are known
    $effect.root(() => {
      $effect(() => {
        if (this.phase === 'ready' && this.app.paymentAddress != null) untrack(() => { void this.refresh() })
      })
    })
  }

  get address (): Address | undefined {
    const a = this.app.paymentAddress
    return a != null && isAddress(a, { strict: false }) ? getAddress(a) : undefined
  }

  /** The node's payment account is there to sign: the node runs (`phase` is what makes this reactive; `node` is not state). */
  get canSign (): boolean {
    return this.app.phase === 'running' && this.app.node?.services.payments != null
  }

  /** Asks the relay whether it runs a chain; a 404 ends it there. */
  async start (): Promise<void> {
    const url = this.url()
    let info: ChainInfo | undefined
    try {
      const res = await fetch(url, { signal: this.life.signal, headers: { Accept: 'application/json' } })
      if (res.status === 404) {
        this.phase = 'none'
        return
      }
      if (res.ok) info = parseInfo(await res.json().catch(() => undefined))
      // a page served by something else than a relay (an embedding site) answers 200 with HTML
      if (res.ok && info == null) {
        this.phase = 'none'
        return
      }
    } catch {
      if (this.life.ended) return
    }
    if (info == null) {
      // the relay is down or restarting: ask again later, show nothing meanwhile
      this.life.after(INFO_RETRY_MS, () => { void this.start() })
      return
    }
    const known = KNOWN_CHAINS[info.chainId] ?? { name: `Chain ${info.chainId}`, symbol: 'ETH' }
    const rpc = new URL(info.rpc, url).toString()
    this.chain = defineChain({
      id: info.chainId,
      name: known.name,
      nativeCurrency: { name: known.symbol, symbol: known.symbol, decimals: 18 },
      rpcUrls: { default: { http: [rpc] } }
    })
    // reads of one refresh go as one JSON-RPC batch: the proxy counts calls, not requests, but one round trip is enough
    this.transport = http(rpc, { batch: { batchSize: 20, wait: 0 }, retryCount: 1, timeout: 20_000 })
    this.publicClient = createPublicClient({ chain: this.chain, transport: this.transport, pollingInterval: 500 })
    this.info = info
    this.chainName = known.name
    this.gasSymbol = known.symbol
    this.life.every(REFRESH_MS, () => {
      if (document.visibilityState === 'visible' && this.busy == null) void this.refresh()
    })
    this.phase = 'ready'
  }

  /**
   * Reads the balances again, one read at a time: a read already under way
   * is joined, or with `fresh` (after a transaction) waited for and followed
   * by a new one, since it may have started before the transaction was mined.
   */
  async refresh (fresh = false): Promise<void> {
    if (fresh && this.reading != null) await this.reading
    this.reading ??= this.read().finally(() => { this.reading = undefined })
    await this.reading
  }

  private async read (): Promise<void> {
    const client = this.publicClient
    const info = this.info
    const address = this.address
    if (client == null || info == null || address == null || this.life.ended) return
    try {
      if (this.token == null || this.withdrawDelay == null) {
        const [decimals, symbol, delay] = await Promise.all([
          client.readContract({ address: info.token, abi: TOKEN_ABI, functionName: 'decimals' }),
          client.readContract({ address: info.token, abi: TOKEN_ABI, functionName: 'symbol' }).catch(() => 'tokens'),
          client.readContract({ address: info.deposit, abi: DEPOSIT_ABI, functionName: 'withdrawDelay' })
        ])
        this.token = { decimals, symbol }
        this.withdrawDelay = Number(delay)
      }
      const [tokens, gas, [deposit, unlockAt]] = await Promise.all([
        client.readContract({ address: info.token, abi: TOKEN_ABI, functionName: 'balanceOf', args: [address] }),
        client.getBalance({ address }),
        client.readContract({ address: info.deposit, abi: DEPOSIT_ABI, functionName: 'deposits', args: [address] })
      ])
      this.balances = { tokens, gas, deposit, unlockAt: Number(unlockAt) }
      if (this.error?.startsWith(READ_FAILED) === true) this.error = undefined
    } catch (err) {
      // a failed read leaves the last balances on screen, and says why they may be old
      if (this.busy == null && this.error == null) this.error = `${READ_FAILED}${this.describe(err)}`
    }
  }

  /** Test tokens and gas from the relay's faucet (an embedded chain's only). */
  async faucet (): Promise<void> {
    await this.act('faucet', async () => {
      const info = this.need()
      if (info.faucet == null) throw new WalletError('This relay has no faucet')
      let res: Response
      try {
        res = await fetch(new URL(info.faucet.url, this.url()), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ address: this.address }),
          signal: this.life.signal
        })
      } catch {
        throw new WalletError('The relay could not be reached: check your connection and try again')
      }
      const body = await res.json().catch(() => ({})) as { error?: string, code?: string, tokens?: string, gas?: string }
      if (res.status === 429) {
        const wait = Number(res.headers.get('Retry-After') ?? 0)
        throw new WalletError(`The faucet is rate-limited: ${body.error ?? 'too many requests'}${wait > 0 ? `. Try again in ${waitText(wait)}` : ''}`)
      }
      if (!res.ok) throw new WalletError(`The faucet refused: ${body.error ?? `HTTP ${res.status}`}`)
      const decimals = this.token?.decimals ?? 18
      return `Received ${formatAmount(BigInt(body.tokens ?? '0'), decimals)} ${this.token?.symbol ?? 'tokens'} and ${formatAmount(BigInt(body.gas ?? '0'), 18)} ${this.gasSymbol} for gas`
    })
  }

  /**
   * Moves `amount` (in whole tokens, as typed) into the deposit: `approve`
   * on the token when the allowance is short, then `deposit`, each signed by
   * this tab's payment key and sent through the relay.
   */
  async deposit (amount: string): Promise<void> {
    await this.act('approving', async () => {
      const info = this.need()
      const token = this.token
      if (token == null) throw new WalletError('The token is not known yet: try again in a moment')
      const value = parseAmount(amount, token.decimals)
      if (this.balances != null && value > this.balances.tokens) {
        throw new WalletError(`Not enough tokens: this address holds ${formatAmount(this.balances.tokens, token.decimals)} ${token.symbol}`)
      }
      const { publicClient, walletClient, account } = this.signer()
      const allowance = await publicClient.readContract({ address: info.token, abi: TOKEN_ABI, functionName: 'allowance', args: [account.address, info.deposit] })
      if (allowance < value) {
        this.busy = 'approving'
        await this.confirm(await walletClient.writeContract({ address: info.token, abi: TOKEN_ABI, functionName: 'approve', args: [info.deposit, value] }), 'The approval')
      }
      this.busy = 'depositing'
      await this.confirm(await walletClient.writeContract({ address: info.deposit, abi: DEPOSIT_ABI, functionName: 'deposit', args: [value] }), 'The deposit')
      return `Deposited ${formatAmount(value, token.decimals)} ${token.symbol}`
    })
  }

  /** Starts the withdrawal delay. */
  async unlock (): Promise<void> {
    await this.act('unlocking', async () => {
      const info = this.need()
      const { walletClient } = this.signer()
      await this.confirm(await walletClient.writeContract({ address: info.deposit, abi: DEPOSIT_ABI, functionName: 'unlock' }), 'The unlock')
      return 'Unlocking: the deposit can be withdrawn once the delay has passed'
    })
  }

  /** Takes the whole deposit back to this tab's address, once the delay has passed. */
  async withdraw (): Promise<void> {
    await this.act('withdrawing', async () => {
      const info = this.need()
      const { walletClient, account } = this.signer()
      await this.confirm(await walletClient.writeContract({ address: info.deposit, abi: DEPOSIT_ABI, functionName: 'withdraw', args: [account.address] }), 'The withdrawal')
      return 'Withdrawn to this address'
    })
  }

  /** One action at a time: progress while it runs, its outcome or a message after, and the balances read again either way. */
  private async act (action: WalletAction, run: () => Promise<string>): Promise<void> {
    if (this.busy != null) return
    this.busy = action
    this.error = undefined
    this.done = undefined
    try {
      this.done = await run()
    } catch (err) {
      if (this.life.ended) return
      this.error = this.describe(err)
    } finally {
      this.busy = undefined
    }
    await this.refresh(true)
  }

  private need (): ChainInfo {
    if (this.info == null) throw new WalletError('This relay runs no chain')
    return this.info
  }

  /** The clients that sign with this node's payment account; made at the first transaction. */
  private signer (): { publicClient: PublicClient<Transport, Chain>, walletClient: WalletClient<Transport, Chain, PrivateKeyAccount>, account: PrivateKeyAccount } {
    const account = this.app.node?.services.payments?.account
    if (account == null || this.publicClient == null || this.transport == null || this.chain == null) throw new WalletError('The node is still starting: try again in a moment')
    if (this.address != null && !isAddressEqual(account.address, this.address)) throw new WalletError('The node\'s payment account is not the one shown')
    this.walletClient ??= createWalletClient({ account, chain: this.chain, transport: this.transport })
    return { publicClient: this.publicClient, walletClient: this.walletClient, account }
  }

  /** Waits for the transaction's receipt; a reverted one is an error. */
  private async confirm (hash: Hex, what: string): Promise<void> {
    const receipt = await (this.publicClient as PublicClient<Transport, Chain>).waitForTransactionReceipt({ hash, timeout: 60_000 })
    if (receipt.status !== 'success') throw new WalletError(`${what} was mined but reverted (transaction ${hash.slice(0, 10)}…)`)
  }

  /** A message for the visitor: what failed, in words, and what to do. */
  describe (err: unknown): string {
    if (err instanceof WalletError) return err.message
    if (!(err instanceof BaseError)) return String((err as Error)?.message ?? err)
    const noFaucet = this.info?.faucet == null
    if (err.walk(e => e instanceof InsufficientFundsError) != null) {
      return `Not enough ${this.gasSymbol} for gas at this address: ${noFaucet ? `send a little ${this.gasSymbol} to it` : 'get test tokens first (they come with gas)'}`
    }
    const reverted = err.walk(e => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null
    if (reverted != null) return this.revertText(reverted)
    const httpError = err.walk(e => e instanceof HttpRequestError) as HttpRequestError | null
    if (httpError != null) {
      if (httpError.status === 429) return 'The relay\'s chain is busy (too many calls from this address): try again in a moment'
      if (httpError.status == null) return 'The relay could not be reached: check your connection and try again'
      return `The relay's chain did not answer (HTTP ${httpError.status}): try again later`
    }
    if (err.walk(e => e instanceof TimeoutError) != null) return 'The relay\'s chain did not answer in time: try again later'
    const coded = err.walk(e => typeof (e as { code?: unknown }).code === 'number') as { code: number, message: string } | null
    if (coded?.code === -32005) return 'The relay\'s chain is busy (too many calls from this address): try again in a moment'
    if (coded?.code === -32603 || /chain is unreachable/.test(err.message)) return 'The relay\'s chain is down: try again later'
    return err.shortMessage
  }

  private revertText (err: ContractFunctionRevertedError): string {
    const decimals = this.token?.decimals ?? 18
    const symbol = this.token?.symbol ?? 'tokens'
    const args = (err.data?.args ?? []) as readonly unknown[]
    switch (err.data?.errorName) {
      case 'ERC20InsufficientBalance': return `Not enough tokens: this address holds ${formatAmount(args[1] as bigint, decimals)} ${symbol}`
      case 'ERC20InsufficientAllowance': return 'The approval is smaller than the deposit: try again'
      case 'ZeroAmount': return 'Enter an amount above zero'
      case 'DepositTooLarge': return `A deposit holds at most ${formatAmount(args[1] as bigint, decimals)} ${symbol}`
      case 'AlreadyUnlocking': return 'The deposit is unlocking already'
      case 'NotUnlocking': return 'Unlock the deposit first'
      case 'WithdrawTooEarly': return `Not yet: the deposit can be withdrawn from ${new Date(Number(args[0]) * 1000).toLocaleString()}`
      default: return `The contract refused: ${err.data?.errorName ?? err.reason ?? 'no reason given'}`
    }
  }
}

function parseInfo (body: unknown): ChainInfo | undefined {
  const b = body as Partial<ChainInfo> | undefined
  if (b == null || typeof b !== 'object' || !Number.isSafeInteger(b.chainId) || typeof b.rpc !== 'string') return undefined
  if (typeof b.token !== 'string' || !isAddress(b.token) || typeof b.deposit !== 'string' || !isAddress(b.deposit)) return undefined
  const faucet = b.faucet != null && typeof b.faucet.url === 'string' ? b.faucet : null
  return { mode: b.mode === 'external' ? 'external' : 'embedded', chainId: b.chainId as number, token: b.token, deposit: b.deposit, rpc: b.rpc, faucet }
}

/** Whole tokens as typed ("10", "2.5") in the token's smallest unit. */
export function parseAmount (text: string, decimals: number): bigint {
  const t = text.trim()
  if (!/^\d+(\.\d+)?$/.test(t)) throw new WalletError('Enter an amount such as 10 or 2.5')
  if ((t.split('.')[1] ?? '').length > decimals) throw new WalletError(`At most ${decimals} decimals`)
  const value = parseUnits(t, decimals)
  if (value === 0n) throw new WalletError('Enter an amount above zero')
  return value
}

function waitText (seconds: number): string {
  return seconds < 90 ? `${seconds} s` : seconds < 5400 ? `${Math.ceil(seconds / 60)} min` : `${Math.ceil(seconds / 3600)} h`
}
