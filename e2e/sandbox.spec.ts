import { expect, test } from '@playwright/test'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WebSocketServer } from 'ws'
import { compileTaskModule, memoryPagesFor, moduleHash, runModule } from '../shared/compute/index.ts'
import { GARBAGE, testModule } from '../tasks/test-modules.ts'
import { SANDBOX_CSP } from '../relay/http/sandbox-headers.ts'
import { buildTasks } from '../tasks/build-tasks.ts'
import { loadDemoTask } from '../tasks/load-demo-task.ts'
import { mandelbrotImage, splitMandelbrot } from '../tasks/mandelbrot/tiles.ts'
import { decodePrimesOutput, encodePrimesInput } from '../tasks/primes/ranges.ts'
import { launchChromium } from './fixtures/chromium.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import type { SandboxRunResult } from '../web/bench/sandbox-page.ts'
import type { TestModuleName } from '../tasks/test-modules.ts'
import type { Browser, Page, Response } from '@playwright/test'
import type { AddressInfo } from 'node:net'

// The task sandbox in real Chromium: web/bench/sandbox.html drives a browser
// task runner (sandbox Web Workers served by a real relay) through
// window.sandboxTest; bytes cross as base64.

let relay: RelayProcess
let browser: Browser
let page: Page
let workerScript: Response | undefined
let webRoot = ''
let wss: WebSocketServer
let wsUrl = ''
const errors: string[] = []

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')
const unb64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'))

async function run (module: Uint8Array | string, input: Uint8Array, options: { limits?: { timeMs?: number, memoryBytes?: number }, abortAfterMs?: number } = {}): Promise<SandboxRunResult> {
  return await page.evaluate(async (arg) => await window.sandboxTest!.run(arg), {
    module: typeof module === 'string' ? module : b64(module),
    input: b64(input),
    ...options
  })
}

async function runTest (name: TestModuleName, input = new Uint8Array(4), options: Parameters<typeof run>[2] = {}): Promise<SandboxRunResult> {
  return await run((await testModule(name)).module, input, options)
}

// tries the network three ways and reports; `?ws=` names a WebSocket server that accepts anyone
const CSP_PROBE = `
  const violations = []
  self.addEventListener('securitypolicyviolation', e => violations.push(e.effectiveDirective))
  const out = {}
  try { await fetch('/status'); out.fetch = 'allowed' } catch (e) { out.fetch = 'blocked' }
  out.websocket = await new Promise(resolve => {
    try {
      const ws = new WebSocket(new URLSearchParams(self.location.search).get('ws'))
      ws.onopen = () => { resolve('open'); ws.close() }
      ws.onerror = () => resolve('blocked')
    } catch (e) { resolve('blocked') }
  })
  try { await import('data:text/javascript,export default 1'); out.import = 'allowed' } catch (e) { out.import = 'blocked' }
  postMessage({ ...out, violations })
`

