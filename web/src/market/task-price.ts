import { parseUnits } from 'viem'
import { maxAssignments } from '../../../shared/market/index.ts'
import { DepositTooSmallError } from '../../../shared/payments/index.ts'
import { formatAmount } from '../wallet/wallet-state.svelte.ts'

/** The token as the wallet read it. */
export interface TokenInfo { symbol: string, decimals: number }

/** What the form offers per accepted subtask, in whole tokens. */
export const DEFAULT_PRICE = '0.001'
/** A deposit must hold this many times the budgets of the open tasks (RequestorPayments' default). */
export const DEPOSIT_FACTOR = 2n

/** The price as typed, in the token's base units; a message when it is not one (a header carries it as a safe integer). */
export function parsePrice (text: string, token: TokenInfo | undefined): { units?: bigint, problem?: string } {
  if (token == null) return { problem: 'The token is not known yet: wait a moment' }
  const t = text.trim()
  if (!/^\d+(\.\d+)?$/.test(t)) return { problem: 'Enter a price such as 0.001' }
  if ((t.split('.')[1] ?? '').length > token.decimals) return { problem: `At most ${token.decimals} decimals` }
  const units = parseUnits(t, token.decimals)
  if (units < 1n) return { problem: 'A paid task needs a price above zero' }
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) return { problem: `At most ${formatAmount(BigInt(Number.MAX_SAFE_INTEGER), token.decimals, 6)} ${token.symbol} per subtask` }
  return { units }
}

/** What a task may cost at most, in base units: taskBudget(spec) for `subtasks` inputs at redundancy `k` (a note per assignment it may make). */
export function taskCost (subtasks: number, k: number, price: bigint): { assignments: number, cost: bigint } {
  const assignments = maxAssignments(subtasks, k)
  return { assignments, cost: BigInt(assignments) * price }
}

/** A submit refused before anything was published, in words: what is short and what to do. `deposit`: what the wallet card read. */
export function submitErrorText (err: unknown, token: TokenInfo | undefined, deposit?: bigint): string {
  const e = err as Error
  if (err instanceof DepositTooSmallError) {
    const amount = (v: bigint): string => token != null ? `${formatAmount(v, token.decimals, 6)} ${token.symbol}` : `${v} base units`
    if (err.needed === 0n) return 'Your deposit is being withdrawn, so it pays for no new task: deposit again in the Wallet card (that locks it again), then submit'
    // the relay answers deposit reads from a short cache: a deposit made a moment ago may not count yet
    if (deposit != null && deposit >= err.needed && deposit > err.available) return 'The relay has not seen your new deposit yet: submit again in a moment'
    const short = err.needed - err.available
    return `Your deposit of ${amount(err.available)} is too small: this task and your open ones need ${amount(err.needed)} locked (twice what they may cost). Deposit at least ${amount(short)} more in the Wallet card, or lower the price, then submit again`
  }
  if (e?.name === 'ChainUnavailableError') return 'The relay\'s chain cannot be reached right now, so a paid task cannot be published: try again in a moment'
  return e?.message ?? String(err)
}
