import { getAddress, recoverMessageAddress } from 'viem/utils'
import { InvalidMessageError } from '../errors.ts'
import { decodeSignedJson, expectInt, expectLiteral, expectPeerId, expectRecord, expectString, signJson, verifySigned } from '../wire/index.ts'
import { PaymentBindingInvalidError } from './payment-errors.ts'
import type { SignedKind } from '../wire/index.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { Address, Hex } from 'viem'

/**
 * A payment binding ties a node's payment account (a secp256k1 key, an
 * Ethereum address) to its peer ID: a statement signed with the libp2p
 * key, in the signed-envelope format every protocol uses, holding a proof
 * of possession, an EIP-191 signature by the payment key over a fixed
 * text naming the peer. The envelope says the peer chose the address; the
 * proof says the address's holder agreed, so nobody binds an address
 * whose key they lack. Offers and task headers carry it as text.
 */
export interface PaymentBindingStatement {
  v: 1
  type: 'payment-binding'
  /** The peer ID that signs the envelope. */
  peer: string
  /** Checksummed (EIP-55). */
  address: Address
  /** When it was made, ms since the epoch: of two bindings of one peer, the newer holds. */
  at: number
  /** EIP-191 signature by `address` over paymentProofText(peer). */
  proof: Hex
}

/** A verified binding: whom `peer` is paid at, and who pays for `peer`. */
export interface PaymentBinding {
  peer: string
  address: Address
  at: number
  /** The binding as it travels. */
  text: string
}

export interface OpenPaymentBindingOptions {
  /** The peer the binding must bind (an offer's provider, a header's requestor); PaymentBindingInvalidError for another. */
  peer?: string
}

/** Domain separation: this signature never passes as a market message, a token or a peer record. */
export const PAYMENT_BINDING_KIND: SignedKind = { domain: 'golem-clay-payments', type: 'binding' }
/** Longest binding text accepted (one is ~600 characters with an Ed25519 key). */
export const MAX_PAYMENT_BINDING_LENGTH = 2048
/** How far ahead of our clock a binding's `at` may be, ms (as for market messages). */
const MAX_CLOCK_SKEW = 10 * 60 * 1000
const PROOF = /^0x[0-9a-f]{130}$/

/** What the payment key signs (EIP-191 personal message) to prove it agrees to pay and be paid for `peer`. */
export function paymentProofText (peer: string): string {
  return `Golem Clay payment account for ${peer}`
}

/** A payment account as a binding needs it: a viem local account does. */
export interface BindingSigner {
  address: Address
  signMessage: (args: { message: string }) => Promise<Hex>
}

/**
 * Verified bindings by exact text: every offer and header carries its
 * author's, the same one for the author's whole run. Least recently used
 * out first.
 */
const verified = new Map<string, PaymentBinding>()
const VERIFIED_MAX = 512

function remember (binding: PaymentBinding): void {
  verified.delete(binding.text)
  if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value as string)
  verified.set(binding.text, binding)
}

/**
 * Signs a binding of `account` to the peer of `key` (the node's libp2p
 * key); returns its text. PaymentBindingInvalidError when the account's
 * signature is not its address's: what we make goes into the cache of
 * verified bindings, which other nodes in this process read too.
 */
export async function createPaymentBinding (key: PrivateKey, account: BindingSigner, at = Date.now()): Promise<string> {
  const peer = key.publicKey.toString()
  const statement: PaymentBindingStatement = {
    v: 1, type: 'payment-binding', peer, address: getAddress(account.address), at, proof: await account.signMessage({ message: paymentProofText(peer) })
  }
  await checkProof(statement)
  const text = await signJson(key, PAYMENT_BINDING_KIND, statement, MAX_PAYMENT_BINDING_LENGTH)
  remember({ peer, address: statement.address, at, text })
  return text
}

function validateBindingStatement (value: unknown): PaymentBindingStatement {
  const obj = expectRecord(value, 'payment binding')
  expectLiteral(obj, 'v', [1])
  expectLiteral(obj, 'type', ['payment-binding'])
  const address = expectString(obj, 'address', 42)
  let checksummed: Address
  try {
    checksummed = getAddress(address)
  } catch {
    throw new InvalidMessageError('"address" is not an Ethereum address')
  }
  if (checksummed !== address) throw new InvalidMessageError('"address" must be checksummed (EIP-55)')
  const at = expectInt(obj, 'at', 0, Number.MAX_SAFE_INTEGER)
  if (at > Date.now() + MAX_CLOCK_SKEW) throw new InvalidMessageError('"at" lies in the future (more than 10 minutes ahead of our clock)')
  const proof = expectString(obj, 'proof', 132)
  if (!PROOF.test(proof)) throw new InvalidMessageError('"proof" must be a 65-byte signature in lowercase 0x hex')
  return { v: 1, type: 'payment-binding', peer: expectPeerId(obj, 'peer'), address: checksummed, at, proof: proof as Hex }
}

/**
 * Parses and verifies a binding: the envelope signed by the peer it names,
 * the proof signed by the address it names, and the peer the one expected.
 * InvalidMessageError when malformed, InvalidSignatureError for an envelope
 * signature or signer that does not check out, PaymentBindingInvalidError
 * for a bad proof or another peer than `options.peer`.
 */
export async function openPaymentBinding (text: unknown, options: OpenPaymentBindingOptions = {}): Promise<PaymentBinding> {
  const known = typeof text === 'string' ? verified.get(text) : undefined
  if (known != null) {
    expectPeer(known.peer, options.peer)
    remember(known)
    return known
  }
  // the cheap checks first: parse, schema, the envelope's signer, the peer expected
  const signed = decodeSignedJson(text, PAYMENT_BINDING_KIND, validateBindingStatement, { maxLength: MAX_PAYMENT_BINDING_LENGTH, signerOf: b => b.peer })
  const { peer, address, at } = signed.body
  expectPeer(peer, options.peer)
  await verifySigned(signed)
  await checkProof(signed.body)
  const binding: PaymentBinding = { peer, address, at, text: signed.text }
  remember(binding)
  return binding
}

/** The proof is the bound address's signature over the text naming the peer. */
async function checkProof ({ peer, address, proof }: PaymentBindingStatement): Promise<void> {
  let signer: Address
  try {
    signer = await recoverMessageAddress({ message: paymentProofText(peer), signature: proof })
  } catch {
    throw new PaymentBindingInvalidError('The payment binding\'s proof is not a valid signature')
  }
  if (signer !== address) throw new PaymentBindingInvalidError(`The payment binding's proof was signed by ${signer}, not by the address it binds`)
}

function expectPeer (bound: string, expected: string | undefined): void {
  if (expected != null && bound !== expected) throw new PaymentBindingInvalidError(`The payment binding is for ${bound}, not for ${expected}`)
}
