/**
 * Payments: every node's payment account (a secp256k1 key, an Ethereum
 * address) and the binding that ties it to the peer ID, carried in offers
 * and task headers so a requestor knows whom it pays and a provider who
 * pays it; the deposit contract's EIP-712 messages; cumulative cheques and
 * promissory notes, signed and checked exactly as the contract does; and
 * the ledgers of both sides (the requestor's ChequeBook, the provider's
 * ChequeWallet).
 */
export { PaymentAccount, paymentAccount } from './payment-account.ts'
export type { PaymentAccountComponents, PaymentAccountInit } from './payment-account.ts'
export { createPaymentBinding, MAX_PAYMENT_BINDING_LENGTH, openPaymentBinding, PAYMENT_BINDING_KIND, paymentProofText } from './payment-binding.ts'
export type { BindingSigner, OpenPaymentBindingOptions, PaymentBinding, PaymentBindingStatement } from './payment-binding.ts'
export {
  ChainCallError, ChainUnavailableError, ChequeInvalidError, ChequeNotHigherError, DepositTooSmallError, PayerDefaultedError, ChequeSeqBackwardsError, InsufficientDepositError, InvalidPaymentKeyError, NoteInvalidError, NoteReplayedError,
  PaymentBindingInvalidError, PaymentRefusedError, WrongBeneficiaryError, WrongProviderError, WrongDeploymentError, WrongRequestorError, WrongSignerError
} from './payment-errors.ts'
export { generatePaymentKey, parsePaymentKey, paymentAccountOf, paymentAddressOf } from './payment-key.ts'
export {
  accountId, cashoutTypes, chequeTypes, DEPOSIT_DOMAIN_NAME, DEPOSIT_DOMAIN_VERSION, depositDomain, MAX_AMOUNT, MAX_SEQ, promissoryNoteTypes, sameDeployment
} from './deposit-typed-data.ts'
export type { CashoutAuthorization, Cheque, DepositDeployment, PromissoryNote } from './deposit-typed-data.ts'
export { checkChequeProgress, checkChequeTerms, chequeDigest, signCheque, verifyCheque } from './cheque.ts'
export type { ChequeExpectations, PaymentSigner, SignedCheque } from './cheque.ts'
export { checkNoteTerms, noteDigest, signNote, subtaskId, verifyNote } from './promissory-note.ts'
export type { NoteExpectations, SignedNote } from './promissory-note.ts'
export { chequeFromWire, chequeToCompactWire, chequeToWire, noteFromWire, noteToCompactWire, noteToWire } from './payment-wire.ts'
export type { ChequeContext, ChequeWire, ChequeWireCompact, MarketCheque, MarketNote, NoteContext, NoteWire, NoteWireCompact } from './payment-wire.ts'
export { isSignedBy, preloadSignatureCheck, signatureParts } from './signature-check.ts'
export type { SignatureParts } from './signature-check.ts'
export { ChequeBook } from './cheque-book.ts'
export type { ChequeBookEntry, ChequeBookInit, PaymentAccountKey } from './cheque-book.ts'
export { ChequeWallet } from './cheque-wallet.ts'
export type { CashoutRecord, ChequeReceipt, ChequeWalletEntry, ChequeWalletInit } from './cheque-wallet.ts'
export { checkDepositCover } from './deposit-cover.ts'
export type { DepositState } from './deposit-cover.ts'
export { NoteGuard } from './note-guard.ts'
export type { NoteGuardInit } from './note-guard.ts'
export { MemoryPaymentStore } from './payment-store.ts'
export type { PaymentStore } from './payment-store.ts'
export type { Address, Hex } from 'viem'
export { CHAIN_ERRORS, MAX_CASH_BATCH, MAX_CHAIN_FRAME, validateAccount, validateCashResults, validateChainAnswer, validateChainCall, validateChainInfo } from './chain-wire.ts'
export type { AccountWire, CashResultWire, ChainAnswer, ChainCall, ChainInfoWire } from './chain-wire.ts'
export { ChainClient, chainClient } from './chain-client.ts'
export type { AccountState, ChainClientComponents, ChainClientInit } from './chain-client.ts'
export { deploymentNamespace, memoryLedgerStores } from './ledger-stores.ts'
export type { LedgerStores } from './ledger-stores.ts'
export { RequestorPayments } from './requestor-payments.ts'
export type { RequestorPaymentsComponents, RequestorPaymentsInit, TaskTerms } from './requestor-payments.ts'
export { paidTask, ProviderPayments } from './provider-payments.ts'
export type { EarningsSummary, PaidTask, ProviderPaymentsComponents, ProviderPaymentsEvents, ProviderPaymentsInit } from './provider-payments.ts'
export { DEPOSIT_ABI, DepositActionError, depositClients, depositTokens, readBalances, TOKEN_ABI, unlockDeposit, withdrawDeposit } from './deposit-actions.ts'
export type { DepositClients, DepositContracts, WalletBalances } from './deposit-actions.ts'
