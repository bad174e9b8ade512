import { wrongCase } from '../testing/index.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { logger } from '@libp2p/logger'
import { RecordEnvelope } from '@libp2p/peer-record'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { beforeAll, describe, expect, it } from 'vitest'
import { InvalidMessageError, InvalidSignatureError } from '../errors.ts'
import { signJson } from '../wire/index.ts'
import { createPaymentBinding, MAX_PAYMENT_BINDING_LENGTH, openPaymentBinding, PAYMENT_BINDING_KIND, paymentProofText } from './payment-binding.ts'
import { PaymentAccount } from './payment-account.ts'
import { InvalidPaymentKeyError, PaymentBindingInvalidError } from './payment-errors.ts'
import { generatePaymentKey, parsePaymentKey, paymentAddressOf } from './payment-key.ts'
import type { PaymentBindingStatement } from './payment-binding.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { PrivateKeyAccount } from 'viem/accounts'

let alice: PrivateKey
let bob: PrivateKey
let mallory: PrivateKey
let aliceId: string
let bobId: string
let wallet: PrivateKeyAccount
let other: PrivateKeyAccount

beforeAll(async () => {
  [alice, bob, mallory] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
  aliceId = alice.publicKey.toString()
  bobId = bob.publicKey.toString()
  wallet = privateKeyToAccount(generatePrivateKey())
  other = privateKeyToAccount(generatePrivateKey())
})

/** A statement as alice's wallet would make it, with `changes`. */
async function statement (changes: Partial<PaymentBindingStatement> = {}): Promise<PaymentBindingStatement> {
  return { v: 1, type: 'payment-binding', peer: aliceId, address: wallet.address, at: Date.now(), proof: await wallet.signMessage({ message: paymentProofText(aliceId) }), ...changes }
}

/** Sealed by `key` without going through createPaymentBinding (so in no cache of verified bindings). */
async function seal (key: PrivateKey, body: unknown): Promise<string> {
  return await signJson(key, PAYMENT_BINDING_KIND, body as object, MAX_PAYMENT_BINDING_LENGTH)
}

