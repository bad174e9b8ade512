import { hashTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import { chequeTypes, depositDomain, promissoryNoteTypes } from './deposit-typed-data.ts'
import { generatePaymentKey, paymentAccountOf } from './payment-key.ts'
import { chequeTypedDigest, noteTypedDigest } from './typed-digest.ts'
import type { Hex } from 'viem'

const random = (bytes: number): bigint => BigInt(`0x${[...crypto.getRandomValues(new Uint8Array(bytes))].map(b => b.toString(16).padStart(2, '0')).join('')}`)
const hex32 = (): Hex => `0x${random(32).toString(16).padStart(64, '0')}`
const address = (): Hex => paymentAccountOf(generatePaymentKey()).address

describe('EIP-712 digests by hand', () => {
  it('equal viem\'s hashTypedData for cheques and notes, across deployments and extreme values', () => {
    for (let i = 0; i < 50; i++) {
      const deployment = { chainId: i === 0 ? 1 : Number(random(6)) + 1, address: address(), salt: hex32() }
      const domain = depositDomain(deployment)
      const cheque = { requestor: address(), beneficiary: address(), provider: address(), cumulative: i === 1 ? 2n ** 128n - 1n : random(16) + 1n, seq: i === 1 ? 2n ** 64n - 1n : random(8) + 1n }
      expect(chequeTypedDigest(deployment, cheque)).toBe(hashTypedData({ domain, types: chequeTypes, primaryType: 'Cheque', message: cheque }))
      const note = { requestor: address(), beneficiary: address(), provider: address(), subtask: hex32(), seq: random(8) + 1n, amount: random(16) + 1n }
      expect(noteTypedDigest(deployment, note)).toBe(hashTypedData({ domain, types: promissoryNoteTypes, primaryType: 'PromissoryNote', message: note }))
    }
  })
})
