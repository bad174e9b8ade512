import { GolemClayError } from '../../shared/errors.ts'
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

export const KEY_FILE_NAME = 'peer-key'

/** The key file exists but can't be used; never silently replaced. */
export class KeyFileError extends GolemClayError { override name = 'KeyFileError'; override readonly code: string = 'KEY_FILE' }

/** A private key file other users may read or write: refused until its owner alone may. */
export class KeyFilePermissionsError extends KeyFileError { override name = 'KeyFilePermissionsError'; override readonly code = 'KEY_FILE_PERMISSIONS' }

/**
 * Loads the node's Ed25519 key from `<dataDir>/peer-key`, creating it on
 * first start. A corrupt file is an error rather than a new identity: the
 * peer ID is what other peers and operators know this node by.
 */
export async function loadOrCreateKey (dataDir: string): Promise<{ key: PrivateKey, created: boolean, path: string }> {
  const path = join(dataDir, KEY_FILE_NAME)
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(path)
  } catch (err: any) {
    if (err.code !== 'ENOENT') throw new KeyFileError(`Cannot read key file ${path}: ${err.message}`)
  }
  if (bytes != null) {
    try {
      return { key: privateKeyFromProtobuf(bytes), created: false, path }
    } catch (err: any) {
      throw new KeyFileError(`Key file ${path} is corrupt (${err.message}); move it away to start with a new peer ID`)
    }
  }
  const key = await generateKeyPair('Ed25519')
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 })
  await chmod(tmp, 0o600)
  await rename(tmp, path)
  return { key, created: true, path }
}
