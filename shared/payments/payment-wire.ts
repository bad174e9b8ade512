import { getAddress } from 'viem'
import { InvalidMessageError } from '../errors.ts'
import { expectInt, expectLiteral, expectRecord, expectString } from '../wire/index.ts'
import { MAX_AMOUNT } from './deposit-typed-data.ts'
import { ChequeInvalidError, NoteInvalidError } from './payment-errors.ts'
import type { SignedCheque } from './cheque.ts'
import type { DepositDeployment } from './deposit-typed-data.ts'
import type { SignedNote } from './promissory-note.ts'
import type { Fields } from '../wire/index.ts'
import type { Address, Hex } from 'viem'

/**
 * Cheques and notes as JSON, inside market messages: amounts as decimal
 * strings (JSON numbers lose precision past 2^53), seq as a number (a
 * requestor's assignments to one provider never get near 2^53), addresses
 * checksummed, hex lowercase. The deployment travels along so a cheque for
 * another chain or a redeployed contract is told apart from a forgery.
 * Only the form is checked here: verifyCheque and verifyNote check the rest.
 */

/** The fields both carry: the deployment and the signature. */
interface WireBase {
  /** 2: cheques and notes name the provider (contract domain version 2). */
  v: 2
  chainId: number
  contract: Address
  /** The deployment's salt: 32 bytes, lowercase 0x hex. */
  salt: Hex
  requestor: Address
  beneficiary: Address
  provider: Address
  seq: number
  /** 65 bytes r‖s‖v, lowercase 0x hex. */
  signature: Hex
}

export interface ChequeWire extends WireBase {
  /** Decimal, in the token's base units. */
  cumulative: string
}

export interface NoteWire extends WireBase {
  /** 32 bytes, lowercase 0x hex. */
  subtask: Hex
  /** Decimal, in the token's base units. */
  amount: string
}

/**
 * The compact forms a requestor hands its provider in market messages:
 * what the provider knows already (the deployment and the requestor from
 * the task's header, itself as beneficiary and provider, a note's subtask
 * and price from its assignment) is left out, and the signature covers it
 * all the same. A third of the bytes: every process on the way encrypts,
 * forwards and parses them once per subtask. Relays cash the full form.
 */
export interface ChequeWireCompact {
  v: 3
  /** Decimal, in the token's base units. */
  cumulative: string
  seq: number
  /** 65 bytes r‖s‖v, lowercase 0x hex. */
  signature: Hex
}

export interface NoteWireCompact {
  v: 3
  seq: number
  /** 65 bytes r‖s‖v, lowercase 0x hex. */
  signature: Hex
}

/** A cheque as a market message carries it: compact from this version on, full from earlier ones. */
export type MarketCheque = ChequeWire | ChequeWireCompact
/** A promissory note as a market message carries it. */
export type MarketNote = NoteWire | NoteWireCompact

/** What the provider knows of the cheques it is handed: the task's deployment and requestor, and itself. */
export interface ChequeContext {
  deployment: DepositDeployment
  requestor: Address
  beneficiary: Address
  provider: Address
}

/** What it knows of a note: the same, and the assignment's subtask id and price. */
export interface NoteContext extends ChequeContext {
  subtask: Hex
  amount: bigint
}

const HEX32 = /^0x[0-9a-f]{64}$/
const SIGNATURE = /^0x[0-9a-f]{130}$/
/** 1..2^128-1 without leading zeros (39 digits at most). */
const AMOUNT = /^[1-9][0-9]{0,38}$/

