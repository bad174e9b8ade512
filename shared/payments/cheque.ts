import { isAddressEqual } from 'viem'
import { GolemClayError } from '../errors.ts'
import { MAX_AMOUNT, MAX_SEQ, sameDeployment } from './deposit-typed-data.ts'
import { chequeTypedDigest } from './typed-digest.ts'
import { ChequeInvalidError, ChequeNotHigherError, ChequeSeqBackwardsError, WrongBeneficiaryError, WrongDeploymentError, WrongProviderError, WrongRequestorError, WrongSignerError } from './payment-errors.ts'
import { isSignedBy, signatureParts } from './signature-check.ts'
import type { Cheque, DepositDeployment } from './deposit-typed-data.ts'
import type { Address, Hex, LocalAccount } from 'viem'

/**
 * Cumulative cheques (contracts/README.md, the netting rule): the requestor
 * signs "I owe you C in all for assignments 1..S" with its payment key; the
 * beneficiary keeps the highest and cashes it when it likes. Made and
 * checked here exactly as ClayDeposit hashes and recovers them.
 */

/** A cheque with its requestor's EIP-712 signature, and the deployment it draws on. */
export interface SignedCheque {
  deployment: DepositDeployment
  cheque: Cheque
  /** 65 bytes r‖s‖v, lowercase 0x hex. */
  signature: Hex
}

/** What signs payments: a payment account's viem local account (`PaymentAccount.account`), signing the EIP-712 digest. */
export type PaymentSigner = Pick<LocalAccount, 'address'> & { sign: NonNullable<LocalAccount['sign']> }

/** What a beneficiary checks a cheque against. */
export interface ChequeExpectations {
  /** The deployment we cash on. */
  deployment: DepositDeployment
  /** The requestor's address, from its payment binding (in the task header). */
  requestor: Address
  /** Who the cheque must pay: our payee, or our own payment address. */
  beneficiary: Address
  /** Whose work it pays for: our own payment address (the account's counters we keep). */
  provider: Address
  /** Check the signature too; false: the terms alone (the signature is checked later, before the cheque is kept). @default true */
  signature?: boolean
}

/** The EIP-712 digest the requestor signs and the contract recovers from. */
export function chequeDigest (deployment: DepositDeployment, cheque: Cheque): Hex {
  return chequeTypedDigest(deployment, cheque)
}

/** ChequeInvalidError unless the amounts are ones the contract could pay: 1 ≤ cumulative < 2^128, 1 ≤ seq < 2^64. */
export function checkChequeTerms (cheque: Cheque): void {
  if (cheque.cumulative < 1n || cheque.cumulative > MAX_AMOUNT) throw new ChequeInvalidError(`A cheque's cumulative must be within 1..2^128-1, not ${cheque.cumulative}`)
  if (cheque.seq < 1n || cheque.seq > MAX_SEQ) throw new ChequeInvalidError(`A cheque's seq must be within 1..2^64-1, not ${cheque.seq}`)
}

/** Signs `cheque` with the requestor's payment account, which must be the cheque's requestor. */
export async function signCheque (signer: PaymentSigner, deployment: DepositDeployment, cheque: Cheque): Promise<SignedCheque> {
  if (!isAddressEqual(signer.address, cheque.requestor)) throw new ChequeInvalidError(`A cheque of ${cheque.requestor} cannot be signed by ${signer.address}`)
  checkChequeTerms(cheque)
  const signature = await signer.sign({ hash: chequeDigest(deployment, cheque) })
  return { deployment, cheque, signature: signature.toLowerCase() as Hex }
}

/**
 * Checks a cheque as the beneficiary does before it counts on it: for our
 * deployment, from the requestor expected, to us, with amounts the contract
 * takes, signed by the requestor in a form the contract accepts. Returns it;
 * throws WrongDeploymentError, WrongRequestorError, WrongBeneficiaryError,
 * WrongProviderError, ChequeInvalidError or WrongSignerError (cheap checks first). Whether it is
 * higher than the one held is checkChequeProgress's (the wallet's) question.
 */
export function verifyCheque (signed: SignedCheque, expected: ChequeExpectations): SignedCheque {
  try {
    return checkCheque(signed, expected)
  } catch (err: any) {
    // viem's own errors (an address that is none, a bad checksum) from a cheque not read through chequeFromWire
    if (err instanceof GolemClayError) throw err
    throw new ChequeInvalidError(`The cheque is malformed: ${String(err?.shortMessage ?? err?.message ?? err)}`)
  }
}

function checkCheque (signed: SignedCheque, expected: ChequeExpectations): SignedCheque {
  const { deployment, cheque, signature } = signed
  if (!sameDeployment(deployment, expected.deployment)) {
    throw new WrongDeploymentError(`The cheque is for chain ${deployment.chainId}, contract ${deployment.address}, salt ${deployment.salt}; we cash on chain ${expected.deployment.chainId}, contract ${expected.deployment.address}, salt ${expected.deployment.salt}`)
  }
  if (!isAddressEqual(cheque.requestor, expected.requestor)) throw new WrongRequestorError(`The cheque is drawn by ${cheque.requestor}, not by the requestor's address ${expected.requestor}`)
  if (!isAddressEqual(cheque.beneficiary, expected.beneficiary)) throw new WrongBeneficiaryError(`The cheque pays ${cheque.beneficiary}, not ${expected.beneficiary}`)
  if (!isAddressEqual(cheque.provider, expected.provider)) throw new WrongProviderError(`The cheque is for ${cheque.provider}'s work, not ${expected.provider}'s`)
  checkChequeTerms(cheque)
  if (signatureParts(signature) == null) throw new ChequeInvalidError('The cheque\'s signature is not 65 bytes r‖s‖v with v 27 or 28 and a low s, in lowercase hex')
  if (expected.signature === false) return signed
  if (!isSignedBy(chequeDigest(expected.deployment, cheque), signature, cheque.requestor)) throw new WrongSignerError(`The cheque's signature is not ${cheque.requestor}'s over its terms`)
  return signed
}

/**
 * Whether `next` may follow the cheque `held` (of the same pair) and what is
 * already paid out: its cumulative must be higher than both (a replayed or
 * lower one pays nothing), its seq not lower than the held one's. Throws
 * ChequeNotHigherError or ChequeSeqBackwardsError.
 */
export function checkChequeProgress (next: Cheque, held: Cheque | undefined, paidOut = 0n): void {
  if (held != null && next.cumulative <= held.cumulative) throw new ChequeNotHigherError(`The cheque's cumulative ${next.cumulative} is not above the held cheque's, ${held.cumulative}`)
  if (next.cumulative <= paidOut) throw new ChequeNotHigherError(`The cheque's cumulative ${next.cumulative} is not above what the contract already paid out, ${paidOut}`)
  if (held != null && next.seq < held.seq) throw new ChequeSeqBackwardsError(`The cheque's seq ${next.seq} is below the held cheque's, ${held.seq}`)
}