describe('payment bindings', () => {
  it('bind the payment address to the peer that signed, and open to both', async () => {
    const text = await createPaymentBinding(alice, wallet)
    expect(text.length).toBeLessThan(1000)
    expect(await openPaymentBinding(text, { peer: aliceId })).toMatchObject({ peer: aliceId, address: wallet.address, text })
    // not only from the cache our own go into: a statement sealed by hand verifies the same
    const sealed = await seal(alice, await statement())
    expect(await openPaymentBinding(sealed)).toMatchObject({ peer: aliceId, address: wallet.address })
    // a peer ID holding a secp256k1 key does too
    const k1 = await generateKeyPair('secp256k1')
    expect((await openPaymentBinding(await createPaymentBinding(k1, wallet), { peer: k1.publicKey.toString() })).address).toBe(wallet.address)
  })

  it('refuse a binding signed by another key than the peer it names (a forgery)', async () => {
    const forged = await seal(mallory, await statement())
    await expect(openPaymentBinding(forged)).rejects.toThrow(InvalidSignatureError)
    await expect(openPaymentBinding(forged, { peer: aliceId })).rejects.toThrow(/not by the peer it names/)
  })

  it('refuse a genuine binding of another peer than the one expected', async () => {
    const text = await createPaymentBinding(bob, wallet)
    // from the cache and from the bytes alike
    await expect(openPaymentBinding(text, { peer: aliceId })).rejects.toThrow(PaymentBindingInvalidError)
    const sealed = await seal(bob, await statement({ peer: bobId, proof: await wallet.signMessage({ message: paymentProofText(bobId) }) }))
    await expect(openPaymentBinding(sealed, { peer: aliceId })).rejects.toThrow(`is for ${bobId}, not for ${aliceId}`)
    expect((await openPaymentBinding(sealed, { peer: bobId })).peer).toBe(bobId)
  })

  it('refuse a proof not made by the address bound, or made for another peer', async () => {
    // an address whose key alice lacks: the proof comes from her own wallet
    const claimed = await seal(alice, await statement({ address: other.address }))
    await expect(openPaymentBinding(claimed)).rejects.toThrow(PaymentBindingInvalidError)
    await expect(openPaymentBinding(claimed)).rejects.toThrow(/not by the address it binds/)
    // the right wallet, but its proof was for bob: lifted from bob's binding
    const lifted = await seal(alice, await statement({ proof: await wallet.signMessage({ message: paymentProofText(bobId) }) }))
    await expect(openPaymentBinding(lifted)).rejects.toThrow(PaymentBindingInvalidError)
    // well-formed hex that is no signature at all
    const junk = await seal(alice, await statement({ proof: `0x${'00'.repeat(64)}1b` }))
    await expect(openPaymentBinding(junk)).rejects.toThrow(PaymentBindingInvalidError)
    // nor is one made here: what we make is taken as verified by every node of this process
    await expect(createPaymentBinding(alice, { address: other.address, signMessage: async (args) => await wallet.signMessage(args) })).rejects.toThrow(PaymentBindingInvalidError)
  })

  it('refuse a tampered statement and a binding of another kind', async () => {
    const text = await seal(alice, await statement())
    const envelope = RecordEnvelope.createFromProtobuf(fromString(text, 'base64url'))
    const body = { ...JSON.parse(new TextDecoder().decode(envelope.payload)), address: other.address }
    const tampered = toString(new RecordEnvelope({ ...envelope, payload: new TextEncoder().encode(JSON.stringify(body)) }).marshal(), 'base64url')
    await expect(openPaymentBinding(tampered)).rejects.toThrow(InvalidSignatureError)
    const market = await signJson(alice, { domain: 'golem-clay-market', type: 'binding' }, await statement(), MAX_PAYMENT_BINDING_LENGTH)
    await expect(openPaymentBinding(market)).rejects.toThrow(InvalidSignatureError)
    const otherType = await signJson(alice, { domain: PAYMENT_BINDING_KIND.domain, type: 'offer' }, await statement(), MAX_PAYMENT_BINDING_LENGTH)
    await expect(openPaymentBinding(otherType)).rejects.toThrow(/another kind/)
  })

  it('refuse malformed input with InvalidMessageError', async () => {
    for (const bad of [undefined, 42, '', 'not a binding', 'x'.repeat(MAX_PAYMENT_BINDING_LENGTH + 1)]) {
      await expect(openPaymentBinding(bad), String(bad).slice(0, 20)).rejects.toThrow(InvalidMessageError)
    }
    const good = await statement()
    const bodies: unknown[] = [
      { ...good, v: 2 },
      { ...good, type: 'binding' },
      { ...good, address: wrongCase(good.address) },
      { ...good, address: '0x1234' },
      { ...good, proof: good.proof.toUpperCase() },
      { ...good, proof: good.proof.slice(0, 100) },
      { ...good, at: Date.now() + 3600_000 },
      { ...good, at: -1 },
      (({ proof: _, ...rest }) => rest)(good)
    ]
    for (const body of bodies) {
      await expect(openPaymentBinding(await seal(alice, body)), JSON.stringify(body)).rejects.toThrow(InvalidMessageError)
    }
  })
})

describe('payment keys', () => {
  it('read 64 hex digits, with or without 0x and whitespace, and nothing else', () => {
    const key = generatePaymentKey()
    expect(parsePaymentKey(key)).toBe(key)
    expect(parsePaymentKey(`  ${key.slice(2).toUpperCase()}\n`)).toBe(key)
    for (const bad of ['', '0x', key.slice(0, 60), `${key}00`, `0x${'g'.repeat(64)}`, `0x${'0'.repeat(64)}`, `0x${'f'.repeat(64)}`]) {
      expect(() => parsePaymentKey(bad), bad).toThrow(InvalidPaymentKeyError)
    }
    // the message never repeats the text: it may be a key with a typo
    expect(() => parsePaymentKey(key.slice(0, 60))).toThrow(expect.objectContaining({ message: expect.not.stringContaining(key.slice(2, 60)) }))
  })
})

describe('the payment account service', () => {
  it('makes one binding for its key and peer, and a fresh key when given none', async () => {
    const key = generatePaymentKey()
    const account = new PaymentAccount({ privateKey: alice, logger: { forComponent: (name: string) => logger(name) } }, { privateKey: key })
    expect(account.address).toBe(paymentAddressOf(key))
    expect(account.peer).toBe(aliceId)
    account.start()
    const text = await account.binding()
    expect(await account.binding()).toBe(text)
    expect(await openPaymentBinding(text, { peer: aliceId })).toMatchObject({ address: account.address })
    const fresh = new PaymentAccount({ privateKey: alice, logger: { forComponent: (name: string) => logger(name) } })
    expect(fresh.address).not.toBe(account.address)
  })
})
