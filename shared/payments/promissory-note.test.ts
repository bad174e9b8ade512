import { wrongCase } from '../testing/index.ts'
import { encodeAbiParameters, keccak256, recoverTypedDataAddress } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { depositDomain, MAX_AMOUNT, promissoryNoteTypes } from './deposit-typed-data.ts'
import { NoteGuard } from './note-guard.ts'
import { NoteInvalidError, NoteReplayedError, WrongBeneficiaryError, WrongDeploymentError, WrongProviderError, WrongRequestorError, WrongSignerError } from './payment-errors.ts'
import { noteFromWire, noteToWire } from './payment-wire.ts'
import { signNote, subtaskId, verifyNote } from './promissory-note.ts'
import type { DepositDeployment, PromissoryNote } from './deposit-typed-data.ts'
import type { Hex } from 'viem'

const deployment: DepositDeployment = { chainId: 31337, address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', salt: `0x${'5a'.repeat(32)}` }
const requestor = privateKeyToAccount(generatePrivateKey())
const provider = privateKeyToAccount(generatePrivateKey())
const mallory = privateKeyToAccount(generatePrivateKey())
const expected = { deployment, requestor: requestor.address, beneficiary: provider.address, provider: provider.address }
const TASK = 'a'.repeat(64)

function note (seq: bigint, amount = 5n, changes: Partial<PromissoryNote> = {}): PromissoryNote {
  return { requestor: requestor.address, beneficiary: provider.address, provider: provider.address, subtask: subtaskId(TASK, Number(seq)), seq, amount, ...changes }
}

describe('subtask ids', () => {
  it('are keccak256(abi.encode(taskId, index)): one per task and index', () => {
    const id = subtaskId(TASK, 3)
    expect(id).toBe(keccak256(encodeAbiParameters([{ type: 'string' }, { type: 'uint256' }], [TASK, 3n])))
    expect(id).toMatch(/^0x[0-9a-f]{64}$/)
    expect(subtaskId(TASK, 3)).toBe(id)
    expect(subtaskId(TASK, 4)).not.toBe(id)
    expect(subtaskId('b'.repeat(64), 3)).not.toBe(id)
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => subtaskId(TASK, bad)).toThrow(NoteInvalidError)
  })

  it('match the ABI encoder for any task id and index (laid out by hand: padding, UTF-8, indexes past 2^32)', () => {
    for (const task of ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(33), 'zadanie-żółw-🐢', TASK]) {
      for (const index of [0, 1, 255, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
        expect(subtaskId(task, index)).toBe(keccak256(encodeAbiParameters([{ type: 'string' }, { type: 'uint256' }], [task, BigInt(index)])))
      }
    }
  })
})

