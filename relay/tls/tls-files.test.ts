import { X509Certificate } from 'node:crypto'
import { copyFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import { makeTestCertificate } from '../testing/test-certificates.ts'
import { tlsFiles, TlsFilesError } from './index.ts'
import type { Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const fn of cleanups.splice(0).reverse()) await fn() })

async function serve (options: { cert: string, key: string }): Promise<Server> {
  const server = createServer(options, (_req, res) => { res.end('ok') })
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  cleanups.push(async () => { server.closeAllConnections(); await new Promise(resolve => server.close(resolve)) })
  return server
}

/** Opens a TLS connection and returns it with the fingerprint of the certificate the server showed. */
async function peerFingerprint (server: Server): Promise<{ socket: TLSSocket, fingerprint: string }> {
  const socket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, rejectUnauthorized: false, servername: 'localhost' })
  await new Promise<void>((resolve, reject) => { socket.once('secureConnect', resolve); socket.once('error', reject) })
  cleanups.push(() => { socket.destroy() })
  return { socket, fingerprint: socket.getPeerX509Certificate()?.fingerprint256 ?? '' }
}

async function folder (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gc-tls-'))
  cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

describe('TlsFiles', () => {
  it('serves the files, picks up replaced ones without closing open connections, and keeps the old pair when the new one is broken', async () => {
    const dir = await folder()
    const first = await makeTestCertificate(dir, 'relay')
    const files = tlsFiles({ certFile: first.certFile, keyFile: first.keyFile, settleMs: 50 })
    await files.load()
    const server = await serve(files.options)
    files.serve(server)
    files.start()
    cleanups.push(() => { files.stop() })
    const before = await peerFingerprint(server)
    expect(before.fingerprint).toBe(new X509Certificate(first.cert).fingerprint256)

    // a renewal: new files moved into place, as certbot's symlink swap does
    const second = await makeTestCertificate(dir, 'next')
    const reloaded = new Promise<CustomEvent>(resolve => { files.addEventListener('tls:reload', resolve, { once: true }) })
    await copyFile(second.keyFile, `${first.keyFile}.tmp`)
    await copyFile(second.certFile, `${first.certFile}.tmp`)
    await rename(`${first.keyFile}.tmp`, first.keyFile)
    await rename(`${first.certFile}.tmp`, first.certFile)
    const event = await reloaded
    expect(event.detail.trigger).toBe('file change')
    expect(event.detail.fingerprint256).toBe(new X509Certificate(second.cert).fingerprint256)
    expect((await peerFingerprint(server)).fingerprint).toBe(new X509Certificate(second.cert).fingerprint256)
    expect(before.socket.destroyed).toBe(false)

    // a certificate whose key is not beside it: refused, the second pair stays
    const third = await makeTestCertificate(dir, 'third')
    const refused = new Promise<CustomEvent>(resolve => { files.addEventListener('tls:error', resolve, { once: true }) })
    await writeFile(first.certFile, third.cert)
    expect((await refused).detail.error).toBeInstanceOf(TlsFilesError)
    expect(await files.reload('SIGHUP')).toBe(false)
    expect((await peerFingerprint(server)).fingerprint).toBe(new X509Certificate(second.cert).fingerprint256)
  })

  it('names the flag and the problem when files are missing or not PEM', async () => {
    const dir = await folder()
    const cert = await makeTestCertificate(dir)
    await expect(tlsFiles({ certFile: join(dir, 'nope.pem'), keyFile: cert.keyFile }).load()).rejects.toThrow(/--tls-cert .*nope\.pem: ENOENT/)
    await writeFile(join(dir, 'garbage.pem'), 'not a key')
    const err = await tlsFiles({ certFile: cert.certFile, keyFile: join(dir, 'garbage.pem') }).load().catch(e => e)
    expect(err).toBeInstanceOf(TlsFilesError)
    expect(err.code).toBe('TLS_FILES')
  })
})
