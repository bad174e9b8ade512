/**
 * The Solidity contracts' ABIs and bytecode, typed for viem (built by
 * `npm run build` into dist/contracts: run it once after cloning), and the
 * EIP-712 messages that draw on the deposit contract.
 */
export { clayDepositAbi, clayDepositBytecode, clayTestTokenAbi, clayTestTokenBytecode } from '../dist/contracts/abi.ts'
export { DEPOSIT_DOMAIN_NAME, DEPOSIT_DOMAIN_VERSION, depositDomain, chequeTypes, cashoutTypes, promissoryNoteTypes } from './typed-data.ts'
export type { DepositDeployment, Cheque, PromissoryNote, CashoutAuthorization } from './typed-data.ts'
