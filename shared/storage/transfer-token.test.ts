import { generateKeyPair } from '@libp2p/crypto/keys'
import { beforeAll, describe, expect, it } from 'vitest'
import { InvalidTokenError } from './errors.ts'
import { decodeToken, issueToken, verifyToken } from './transfer-token.ts'
import type { TokenCheck } from './transfer-token.ts'
import type { PrivateKey } from '@libp2p/interface'

let owner: PrivateKey
let grantee: string
let stranger: string
const drive = '12'.repeat(32)
const sha256 = '34'.repeat(32)

beforeAll(async () => {
  owner = await generateKeyPair('Ed25519')
  grantee = (await generateKeyPair('Ed25519')).publicKey.toString()
  stranger = (await generateKeyPair('Ed25519')).publicKey.toString()
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
    const [payload, sig] = token.split('.') as [string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    // the stranger grants itself access in the owner's name
    const forged = `${Buffer.from(JSON.stringify({ ...claims, sub: stranger })).toString('base64url')}.${sig}`
    await expect(verifyToken(forged, check({ holder: stranger }))).rejects.toThrow(/signature/)
    const flipped = `${payload}.${Buffer.from(Buffer.from(sig, 'base64url').map((b, i) => i === 0 ? b ^ 1 : b)).toString('base64url')}`
    await expect(verifyToken(flipped, check())).rejects.toThrow(/signature/)
  })

  it('a read token must name the content; a write token may leave it open', async () => {
    const read = await issueToken(owner, { grantee, op: 'read', drive, path: 'a/b.bin' })
    await expect(verifyToken(read, check())).rejects.toThrow(/content hash/)
    const write = await issueToken(owner, { grantee, op: 'write', drive, path: 'out/result.bin' })
    await expect(verifyToken(write, check({ op: 'write', path: 'out/result.bin' }))).resolves.toMatchObject({ op: 'write' })
  })

  it.each(['', 'abc', 'a.b.c', 'x'.repeat(5000), `${Buffer.from('{"v":2}').toString('base64url')}.AA`, `${Buffer.from('not json').toString('base64url')}.AA`])('refuses malformed token %#', (text) => {
    expect(() => decodeToken(text)).toThrow(InvalidTokenError)
  })
})
