import { secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes, keccak256, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount, sign } from 'viem/accounts'
import { beforeAll, describe, expect, it } from 'vitest'
import { paymentAccountOf } from './payment-key.ts'
import { loadSecp256k1, signHashWasm } from './secp256k1-wasm.ts'
import { isSignedBy, isSignedByNoble, isSignedByWasm, preloadSignatureCheck } from './signature-check.ts'
import type { Secp256k1 } from '@bitauth/libauth/build/lib/crypto/secp256k1-types.js'
import type { Address, Hex } from 'viem'

const N = secp256k1.Point.CURVE().n
const hex32 = (n: bigint): string => n.toString(16).padStart(64, '0')
const randomHash = (): Hex => bytesToHex(crypto.getRandomValues(new Uint8Array(32)))

let wasm: Secp256k1

beforeAll(async () => {
  const loaded = await loadSecp256k1()
  if (loaded == null) throw new Error('libsecp256k1 did not instantiate')
  wasm = loaded
  await preloadSignatureCheck()
})

describe('libsecp256k1 in WebAssembly', () => {
  it('signs as viem does: the same r‖s‖v for the same key and hash', async () => {
    for (let i = 0; i < 200; i++) {
      const key = generatePrivateKey()
      const hash = randomHash()
      const expected = await sign({ hash, privateKey: key, to: 'hex' })
      expect(signHashWasm(wasm, hexToBytes(key), hash), `${key} ${hash}`).toBe(expected)
      expect(await paymentAccountOf(key).sign({ hash }), `${key} ${hash}`).toBe(expected)
    }
  })

  it('keeps the rest of the account viem\'s', async () => {
    const key = generatePrivateKey()
    const ours = paymentAccountOf(key)
    const theirs = privateKeyToAccount(key)
    expect(ours.address).toBe(theirs.address)
    expect(await ours.signMessage({ message: 'hello' })).toBe(await theirs.signMessage({ message: 'hello' }))
    // a hash of another length is left to viem, whatever it makes of it
    expect(await ours.sign({ hash: '0x1234' })).toBe(await theirs.sign({ hash: '0x1234' }))
  })

  it('checks signatures as the JS path does, first contact and kept key alike', async () => {
    for (let i = 0; i < 16; i++) {
      const key = generatePrivateKey()
      const signer = privateKeyToAccount(key).address
      const stranger = privateKeyToAccount(generatePrivateKey()).address
      const digest = randomHash()
      const signature = await sign({ hash: digest, privateKey: key, to: 'hex' })
      const r = BigInt(`0x${signature.slice(2, 66)}`)
      const s = BigInt(`0x${signature.slice(66, 130)}`)
      const v = signature.slice(130)
      const flip = v === '1b' ? '1c' : '1b'
      const rs = signature.slice(2, 130)
      const cases: Array<[string, Hex, string, Address, boolean]> = [
        ['valid', digest, signature, signer, true],
        ['valid, signer in lowercase', digest, signature, signer.toLowerCase() as Address, true],
        ['wrong v', digest, `0x${rs}${flip}`, signer, false],
        ['high-s twin', digest, `0x${hex32(r)}${hex32(N - s)}${flip}`, signer, false],
        ['r = 0', digest, `0x${hex32(0n)}${hex32(s)}${v}`, signer, false],
        ['s = 0', digest, `0x${hex32(r)}${hex32(0n)}${v}`, signer, false],
        ['r = n', digest, `0x${hex32(N)}${hex32(s)}${v}`, signer, false],
        ['r > n', digest, `0x${hex32(N + 1n)}${hex32(s)}${v}`, signer, false],
        ['r random', digest, `0x${randomHash().slice(2, 34)}${hex32(r).slice(32)}${hex32(s)}${v}`, signer, false],
        ['wrong signer', digest, signature, stranger, false],
        ['other digest', randomHash(), signature, signer, false],
        ['v 0/1', digest, `0x${rs}0${Number(v === '1c')}`, signer, false],
        ['compact', digest, `0x${rs}`, signer, false],
        ['uppercase', digest, signature.toUpperCase().replace('0X', '0x'), signer, false],
        ['garbage', digest, 'not a signature', signer, false],
        ['empty', digest, '', signer, false],
        ['signer not an address', digest, signature, '0x1234' as Address, false]
      ]
      // the JS path at first contact (nothing kept: the valid case goes first only after), then with the key kept
      for (const round of ['first contact', 'key kept']) {
        for (const [name, d, sig, who, expected] of round === 'first contact' ? [...cases.slice(1), cases[0] as typeof cases[0]] : cases) {
          const label = `${i} ${round} ${name}`
          expect(isSignedByWasm(wasm, d, sig, who), label).toBe(expected)
          expect(isSignedByNoble(d, sig, who), label).toBe(expected)
          expect(isSignedBy(d, sig, who), label).toBe(expected)
        }
      }
    }
  })

  it('refuses what ecrecover would take but the contract refuses, in both paths', async () => {
    const key = generatePrivateKey()
    const digest = keccak256(toHex('twin'))
    const signature = await sign({ hash: digest, privateKey: key, to: 'hex' })
    const s = BigInt(`0x${signature.slice(66, 130)}`)
    const twin = `0x${signature.slice(2, 66)}${hex32(N - s)}${signature.endsWith('1b') ? '1c' : '1b'}`
    // the twin is a valid signature by the same key to a bare recovery...
    const recovered = wasm.recoverPublicKeyUncompressed(hexToBytes(`0x${twin.slice(2, 130)}`), twin.endsWith('1b') ? 0 : 1, hexToBytes(digest))
    expect(recovered).toEqual(secp256k1.getPublicKey(hexToBytes(key), false))
    // ...and refused here
    const signer = privateKeyToAccount(key).address
    expect(isSignedByWasm(wasm, digest, twin, signer)).toBe(false)
    expect(isSignedByNoble(digest, twin, signer)).toBe(false)
  })
})