describe('promissory notes', () => {
  it('are signed by the requestor over the contract\'s EIP-712 digest, and verify against the assignment', async () => {
    const signed = await signNote(requestor, deployment, note(1n))
    expect(await recoverTypedDataAddress({ domain: depositDomain(deployment), types: promissoryNoteTypes, primaryType: 'PromissoryNote', message: signed.note, signature: signed.signature })).toBe(requestor.address)
    expect(verifyNote(signed, expected)).toBe(signed)
    expect(verifyNote(signed, { ...expected, subtask: subtaskId(TASK, 1), seq: 1n, amount: 5n })).toBe(signed)
    await expect(signNote(mallory, deployment, note(1n))).rejects.toThrow(NoteInvalidError)
  })

  it('are refused when not the requestor\'s, for another deployment or party, or not the assignment\'s', async () => {
    const signed = await signNote(requestor, deployment, note(2n))
    expect(() => verifyNote({ ...signed, note: { ...signed.note, amount: 6n } }, expected)).toThrow(WrongSignerError)
    const forged = await signNote(mallory, deployment, note(2n, 5n, { requestor: mallory.address }))
    expect(() => verifyNote({ ...forged, note: { ...forged.note, requestor: requestor.address } }, expected)).toThrow(WrongSignerError)
    expect(() => verifyNote(signed, { ...expected, deployment: { ...deployment, salt: `0x${'00'.repeat(32)}` } })).toThrow(WrongDeploymentError)
    expect(() => verifyNote(signed, { ...expected, deployment: { ...deployment, chainId: 10 } })).toThrow(WrongDeploymentError)
    expect(() => verifyNote(signed, { ...expected, requestor: mallory.address })).toThrow(WrongRequestorError)
    expect(() => verifyNote(signed, { ...expected, beneficiary: mallory.address })).toThrow(WrongBeneficiaryError)
    expect(() => verifyNote(signed, { ...expected, provider: mallory.address })).toThrow(WrongProviderError)
    expect(() => verifyNote(signed, { ...expected, subtask: subtaskId(TASK, 3) })).toThrow(NoteInvalidError)
    expect(() => verifyNote(signed, { ...expected, seq: 3n })).toThrow(NoteInvalidError)
    expect(() => verifyNote(signed, { ...expected, amount: 4n })).toThrow(NoteInvalidError)
    for (const terms of [{ amount: 0n }, { amount: MAX_AMOUNT + 1n }, { seq: 0n }, { subtask: '0x1234' as Hex }, { subtask: subtaskId(TASK, 2).toUpperCase().replace('0X', '0x') as Hex }]) {
      expect(() => verifyNote({ ...signed, note: { ...signed.note, ...terms } }, expected)).toThrow(NoteInvalidError)
      await expect(signNote(requestor, deployment, note(2n, 5n, terms))).rejects.toThrow(NoteInvalidError)
    }
    expect(() => verifyNote({ ...signed, signature: `${signed.signature.slice(0, 130)}01` as Hex }, expected)).toThrow(NoteInvalidError)
  })

  it('travel as JSON and back; malformed ones are NoteInvalidError', async () => {
    const signed = await signNote(requestor, deployment, note(9n, 123n * 10n ** 18n))
    const wire = noteToWire(signed)
    expect(wire).toMatchObject({ v: 2, seq: 9, amount: '123000000000000000000', subtask: signed.note.subtask })
    expect(noteFromWire(JSON.parse(JSON.stringify(wire)))).toEqual(signed)
    for (const bad of [null, { ...wire, amount: '0' }, { ...wire, amount: 5 }, { ...wire, subtask: '0x12' }, { ...wire, seq: -1 }, { ...wire, v: 0 }, { ...wire, v: 1 }, { ...wire, provider: undefined }, { ...wire, provider: '0x12' }, { ...wire, requestor: wrongCase(wire.requestor) }]) {
      expect(() => noteFromWire(bad), JSON.stringify(bad)).toThrow(NoteInvalidError)
    }
  })
})

describe('the note guard', () => {
  it('refuses a second note for a seq with other content, and takes the same one again', () => {
    const guard = new NoteGuard()
    guard.check(note(1n))
    guard.check(note(2n))
    guard.check(note(1n))
    expect(() => guard.check(note(1n, 6n))).toThrow(NoteReplayedError)
    expect(() => guard.check(note(2n, 5n, { subtask: subtaskId(TASK, 7) }))).toThrow(NoteReplayedError)
    // another pair's seq 1 is its own
    guard.check(note(1n, 6n, { beneficiary: mallory.address }))
    guard.check(note(1n, 7n, { requestor: mallory.address }))
  })

  it('refuses notes at or below a settled seq, and below what it had to forget', () => {
    const guard = new NoteGuard({ maxPerPair: 3 })
    for (const seq of [1n, 2n, 3n]) guard.check(note(seq))
    guard.settle(requestor.address, provider.address, provider.address, 2n)
    expect(() => guard.check(note(2n))).toThrow(NoteReplayedError)
    guard.check(note(3n))
    for (const seq of [4n, 5n, 6n]) guard.check(note(seq))
    // seq 3 was the lowest and went: from now on it and below are refused, even unchanged
    expect(() => guard.check(note(3n))).toThrow(/settled or forgotten/)
    guard.check(note(6n))
    expect(() => guard.check(note(6n, 1n))).toThrow(NoteReplayedError)
  })

  it('forgets the least recently used pair when it holds too many', () => {
    const guard = new NoteGuard({ maxPairs: 2 })
    const others = [mallory, privateKeyToAccount(generatePrivateKey())]
    guard.check(note(1n))
    for (const other of others) guard.check(note(1n, 5n, { beneficiary: other.address }))
    // the first pair was forgotten: its seq 1 is new again
    guard.check(note(1n, 9n))
    expect(() => guard.check(note(1n, 8n, { beneficiary: others[1]?.address }))).toThrow(NoteReplayedError)
  })
})
