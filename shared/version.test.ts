import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import { CLIENT_VERSION } from './version.ts'

describe('version', () => {
  it('matches package.json', () => {
    expect(CLIENT_VERSION).toBe(pkg.version)
  })
})
