import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InvalidConfigError } from '../../shared/errors.ts'
import { formatTimeout, parsePeerConfig, parseTimeout } from './peer-config.ts'

describe('peer --timeout', () => {
  it('reads durations, bare numbers as seconds, 0 as no bound', () => {
    expect(parseTimeout('250ms')).toBe(250)
    expect(parseTimeout('30')).toBe(30_000)
    expect(parseTimeout('1.5m')).toBe(90_000)
    expect(parseTimeout('2h')).toBe(7_200_000)
    expect(parseTimeout('0')).toBeUndefined()
    for (const bad of ['', 'soon', '-1s', '5 days']) expect(() => parseTimeout(bad)).toThrow(InvalidConfigError)
  })

  it('comes from the flag, then GOLEM_CLAY_TIMEOUT, then the config file, with a 5 minute default', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'gc-peer-config-')), 'peer.json')
    await writeFile(file, JSON.stringify({ timeout: 45 }))
    expect(parsePeerConfig([], {}).config.timeout).toBe(300_000)
    expect(parsePeerConfig(['--config', file], {}).config.timeout).toBe(45_000)
    expect(parsePeerConfig(['--config', file], { GOLEM_CLAY_TIMEOUT: '10s' }).config.timeout).toBe(10_000)
    expect(parsePeerConfig(['--timeout', '0'], { GOLEM_CLAY_TIMEOUT: '10s' }).config.timeout).toBeUndefined()
  })

  it('takes a payment key file from the flag or GOLEM_CLAY_PEER_PAYMENT_KEY_FILE', () => {
    expect(parsePeerConfig([], {}).config.paymentKeyFile).toBeUndefined()
    expect(parsePeerConfig(['--payment-key-file', '/k/pay'], {}).config.paymentKeyFile).toBe('/k/pay')
    expect(parsePeerConfig([], { GOLEM_CLAY_PEER_PAYMENT_KEY_FILE: '/k/env' }).config.paymentKeyFile).toBe('/k/env')
  })

  it('is said back in words', () => {
    expect(formatTimeout(250)).toBe('250 ms')
    expect(formatTimeout(3000)).toBe('3 s')
    expect(formatTimeout(90_000)).toBe('1.5 min')
    expect(formatTimeout(300_000)).toBe('5 min')
  })
})
