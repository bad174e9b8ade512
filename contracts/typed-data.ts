/**
 * The EIP-712 messages of the deposit contract. Defined in shared/payments
 * (tabs sign cheques and notes, providers and arbiters check them, so the
 * isomorphic core holds the one definition); re-exported here for the
 * contracts' code and tests.
 */
export { DEPOSIT_DOMAIN_NAME, DEPOSIT_DOMAIN_VERSION, depositDomain, chequeTypes, cashoutTypes, promissoryNoteTypes } from '../shared/payments/index.ts'
export type { DepositDeployment, Cheque, PromissoryNote, CashoutAuthorization } from '../shared/payments/index.ts'
