import { keccak256, recoverAddress, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount, sign } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { isSignedBy, signatureParts } from './signature-check.ts'
import type { Hex } from 'viem'

describe('signature checks', () => {
  it('agree with ecrecover (viem\'s recovery) at first contact and from the cached key, for right and wrong signers alike', async () => {
    const keys = [generatePrivateKey(), generatePrivateKey()]
    const [alice, bob] = keys.map(k => privateKeyToAccount(k))
    if (alice == null || bob == null) throw new Error('no accounts')
    for (let i = 0; i < 12; i++) {
      const digest = keccak256(toHex(`message ${i}`))
      const key = keys[i % 2] as Hex
      const signature = await sign({ hash: digest, privateKey: key, to: 'hex' })
      const signer = await recoverAddress({ hash: digest, signature })
      for (const account of [alice, bob]) {
        expect(isSignedBy(digest, signature, account.address), `${i} ${account.address}`).toBe(signer === account.address)
      }
      // another digest, the other v: another signer to ecrecover, none of ours
      const other = keccak256(toHex(`other ${i}`))
      expect(isSignedBy(other, signature, signer)).toBe(false)
      const otherV = `${signature.slice(0, 130)}${signature.endsWith('1b') ? '1c' : '1b'}` as Hex
      expect(await recoverAddress({ hash: digest, signature: otherV })).not.toBe(signer)
      expect(isSignedBy(digest, otherV, signer)).toBe(false)
    }
  })

  it('take 65-byte signatures with v 27 or 28 and a low s, and nothing else', () => {
    const r = '11'.repeat(32)
    const s = '22'.repeat(32)
    expect(signatureParts(`0x${r}${s}1b`)).toEqual({ r: BigInt(`0x${r}`), s: BigInt(`0x${s}`), yParity: 0 })
    expect(signatureParts(`0x${r}${s}1c`)?.yParity).toBe(1)
    for (const bad of [`0x${r}${s}`, `0x${r}${s}1d`, `0x${r}${s}00`, `0x${r}${'ff'.repeat(32)}1b`, `0x${'00'.repeat(32)}${s}1b`, `0x${r}${'00'.repeat(32)}1b`, `${r}${s}1b`, `0x${r}${s}1B`]) {
      expect(signatureParts(bad), bad).toBeUndefined()
      expect(isSignedBy(keccak256('0x00'), bad, privateKeyToAccount(generatePrivateKey()).address)).toBe(false)
    }
  })
})
