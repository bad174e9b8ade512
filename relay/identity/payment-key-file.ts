import { chmod, mkdir, open, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { generatePaymentKey, parsePaymentKey, paymentAddressOf } from '../../shared/payments/index.ts'
import { KeyFileError, KeyFilePermissionsError } from './key-file.ts'
import type { Address, Hex } from '../../shared/payments/index.ts'

export const PAYMENT_KEY_FILE_NAME = 'payment-key'

export interface PaymentKeyFile {
  key: Hex
  address: Address
  path: string
  /** Made on this start: a new payment account. */
  created: boolean
}

export interface PaymentKeyInit {
  /** A key file brought along (`--payment-key-file`): it must exist. */
  file?: string
  /** Else `<dataDir>/payment-key`, made on first start. */
  dataDir?: string
}

/**
 * The payment key of a relay or Node peer: the file given, else the one in
 * the data folder (made on first start, mode 600); undefined with neither,
 * and the node makes a key for this run only. The key may hold money, so a
 * file others can read or write is refused (KeyFilePermissionsError) and a
 * bad one is never replaced (KeyFileError).
 */
export async function loadPaymentKey (init: PaymentKeyInit): Promise<PaymentKeyFile | undefined> {
  if (init.file != null) {
    const key = await readPaymentKeyFile(init.file)
    if (key == null) throw new KeyFileError(`Payment key file ${init.file} does not exist (--payment-key-file names a key file to use, 64 hex digits)`)
    return key
  }
  if (init.dataDir == null) return undefined
  const path = join(init.dataDir, PAYMENT_KEY_FILE_NAME)
  const existing = await readPaymentKeyFile(path)
  if (existing != null) return existing
  const key = generatePaymentKey()
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, `${key}\n`, { mode: 0o600 })
  await chmod(tmp, 0o600)
  await rename(tmp, path)
  return { key, address: paymentAddressOf(key), path, created: true }
}

/** The key in `path`, or undefined when there is no such file. */
async function readPaymentKeyFile (path: string): Promise<PaymentKeyFile | undefined> {
  let text: string
  try {
    const handle = await open(path, 'r')
    try {
      // the mode of the file read, not of whatever is at the path a moment later
      const { mode } = await handle.stat()
      if ((mode & 0o077) !== 0 && process.platform !== 'win32') {
        throw new KeyFilePermissionsError(`Payment key file ${path} is open to other users (mode ${(mode & 0o777).toString(8)}); make it yours alone: chmod 600 ${path}`)
      }
      text = await handle.readFile('utf8')
    } finally {
      await handle.close()
    }
  } catch (err: any) {
    if (err instanceof KeyFileError) throw err
    if (err.code === 'ENOENT') return undefined
    throw new KeyFileError(`Cannot read payment key file ${path}: ${err.message}`)
  }
  try {
    const key = parsePaymentKey(text)
    return { key, address: paymentAddressOf(key), path, created: false }
  } catch (err: any) {
    throw new KeyFileError(`Payment key file ${path} is not a payment key (${err.message}); it is left as it is`)
  }
}
