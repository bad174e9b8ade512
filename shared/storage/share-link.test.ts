import { describe, expect, it } from 'vitest'
import { InvalidAddressError } from './errors.ts'
import { parseAddress } from './object-address.ts'
import { formatShareLink, isShareId, isShareLink, parseShareLink, SHARE_ID_BYTES, shareIdFrom } from './share-link.ts'

const relay = '/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWMiQvBSMSmWPzaKUnC1zMUJ5xsFM8hsPs3nZqi9AAmsF2'

describe('share links', () => {
  it('carry 128 random bits in 26 characters, and round-trip', () => {
    const id = shareIdFrom(crypto.getRandomValues(new Uint8Array(SHARE_ID_BYTES)))
    expect(id).toMatch(/^[a-z2-7]{26}$/)
    expect(isShareId(id)).toBe(true)
    expect(() => shareIdFrom(new Uint8Array(8))).toThrow(RangeError)
    const text = formatShareLink({ id, relays: [relay] })
    expect(text).toBe(`golem-clay:share/${id}?relay=${relay}`)
    // short: an address with a token is about 940 characters
    expect(text.length).toBeLessThan(140)
    expect(isShareLink(` ${text}\n`)).toBe(true)
    expect(parseShareLink(` ${text}\n`)).toEqual({ id, relays: [relay] })
    expect(parseShareLink(`golem-clay:share/${id.toUpperCase()}`)).toEqual({ id, relays: [] })
  })

  it.each([
    ['golem-clay:share/', /damaged/],
    [`golem-clay:share/${'a'.repeat(20)}`, /cut short/],
    [`golem-clay:share/${'a'.repeat(25)}1`, /damaged/],
    [`golem-clay:share/${'a'.repeat(26)}?relay=%E0%A4%A`, /escaped/],
    ['golem-clay:abc', /starts with/]
  ])('refuses %s with a message a person can act on', (text, why) => {
    expect(() => parseShareLink(text)).toThrow(InvalidAddressError)
    expect(() => parseShareLink(text)).toThrow(why)
  })
})

describe('sizes in addresses', () => {
  const drive = 'ab'.repeat(32)
  const sha256 = 'cd'.repeat(32)
  it.each([
    ['99999999999999999999', /larger than any stored object/],
    ['1e9', /not a number of bytes/],
    ['0x10', /not a number of bytes/],
    ['9007199254740991', /larger than any stored object/]
  ])('refuses size=%s in words', (size, why) => {
    expect(() => parseAddress(`golem-clay:${drive}/a?sha256=${sha256}&size=${size}`)).toThrow(why)
  })

  it('takes a large but possible size as it is (the client checks it against what it can hold)', () => {
    expect(parseAddress(`golem-clay:${drive}/a?sha256=${sha256}&size=99999999999`).size).toBe(99999999999)
  })
})
