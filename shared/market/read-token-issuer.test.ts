import { generateKeyPair } from '@libp2p/crypto/keys'
import { describe, expect, it } from 'vitest'
import { decodeToken, formatAddress, verifyToken } from '../storage/index.ts'
import { readTokenIssuer } from './read-token-issuer.ts'

const SHA = 'c'.repeat(64)
const DRIVE = 'd'.repeat(64)

describe('read tokens for a task', () => {
  it('reuses a token while it has life left, and issues a fresh one before it runs out', async () => {
    const key = await generateKeyPair('Ed25519')
    const provider = (await generateKeyPair('Ed25519')).publicKey.toString()
    let clock = 1_000_000
    const tokens = readTokenIssuer(key, { ttl: 10_000, now: () => clock })
    const ref = { address: formatAddress({ drive: DRIVE, path: 'task/module.wasm', sha256: SHA, size: 10, relays: [] }), sha256: SHA, size: 10 }
    const check = { holder: provider, op: 'read' as const, drive: DRIVE, path: 'task/module.wasm', sha256: SHA, issuers: [key.publicKey.toString()] }

    const first = await tokens.get(provider, ref)
    await verifyToken(first, { ...check, now: clock })
    clock += 8_000
    expect(await tokens.get(provider, ref)).toBe(first)

    // with less than a tenth of its life left, the next provider to ask gets a new one
    clock += 1_500
    const second = await tokens.get(provider, ref)
    expect(second).not.toBe(first)
    expect(decodeToken(second).claims.exp).toBe(clock + 10_000)
    // the old one would be refused soon after; the new one holds until its own end
    await expect(verifyToken(first, { ...check, now: clock + 120_000 })).rejects.toThrow(/expired/)
    await verifyToken(second, { ...check, now: clock + 9_000 })

    // another grantee gets its own
    const other = (await generateKeyPair('Ed25519')).publicKey.toString()
    expect(decodeToken(await tokens.get(other, ref)).claims.sub).toBe(other)
  })
})
