import { isAddressEqual } from 'viem'
import type { Address, Hex, TypedDataDomain } from 'viem'

/**
 * The EIP-712 messages of the deposit contract (contracts/ClayDeposit.sol),
 * for viem's `signTypedData` and `verifyTypedData`. Isomorphic: tabs sign
 * cheques and notes with these, relays and arbiters check them. The one
 * definition: contracts/ re-exports it for the contracts' code and tests.
 */

/** The domain's name and version, as the contract hashes them. */
export const DEPOSIT_DOMAIN_NAME = 'Golem Clay Deposit'
export const DEPOSIT_DOMAIN_VERSION = '2'

/** The largest `seq` the contract takes (uint64). */
export const MAX_SEQ = 2n ** 64n - 1n
/** The largest amount the contract can pay out to an account in all (it keeps paid-out as uint128): a higher cheque could never be cashed. */
export const MAX_AMOUNT = 2n ** 128n - 1n

/** Which deployment a signature is for: chain, contract and the deployment's salt. */
export interface DepositDeployment {
  chainId: number
  address: Address
  salt: Hex
}

export function depositDomain ({ chainId, address, salt }: DepositDeployment): TypedDataDomain {
  return { name: DEPOSIT_DOMAIN_NAME, version: DEPOSIT_DOMAIN_VERSION, chainId, verifyingContract: address, salt }
}

/** Whether two deployments are the same (a signature for one counts on the other). */
export function sameDeployment (a: DepositDeployment, b: DepositDeployment): boolean {
  return a.chainId === b.chainId && isAddressEqual(a.address, b.address) && a.salt.toLowerCase() === b.salt.toLowerCase()
}

/**
 * "I owe `beneficiary` `cumulative` in all for `provider`'s assignments
 * 1..`seq`": signed by the requestor's payment key. The provider is the
 * node that did the work (its own payment address), the beneficiary who
 * gets the tokens: the same address, or a payee the provider's offer names
 * (a widget's site owner). Each (requestor, beneficiary, provider) is one
 * account on the contract, with its own counters.
 */
export interface Cheque {
  requestor: Address
  beneficiary: Address
  provider: Address
  cumulative: bigint
  seq: bigint
}

/** One account of the contract (requestor, beneficiary, provider) as a map key: the addresses in lowercase. */
export function accountId (requestor: string, beneficiary: string, provider: string): string {
  return `${requestor.toLowerCase()}:${beneficiary.toLowerCase()}:${provider.toLowerCase()}`
}

/** Signed by the requestor with assignment `seq`; an arbiter may draw it if the requestor does not pay. */
export interface PromissoryNote {
  requestor: Address
  beneficiary: Address
  provider: Address
  /** The subtask's id (32 bytes). */
  subtask: Hex
  seq: bigint
  amount: bigint
}

/** Signed by a cheque's beneficiary (the fee cuts its payout): whoever cashes the cheque keeps `callerFee` of it. */
export interface CashoutAuthorization {
  requestor: Address
  beneficiary: Address
  provider: Address
  cumulative: bigint
  callerFee: bigint
}

export const chequeTypes = {
  Cheque: [
    { name: 'requestor', type: 'address' },
    { name: 'beneficiary', type: 'address' },
    { name: 'provider', type: 'address' },
    { name: 'cumulative', type: 'uint256' },
    { name: 'seq', type: 'uint64' }
  ]
} as const

export const cashoutTypes = {
  Cashout: [
    { name: 'requestor', type: 'address' },
    { name: 'beneficiary', type: 'address' },
    { name: 'provider', type: 'address' },
    { name: 'cumulative', type: 'uint256' },
    { name: 'callerFee', type: 'uint256' }
  ]
} as const

export const promissoryNoteTypes = {
  PromissoryNote: [
    { name: 'requestor', type: 'address' },
    { name: 'beneficiary', type: 'address' },
    { name: 'provider', type: 'address' },
    { name: 'subtask', type: 'bytes32' },
    { name: 'seq', type: 'uint64' },
    { name: 'amount', type: 'uint256' }
  ]
} as const
