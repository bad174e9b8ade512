import { generateKeyPair } from '@libp2p/crypto/keys'
import { RecordEnvelope } from '@libp2p/peer-record'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { beforeAll, describe, expect, it } from 'vitest'
import { InvalidTokenError } from './errors.ts'
import { ANYONE, decodeToken, issueToken, verifyToken } from './transfer-token.ts'
import type { TokenCheck } from './transfer-token.ts'
import type { PrivateKey } from '@libp2p/interface'

let owner: PrivateKey
let strangerKey: PrivateKey
let grantee: string
let stranger: string
const drive = '12'.repeat(32)
const sha256 = '34'.repeat(32)

beforeAll(async () => {
  owner = await generateKeyPair('Ed25519')
  grantee = (await generateKeyPair('Ed25519')).publicKey.toString()
  strangerKey = await generateKeyPair('Ed25519')
  stranger = strangerKey.publicKey.toString()
})

function check (over: Partial<TokenCheck> = {}): TokenCheck {
  return { holder: grantee, op: 'read', drive, path: 'a/b.bin', sha256, issuers: [owner.publicKey.toString()], ...over }
}

describe('transfer tokens', () => {
  it('a token signed by the owner lets its grantee read that object', async () => {
    const token = await issueToken(owner, { grantee, op: 'read', drive, path: 'a/b.bin', sha256 })
    const claims = await verifyToken(token, check())
    expect(claims).toMatchObject({ iss: owner.publicKey.toString(), sub: grantee, op: 'read', drive, path: 'a/b.bin', sha256 })
  })

  it.each<[string, Partial<TokenCheck>, RegExp]>([
    ['another holder', { holder: 'x' }, /another peer/],
    ['another path', { path: 'a/c.bin' }, /another object/],
    ['another drive', { drive: '56'.repeat(32) }, /another object/],
    ['other content', { sha256: '78'.repeat(32) }, /other content/],
    ['another operation', { op: 'write' }, /allows read/],
    ['an issuer that is not the owner', { issuers: ['12D3KooWMiQvBSMSmWPzaKUnC1zMUJ5xsFM8hsPs3nZqi9AAmsF2'] }, /owner/]
  ])('is refused for %s', async (_what, over, message) => {
    const token = await issueToken(owner, { grantee, op: 'read', drive, path: 'a/b.bin', sha256 })
    await expect(verifyToken(token, check(over))).rejects.toThrow(InvalidTokenError)
    await expect(verifyToken(token, check(over))).rejects.toThrow(message)
  })

  it('expires, with a minute of grace for clock skew', async () => {
    const token = await issueToken(owner, { grantee, op: 'read', drive, path: 'a/b.bin', sha256, ttl: 1000, now: Date.now() - 30_000 })
    await expect(verifyToken(token, check())).resolves.toBeTruthy()
    const old = await issueToken(owner, { grantee, op: 'read', drive, path: 'a/b.bin', sha256, ttl: 1000, now: Date.now() - 120_000 })
    await expect(verifyToken(old, check())).rejects.toThrow(/expired/)
  })

  it('a forged or altered token does not verify', async () => {
    const token = await issueToken(owner, { grantee, op: 'read', drive, path: 'a/b.bin', sha256 })
    const envelope = RecordEnvelope.createFromProtobuf(fromString(token, 'base64url'))
    const text = (changes: Partial<RecordEnvelope>): string => toString(new RecordEnvelope({ ...envelope, ...changes }).marshal(), 'base64url')
    const claims = JSON.parse(new TextDecoder().decode(envelope.payload))
    // the stranger grants itself access in the owner's name, keeping the owner's signature
    const altered = text({ payload: new TextEncoder().encode(JSON.stringify({ ...claims, sub: stranger })) })
    await expect(verifyToken(altered, check({ holder: stranger }))).rejects.toThrow(/signature/)
    const flipped = text({ signature: envelope.signature.map((b, i) => i === 0 ? b ^ 1 : b) })
    await expect(verifyToken(flipped, check())).rejects.toThrow(/signature/)
    // or signs such claims, naming the owner as issuer, with its own key
    const payload = new TextEncoder().encode(JSON.stringify({ ...claims, sub: stranger }))
    const forged = await RecordEnvelope.seal({ domain: 'golem-clay-storage', codec: envelope.payloadType, marshal: () => payload, equals: () => false }, strangerKey)
    await expect(verifyToken(toString(forged.marshal(), 'base64url'), check({ holder: stranger }))).rejects.toThrow(/signature/)
  })

  it('a read token for anyone lets any holder read that object, and only read it', async () => {
    const token = await issueToken(owner, { grantee: ANYONE, op: 'read', drive, path: 'a/b.bin', sha256 })
    await expect(verifyToken(token, check({ holder: stranger }))).resolves.toMatchObject({ sub: ANYONE })
    await expect(verifyToken(token, check({ holder: stranger, path: 'a/c.bin' }))).rejects.toThrow(/another object/)
    await expect(issueToken(owner, { grantee: ANYONE, op: 'write', drive, path: 'a/b.bin' })).rejects.toThrow(/Only a read token/)
  })

  it('a read token must name the content; a write token may leave it open', async () => {
    const read = await issueToken(owner, { grantee, op: 'read', drive, path: 'a/b.bin' })
    await expect(verifyToken(read, check())).rejects.toThrow(/content hash/)
    const write = await issueToken(owner, { grantee, op: 'write', drive, path: 'out/result.bin' })
    await expect(verifyToken(write, check({ op: 'write', path: 'out/result.bin' }))).resolves.toMatchObject({ op: 'write' })
  })

  it.each(['', 'abc', 'a.b.c', 'x'.repeat(5000), toString(new TextEncoder().encode('{"v":1}'), 'base64url')])('refuses malformed token %#', (text) => {
    expect(() => decodeToken(text)).toThrow(InvalidTokenError)
  })

  it('refuses a token cut short, or an envelope of another kind', async () => {
    const token = await issueToken(owner, { grantee, op: 'read', drive, path: 'a/b.bin', sha256 })
    expect(() => decodeToken(token.slice(0, -10))).toThrow(InvalidTokenError)
    const envelope = RecordEnvelope.createFromProtobuf(fromString(token, 'base64url'))
    const other = new RecordEnvelope({ ...envelope, payloadType: new TextEncoder().encode('task') })
    expect(() => decodeToken(toString(other.marshal(), 'base64url'))).toThrow(/signature/)
  })
})
