import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from '../errors.ts'
import { decodeJson } from '../wire/index.ts'
import { MAX_DIRECTORY_PEERS, validateDirectoryFrame, validateSubscribeFrame } from './directory-codec.ts'

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))
const entry = { id: '12D3KooWabc', role: 'tab', record: 'AAAA', since: 1 }

describe('directory codec', () => {
  it('accepts well-formed frames', () => {
    expect(decodeJson(enc({ v: 1, type: 'subscribe', role: 'node' }), validateSubscribeFrame).role).toBe('node')
    expect(decodeJson(enc({ v: 1, type: 'peers', peers: [entry] }), validateDirectoryFrame)).toEqual({ v: 1, type: 'peers', peers: [entry] })
    expect(decodeJson(enc({ v: 1, type: 'changes', added: [entry], removed: ['12D3KooWdef'] }), validateDirectoryFrame)).toEqual({ v: 1, type: 'changes', added: [entry], removed: ['12D3KooWdef'] })
  })

  it.each([
    ['unknown role', { v: 1, type: 'subscribe', role: 'admin' }],
    ['missing role', { v: 1, type: 'subscribe' }],
    ['wrong version', { v: 9, type: 'subscribe', role: 'tab' }]
  ])('refuses a subscribe frame with %s', (_, frame) => {
    expect(() => decodeJson(enc(frame), validateSubscribeFrame)).toThrow(InvalidMessageError)
  })

  it.each([
    ['peers not an array', { v: 1, type: 'peers', peers: {} }],
    ['an entry without a record', { v: 1, type: 'peers', peers: [{ ...entry, record: undefined }] }],
    ['an entry with a bad role', { v: 1, type: 'peers', peers: [{ ...entry, role: 'relay' }] }],
    ['an entry with no join time', { v: 1, type: 'peers', peers: [{ ...entry, since: null }] }],
    ['an oversized record', { v: 1, type: 'peers', peers: [{ ...entry, record: 'A'.repeat(9000) }] }],
    ['too many entries', { v: 1, type: 'peers', peers: Array.from({ length: MAX_DIRECTORY_PEERS + 1 }, () => entry) }],
    ['an unknown type', { v: 1, type: 'snapshot', peers: [entry] }],
    ['changes without a removed list', { v: 1, type: 'changes', added: [entry] }],
    ['changes removing a non-string', { v: 1, type: 'changes', added: [], removed: [42] }],
    ['changes removing too many', { v: 1, type: 'changes', added: [], removed: Array.from({ length: MAX_DIRECTORY_PEERS + 1 }, () => '12D3KooWdef') }],
    ['changes adding too many', { v: 1, type: 'changes', added: Array.from({ length: MAX_DIRECTORY_PEERS + 1 }, () => entry), removed: [] }]
  ])('refuses a directory frame with %s', (_, frame) => {
    expect(() => decodeJson(enc(frame), validateDirectoryFrame)).toThrow(InvalidMessageError)
  })
})
