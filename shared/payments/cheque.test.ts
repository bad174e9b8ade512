import { wrongCase } from '../testing/index.ts'
import { recoverTypedDataAddress } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { checkChequeProgress, chequeDigest, signCheque, verifyCheque } from './cheque.ts'
import { chequeTypes, depositDomain, MAX_AMOUNT } from './deposit-typed-data.ts'
import {
  ChequeInvalidError, ChequeNotHigherError, ChequeSeqBackwardsError, PaymentRefusedError, WrongBeneficiaryError, WrongDeploymentError, WrongProviderError, WrongRequestorError, WrongSignerError
} from './payment-errors.ts'
import { chequeFromWire, chequeToWire } from './payment-wire.ts'
import { isSignedBy, signatureParts } from './signature-check.ts'
import type { SignedCheque } from './cheque.ts'
import type { Cheque, DepositDeployment } from './deposit-typed-data.ts'
import type { Hex } from 'viem'

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const TOKEN = 10n ** 18n

const deployment: DepositDeployment = { chainId: 31337, address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', salt: `0x${'5a'.repeat(32)}` }
const requestor = privateKeyToAccount(generatePrivateKey())
const provider = privateKeyToAccount(generatePrivateKey())
const mallory = privateKeyToAccount(generatePrivateKey())
const expected = { deployment, requestor: requestor.address, beneficiary: provider.address, provider: provider.address }

function cheque (cumulative: bigint, seq: bigint, changes: Partial<Cheque> = {}): Cheque {
  return { requestor: requestor.address, beneficiary: provider.address, provider: provider.address, cumulative, seq, ...changes }
}

/** The same r, the other s (n − s) and the other v: as valid to plain ECDSA, refused by the contract. */
function malleated (signature: Hex): Hex {
  const s = BigInt(`0x${signature.slice(66, 130)}`)
  const v = Number.parseInt(signature.slice(130), 16)
  return `${signature.slice(0, 66)}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as Hex
}

/** The same r and s with the other v: ecrecover gives another address. */
function flipped (signature: Hex): Hex {
  return `${signature.slice(0, 130)}${signature.endsWith('1b') ? '1c' : '1b'}` as Hex
}

describe('cheques', () => {
  it('are signed by the requestor over the contract\'s EIP-712 digest, and verify', async () => {
    const signed = await signCheque(requestor, deployment, cheque(5n * TOKEN, 1n))
    expect(signed.signature).toMatch(/^0x[0-9a-f]{130}$/)
    expect(await recoverTypedDataAddress({ domain: depositDomain(deployment), types: chequeTypes, primaryType: 'Cheque', message: signed.cheque, signature: signed.signature })).toBe(requestor.address)
    expect(verifyCheque(signed, expected)).toBe(signed)
    // again, now from the cached key (the fast path), and many more
    for (let i = 2n; i < 6n; i++) expect(verifyCheque(await signCheque(requestor, deployment, cheque(i * TOKEN, i)), expected).cheque.seq).toBe(i)
    // the signer must be the cheque's requestor
    await expect(signCheque(mallory, deployment, cheque(TOKEN, 1n))).rejects.toThrow(ChequeInvalidError)
  })

  it('are refused when signed by anyone but the requestor, or over other terms', async () => {
    // mallory signs a cheque in another's name: refused at first contact (recovery) and once the key is known alike
    const victim = privateKeyToAccount(generatePrivateKey())
    const forged = await signCheque(mallory, deployment, cheque(TOKEN, 1n, { requestor: mallory.address }))
    const claim = { ...forged, cheque: { ...forged.cheque, requestor: victim.address } }
    expect(() => verifyCheque(claim, { ...expected, requestor: victim.address })).toThrow(WrongSignerError)
    verifyCheque(await signCheque(victim, deployment, cheque(TOKEN, 1n, { requestor: victim.address })), { ...expected, requestor: victim.address })
    expect(() => verifyCheque(claim, { ...expected, requestor: victim.address })).toThrow(WrongSignerError)
    const genuine = await signCheque(requestor, deployment, cheque(2n * TOKEN, 2n))
    for (const terms of [{ cumulative: 3n * TOKEN }, { seq: 3n }]) {
      expect(() => verifyCheque({ ...genuine, cheque: { ...genuine.cheque, ...terms } }, expected)).toThrow(WrongSignerError)
    }
    // the other v recovers another address: ecrecover would refuse it, so do we (even on the fast path)
    expect(() => verifyCheque({ ...genuine, signature: flipped(genuine.signature) }, expected)).toThrow(WrongSignerError)
    const stranger = privateKeyToAccount(generatePrivateKey())
    const first = await signCheque(stranger, deployment, cheque(TOKEN, 1n, { requestor: stranger.address }))
    expect(() => verifyCheque({ ...first, signature: flipped(first.signature) }, { ...expected, requestor: stranger.address })).toThrow(WrongSignerError)
  })

  it('are refused for another chain, contract or salt, another requestor or another beneficiary', async () => {
    const signed = await signCheque(requestor, deployment, cheque(TOKEN, 1n))
    const others: DepositDeployment[] = [{ ...deployment, chainId: 1 }, { ...deployment, address: mallory.address }, { ...deployment, salt: `0x${'5b'.repeat(32)}` }]
    for (const other of others) {
      expect(() => verifyCheque(signed, { ...expected, deployment: other }), JSON.stringify(other)).toThrow(WrongDeploymentError)
      // signed for the other deployment and claiming ours: the digest differs, so the signer does
      const elsewhere = await signCheque(requestor, other, cheque(TOKEN, 1n))
      expect(() => verifyCheque({ ...elsewhere, deployment }, expected)).toThrow(WrongSignerError)
    }
    // an address in another case is the same deployment
    expect(verifyCheque({ ...signed, deployment: { ...deployment, address: deployment.address.toLowerCase() as Hex } }, expected).cheque).toEqual(signed.cheque)
    expect(() => verifyCheque(signed, { ...expected, requestor: mallory.address })).toThrow(WrongRequestorError)
    expect(() => verifyCheque(signed, { ...expected, beneficiary: mallory.address })).toThrow(WrongBeneficiaryError)
    expect(() => verifyCheque(signed, { ...expected, beneficiary: mallory.address })).toThrow(PaymentRefusedError)
    // paying our payee for another provider's work: that account's counters are not ours to keep
    expect(() => verifyCheque(signed, { ...expected, provider: mallory.address })).toThrow(WrongProviderError)
    const forOther = await signCheque(requestor, deployment, cheque(TOKEN, 1n, { provider: mallory.address }))
    expect(() => verifyCheque(forOther, expected)).toThrow(WrongProviderError)
    expect(verifyCheque(forOther, { ...expected, provider: mallory.address })).toBe(forOther)
  })

  it('are refused when malformed: amounts the contract cannot pay, signatures it would not take', async () => {
    const signed = await signCheque(requestor, deployment, cheque(TOKEN, 1n))
    for (const terms of [{ cumulative: 0n }, { cumulative: MAX_AMOUNT + 1n }, { seq: 0n }, { seq: 2n ** 64n }]) {
      expect(() => verifyCheque({ ...signed, cheque: { ...signed.cheque, ...terms } }, expected)).toThrow(ChequeInvalidError)
      await expect(signCheque(requestor, deployment, cheque(TOKEN, 1n, terms))).rejects.toThrow(ChequeInvalidError)
    }
    // addresses that are none, or with a bad checksum: not through the wire form, but still refused as malformed
    const letter = requestor.address.slice(2).search(/[a-fA-F]/) + 2
    const flip = (c: string): string => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())
    const badChecksum = `${requestor.address.slice(0, letter)}${flip(requestor.address.charAt(letter))}${requestor.address.slice(letter + 1)}`
    for (const requestorText of ['0x1234', badChecksum]) {
      expect(() => verifyCheque({ ...signed, cheque: { ...signed.cheque, requestor: requestorText as Hex } }, { ...expected, requestor: requestorText as Hex }), requestorText).toThrow(ChequeInvalidError)
    }
    const bad: string[] = [
      malleated(signed.signature), // the high-s twin: ECDSA takes it, OpenZeppelin's ECDSA does not
      `${signed.signature.slice(0, 130)}00`, `${signed.signature.slice(0, 130)}01`, // v as 0/1
      signed.signature.slice(0, 130), // 64 bytes
      signed.signature.toUpperCase().replace('0X', '0x'),
      `0x${'00'.repeat(65)}`,
      `0x${N.toString(16)}${signed.signature.slice(66)}` // r = n
    ]
    for (const signature of bad) {
      expect(signatureParts(signature), signature).toBeUndefined()
      expect(() => verifyCheque({ ...signed, signature: signature as Hex }, expected), signature).toThrow(ChequeInvalidError)
      expect(isSignedBy(chequeDigest(deployment, signed.cheque), signature, requestor.address)).toBe(false)
    }
  })

  it('move forward only: a higher cumulative than held and paid out, a seq not lower', () => {
    const held = cheque(10n, 3n)
    checkChequeProgress(cheque(11n, 3n), held)
    checkChequeProgress(cheque(11n, 4n), held, 10n)
    checkChequeProgress(cheque(1n, 1n), undefined)
    expect(() => checkChequeProgress(cheque(10n, 3n), held)).toThrow(ChequeNotHigherError) // replayed
    expect(() => checkChequeProgress(cheque(9n, 4n), held)).toThrow(ChequeNotHigherError) // lower
    expect(() => checkChequeProgress(cheque(12n, 5n), held, 12n)).toThrow(ChequeNotHigherError) // already paid out (notes drawn)
    expect(() => checkChequeProgress(cheque(12n, 2n), held)).toThrow(ChequeSeqBackwardsError)
  })
})

describe('the cheque wire form', () => {
  it('carries a cheque as JSON and back, amounts as decimal strings', async () => {
    const signed = await signCheque(requestor, deployment, cheque(MAX_AMOUNT, 7n))
    const wire = chequeToWire(signed)
    expect(wire).toMatchObject({ v: 2, chainId: 31337, contract: deployment.address, cumulative: MAX_AMOUNT.toString(), seq: 7 })
    const back: SignedCheque = chequeFromWire(JSON.parse(JSON.stringify(wire)))
    expect(back).toEqual(signed)
    expect(verifyCheque(back, expected)).toEqual(signed)
    expect(JSON.stringify(wire).length).toBeLessThan(600)
  })

  it('refuses malformed ones with ChequeInvalidError', async () => {
    const wire = chequeToWire(await signCheque(requestor, deployment, cheque(TOKEN, 1n)))
    const { cumulative: _, ...noCumulative } = wire
    const { provider: __, ...noProvider } = wire
    const bad: unknown[] = [
      undefined, null, 'cheque', [], noCumulative, noProvider,
      { ...wire, v: 1 }, { ...wire, v: 3 },
      { ...wire, cumulative: '0' }, { ...wire, cumulative: '01' }, { ...wire, cumulative: '-1' }, { ...wire, cumulative: '1.5' }, { ...wire, cumulative: 1 },
      { ...wire, cumulative: (MAX_AMOUNT + 1n).toString() }, { ...wire, cumulative: '9'.repeat(40) }, { ...wire, cumulative: '1e18' },
      { ...wire, seq: 0 }, { ...wire, seq: 1.5 }, { ...wire, seq: '1' }, { ...wire, seq: 2 ** 53 },
      { ...wire, chainId: 0 }, { ...wire, chainId: '31337' },
      { ...wire, requestor: wrongCase(wire.requestor) }, { ...wire, beneficiary: '0x1234' }, { ...wire, provider: '0x1234' }, { ...wire, provider: wrongCase(wire.provider) }, { ...wire, contract: `${wire.contract}00` },
      { ...wire, salt: wire.salt.slice(0, 64) }, { ...wire, salt: wire.salt.toUpperCase() },
      { ...wire, signature: wire.signature.slice(0, 130) }, { ...wire, signature: `${wire.signature}00` }, { ...wire, signature: 'x'.repeat(100_000) }
    ]
    for (const value of bad) expect(() => chequeFromWire(value), JSON.stringify(value)?.slice(0, 200)).toThrow(ChequeInvalidError)
  })
})
