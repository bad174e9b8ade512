import { keccak_256 } from '@noble/hashes/sha3.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { isAddressEqual } from 'viem'
import { GolemClayError } from '../errors.ts'
import { MAX_AMOUNT, MAX_SEQ, sameDeployment } from './deposit-typed-data.ts'
import { noteTypedDigest } from './typed-digest.ts'
import { NoteInvalidError, WrongBeneficiaryError, WrongDeploymentError, WrongProviderError, WrongRequestorError, WrongSignerError } from './payment-errors.ts'
import { isSignedBy, signatureParts } from './signature-check.ts'
import type { PaymentSigner } from './cheque.ts'
import type { DepositDeployment, PromissoryNote } from './deposit-typed-data.ts'
import type { Address, Hex } from 'viem'

/**
 * Promissory notes: the requestor signs one with each assignment (its seq,
 * the subtask, its price); if the requestor then does not pay, an arbiter
 * the contract's owner authorized may draw it (contracts/README.md).
 */

/** A note with its requestor's EIP-712 signature, and the deployment it draws on. */
export interface SignedNote {
  deployment: DepositDeployment
  note: PromissoryNote
  /** 65 bytes r‖s‖v, lowercase 0x hex. */
  signature: Hex
}

/** What a beneficiary (or an arbiter) checks a note against. */
export interface NoteExpectations {
  deployment: DepositDeployment
  /** The requestor's address, from its payment binding. */
  requestor: Address
  /** Who the note pays: our payee or our own address, or the one an arbiter is asked about. */
  beneficiary: Address
  /** Whose work it is for: our own address, or the one an arbiter is asked about. */
  provider: Address
  /** The assignment's subtask id (subtaskId()), when known. @default not checked */
  subtask?: Hex
  /** The assignment's seq, when known. @default not checked */
  seq?: bigint
  /** The assignment's price, when known. @default not checked */
  amount?: bigint
  /**
   * Check the signature too. A provider takes a note's terms at once and
   * its signature when the note is needed (its cheque did not come): only
   * the requestor can hand it the note, over the requestor's own stream.
   * @default true
   */
  signature?: boolean
}

const SUBTASK = /^0x[0-9a-f]{64}$/

/**
 * The 32-byte id a note names a subtask by: keccak256(abi.encode(taskId,
 * index)), so a contract or an arbiter can derive it the same way (Solidity:
 * `keccak256(abi.encode(taskId, index))` with a string and a uint256).
 */
export function subtaskId (taskId: string, index: number): Hex {
  if (!Number.isSafeInteger(index) || index < 0) throw new NoteInvalidError(`A subtask index must be a non-negative integer, not ${index}`)
  // abi.encode laid out by hand (viem's generic encoder was a quarter of a provider's payment CPU):
  // the string's offset (0x40), the index, the string's length, its UTF-8 bytes padded to a word
  const text = utf8.encode(taskId)
  const out = new Uint8Array(96 + Math.ceil(text.length / 32) * 32)
  const view = new DataView(out.buffer)
  out[31] = 0x40
  view.setUint32(56, Math.floor(index / 2 ** 32))
  view.setUint32(60, index >>> 0)
  view.setUint32(92, text.length)
  out.set(text, 96)
  return `0x${bytesToHex(keccak_256(out))}`
}

const utf8 = new TextEncoder()

/** The EIP-712 digest the requestor signs and the contract recovers from. */
export function noteDigest (deployment: DepositDeployment, note: PromissoryNote): Hex {
  return noteTypedDigest(deployment, note)
}

/** NoteInvalidError unless the contract could draw it: a 32-byte subtask in lowercase hex, 1 ≤ seq < 2^64, 1 ≤ amount < 2^128. */
export function checkNoteTerms (note: PromissoryNote): void {
  if (!SUBTASK.test(note.subtask)) throw new NoteInvalidError('A note\'s subtask must be 32 bytes of lowercase 0x hex')
  if (note.seq < 1n || note.seq > MAX_SEQ) throw new NoteInvalidError(`A note's seq must be within 1..2^64-1, not ${note.seq}`)
  if (note.amount < 1n || note.amount > MAX_AMOUNT) throw new NoteInvalidError(`A note's amount must be within 1..2^128-1, not ${note.amount}`)
}

/** Signs `note` with the requestor's payment account, which must be the note's requestor. */
export async function signNote (signer: PaymentSigner, deployment: DepositDeployment, note: PromissoryNote): Promise<SignedNote> {
  if (!isAddressEqual(signer.address, note.requestor)) throw new NoteInvalidError(`A note of ${note.requestor} cannot be signed by ${signer.address}`)
  checkNoteTerms(note)
  const signature = await signer.sign({ hash: noteDigest(deployment, note) })
  return { deployment, note, signature: signature.toLowerCase() as Hex }
}

/**
 * Checks a note as its beneficiary (or an arbiter) does: our deployment,
 * the requestor, beneficiary and provider expected, the assignment's terms when
 * given, amounts the contract takes, the requestor's signature in a form
 * the contract accepts. Returns it; throws WrongDeploymentError,
 * WrongRequestorError, WrongBeneficiaryError, WrongProviderError, NoteInvalidError or
 * WrongSignerError. Whether its seq was seen with other content is
 * NoteGuard's question.
 */
export function verifyNote (signed: SignedNote, expected: NoteExpectations): SignedNote {
  try {
    return checkNote(signed, expected)
  } catch (err: any) {
    // viem's own errors (an address that is none, a bad checksum) from a note not read through noteFromWire
    if (err instanceof GolemClayError) throw err
    throw new NoteInvalidError(`The note is malformed: ${String(err?.shortMessage ?? err?.message ?? err)}`)
  }
}

function checkNote (signed: SignedNote, expected: NoteExpectations): SignedNote {
  const { deployment, note, signature } = signed
  if (!sameDeployment(deployment, expected.deployment)) {
    throw new WrongDeploymentError(`The note is for chain ${deployment.chainId}, contract ${deployment.address}, salt ${deployment.salt}; we draw on chain ${expected.deployment.chainId}, contract ${expected.deployment.address}, salt ${expected.deployment.salt}`)
  }
  if (!isAddressEqual(note.requestor, expected.requestor)) throw new WrongRequestorError(`The note is drawn by ${note.requestor}, not by the requestor's address ${expected.requestor}`)
  if (!isAddressEqual(note.beneficiary, expected.beneficiary)) throw new WrongBeneficiaryError(`The note pays ${note.beneficiary}, not ${expected.beneficiary}`)
  if (!isAddressEqual(note.provider, expected.provider)) throw new WrongProviderError(`The note is for ${note.provider}'s work, not ${expected.provider}'s`)
  checkNoteTerms(note)
  if (expected.subtask != null && note.subtask !== expected.subtask.toLowerCase()) throw new NoteInvalidError(`The note names subtask ${note.subtask}, the assignment ${expected.subtask}`)
  if (expected.seq != null && note.seq !== expected.seq) throw new NoteInvalidError(`The note's seq is ${note.seq}, the assignment's ${expected.seq}`)
  if (expected.amount != null && note.amount !== expected.amount) throw new NoteInvalidError(`The note is for ${note.amount}, the assignment's price is ${expected.amount}`)
  if (signatureParts(signature) == null) throw new NoteInvalidError('The note\'s signature is not 65 bytes r‖s‖v with v 27 or 28 and a low s, in lowercase hex')
  if (expected.signature === false) return signed
  if (!isSignedBy(noteDigest(expected.deployment, note), signature, note.requestor)) throw new WrongSignerError(`The note's signature is not ${note.requestor}'s over its terms`)
  return signed
}