/** A seq as the wire forms carry it: a JSON number. */
function wireSeq (seq: bigint): number {
  if (seq > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidMessageError(`A seq of ${seq} is beyond what the wire form carries (2^53-1)`)
  return Number(seq)
}

function wireBase (deployment: DepositDeployment, { requestor, beneficiary, provider, seq }: { requestor: Address, beneficiary: Address, provider: Address, seq: bigint }, signature: Hex): WireBase {
  return { v: 2, chainId: deployment.chainId, contract: getAddress(deployment.address), salt: deployment.salt.toLowerCase() as Hex, requestor: getAddress(requestor), beneficiary: getAddress(beneficiary), provider: getAddress(provider), seq: wireSeq(seq), signature: signature.toLowerCase() as Hex }
}

export function chequeToWire ({ deployment, cheque, signature }: SignedCheque): ChequeWire {
  return { ...wireBase(deployment, cheque, signature), cumulative: cheque.cumulative.toString() }
}

export function noteToWire ({ deployment, note, signature }: SignedNote): NoteWire {
  return { ...wireBase(deployment, note, signature), subtask: note.subtask.toLowerCase() as Hex, amount: note.amount.toString() }
}

export function chequeToCompactWire ({ cheque, signature }: SignedCheque): ChequeWireCompact {
  return { v: 3, cumulative: cheque.cumulative.toString(), seq: wireSeq(cheque.seq), signature: signature.toLowerCase() as Hex }
}

export function noteToCompactWire ({ note, signature }: SignedNote): NoteWireCompact {
  return { v: 3, seq: wireSeq(note.seq), signature: signature.toLowerCase() as Hex }
}

/**
 * A cheque from its wire form; ChequeInvalidError naming the field when
 * malformed. A compact one (v 3) is completed from `context`, and refused
 * without it.
 */
export function chequeFromWire (value: unknown, context?: ChequeContext): SignedCheque {
  return mapped(ChequeInvalidError, () => {
    const obj = expectRecord(value, 'cheque')
    if (obj.v === 3) {
      if (context == null) throw new InvalidMessageError('A compact cheque is taken only from a market message, whose task names its terms')
      const { deployment, requestor, beneficiary, provider } = context
      return { deployment, cheque: { requestor, beneficiary, provider, cumulative: expectAmount(obj, 'cumulative'), seq: expectSeq(obj) }, signature: expectSignature(obj) }
    }
    const { deployment, requestor, beneficiary, provider, seq, signature } = readBase(obj)
    return { deployment, cheque: { requestor, beneficiary, provider, cumulative: expectAmount(obj, 'cumulative'), seq }, signature }
  })
}

/**
 * A note from its wire form; NoteInvalidError naming the field when
 * malformed. A compact one (v 3) is completed from `context`, and refused
 * without it.
 */
export function noteFromWire (value: unknown, context?: NoteContext): SignedNote {
  return mapped(NoteInvalidError, () => {
    const obj = expectRecord(value, 'note')
    if (obj.v === 3) {
      if (context == null) throw new InvalidMessageError('A compact note is taken only with its assignment, whose task names its terms')
      const { deployment, requestor, beneficiary, provider, subtask, amount } = context
      return { deployment, note: { requestor, beneficiary, provider, subtask, seq: expectSeq(obj), amount }, signature: expectSignature(obj) }
    }
    const { deployment, requestor, beneficiary, provider, seq, signature } = readBase(obj)
    const subtask = expectPattern(obj, 'subtask', HEX32, 66, '32 bytes of lowercase 0x hex')
    return { deployment, note: { requestor, beneficiary, provider, subtask, seq, amount: expectAmount(obj, 'amount') }, signature }
  })
}

/** Malformed input is InvalidMessageError from the validators; here it is the payment's own error. */
function mapped<T> (ErrorClass: new (message: string) => Error, read: () => T): T {
  try {
    return read()
  } catch (err) {
    if (err instanceof InvalidMessageError) throw new ErrorClass(err.message)
    throw err
  }
}

function readBase (obj: Fields): { deployment: DepositDeployment, requestor: Address, beneficiary: Address, provider: Address, seq: bigint, signature: Hex } {
  expectLiteral(obj, 'v', [2])
  const deployment = { chainId: expectInt(obj, 'chainId', 1, Number.MAX_SAFE_INTEGER), address: expectAddress(obj, 'contract'), salt: expectPattern(obj, 'salt', HEX32, 66, '32 bytes of lowercase 0x hex') }
  return {
    deployment,
    requestor: expectAddress(obj, 'requestor'),
    beneficiary: expectAddress(obj, 'beneficiary'),
    provider: expectAddress(obj, 'provider'),
    seq: expectSeq(obj),
    signature: expectSignature(obj)
  }
}

function expectSeq (obj: Fields): bigint {
  return BigInt(expectInt(obj, 'seq', 1, Number.MAX_SAFE_INTEGER))
}

function expectSignature (obj: Fields): Hex {
  return expectPattern(obj, 'signature', SIGNATURE, 132, '65 bytes of lowercase 0x hex')
}

/** An Ethereum address, checksummed (EIP-55). */
function expectAddress (obj: Fields, key: string): Address {
  const text = expectString(obj, key, 42)
  let address: Address
  try {
    address = getAddress(text)
  } catch {
    throw new InvalidMessageError(`"${key}" is not an Ethereum address`)
  }
  if (address !== text) throw new InvalidMessageError(`"${key}" must be checksummed (EIP-55)`)
  return address
}

function expectPattern (obj: Fields, key: string, pattern: RegExp, maxLength: number, what: string): Hex {
  const text = expectString(obj, key, maxLength)
  if (!pattern.test(text)) throw new InvalidMessageError(`"${key}" must be ${what}`)
  return text as Hex
}

/** An amount in 1..2^128-1 as a decimal string. */
function expectAmount (obj: Fields, key: string): bigint {
  const text = expectString(obj, key, 39)
  if (!AMOUNT.test(text)) throw new InvalidMessageError(`"${key}" must be a positive decimal integer`)
  const amount = BigInt(text)
  if (amount > MAX_AMOUNT) throw new InvalidMessageError(`"${key}" is above 2^128-1`)
  return amount
}
