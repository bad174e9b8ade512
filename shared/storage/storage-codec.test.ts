import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from '../errors.ts'
import { Uint8ArrayList } from 'uint8arraylist'
import { decodeControl, decodeFrame, decodeFrameParts, encodeControl, encodeData, validatePutEnd, validateReply, validateRequest } from './storage-codec.ts'
import { FRAME_DATA } from './storage-protocol.ts'

describe('storage frames', () => {
  it('data frames carry offset, hash and bytes', () => {
    const hash = new Uint8Array(32).fill(7)
    const bytes = new Uint8Array([1, 2, 3])
    const offset = 2 ** 40 + 5
    const f = decodeFrame(encodeData(offset, hash, bytes).subarray())
    expect(f.kind).toBe('data')
    if (f.kind !== 'data') return
    expect(f.data.offset).toBe(offset)
    expect(f.data.sha256).toEqual(hash)
    expect(f.data.bytes).toEqual(bytes)
  })

  it('a data frame in pieces keeps its bytes in pieces; a control frame is joined', () => {
    const hash = new Uint8Array(32).fill(9)
    const whole = encodeData(123_456, hash, Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff)).subarray()
    // split where the transport might: inside the header and inside the bytes
    const parts = new Uint8ArrayList(whole.subarray(0, 20), whole.subarray(20, 300), whole.subarray(300))
    const f = decodeFrameParts(parts)
    expect(f.kind).toBe('data')
    if (f.kind !== 'data') return
    expect(f.offset).toBe(123_456)
    expect(f.sha256).toEqual(hash)
    expect(f.bytes.subarray()).toEqual(whole.subarray(41))
    expect([...f.bytes].length).toBe(2)
    const c = decodeFrameParts(new Uint8ArrayList(encodeControl({ v: 1, op: 'drive' })))
    expect(c.kind).toBe('control')
    expect(() => decodeFrameParts(new Uint8ArrayList(Uint8Array.of(1, 2, 3)))).toThrow(InvalidMessageError)
  })

  it('control frames round-trip through their validators', () => {
    const req = { v: 1, op: 'get', drive: 'ab'.repeat(32), path: 'x', offset: 10 } as const
    const f = decodeFrame(encodeControl(req))
    expect(f.kind === 'control' && decodeControl(f.bytes, validateRequest)).toEqual(req)
    const err = { v: 1, type: 'error', error: { name: 'ChunkCorruptedError', message: 'bad', offset: 5 } } as const
    const g = decodeFrame(encodeControl(err))
    expect(g.kind === 'control' && decodeControl(g.bytes, validateReply)).toEqual(err)
    // a put may leave its hash to the `end` frame after its last chunk
    const later = { v: 1, op: 'put', path: 'big.bin', size: 10 } as const
    const h = decodeFrame(encodeControl(later))
    expect(h.kind === 'control' && decodeControl(h.bytes, validateRequest)).toEqual(later)
    const end = { v: 1, type: 'end', sha256: 'ab'.repeat(32) } as const
    const e = decodeFrame(encodeControl(end))
    expect(e.kind === 'control' && decodeControl(e.bytes, validatePutEnd)).toEqual(end)
    // share links: a share ID is 26 base32 characters, a grantee a peer ID or anyone
    const resolve = { v: 1, op: 'resolve', id: 'a'.repeat(26) } as const
    const r = decodeFrame(encodeControl(resolve))
    expect(r.kind === 'control' && decodeControl(r.bytes, validateRequest)).toEqual(resolve)
    const shared = { v: 1 as const, type: 'shared' as const, id: 'b2'.repeat(13), expiresAt: 5, relays: ['/ip4/1.2.3.4/tcp/1'] }
    const s = decodeFrame(encodeControl(shared))
    expect(s.kind === 'control' && decodeControl(s.bytes, validateReply)).toEqual(shared)
  })

  it.each([
    { v: 1, type: 'end' },
    { v: 1, type: 'end', sha256: 'AB'.repeat(32) },
    { v: 1, type: 'end', sha256: 'ab'.repeat(31) },
    { v: 1, type: 'ack', sha256: 'ab'.repeat(32) },
    { v: 2, type: 'end', sha256: 'ab'.repeat(32) },
    'end'
  ])('refuses a malformed end frame %#', (value) => {
    expect(() => validatePutEnd(value)).toThrow(InvalidMessageError)
  })

  it.each([
    ['empty', new Uint8Array(0)],
    ['unknown kind', new Uint8Array([9, 1, 2])],
    ['data header only', new Uint8Array(41).fill(0).map((_, i) => i === 0 ? FRAME_DATA : 0)]
  ])('refuses a %s frame', (_what, bytes) => {
    expect(() => decodeFrame(bytes)).toThrow(InvalidMessageError)
  })

  it.each([
    { v: 1, op: 'put', path: 'a', size: -1, sha256: 'ab'.repeat(32) },
    { v: 1, op: 'put', path: 'a', size: 1.5, sha256: 'ab'.repeat(32) },
    { v: 1, op: 'put', path: 'a', size: 1, sha256: 'AB'.repeat(32) },
    // a token binds the hash: it must come up front
    { v: 1, op: 'put', path: 'a', size: 1, token: 't', drive: 'ab'.repeat(32) },
    { v: 1, op: 'get', drive: 'zz'.repeat(32), path: 'a', offset: 0 },
    { v: 2, op: 'drive' },
    { v: 1, op: 'format-disk' },
    { v: 1, op: 'replicate', addrs: 'x' },
    { v: 1, op: 'resolve', id: 'a'.repeat(25) },
    { v: 1, op: 'resolve', id: '0'.repeat(26) },
    { v: 1, op: 'share', drive: 'ab'.repeat(32), path: 'a' },
    [1, 2, 3]
  ])('refuses a malformed request %#', (value) => {
    expect(() => validateRequest(value)).toThrow(InvalidMessageError)
  })
})
