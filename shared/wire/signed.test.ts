import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { InvalidMessageError, InvalidSignatureError } from '../errors.ts'
import { decodeSignedJson, openSignedJson, signJson, verifySigned } from './signed.ts'
import { expectInt, expectPeerId, expectRecord } from './validators.ts'
import type { SignedKind } from './signed.ts'
import type { PrivateKey } from '@libp2p/interface'

interface Note { author: string, n: number }

const NOTE: SignedKind = { domain: 'golem-clay-test', type: 'note' }
const MAX = 4096
const validate = (value: unknown): Note => {
  const obj = expectRecord(value, 'note')
  return { author: expectPeerId(obj, 'author'), n: expectInt(obj, 'n', 0, 9) }
}
const open = async (text: unknown, kind = NOTE): Promise<unknown> => await openSignedJson(text, kind, validate, { maxLength: MAX, signerOf: b => b.author })

let alice: PrivateKey
let mallory: PrivateKey
let aliceId: string

beforeAll(async () => {
  alice = await generateKeyPair('Ed25519')
  mallory = await generateKeyPair('Ed25519')
  aliceId = peerIdFromPrivateKey(alice).toString()
})

afterEach(() => { vi.restoreAllMocks() })

/** An envelope sealed by hand (so it is not in the verified cache), as text. */
async function seal (key: PrivateKey, body: unknown, kind = NOTE): Promise<string> {
  const payload = new TextEncoder().encode(JSON.stringify(body))
  const codec = new TextEncoder().encode(kind.type)
  const envelope = await RecordEnvelope.seal({ domain: kind.domain, codec, marshal: () => payload, equals: () => false }, key)
  return toString(envelope.marshal(), 'base64url')
}

function envelopeOf (text: string): RecordEnvelope {
  return RecordEnvelope.createFromProtobuf(fromString(text, 'base64url'))
}

function textOf (envelope: RecordEnvelope, changes: Partial<RecordEnvelope>): string {
  return toString(new RecordEnvelope({ ...envelope, ...changes }).marshal(), 'base64url')
}

describe('signed envelopes', () => {
  it('open to the body and the signer, with the signer\'s key inside', async () => {
    const text = await signJson(alice, NOTE, { author: aliceId, n: 3 }, MAX)
    expect(await open(text)).toEqual({ body: { author: aliceId, n: 3 }, signer: aliceId, text })
    // our own text skipped the check above; libp2p's own verification takes it (in a browser it was signed through WebCrypto)
    expect(await envelopeOf(text).validate(NOTE.domain)).toBe(true)
    expect(await open(await seal(alice, { author: aliceId, n: 4 }))).toMatchObject({ body: { n: 4 }, signer: aliceId })
  })

  it('refuse a wrong signature, a tampered payload and another signer than the one named', async () => {
    const text = await seal(alice, { author: aliceId, n: 3 })
    const envelope = envelopeOf(text)
    await expect(open(textOf(envelope, { signature: envelope.signature.map((b, i) => i === 5 ? b ^ 1 : b) }))).rejects.toThrow(InvalidSignatureError)
    await expect(open(textOf(envelope, { payload: new TextEncoder().encode(JSON.stringify({ author: aliceId, n: 4 })) }))).rejects.toThrow(InvalidSignatureError)
    await expect(open(await seal(mallory, { author: aliceId, n: 3 }))).rejects.toThrow(/not by the peer it names/)
  })

  it('refuse an envelope of another domain or kind, a peer record among them', async () => {
    const body = { author: aliceId, n: 1 }
    await expect(open(await seal(alice, body, { domain: 'golem-clay-other', type: 'note' }))).rejects.toThrow(InvalidSignatureError)
    await expect(open(await signJson(alice, { domain: 'golem-clay-other', type: 'note' }, body, MAX))).rejects.toThrow(InvalidSignatureError)
    await expect(open(await seal(alice, body, { domain: NOTE.domain, type: 'memo' }))).rejects.toThrow(/another kind/)
    const record = await RecordEnvelope.seal(new PeerRecord({ peerId: peerIdFromPrivateKey(alice), multiaddrs: [] }), alice)
    await expect(open(toString(record.marshal(), 'base64url'))).rejects.toThrow(InvalidSignatureError)
  })

  it('refuse truncated, oversized and malformed texts, and bodies off their schema', async () => {
    const text = await seal(alice, { author: aliceId, n: 3 })
    for (let cut = 0; cut < text.length; cut += 7) {
      const err = await open(text.slice(0, cut)).catch((e: Error) => e)
      expect([InvalidMessageError, InvalidSignatureError].some(C => err instanceof C), `cut at ${cut}`).toBe(true)
    }
    await expect(open(text.slice(0, -20))).rejects.toThrow(InvalidMessageError)
    for (const bad of [undefined, 42, '', '!!!', 'x'.repeat(MAX + 1), toString(new TextEncoder().encode('{}'), 'base64url')]) {
      await expect(open(bad)).rejects.toThrow(InvalidMessageError)
    }
    await expect(open(await seal(alice, { author: aliceId, n: 10 }))).rejects.toThrow(InvalidMessageError)
    await expect(open(await seal(alice, 'not an object'))).rejects.toThrow(InvalidMessageError)
    await expect(signJson(alice, NOTE, { author: aliceId, pad: 'x'.repeat(MAX) }, MAX)).rejects.toThrow(InvalidMessageError)
  })

  it('verify each text once: a repeat, or our own message coming back, is only parsed', async () => {
    const validateSpy = vi.spyOn(RecordEnvelope.prototype, 'validate')
    const theirs = await seal(alice, { author: aliceId, n: 7 })
    await open(theirs)
    await open(theirs)
    expect(validateSpy).toHaveBeenCalledTimes(1)
    await open(await signJson(alice, NOTE, { author: aliceId, n: 8 }, MAX))
    expect(validateSpy).toHaveBeenCalledTimes(1)
    // the same bytes in another domain are checked there
    await expect(open(theirs, { domain: 'golem-clay-other', type: 'note' })).rejects.toThrow(InvalidSignatureError)
    expect(validateSpy).toHaveBeenCalledTimes(2)
  })

  it('decode without verifying, so a reader can refuse on cheap checks first', async () => {
    const text = await seal(alice, { author: aliceId, n: 2 })
    const envelope = envelopeOf(text)
    const forged = textOf(envelope, { signature: new Uint8Array(64) })
    const signed = decodeSignedJson(forged, NOTE, validate, { maxLength: MAX })
    expect(signed.body.n).toBe(2)
    await expect(verifySigned(signed)).rejects.toThrow(InvalidSignatureError)
  })
})
