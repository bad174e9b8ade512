import { describe, expect, it } from 'vitest'
import { UsageError } from '../../../shared/errors.ts'
import { fallbackReason, storageUnavailable } from './storage-fallback.ts'

describe('whether a stored identity can be tried', () => {
  const locks = { query: async () => ({}) }

  it('yes, with IndexedDB, sessionStorage and Web Locks, or without Web Locks (an insecure origin)', async () => {
    expect(await storageUnavailable({ indexedDB: {}, sessionStorage: {}, navigator: { locks } })).toBeUndefined()
    expect(await storageUnavailable({ indexedDB: {}, sessionStorage: {}, navigator: {} })).toBeUndefined()
  })

  it('no, without IndexedDB or sessionStorage', async () => {
    expect(await storageUnavailable({ sessionStorage: {}, navigator: { locks } })).toMatch(/keep data \(no IndexedDB\)/)
    expect(await storageUnavailable({ indexedDB: {}, navigator: { locks } })).toMatch(/no sessionStorage/)
  })

  it('no, where reading storage throws (site data blocked, a sandboxed iframe)', async () => {
    const scope = {
      indexedDB: {},
      navigator: { locks },
      get sessionStorage (): unknown { throw new DOMException('Access is denied for this document.', 'SecurityError') }
    }
    expect(await storageUnavailable(scope)).toMatch(/Access is denied/)
  })

  it('no, where Web Locks refuse the origin (which would otherwise read as every slot held)', async () => {
    const refused = { query: async () => { throw new DOMException('The request was denied.', 'SecurityError') } }
    expect(await storageUnavailable({ indexedDB: {}, sessionStorage: {}, navigator: { locks: refused } })).toMatch(/request was denied/)
  })
})

describe('falling back to an identity in memory', () => {
  it('when the browser\'s storage failed', () => {
    expect(fallbackReason(new DOMException('Internal error opening backing store', 'UnknownError'))).toBe('this browser does not let the page keep data (Internal error opening backing store)')
    expect(fallbackReason(new DOMException('quota', 'QuotaExceededError'))).toMatch(/keep data/)
    expect(fallbackReason(new TypeError('indexedDB is undefined'))).toMatch(/keep data/)
  })

  it('not for our own errors (every slot held by an open tab), nor an aborted claim', () => {
    expect(fallbackReason(new UsageError('All 64 identity slots are held by open tabs: close one and reload'))).toBeUndefined()
    expect(fallbackReason(new DOMException('aborted', 'AbortError'))).toBeUndefined()
  })
})
