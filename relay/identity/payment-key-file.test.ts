import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePaymentKey, paymentAddressOf } from '../../shared/payments/index.ts'
import { KeyFileError, KeyFilePermissionsError } from './key-file.ts'
import { loadPaymentKey, PAYMENT_KEY_FILE_NAME } from './payment-key-file.ts'

let root: string
const fresh = async (): Promise<string> => await mkdtemp(join(root, 'dir-'))

beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'gc-payment-key-')) })
afterAll(async () => { await rm(root, { recursive: true, force: true }) })

describe('payment key file', () => {
  it('is made once in the data folder, mode 600, and the same account is loaded after', async () => {
    const dir = join(await fresh(), 'not-yet')
    const first = await loadPaymentKey({ dataDir: dir })
    expect(first?.created).toBe(true)
    expect(first?.path).toBe(join(dir, PAYMENT_KEY_FILE_NAME))
    expect((await stat(first?.path ?? '')).mode & 0o777).toBe(0o600)
    expect((await readFile(first?.path ?? '', 'utf8')).trim()).toBe(first?.key)
    const second = await loadPaymentKey({ dataDir: dir })
    expect(second).toMatchObject({ created: false, key: first?.key, address: first?.address })
  })

  it('without a file or a data folder, is left to the node (a key for this run only)', async () => {
    expect(await loadPaymentKey({})).toBeUndefined()
  })

  it('--payment-key-file: uses the key brought, never makes one, and wins over the data folder', async () => {
    const dir = await fresh()
    const key = generatePaymentKey()
    const file = join(dir, 'my-key')
    await writeFile(file, `${key.slice(2)}\n`, { mode: 0o600 })
    expect(await loadPaymentKey({ file, dataDir: dir })).toMatchObject({ key, address: paymentAddressOf(key), created: false, path: file })
    await expect(stat(join(dir, PAYMENT_KEY_FILE_NAME))).rejects.toThrow()
    await expect(loadPaymentKey({ file: join(dir, 'missing') })).rejects.toThrow(KeyFileError)
    await expect(loadPaymentKey({ file: join(dir, 'missing') })).rejects.toThrow(/does not exist/)
  })

  it.skipIf(process.platform === 'win32')('refuses a key file other users may read or write, and leaves it as it is', async () => {
    const dir = await fresh()
    const made = await loadPaymentKey({ dataDir: dir })
    const path = made?.path ?? ''
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      await chmod(path, mode)
      const err = await loadPaymentKey({ dataDir: dir }).catch((e: Error) => e)
      expect(err, mode.toString(8)).toBeInstanceOf(KeyFilePermissionsError)
      expect((err as KeyFilePermissionsError).code).toBe('KEY_FILE_PERMISSIONS')
      expect((err as Error).message).toContain(`chmod 600 ${path}`)
      await expect(loadPaymentKey({ file: path })).rejects.toThrow(KeyFilePermissionsError)
    }
    expect((await readFile(path, 'utf8')).trim()).toBe(made?.key)
    await chmod(path, 0o400)
    expect((await loadPaymentKey({ dataDir: dir }))?.key).toBe(made?.key)
  })

  it('refuses a file that is not a key, without repeating it, and never replaces it', async () => {
    const dir = await fresh()
    const path = join(dir, PAYMENT_KEY_FILE_NAME)
    const typo = `0x${'ab'.repeat(31)}zz`
    await writeFile(path, typo, { mode: 0o600 })
    const err = await loadPaymentKey({ dataDir: dir }).catch((e: Error) => e)
    expect(err).toBeInstanceOf(KeyFileError)
    expect((err as Error).message).toMatch(/is not a payment key/)
    expect((err as Error).message).not.toContain(typo)
    expect(await readFile(path, 'utf8')).toBe(typo)
  })
})
