import { describe, expect, it } from 'vitest'
import { InvalidPathError } from './errors.ts'
import { safeFileName, validateObjectPath } from './object-path.ts'

describe('object paths', () => {
  it('accepts relative paths with ordinary names', () => {
    for (const p of ['a', 'results/out.bin', 'über/naïve file (1).txt', 'a/b/c/d.e.f', '.hidden', '..x', 'x..']) {
      expect(validateObjectPath(p)).toBe(p)
    }
  })

  it.each([
    ['', 'non-empty'],
    ['/etc/passwd', 'relative'],
    ['../secret', '".."'],
    ['a/../../b', '".."'],
    ['a/./b', '"."'],
    ['a//b', 'empty segment'],
    ['a/', 'empty segment'],
    ['a\\..\\b', 'backslash'],
    ['C:/x', 'drive letter'],
    ['a\u0000b', 'control'],
    ['a\nb', 'control'],
    ['a\u2028b', 'control'],
    ['a\u007fb', 'control'],
    ['x'.repeat(256), 'longer than 255'],
    ['a/'.repeat(600) + 'b', 'longer than 1024'],
    ['e\u0301', 'NFC']
  ])('refuses %j (%s)', (path, why) => {
    expect(() => validateObjectPath(path)).toThrow(InvalidPathError)
    expect(() => validateObjectPath(path)).toThrow(new RegExp(why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'))
  })

  it('refuses what is not a string', () => {
    expect(() => validateObjectPath(42)).toThrow(InvalidPathError)
    expect(() => validateObjectPath(null)).toThrow(InvalidPathError)
  })

  it('turns any file name into one safe segment', () => {
    for (const name of ['../../x', 'a/b', 'c\\d', '..', '\u0000', '', 'ok.txt']) {
      expect(() => validateObjectPath(safeFileName(name))).not.toThrow()
    }
    expect(safeFileName('ok.txt')).toBe('ok.txt')
  })
})
