import { generateKeyPair } from '@libp2p/crypto/keys'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { RecordEnvelope } from '@libp2p/peer-record'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from '../errors.ts'
import { createPaymentBinding } from '../payments/index.ts'
import { decodeJson } from '../wire/index.ts'
import { packInputs, unpackInputs } from './input-bundle.ts'
import { validateAssignment, validateHeader, validateOffer, validateReport } from './market-codec.ts'
import { InvalidSignatureError, InvalidTaskError } from './market-errors.ts'
import { encodeGossip, openGossip } from './market-gossip.ts'
import { encodeRequest, validateRequest } from './market-wire.ts'
import { openMessage, signMessage } from './signed.ts'
import type { Assignment, TaskHeader } from './market-codec.ts'

const SHA = 'a'.repeat(64)

/** A header; its payment binding is only checked where the header is opened with it (openHeader, gossip), so plain text does for the codec. */
async function header (requestor: string, payment = 'binding'): Promise<TaskHeader> {
  return {
    v: 1, type: 'task', id: 't1', requestor, requestorAddrs: [], name: 'x',
    module: { address: 'golem-clay:x', sha256: SHA, size: 10 }, inputs: { address: 'golem-clay:y', sha256: SHA, size: 20 },
    subtasks: 2, price: 1, deadline: Date.now() + 60_000, subtaskTimeout: 1000,
    requirements: { runtimes: ['browser'], memoryMB: 16 }, verification: { mode: 'none', k: 1 }, createdAt: Date.now(), payment
  }
}

const TYPED = ['InvalidMessageError', 'InvalidSignatureError', 'MessageTooLargeError', 'PaymentBindingInvalidError']

describe('offers', () => {
  it('may name a payee (an address, nothing else) to be paid instead of the bound account', async () => {
    const key = await generateKeyPair('Ed25519')
    const offer = { v: 1, type: 'offer', task: 't1', provider: key.publicKey.toString(), providerAddrs: [], runtime: 'browser', cores: 1, price: 1, at: Date.now(), payment: 'binding' }
    expect(validateOffer(offer).payee).toBeUndefined()
    const payee = '0x00000000000000000000000000000000000C1a11'
    expect(validateOffer({ ...offer, payee }).payee).toBe(payee)
    for (const bad of ['0x1234', 'c1a11', 42, null, `${payee}00`]) expect(() => validateOffer({ ...offer, payee: bad })).toThrow(InvalidMessageError)
  })
})

describe('signed market messages', () => {
  it('verify with the signer named inside, and nothing else', async () => {
    const alice = await generateKeyPair('Ed25519')
    const mallory = await generateKeyPair('Ed25519')
    const h = await header(alice.publicKey.toString())
    const text = await signMessage(alice, 'task', h)
    expect((await openMessage(text, 'task', validateHeader, x => x.requestor)).body).toEqual(h)

    // mallory signs a header that names alice as requestor
    const forged = await signMessage(mallory, 'task', h)
    await expect(openMessage(forged, 'task', validateHeader, x => x.requestor)).rejects.toThrow(InvalidSignatureError)

    // one changed byte in the payload breaks the signature
    const envelope = RecordEnvelope.createFromProtobuf(fromString(text, 'base64url'))
    const body = JSON.parse(new TextDecoder().decode(envelope.payload))
    body.subtasks = 3
    const tampered = new RecordEnvelope({ ...envelope, payload: new TextEncoder().encode(JSON.stringify(body)) })
    await expect(openMessage(toString(tampered.marshal(), 'base64url'), 'task', validateHeader, x => x.requestor)).rejects.toThrow(InvalidSignatureError)

    // a signature made for one kind of message never passes as another kind
    const a: Assignment = { v: 1, type: 'assign', id: 'a1', task: 't1', requestor: h.requestor, provider: h.requestor, subtask: 0, input: SHA, deadline: Date.now() + 1000, at: Date.now() }
    const signedAssign = await signMessage(alice, 'assign', a)
    await expect(openMessage(signedAssign, 'report', validateAssignment, x => x.requestor)).rejects.toThrow(InvalidSignatureError)
  })

  it('refuse schema violations with InvalidMessageError', async () => {
    const alice = await generateKeyPair('Ed25519')
    const h = await header(alice.publicKey.toString())
    for (const bad of [{ ...h, subtasks: 0 }, { ...h, verification: { mode: 'magic', k: 1 } }, { ...h, requirements: { runtimes: ['gpu'], memoryMB: 1 } }, { ...h, module: { ...h.module, sha256: 'xyz' } }]) {
      await expect(openMessage(await signMessage(alice, 'task', bad), 'task', validateHeader, x => x.requestor)).rejects.toMatchObject({ name: 'InvalidMessageError' })
    }
    expect(() => validateReport({ v: 1, type: 'report', assignment: 'x', provider: 'p', computeMs: 1, at: 1 })).toThrow(/error/)
  })

  it('bound every time a timer is set from: deadlines within the task\'s lifetime, nothing from the future', async () => {
    const h = await header('r')
    const now = Date.now()
    // 2^31 ms away made timers fire at once; 2^32 ms threw from AbortSignal.timeout
    for (const deadline of [now + 2 ** 31, now + 2 ** 32, now + 8 * 24 * 3600_000, Number.MAX_SAFE_INTEGER, 1.5 + now]) {
      expect(() => validateHeader({ ...h, deadline })).toThrow(InvalidMessageError)
    }
    expect(validateHeader({ ...h, deadline: now + 7 * 24 * 3600_000 - 1_000 }).deadline).toBeGreaterThan(now)
    // a creation time far ahead of our clock would carry the deadline with it
    expect(() => validateHeader({ ...h, createdAt: now + 3600_000, deadline: now + 3600_000 + 1000 })).toThrow(/future/)
    const a: Assignment = { v: 1, type: 'assign', id: 'a1', task: 't1', requestor: 'r', provider: 'p', subtask: 0, input: SHA, deadline: now + 1000, at: now }
    expect(validateAssignment(a).deadline).toBe(now + 1000)
    expect(() => validateAssignment({ ...a, deadline: now + 2 ** 32 })).toThrow(InvalidMessageError)
    expect(() => validateAssignment({ ...a, at: now + 2 ** 31 })).toThrow(/future/)
  })
})

