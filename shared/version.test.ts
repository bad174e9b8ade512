import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CLIENT_VERSION } from './version.ts'

describe('version', () => {
  it('matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    expect(CLIENT_VERSION).toBe(pkg.version)
  })
})
