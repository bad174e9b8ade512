import { GolemClayError, InvalidConfigError } from '../errors.ts'

/** A payment binding's proof does not check out, or it binds another peer than the one it came with. */
export class PaymentBindingInvalidError extends GolemClayError { override name = 'PaymentBindingInvalidError'; override readonly code = 'PAYMENT_BINDING_INVALID' }

/** A payment key (a key file's, a flag's, a tab's) is not a secp256k1 private key in hex. */
export class InvalidPaymentKeyError extends InvalidConfigError { override name = 'InvalidPaymentKeyError'; override readonly code = 'INVALID_PAYMENT_KEY' }

/**
 * A cheque or promissory note was refused: the base of every reason below
 * (each its own class and code, so the reason crosses the wire).
 */
export class PaymentRefusedError extends GolemClayError { override name = 'PaymentRefusedError'; override readonly code: string = 'PAYMENT_REFUSED' }

/** A cheque is malformed: its wire form, its terms (zero or out of the contract's range) or its signature's bytes. */
export class ChequeInvalidError extends PaymentRefusedError { override name = 'ChequeInvalidError'; override readonly code = 'CHEQUE_INVALID' }

/** A promissory note is malformed, or is not the one its assignment calls for (subtask, seq, amount). */
export class NoteInvalidError extends PaymentRefusedError { override name = 'NoteInvalidError'; override readonly code = 'NOTE_INVALID' }

/** Signed for another deployment (chain, contract or salt) than ours: the contract here would not honour it. */
export class WrongDeploymentError extends PaymentRefusedError { override name = 'WrongDeploymentError'; override readonly code = 'PAYMENT_WRONG_DEPLOYMENT' }

/** The signature is not the requestor's: forged, or made over other terms. */
export class WrongSignerError extends PaymentRefusedError { override name = 'WrongSignerError'; override readonly code = 'PAYMENT_WRONG_SIGNER' }

/** It names another requestor than the one its payment binding names. */
export class WrongRequestorError extends PaymentRefusedError { override name = 'WrongRequestorError'; override readonly code = 'PAYMENT_WRONG_REQUESTOR' }

/** It pays someone else. */
export class WrongBeneficiaryError extends PaymentRefusedError { override name = 'WrongBeneficiaryError'; override readonly code = 'PAYMENT_WRONG_BENEFICIARY' }

/** It is for another provider's work: another account on the contract, whose counters we don't keep. */
export class WrongProviderError extends PaymentRefusedError { override name = 'WrongProviderError'; override readonly code = 'PAYMENT_WRONG_PROVIDER' }

/** Its cumulative is not above the one already held or cashed (a replayed or lower cheque): it would pay nothing. */
export class ChequeNotHigherError extends PaymentRefusedError { override name = 'ChequeNotHigherError'; override readonly code = 'CHEQUE_NOT_HIGHER' }

/** Its seq is below the one of the cheque already held: cheques only move forward. */
export class ChequeSeqBackwardsError extends PaymentRefusedError { override name = 'ChequeSeqBackwardsError'; override readonly code = 'CHEQUE_SEQ_BACKWARDS' }

/** A note for a (requestor, beneficiary, seq) seen before with other content, or for a seq already settled: only one of them could ever be drawn. */
export class NoteReplayedError extends PaymentRefusedError { override name = 'NoteReplayedError'; override readonly code = 'NOTE_REPLAYED' }

/** The requestor's deposit does not cover what it owes us uncashed: the contract would refuse the cheque. */
export class InsufficientDepositError extends PaymentRefusedError {
  override name = 'InsufficientDepositError'
  override readonly code: string = 'INSUFFICIENT_DEPOSIT'
  constructor (message: string, readonly available = 0n, readonly needed = 0n) {
    super(message)
  }
}

/** No connected relay runs a chain (or none cashes cheques): payments wait, work already accepted is kept. */
export class ChainUnavailableError extends GolemClayError { override name = 'ChainUnavailableError'; override readonly code = 'CHAIN_UNAVAILABLE' }

/** The relay's chain refused a call: `rpcCode` is its JSON-RPC code, `data` what it added (a contract error's name). */
export class ChainCallError extends GolemClayError {
  override name = 'ChainCallError'
  override readonly code = 'CHAIN_CALL'
  constructor (message: string, readonly rpcCode: number, readonly data?: unknown) {
    super(message)
  }
}

/** A task's payments stopped: the requestor stopped paying as agreed (a missing or short cheque), so this provider takes no more of its work. */
export class PayerDefaultedError extends PaymentRefusedError { override name = 'PayerDefaultedError'; override readonly code = 'PAYER_DEFAULTED' }

/** A task would lock more than the requestor's deposit allows (2× its open budgets), or the deposit is being withdrawn. */
export class DepositTooSmallError extends InsufficientDepositError { override name = 'DepositTooSmallError'; override readonly code = 'DEPOSIT_TOO_SMALL' }
