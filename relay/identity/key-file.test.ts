import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { KEY_FILE_NAME, KeyFileError, loadOrCreateKey } from './key-file.ts'

describe('key file', () => {
  it('creates a private key file once and loads the same identity after', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-key-'))
    const first = await loadOrCreateKey(dir)
    expect(first.created).toBe(true)
    expect((await stat(first.path)).mode & 0o777).toBe(0o600)
    const second = await loadOrCreateKey(dir)
    expect(second.created).toBe(false)
    expect(peerIdFromPrivateKey(second.key).equals(peerIdFromPrivateKey(first.key))).toBe(true)
  })

  it('refuses a corrupt key file and leaves it untouched', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-key-'))
    const path = join(dir, KEY_FILE_NAME)
    await writeFile(path, 'definitely not a key')
    await expect(loadOrCreateKey(dir)).rejects.toThrow(KeyFileError)
    await expect(loadOrCreateKey(dir)).rejects.toThrow(/corrupt/)
    expect(await readFile(path, 'utf8')).toBe('definitely not a key')
  })
})
