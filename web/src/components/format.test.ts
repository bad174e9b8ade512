import { describe, expect, it } from 'vitest'
import { formatMs, formatRtt, plural, relayHost, secondsUntil, shortId } from './format.ts'

describe('plural', () => {
  it('says "1 relay" and "2 relays", "0 tabs"', () => {
    expect(plural(1, 'relay')).toBe('1 relay')
    expect(plural(2, 'relay')).toBe('2 relays')
    expect(plural(0, 'tab')).toBe('0 tabs')
  })

  it('takes an irregular plural', () => {
    expect(plural(1, 'Node peer')).toBe('1 Node peer')
    expect(plural(3, 'provider')).toBe('3 providers')
    expect(plural(2, 'match', 'matches')).toBe('2 matches')
    expect(plural(1, 'match', 'matches')).toBe('1 match')
    expect(plural(664579, 'prime')).toBe('664,579 primes')
  })
})

describe('formatMs', () => {
  it('uses ms below a second, tenths of seconds below a minute, then minutes', () => {
    expect(formatMs(850.4)).toBe('850 ms')
    expect(formatMs(1_234)).toBe('1.2 s')
    expect(formatMs(59_940)).toBe('59.9 s')
    expect(formatMs(125_000)).toBe('2 min 5 s')
    expect(formatMs(120_000)).toBe('2 min')
  })

  it('shows a dash for what is not a duration', () => {
    expect(formatMs(Infinity)).toBe('—')
    expect(formatMs(Number.NaN)).toBe('—')
    expect(formatMs(-1)).toBe('—')
  })
})

describe('the other helpers', () => {
  it('shortens peer IDs and keeps short ones', () => {
    expect(shortId('12D3KooWAbCdEfGhIjKlMnOpQrStUv')).toBe('12D3KooW…QrStUv')
    expect(shortId('short')).toBe('short')
    expect(shortId(undefined)).toBe('…')
  })

  it('formats RTTs, countdowns and relay hosts', () => {
    expect(formatRtt(undefined)).toBe('—')
    expect(formatRtt(1.234)).toBe('1.2 ms')
    expect(formatRtt(42.6)).toBe('43 ms')
    expect(secondsUntil(undefined, 0)).toBe(0)
    expect(secondsUntil(2_500, 1_000)).toBe(2)
    expect(secondsUntil(0, 1_000)).toBe(0)
    expect(relayHost('/ip4/127.0.0.1/tcp/8080/ws/p2p/12D3KooW')).toBe('127.0.0.1:8080')
  })
})
