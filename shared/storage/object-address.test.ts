import { describe, expect, it } from 'vitest'
import { InvalidAddressError } from './errors.ts'
import { formatAddress, parseAddress, withoutToken } from './object-address.ts'

const drive = 'ab'.repeat(32)
const sha256 = 'cd'.repeat(32)
const relays = ['/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWMiQvBSMSmWPzaKUnC1zMUJ5xsFM8hsPs3nZqi9AAmsF2', '/dns4/relay.example.org/tcp/443/tls/ws/p2p/12D3KooWMiQvBSMSmWPzaKUnC1zMUJ5xsFM8hsPs3nZqi9AAmsF2']

describe('object addresses', () => {
  it('round-trips, paths with spaces and unicode included', () => {
    const a = { drive, path: 'results/über file?&=#.bin', sha256, size: 123456789, relays, token: 'eyJ2IjoxfQ.c2ln' }
    const text = formatAddress(a)
    expect(text.startsWith(`golem-clay:${drive}/results/`)).toBe(true)
    expect(parseAddress(text)).toEqual(a)
    expect(parseAddress(` ${formatAddress(withoutToken(a))}\n`)).toEqual({ drive, path: a.path, sha256, size: a.size, relays })
  })

  it.each([
    ['http://x', 'starts with'],
    [`golem-clay:${drive}`, 'no path'],
    [`golem-clay:xyz/a?sha256=${sha256}&size=1`, 'drive key'],
    [`golem-clay:${drive}/../a?sha256=${sha256}&size=1`, 'path'],
    [`golem-clay:${drive}/a?size=1`, 'sha256'],
    [`golem-clay:${drive}/a?sha256=${sha256}`, 'size'],
    [`golem-clay:${drive}/a?sha256=${sha256}&size=-1`, 'size'],
    [`golem-clay:${drive}/%E0%A4%A?sha256=${sha256}&size=1`, 'escaped']
  ])('refuses %s', (text, why) => {
    expect(() => parseAddress(text)).toThrow(InvalidAddressError)
    expect(() => parseAddress(text)).toThrow(new RegExp(why, 'i'))
  })
})
