import { generateKeyPair } from '@libp2p/crypto/keys'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { beforeAll, describe, expect, it } from 'vitest'
import { InvalidSignatureError } from '../errors.ts'
import { createPaymentBinding, MAX_PAYMENT_BINDING_LENGTH, PAYMENT_BINDING_KIND, PaymentBindingInvalidError, paymentProofText } from '../payments/index.ts'
import { signJson } from '../wire/index.ts'
import { openHeader, openOffer } from './bound-messages.ts'
import { encodeGossip, openGossip } from './market-gossip.ts'
import { openMessage, signMessage } from './signed.ts'
import { validateOffer } from './market-codec.ts'
import type { Offer, TaskHeader } from './market-codec.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { PrivateKeyAccount } from 'viem/accounts'

const SHA = 'a'.repeat(64)
let alice: PrivateKey
let bob: PrivateKey
let aliceWallet: PrivateKeyAccount
let bobWallet: PrivateKeyAccount
let aliceBinding: string
let bobBinding: string

beforeAll(async () => {
  [alice, bob] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
  aliceWallet = privateKeyToAccount(generatePrivateKey())
  bobWallet = privateKeyToAccount(generatePrivateKey())
  aliceBinding = await createPaymentBinding(alice, aliceWallet)
  bobBinding = await createPaymentBinding(bob, bobWallet)
})

function header (requestor: PrivateKey, payment: string): TaskHeader {
  return {
    v: 1, type: 'task', id: crypto.randomUUID(), requestor: requestor.publicKey.toString(), requestorAddrs: [], name: 'x',
    module: { address: 'golem-clay:x', sha256: SHA, size: 10 }, inputs: { address: 'golem-clay:y', sha256: SHA, size: 20 },
    subtasks: 1, price: 1, deadline: Date.now() + 60_000, subtaskTimeout: 1000,
    requirements: { runtimes: ['node'], memoryMB: 16 }, verification: { mode: 'none', k: 1 }, createdAt: Date.now(), payment
  }
}

function offer (provider: PrivateKey, payment: string): Offer {
  return { v: 1, type: 'offer', task: 't1', provider: provider.publicKey.toString(), providerAddrs: [], runtime: 'node', cores: 2, price: 1, at: Date.now(), payment }
}

describe('offers and task headers with their payment bindings', () => {
  it('open to the author\'s verified payment address', async () => {
    const o = await openOffer(await signMessage(bob, 'offer', offer(bob, bobBinding)))
    expect(o.account).toMatchObject({ peer: bob.publicKey.toString(), address: bobWallet.address })
    const h = await openHeader(await signMessage(alice, 'task', header(alice, aliceBinding)))
    expect(h.account.address).toBe(aliceWallet.address)
    const gossip = await openGossip(encodeGossip('task', h.text))
    expect(gossip.kind === 'task' && gossip.opened.account.address).toBe(aliceWallet.address)
  })

  it('refuse an offer whose binding names another peer than its provider', async () => {
    // alice offers with bob's (genuine) binding, to be paid at his address or to pass as him
    const text = await signMessage(alice, 'offer', offer(alice, bobBinding))
    // the offer itself is well signed; only the binding gives it away
    expect((await openMessage(text, 'offer', validateOffer, x => x.provider)).signer).toBe(alice.publicKey.toString())
    await expect(openOffer(text)).rejects.toThrow(PaymentBindingInvalidError)
  })

  it('refuse a header whose binding names another peer than its requestor, on gossip too', async () => {
    const text = await signMessage(alice, 'task', header(alice, bobBinding))
    await expect(openHeader(text)).rejects.toThrow(PaymentBindingInvalidError)
    await expect(openGossip(encodeGossip('task', text))).rejects.toThrow(PaymentBindingInvalidError)
  })

  it('refuse a forged binding and one whose proof is not the bound address\'s', async () => {
    // bob signs a binding that names alice, to bind his wallet to her offers
    const statement = { v: 1, type: 'payment-binding', peer: alice.publicKey.toString(), address: bobWallet.address, at: Date.now(), proof: await bobWallet.signMessage({ message: paymentProofText(alice.publicKey.toString()) }) }
    const forged = await signJson(bob, PAYMENT_BINDING_KIND, statement, MAX_PAYMENT_BINDING_LENGTH)
    await expect(openOffer(await signMessage(alice, 'offer', offer(alice, forged)))).rejects.toThrow(InvalidSignatureError)
    // alice claims bob's address, without his key to prove it
    const claimed = await signJson(alice, PAYMENT_BINDING_KIND, { ...statement, proof: await aliceWallet.signMessage({ message: paymentProofText(alice.publicKey.toString()) }) }, MAX_PAYMENT_BINDING_LENGTH)
    await expect(openOffer(await signMessage(alice, 'offer', offer(alice, claimed)))).rejects.toThrow(PaymentBindingInvalidError)
    await expect(openHeader(await signMessage(alice, 'task', header(alice, claimed)))).rejects.toThrow(PaymentBindingInvalidError)
  })

  it('refuse an offer or header with no binding, or one past its length', async () => {
    const { payment: _, ...bare } = offer(bob, bobBinding)
    await expect(openOffer(await signMessage(bob, 'offer', bare))).rejects.toThrow(/"payment"/)
    await expect(openOffer(await signMessage(bob, 'offer', offer(bob, 'x'.repeat(MAX_PAYMENT_BINDING_LENGTH + 1))))).rejects.toThrow(/"payment"/)
    await expect(openHeader(await signMessage(alice, 'task', header(alice, 'not a binding')))).rejects.toMatchObject({ name: 'InvalidMessageError' })
  })
})