test.beforeAll(async () => {
  await buildTasks() // /tasks/<name>.wasm in the test build, whatever built the page
  // the built page plus the CSP probe script, in a folder of this test's own
  webRoot = await mkdtemp(join(tmpdir(), 'golem-clay-sandbox-web-'))
  await cp(fileURLToPath(new URL('../dist/test-web', import.meta.url)), webRoot, { recursive: true })
  await writeFile(join(webRoot, 'assets', 'task-sandbox-csp-probe.js'), CSP_PROBE)
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise(resolve => wss.once('listening', resolve))
  wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`
  relay = await RelayProcess.start({ extraArgs: ['--web-root', webRoot] })
  browser = await launchChromium()
  page = await browser.newPage()
  page.on('pageerror', err => { errors.push(err.message) })
  page.on('response', res => { if (/\/sandbox\.worker-[\w-]+\.js$/.test(res.url())) workerScript = res })
  await page.goto(new URL('bench/sandbox.html', relay.httpUrl).toString())
  await page.waitForFunction(() => window.sandboxTest != null)
})

test.afterAll(async () => {
  await browser?.close()
  await relay?.stop()
  wss?.close()
  if (webRoot !== '') await rm(webRoot, { recursive: true, force: true })
})

test('the sandbox worker has no network, storage, DOM or other contexts, and runs under the sandbox CSP', async () => {
  const report = await page.evaluate(async () => await window.sandboxTest!.probe())
  for (const name of [
    'fetch', 'XMLHttpRequest', 'WebSocket', 'WebTransport', 'EventSource', 'importScripts', 'indexedDB', 'caches',
    'BroadcastChannel', 'RTCPeerConnection', 'Worker', 'SharedWorker', 'MessageChannel',
    'document', 'window', 'localStorage', 'sessionStorage', 'navigator.storage', 'navigator.locks'
  ]) {
    expect(report[name], name).toBe('undefined')
  }
  // eval refused inside the worker: Chromium applied the worker script's own CSP response header
  expect(report.eval).toMatch(/^blocked/)
  expect(workerScript, 'the page loaded the sandbox worker script').toBeDefined()
  expect(workerScript!.headers()['content-security-policy']).toBe(SANDBOX_CSP)
  // the page itself is not under that policy
  const pageResponse = await page.request.get(new URL('bench/sandbox.html', relay.httpUrl).toString())
  expect(pageResponse.headers()['content-security-policy']).toBeUndefined()
  expect(errors).toEqual([])
})

test('Chromium blocks network from a worker script the relay serves with the sandbox CSP', async () => {
  // a stand-in worker (this test's code, not the sandbox's) under the same header, served by the relay
  const response = await page.request.get(new URL('assets/task-sandbox-csp-probe.js', relay.httpUrl).toString())
  expect(response.headers()['content-security-policy']).toBe(SANDBOX_CSP)
  const out = await page.evaluate(async (ws) => await new Promise<any>((resolve, reject) => {
    const w = new Worker(`/assets/task-sandbox-csp-probe.js?ws=${encodeURIComponent(ws)}`, { type: 'module' })
    w.onmessage = e => { resolve(e.data); w.terminate() }
    w.onerror = e => { reject(new Error(e.message)) }
  }), wsUrl)
  expect(out).toMatchObject({ fetch: 'blocked', websocket: 'blocked', import: 'blocked' })
  expect(out.violations.filter((v: string) => v === 'connect-src')).toHaveLength(2)
})

test('task modules asking for host capabilities are refused before they run', async () => {
  for (const name of ['importsFetch', 'importsHost', 'ownMemory'] as const) {
    const result = await runTest(name)
    expect(result, name).toMatchObject({ ok: false, name: 'TaskModuleInvalidError' })
  }
  expect(await run(GARBAGE, new Uint8Array(0))).toMatchObject({ ok: false, name: 'TaskModuleInvalidError' })
})

test('a runaway module is stopped at its time limit while the page stays responsive', async () => {
  expect(await runTest('echo', new Uint8Array([1, 2]))).toMatchObject({ ok: true, output: b64(new Uint8Array([1, 2])) })
  const runaway = runTest('runaway', new Uint8Array(4), { limits: { timeMs: 2000 } })
  await page.waitForFunction(() => window.sandboxTest!.state().running === 1, undefined, { polling: 20 })
  const ticks = await page.evaluate(() => window.sandboxTest!.ticks())
  // the page answers while the runaway spins, and its own timers (10 ms interval) keep running
  // until the runaway is stopped: counted in the page, up to the moment it has nothing running
  expect(await page.evaluate(() => 6 * 7)).toBe(42)
  const stopped = await page.waitForFunction((from) => window.sandboxTest!.state().running === 0 && { ticks: window.sandboxTest!.ticks() - from }, ticks, { polling: 20 })
  expect((await stopped.jsonValue() as { ticks: number }).ticks).toBeGreaterThan(20)
  const result = await runaway
  expect(result).toMatchObject({ ok: false, name: 'TaskTimeoutError' })
  expect(result.ms).toBeGreaterThanOrEqual(1990)
  expect(result.ms).toBeLessThan(5000)
  // a fresh worker takes the next job
  expect(await runTest('echo', new Uint8Array([3]))).toMatchObject({ ok: true, output: b64(new Uint8Array([3])) })
  expect(await runTest('runaway', new Uint8Array(4), { abortAfterMs: 300 })).toMatchObject({ ok: false, name: 'TaskAbortedError' })
  expect(await runTest('memoryBomb', new Uint8Array(4), { limits: { memoryBytes: 64 * 1024 * 1024 } })).toMatchObject({ ok: false, name: 'TaskMemoryError' })
  expect(await page.evaluate(() => window.sandboxTest!.state())).toMatchObject({ running: 0, queued: 0 })
})

test('demo tasks: the browser sandbox computes the same bytes as Node', async () => {
  const mandelbrot = await loadDemoTask('mandelbrot')
  const served = await page.evaluate(async () => await window.sandboxTest!.loadTask('mandelbrot'))
  expect(await moduleHash(unb64(served))).toBe(mandelbrot.moduleHash)

  const image = mandelbrotImage({ width: 512, height: 384, centerX: -0.7436, centerY: 0.1318, viewWidth: 0.004, maxIter: 1500 })
  const tile = splitMandelbrot(image, 128, 96)[5]!
  const inNode = runModule(await compileTaskModule(mandelbrot.module), tile.input, { memoryPages: memoryPagesFor(256 * 1024 * 1024) })
  const inBrowser = await run(served, tile.input)
  expect(inBrowser.ok).toBe(true)
  expect(inBrowser.ok && inBrowser.progress.at(-1)).toBe(1)
  expect(inBrowser.ok && inBrowser.output === b64(inNode)).toBe(true)

  const primes = await page.evaluate(async () => await window.sandboxTest!.loadTask('primes'))
  const count = await run(primes, encodePrimesInput({ from: 0, to: 10_000_000 }))
  expect(count.ok).toBe(true)
  expect(count.ok && decodePrimesOutput(unb64(count.output))).toEqual({ count: 664579, largest: 9999991 })
  expect(errors).toEqual([])
})
