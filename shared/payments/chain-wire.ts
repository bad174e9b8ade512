import { InvalidMessageError } from '../errors.ts'
import { expectInt, expectRecord, expectString } from '../wire/index.ts'
import type { ChequeWire } from './payment-wire.ts'
import type { Address, Hex } from 'viem'

/**
 * `/golem-clay/chain/2.0.0`: how tabs and Node peers use their relay's
 * chain without an RPC endpoint of their own. One JSON-RPC 2.0 call per
 * stream, in one length-prefixed frame each way. Besides the relay's
 * whitelist of reads and `eth_sendRawTransaction` (the same as its HTTP
 * proxy), three methods of its own:
 *
 * - `clay_info` [] → ChainInfoWire: the deployment, and whether the relay cashes cheques.
 * - `clay_account` [requestor, beneficiary, provider] → AccountWire: a deposit and one account's counters, read in one call.
 * - `clay_cash` [ChequeWire[]] → CashResultWire[]: the relay cashes them in one batch and pays the gas.
 * - `clay_faucet` [address] → { tokens, gas, transactions }: test tokens and gas on an embedded chain (rate-limited per network address).
 */

/** What a relay with a chain says of it. */
export interface ChainInfoWire {
  mode: 'embedded' | 'external'
  chainId: number
  /** The ERC-20 deposits are in. */
  token: Address
  /** The ClayDeposit contract. */
  deposit: Address
  /** The deployment's EIP-712 salt. */
  salt: Hex
  /** Whether `clay_cash` works here: the relay has an account with gas on the chain. */
  cashes: boolean
}

/** A requestor's deposit and one account's counters (what it paid a beneficiary for a provider's work): amounts as decimal strings. */
export interface AccountWire {
  /** The deposit. */
  deposit: string
  /** When the deposit may be withdrawn, s since the epoch; 0 while it is locked. */
  unlockAt: number
  /** The account's paid-out counter P. */
  paidOut: string
  /** The account's settled seq Q. */
  settledSeq: number
  /** The account's highest drawn note's seq D. */
  drawnSeq: number
  /** The block this was read at. */
  block: number
}

/** One cheque's outcome in a `clay_cash` batch. */
export type CashResultWire =
  | { ok: true, tx: Hex, payout: string }
  | { ok: false, error: { name: string, message: string } }

/** The most cheques in one `clay_cash` call. */
export const MAX_CASH_BATCH = 20
/** A call or an answer (a batch of cheques, a receipt) is far below this. */
export const MAX_CHAIN_FRAME = 64 * 1024

export interface ChainCall { jsonrpc: '2.0', id: number, method: string, params: unknown[] }
export type ChainAnswer =
  | { jsonrpc: '2.0', id: number | null, result: unknown }
  | { jsonrpc: '2.0', id: number | null, error: { code: number, message: string, data?: unknown } }

/** JSON-RPC codes of the relay's own refusals. */
export const CHAIN_ERRORS = {
  /** The relay runs no chain, or cannot cash (no account on an external chain). */
  unavailable: -32010,
  /** A cheque in `clay_cash` is malformed or for another deployment. */
  invalidCheque: -32011,
  rateLimited: -32005
} as const

const HEX = /^0x[0-9a-fA-F]*$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/

export function validateChainInfo (value: unknown): ChainInfoWire {
  const obj = expectRecord(value, 'chain info')
  const mode = expectString(obj, 'mode', 16)
  if (mode !== 'embedded' && mode !== 'external') throw new InvalidMessageError('"mode" must be embedded or external')
  const address = (key: string): Address => {
    const text = expectString(obj, key, 42)
    if (!ADDRESS.test(text)) throw new InvalidMessageError(`"${key}" must be an address`)
    return text as Address
  }
  const salt = expectString(obj, 'salt', 66)
  if (!HEX.test(salt) || salt.length !== 66) throw new InvalidMessageError('"salt" must be 32 bytes of hex')
  if (typeof obj.cashes !== 'boolean') throw new InvalidMessageError('"cashes" must be a boolean')
  return { mode, chainId: expectInt(obj, 'chainId', 1, Number.MAX_SAFE_INTEGER), token: address('token'), deposit: address('deposit'), salt: salt.toLowerCase() as Hex, cashes: obj.cashes }
}

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/

function decimal (obj: Record<string, unknown>, key: string): string {
  const text = expectString(obj, key, 78)
  if (!DECIMAL.test(text)) throw new InvalidMessageError(`"${key}" must be a decimal amount`)
  return text
}

export function validateAccount (value: unknown): AccountWire {
  const obj = expectRecord(value, 'account')
  return {
    deposit: decimal(obj, 'deposit'),
    unlockAt: expectInt(obj, 'unlockAt', 0, Number.MAX_SAFE_INTEGER),
    paidOut: decimal(obj, 'paidOut'),
    settledSeq: expectInt(obj, 'settledSeq', 0, Number.MAX_SAFE_INTEGER),
    drawnSeq: expectInt(obj, 'drawnSeq', 0, Number.MAX_SAFE_INTEGER),
    block: expectInt(obj, 'block', 0, Number.MAX_SAFE_INTEGER)
  }
}

export function validateCashResults (value: unknown, count: number): CashResultWire[] {
  if (!Array.isArray(value) || value.length !== count) throw new InvalidMessageError(`clay_cash must answer ${count} result(s)`)
  return value.map((item: unknown): CashResultWire => {
    const obj = expectRecord(item, 'cash result')
    if (obj.ok === true) {
      const tx = expectString(obj, 'tx', 66)
      if (!HEX.test(tx) || tx.length !== 66) throw new InvalidMessageError('"tx" must be a transaction hash')
      return { ok: true, tx: tx as Hex, payout: decimal(obj, 'payout') }
    }
    const error = expectRecord(obj.error, 'error')
    return { ok: false, error: { name: expectString(error, 'name', 80), message: expectString(error, 'message', 1000) } }
  })
}

/** A call's frame: checked for form by the relay (method name, params a list). */
export function validateChainCall (value: unknown): ChainCall {
  const obj = expectRecord(value, 'chain call')
  if (obj.jsonrpc !== '2.0') throw new InvalidMessageError('"jsonrpc" must be "2.0"')
  const params = obj.params ?? []
  if (!Array.isArray(params)) throw new InvalidMessageError('"params" must be a list')
  return { jsonrpc: '2.0', id: expectInt(obj, 'id', 0, Number.MAX_SAFE_INTEGER), method: expectString(obj, 'method', 64), params }
}

export function validateChainAnswer (value: unknown): ChainAnswer {
  const obj = expectRecord(value, 'chain answer')
  if (obj.jsonrpc !== '2.0') throw new InvalidMessageError('"jsonrpc" must be "2.0"')
  const id = obj.id === null ? null : expectInt(obj, 'id', 0, Number.MAX_SAFE_INTEGER)
  if (obj.error != null) {
    const e = expectRecord(obj.error, 'error')
    return { jsonrpc: '2.0', id, error: { code: expectInt(e, 'code', -(2 ** 31), 2 ** 31), message: expectString(e, 'message', 2000), ...(e.data !== undefined ? { data: e.data } : {}) } }
  }
  if (!('result' in obj)) throw new InvalidMessageError('a chain answer needs a result or an error')
  return { jsonrpc: '2.0', id, result: obj.result }
}

export type { ChequeWire }
