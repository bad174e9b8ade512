import { createHash, createPublicKey } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import selfsigned from 'selfsigned'

export interface TestCertificate {
  certFile: string
  keyFile: string
  cert: string
  key: string
  /** base64 SHA-256 of the public key: what Chromium's --ignore-certificate-errors-spki-list takes. */
  spki: string
}

/**
 * A certificate for localhost and 127.0.0.1, written as `<name>.cert.pem`
 * and `<name>.key.pem` in `dir`. Each call makes a new key, so a test can
 * tell a replaced certificate from the old one.
 */
export async function makeTestCertificate (dir: string, name = 'relay'): Promise<TestCertificate> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }
    ]
  })
  const certFile = join(dir, `${name}.cert.pem`)
  const keyFile = join(dir, `${name}.key.pem`)
  await writeFile(certFile, pems.cert)
  await writeFile(keyFile, pems.private, { mode: 0o600 })
  return { certFile, keyFile, cert: pems.cert, key: pems.private, spki: spkiHash(pems.cert) }
}

export function spkiHash (cert: string): string {
  const der = createPublicKey(cert).export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(der).digest('base64')
}