describe('market requests', () => {
  it('carry read tokens beside an assignment only, within their size', () => {
    const tokens = { module: 'm'.repeat(600), inputs: 'i'.repeat(600) }
    const round = (req: object): unknown => decodeJson(encodeRequest(req as any), validateRequest)
    expect(round({ v: 1, kind: 'assign', msg: 'a.b', header: 'h.s', tokens })).toEqual({ v: 1, kind: 'assign', msg: 'a.b', header: 'h.s', tokens })
    expect(() => round({ v: 1, kind: 'report', msg: 'a.b', tokens })).toThrow(/Only an assignment/)
    expect(() => round({ v: 1, kind: 'assign', msg: 'a.b', tokens: { module: 'm' } })).toThrow(/inputs/)
    expect(() => round({ v: 1, kind: 'assign', msg: 'a.b', tokens: { module: 'm'.repeat(5000), inputs: 'i' } })).toThrow(/module/)
  })

  it('keep a signed assignment under 1,000 characters, as reports and verdicts nest it', async () => {
    // a report nests the assignment and a verdict nests the report: each layer is base64 of the last
    const alice = await generateKeyPair('Ed25519')
    const id = alice.publicKey.toString()
    const a: Assignment = { v: 1, type: 'assign', id: crypto.randomUUID(), task: crypto.randomUUID(), requestor: id, provider: id, subtask: 99, input: SHA, deadline: Date.now(), at: Date.now() }
    expect((await signMessage(alice, 'assign', a)).length).toBeLessThan(1000)
  })
})

describe('input bundles', () => {
  it('round-trip, and refuse truncated or inconsistent bundles', () => {
    const inputs = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array([9])]
    const bundle = packInputs(inputs)
    expect(unpackInputs(bundle)).toEqual(inputs)
    expect(() => unpackInputs(bundle.subarray(0, bundle.length - 1))).toThrow(InvalidTaskError)
    const wrongCount = bundle.slice()
    new DataView(wrongCount.buffer).setUint32(4, 1000, true)
    expect(() => unpackInputs(wrongCount)).toThrow(InvalidTaskError)
    const backwards = bundle.slice()
    new DataView(backwards.buffer).setUint32(12, 2, true)
    expect(() => unpackInputs(backwards)).toThrow(InvalidTaskError)
    expect(() => unpackInputs(new Uint8Array(4))).toThrow(InvalidTaskError)
  })
})

describe('fuzz: market frames and gossip', () => {
  it('random, truncated and mutated frames only ever give typed errors', async () => {
    const alice = await generateKeyPair('Ed25519')
    const good = encodeRequest({ v: 1, kind: 'report', msg: await signMessage(alice, 'task', await header(alice.publicKey.toString())), data: new Uint8Array([1, 2, 3]) })
    const payment = await createPaymentBinding(alice, privateKeyToAccount(generatePrivateKey()))
    const gossip = encodeGossip('task', await signMessage(alice, 'task', await header(alice.publicKey.toString(), payment)))
    expect((await openGossip(gossip)).kind).toBe('task')
    let seed = 42
    const rand = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32 }
    for (let i = 0; i < 10_000; i++) {
      const base = i % 2 === 0 ? good : gossip
      let frame: Uint8Array
      const mode = i % 3
      if (mode === 0) frame = Uint8Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256))
      else if (mode === 1) frame = base.subarray(0, Math.floor(rand() * base.length))
      else {
        frame = base.slice()
        for (let j = 0; j < 1 + Math.floor(rand() * 4); j++) frame[Math.floor(rand() * frame.length)] = Math.floor(rand() * 256)
      }
      try {
        if (i % 2 === 0) decodeJson(frame, validateRequest)
        else await openGossip(frame)
      } catch (err: any) {
        expect(TYPED).toContain(err.name)
      }
    }
  })
})
