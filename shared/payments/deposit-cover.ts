import { InsufficientDepositError } from './payment-errors.ts'
import type { Cheque } from './deposit-typed-data.ts'

/** What the chain says of a requestor, read by the caller (ClayDeposit's `deposits` and `accounts`). */
export interface DepositState {
  /** The requestor's deposit. */
  deposit: bigint
  /** What the contract already paid out from it for this cheque's account (its P). */
  paidOut: bigint
}

/**
 * Whether the requestor's deposit covers what `cheque` would pay if cashed
 * now (its cumulative − paid out): returns that amount, or throws
 * InsufficientDepositError, as the contract would refuse it. The deposit
 * is shared by all of the requestor's providers and they may cash first: a
 * provider that wants a margin asks for more than its own uncashed amount.
 */
export function checkDepositCover (cheque: Pick<Cheque, 'cumulative'>, { deposit, paidOut }: DepositState): bigint {
  const uncashed = cheque.cumulative > paidOut ? cheque.cumulative - paidOut : 0n
  if (uncashed > deposit) throw new InsufficientDepositError(`The requestor's deposit of ${deposit} does not cover the ${uncashed} its cheque would pay`, deposit, uncashed)
  return uncashed
}
