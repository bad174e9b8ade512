import { X509Certificate } from 'node:crypto'
import { copyFile, mkdtemp, rename } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { expect, test } from '@playwright/test'
import { chromium } from '@playwright/test'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './fixtures/chromium.ts'
import { freePort } from './fixtures/ports.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { openTab, pageErrors, peerIdOf, waitDirect } from './fixtures/tab.ts'
import { makeTestCertificate } from '../relay/testing/test-certificates.ts'
import type { TestCertificate } from '../relay/testing/test-certificates.ts'
import type { Browser, Page } from '@playwright/test'

let relay: RelayProcess
let browser: Browser
let first: TestCertificate
let renewed: TestCertificate
let wssPort: number

test.beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gc-e2e-tls-'))
  first = await makeTestCertificate(dir, 'relay')
  renewed = await makeTestCertificate(dir, 'renewed')
  wssPort = await freePort()
  relay = await RelayProcess.start({ extraArgs: ['--tls-cert', first.certFile, '--tls-key', first.keyFile, '--wss-port', String(wssPort)] })
  // the browser trusts exactly these two keys, as it would trust a CA-issued pair
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${first.spki},${renewed.spki}`] })
})
test.afterAll(async () => {
  await browser?.close()
  await relay?.stop()
})

/** The certificate a fresh TLS connection to `port` is shown. */
async function servedFingerprint (port: number): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false })
  await new Promise<void>((resolve, reject) => { socket.once('secureConnect', resolve); socket.once('error', reject) })
  const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? ''
  socket.destroy()
  return fingerprint
}

/** The tab's connection to its relay: over wss, and which one (its id). */
async function relayLink (page: Page, relayId: string): Promise<{ id: string, remoteAddr: string }> {
  const handle = await page.waitForFunction((id) => window.golemClay?.connections().find(c => c.peer === id && c.kind === 'websocket'), relayId, { polling: 100 })
  return await handle.jsonValue() as { id: string, remoteAddr: string }
}

test('the page loads over HTTPS, tabs join over secure WebSockets and link over WebRTC; a renewed certificate is picked up without dropping them', async () => {
  const pageUrl = `https://localhost:${relay.ports.http}/`
  const status = await relay.status().catch(() => undefined)
  expect(status, 'plain HTTP is not served when TLS is on').toBeUndefined()
  const context = await browser.newContext()
  const a = await openTab(context, pageUrl)
  const b = await openTab(context, pageUrl)
  expect(new URL(a.url()).protocol).toBe('https:')
  const relayId = await relay.peerId()
  for (const page of [a, b]) {
    const link = await relayLink(page, relayId)
    expect(link.remoteAddr).toContain(`/tcp/${wssPort}/tls/ws`)
  }
  const [idA, idB] = [await peerIdOf(a), await peerIdOf(b)]
  await waitDirect(a, idB)
  await waitDirect(b, idA)
  expect(await servedFingerprint(relay.ports.http)).toBe(new X509Certificate(first.cert).fingerprint256)
  expect(await servedFingerprint(wssPort)).toBe(new X509Certificate(first.cert).fingerprint256)
  const before = await relayLink(a, relayId)

  // certbot's renewal: new files moved over the old paths
  const from = relay.output?.lines.length ?? 0
  await copyFile(renewed.keyFile, `${first.keyFile}.new`)
  await copyFile(renewed.certFile, `${first.certFile}.new`)
  await rename(`${first.keyFile}.new`, first.keyFile)
  await rename(`${first.certFile}.new`, first.certFile)
  const line = await relay.output!.waitFor(l => l.includes('"event":"tls-reload"'), 15_000, from)
  expect(JSON.parse(line.slice(line.indexOf('{'))).fingerprint256).toBe(new X509Certificate(renewed.cert).fingerprint256)
  expect(await servedFingerprint(relay.ports.http)).toBe(new X509Certificate(renewed.cert).fingerprint256)
  expect(await servedFingerprint(wssPort)).toBe(new X509Certificate(renewed.cert).fingerprint256)

  // the tabs kept their link, and a new tab joins with the new certificate
  expect((await relayLink(a, relayId)).id).toBe(before.id)
  expect(await a.evaluate(() => window.golemClay!.relays().filter(r => r.state === 'reserved').length)).toBe(1)
  const c = await openTab(context, pageUrl)
  expect((await relayLink(c, relayId)).remoteAddr).toContain('/tls/ws')
  await waitDirect(c, idA)
  for (const page of [a, b, c]) expect(pageErrors.get(page)).toEqual([])
})
