// The widget on a third-party site: a host page on another origin
// (127.0.0.2, or 127.0.0.3 for a second site) with a strict CSP that allows
// only the relay for scripts and frames embeds <golem-clay-widget>; a Node
// peer submits a Mandelbrot task the consenting widget computes.
// Third-party storage partitioning is on: Playwright's default
// --disable-features list (which turns it off) is replaced by ours
// (tools/chromium.ts; Chromium takes the last --disable-features), and the
// stored yes on one site not holding on another shows it.
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { gzipSync } from 'node:zlib'
import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { PeerProcess } from './fixtures/peer-process.ts'
import { RawChromium } from './fixtures/raw-chromium.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { tokenBalance } from './fixtures/chain-reads.ts'
import type { Browser, BrowserContext, Frame, Page } from '@playwright/test'
import type { Server } from 'node:http'

const ACCOUNT = '0x00000000000000000000000000000000000c1a11'

let relay: RelayProcess
let browser: Browser
const hosts: Server[] = []

/** A site on `ip` that serves `body` with a CSP allowing only the relay's scripts and frames; its address. */
async function hostSite (ip: string, body: string, relayUrl = relay.httpUrl): Promise<string> {
  const origin = new URL(relayUrl).origin
  const server = createServer((req, res) => {
    res.setHeader('Content-Security-Policy', `default-src 'none'; script-src ${origin}; frame-src ${origin}`)
    res.setHeader('Content-Type', 'text/html; charset=utf-8')
    res.end(`<!doctype html><html><head><title>A site</title><script src="${origin}/widget.js" async></script></head><body><h1>An article</h1>${body}</body></html>`)
  })
  await new Promise<void>(resolve => server.listen(0, ip, resolve))
  hosts.push(server)
  const address = server.address()
  if (address == null || typeof address === 'string') throw new Error('no address')
  return `http://${ip}:${address.port}/`
}

test.beforeAll(async () => {
  relay = await RelayProcess.start()
  browser = await launchChromium()
})

test.afterAll(async () => {
  for (const h of hosts) h.close()
  await browser?.close()
  await relay?.stop()
})

/** The widget's frame in `page` (its shadow root is closed: found by address). */
async function widgetFrame (page: Page): Promise<Frame> {
  await expect.poll(() => page.frames().some(f => f.url().includes('/widget-frame'))).toBe(true)
  return page.frames().find(f => f.url().includes('/widget-frame')) as Frame
}

/** A fresh visitor (browser context) on `site`, its events recorded from the first script on, and the widget's frame. */
async function openSite (site: string, frameScript?: () => void): Promise<{ context: BrowserContext, page: Page, frame: Frame }> {
  const context = await browser.newContext()
  if (frameScript != null) await context.addInitScript(frameScript)
  const page = await context.newPage()
  await recordEvents(page)
  await page.goto(site)
  return { context, page, frame: await widgetFrame(page) }
}

/** The element's `data-state`, as the host page sees it. */
async function widgetState (page: Page): Promise<string | null> {
  return await page.evaluate(() => document.querySelector('golem-clay-widget')?.getAttribute('data-state') ?? null)
}

/** The visitor's click on Join, once the frame counts clicks (it was seen whole, uncovered, for a while: no clickjacking). */
async function join (frame: Frame): Promise<void> {
  await frame.locator('html[data-seen]').waitFor({ state: 'attached' })
  await frame.getByRole('button', { name: 'Join' }).click()
}

/** Joins as the visitor and waits until the widget works. */
async function joinAndWork (page: Page, frame: Frame): Promise<void> {
  await expect(frame.getByRole('button', { name: 'Join' })).toBeVisible()
  await join(frame)
  await expect.poll(async () => (await events(page, 'joined')).length, { timeout: 60_000 }).toBe(1)
  await expect.poll(async () => await widgetState(page)).toBe('working')
}

/** Records the element's golemclay:* events and the frame's messages in the host page, from before its scripts run (every load), for the test to wait on. */
async function recordEvents (page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as any
    w.__events = []
    w.__messages = []
    for (const name of ['joined', 'working', 'paused', 'earned', 'error']) {
      document.addEventListener(`golemclay:${name}`, (e) => { w.__events.push({ name, detail: (e as CustomEvent).detail }) })
    }
    window.addEventListener('message', (e) => {
      w.__messages.push(e.data)
      w.__source = e.source
    })
  })
}

async function events (page: Page, name: string): Promise<any[]> {
  return await page.evaluate((n) => (window as any).__events.filter((e: any) => e.name === n), name)
}

/** Scripts the frame loaded so far (its own, the node's chunk, Workers' scripts). */
async function frameScripts (frame: Frame): Promise<string[]> {
  return await frame.evaluate(() => performance.getEntriesByType('resource').map(e => e.name).filter(n => n.endsWith('.js')))
}

test('the loader is small, and the site owner page prints the snippet, the host CSS rule and the CSP directives', async () => {
  const res = await fetch(new URL('/widget.js', relay.httpUrl))
  expect(res.status).toBe(200)
  const raw = Buffer.from(await res.arrayBuffer())
  expect(gzipSync(raw).byteLength).toBeLessThanOrEqual(15 * 1024)
  const frame = await fetch(new URL('/widget-frame.html', relay.httpUrl))
  expect(frame.headers.get('content-security-policy')).toContain('frame-ancestors *')

  const page = await browser.newPage()
  await page.goto(new URL('/widget', relay.httpUrl).toString())
  await page.getByLabel('Your payment address').fill(ACCOUNT)
  await page.getByLabel('CPU share at most, %').fill('25')
  await page.getByLabel('Start').selectOption('auto')
  await page.getByLabel('Start').dispatchEvent('change')
  const origin = new URL(relay.httpUrl).origin
  await expect(page.getByTestId('snippet')).toHaveText(`<script src="${origin}/widget.js" async></script>\n<golem-clay-widget account="${ACCOUNT}" max-cpu="25" start="auto"></golem-clay-widget>`)
  await expect(page.getByTestId('host-csp')).toHaveText(`script-src ${origin}; frame-src ${origin}`)
  await expect(page.getByTestId('host-css')).toContainText('golem-clay-widget { display: block; width: 340px; height: 200px')
  // a bad account is named, and left out of the snippet
  await page.getByLabel('Your payment address').fill('0x123')
  await page.getByLabel('Your payment address').dispatchEvent('change')
  await expect(page.getByRole('alert')).toContainText('0x and 40 hex digits')
  await expect(page.getByTestId('snippet')).not.toContainText('account=')
  // the live preview is the real widget, asking for consent
  const preview = await widgetFrame(page)
  await expect(preview.getByRole('button', { name: 'Join' })).toBeVisible()
  await page.close()
})

test('consent first: no node before the click, the host cannot click for the visitor; after it the widget computes a task, pauses and stops', async () => {
  test.setTimeout(180_000)
  const site = await hostSite('127.0.0.2', `<golem-clay-widget account="${ACCOUNT}" cores="1" max-cpu="100"></golem-clay-widget>`)
  const context = await browser.newContext()
  const page = await context.newPage()
  const problems: string[] = []
  page.on('console', m => { if (m.type() === 'error' && /Content Security Policy/.test(m.text())) problems.push(m.text()) })
  await recordEvents(page)
  await page.goto(site)
  const frame = await widgetFrame(page)
  await expect(frame.getByRole('button', { name: 'Join' })).toBeVisible()
  await expect(frame.getByText('0x0000…1a11')).toBeVisible()

  // the host page asks to start: without a stored yes, nothing starts
  await page.evaluate(() => { (document.querySelector('golem-clay-widget') as any).start() })
  await expect.poll(async () => await page.evaluate(() => (window as any).__messages.some((m: any) => m?.detail?.needsClick === true))).toBe(true)
  expect(await widgetState(page)).toBe('consent')
  // no node, no Worker: only the frame's own script ran
  const before = await frameScripts(frame)
  expect(before.some(s => /frame-node|sandbox\.worker|hashcash\.worker/.test(s))).toBe(false)
  // the host can't reach into the widget: a closed shadow root, a cross-origin frame whose storage it can't read
  expect(await page.evaluate(() => document.querySelector('golem-clay-widget')?.shadowRoot ?? null)).toBeNull()
  // (a frame in a shadow tree isn't even in window.frames; the window its messages come from refuses its storage and its document)
  expect(await page.evaluate(() => window.frames.length)).toBe(0)
  expect(await page.evaluate(() => { try { return String((window as any).__source.localStorage.length) } catch (err: any) { return err.name } })).toBe('SecurityError')
  expect(await page.evaluate(() => { try { return String((window as any).__source.document.title) } catch (err: any) { return err.name } })).toBe('SecurityError')

  // the visitor's click
  await join(frame)
  await expect.poll(async () => (await events(page, 'joined')).length, { timeout: 60_000 }).toBe(1)
  const peerId = (await events(page, 'joined'))[0].detail.peer as string
  expect(peerId).toMatch(/^12D3KooW/)
  expect((await frameScripts(frame)).some(s => /frame-node/.test(s))).toBe(true)

  // a task from elsewhere: the widget computes its tiles
  const cli = PeerProcess.start(relay.httpUrl, ['--exec', 'task run mandelbrot --size 64x64 --tile 32 --iter 2000'])
  try {
    const done = await cli.waitForEvent(e => e.event === 'task-done', 120_000)
    expect(done.providers).toEqual([peerId])
  } finally {
    await cli.stop()
  }
  await expect.poll(async () => (await events(page, 'working')).length).toBeGreaterThan(0)
  await expect(frame.getByText(/Working: \d+ subtask\(s\) done, \d+% of the time so far/)).toBeVisible()

  // the site owner's page: the account's widget working, its 4 tiles counted
  const owner = await context.newPage()
  await owner.goto(new URL('/widget', relay.httpUrl).toString())
  await owner.getByLabel('Your payment address').fill(ACCOUNT)
  await owner.getByLabel('Your payment address').dispatchEvent('change')
  await expect(owner.locator('[data-stat="subtasks"]')).toHaveText('4', { timeout: 30_000 })
  await expect(owner.locator('[data-stat="working"]')).toHaveText('1')
  // an unpaid task credits nothing
  await expect(owner.locator('[data-stat="earned"]')).toHaveText('0')
  await owner.close()

  // pause: the state follows, in the frame and on the element
  await frame.getByRole('button', { name: 'Pause' }).click()
  await expect.poll(async () => (await events(page, 'paused')).length).toBe(1)
  expect((await events(page, 'paused'))[0].detail.reason).toBe('visitor')
  await expect(frame.getByText('Paused: by you')).toBeVisible()
  expect(await widgetState(page)).toBe('paused')
  // the host can't undo the visitor's pause, nor their stop
  const refusedStart = async (): Promise<void> => {
    const before = await page.evaluate(() => (window as any).__messages.filter((m: any) => m?.detail?.needsClick === true).length)
    await page.evaluate(() => { (document.querySelector('golem-clay-widget') as any).start() })
    await expect.poll(async () => await page.evaluate(() => (window as any).__messages.filter((m: any) => m?.detail?.needsClick === true).length)).toBe(before + 1)
  }
  await refusedStart()
  expect(await widgetState(page)).toBe('paused')
  await frame.getByRole('button', { name: 'Stop' }).click()
  await expect(frame.getByText('Stopped. Nothing runs now.')).toBeVisible()
  await refusedStart()
  expect(await widgetState(page)).toBe('stopped')
  expect(problems).toEqual([])
  await context.close()
})

test('a click on a frame the host made transparent does not count (clickjacking)', async () => {
  const site = await hostSite('127.0.0.2', '<golem-clay-widget></golem-clay-widget>')
  const { context, page, frame } = await openSite(site)
  await frame.locator('html[data-seen]').waitFor({ state: 'attached' })
  // the host page fades the widget out, as it would to lay it over a button of its own
  await page.evaluate(() => { (document.querySelector('golem-clay-widget') as HTMLElement).style.opacity = '0.01' })
  await frame.locator('html:not([data-seen])').waitFor({ state: 'attached' })
  await frame.getByRole('button', { name: 'Join' }).click()
  await expect(frame.getByText('must be fully visible')).toBeVisible()
  expect(await widgetState(page)).toBe('consent')
  expect(await frameScripts(frame)).not.toContainEqual(expect.stringMatching(/frame-node/))
  // seen again, whole: the click counts
  await page.evaluate(() => { (document.querySelector('golem-clay-widget') as HTMLElement).style.opacity = '1' })
  await join(frame)
  await expect.poll(async () => (await events(page, 'joined')).length, { timeout: 60_000 }).toBe(1)
  await context.close()
})

test('a stored yes: start="auto" resumes after a reload, a forgotten one does not, another site asks again; two widgets share one frame', async () => {
  test.setTimeout(120_000)
  const site = await hostSite('127.0.0.2', '<golem-clay-widget start="auto"></golem-clay-widget><golem-clay-widget start="auto"></golem-clay-widget>')
  const other = await hostSite('127.0.0.3', '<golem-clay-widget start="auto"></golem-clay-widget>')
  const opened = await openSite(site)
  const { context, page } = opened
  // two elements, one frame (one node)
  let frame = opened.frame
  expect(page.frames().filter(f => f.url().includes('/widget-frame'))).toHaveLength(1)
  // no stored yes yet: even start="auto" waits for the click
  await expect(frame.getByRole('button', { name: 'Join' })).toBeVisible()
  await join(frame)
  // one node, and each element fires its own event
  await expect.poll(async () => (await events(page, 'joined')).length, { timeout: 60_000 }).toBe(2)
  expect(new Set((await events(page, 'joined')).map(e => e.detail.peer)).size).toBe(1)
  // both elements follow its state
  await expect.poll(async () => await page.evaluate(() => [...document.querySelectorAll('golem-clay-widget')].map(e => e.getAttribute('data-state')))).toEqual(['working', 'working'])

  // a reload: the stored yes starts it by itself
  await page.reload()
  frame = await widgetFrame(page)
  await expect.poll(async () => (await events(page, 'joined')).length, { timeout: 60_000 }).toBe(2)

  // the site raises the CPU share: the yes was for 50 %, so the visitor is asked again, start="auto" or not
  await page.evaluate(() => { for (const el of document.querySelectorAll('golem-clay-widget')) el.setAttribute('max-cpu', '90') })
  await expect.poll(() => page.frames().filter(f => f.url().includes('max-cpu=90')).length).toBe(1)
  const raised = page.frames().find(f => f.url().includes('max-cpu=90')) as Frame
  await expect(raised.getByRole('button', { name: 'Join' })).toBeVisible()
  await expect(raised.getByText('90% of the time')).toBeVisible()
  await page.reload()
  frame = await widgetFrame(page)
  await expect.poll(async () => (await events(page, 'joined')).length, { timeout: 60_000 }).toBe(2)

  // another site: its own (partitioned) storage, no yes there
  const elsewhere = await context.newPage()
  await elsewhere.goto(other)
  const otherFrame = await widgetFrame(elsewhere)
  await expect(otherFrame.getByRole('button', { name: 'Join' })).toBeVisible()
  await elsewhere.close()

  // forgetting the yes: a reload asks again
  await frame.getByRole('button', { name: 'Forget my choice' }).click()
  await expect(frame.getByText('Your choice is forgotten on this site.')).toBeVisible()
  await page.reload()
  frame = await widgetFrame(page)
  await expect(frame.getByRole('button', { name: 'Join' })).toBeVisible()
  await context.close()
})

test('paid work for the site owner: cheques name its account, the frame reports what it earned, and stopping has them cashed to it', async () => {
  test.setTimeout(180_000)
  const chained = await RelayProcess.start({ extraArgs: ['--chain', 'embedded'] })
  try {
    const owner = `0x${[...crypto.getRandomValues(new Uint8Array(20))].map(b => b.toString(16).padStart(2, '0')).join('')}`
    const tokens = async (address: string): Promise<bigint> => await tokenBalance(chained.httpUrl, address)
    const site = await hostSite('127.0.0.2', `<golem-clay-widget account="${owner}" max-cpu="100"></golem-clay-widget>`, chained.httpUrl)
    const { context, page, frame } = await openSite(site)
    await join(frame)
    await expect.poll(async () => (await events(page, 'joined')).length, { timeout: 60_000 }).toBe(1)
    const { peer, address } = (await events(page, 'joined'))[0].detail

    const cli = PeerProcess.start(chained.httpUrl, ['--exec', 'faucet', '--exec', 'deposit 1', '--exec', 'task run mandelbrot --size 64x64 --tile 32 --iter 2000 --price 0.001'])
    try {
      const done = await cli.waitForEvent(e => e.event === 'task-done', 120_000)
      expect(done.providers).toEqual([peer])
      expect(await cli.waitForEvent(e => e.event === 'task-paid')).toMatchObject({ accepted: 4, paid: String(4n * 10n ** 15n) })
    } finally {
      await cli.stop()
    }
    // each accepted tile's cheque, made out to the owner, credited in the frame and told to the host: an event per tile at its
    // price, and the total the held cheque pays never falling (cheques that came while more work was under way settle together)
    await expect.poll(async () => (await events(page, 'earned')).length).toBe(4)
    const earned = (await events(page, 'earned')).map(e => ({ amount: BigInt(e.detail.amount), total: BigInt(e.detail.total) }))
    expect(earned.map(e => e.amount)).toEqual([1, 2, 3, 4].map(() => 10n ** 15n))
    expect(earned.every((e, i) => i === 0 || e.total >= (earned[i - 1] as { total: bigint }).total)).toBe(true)
    expect(earned.at(-1)?.total).toBe(4n * 10n ** 15n)
    // the owner's page counts it
    const ownerPage = await context.newPage()
    await ownerPage.goto(new URL('/widget', chained.httpUrl).toString())
    await ownerPage.getByLabel('Your payment address').fill(owner)
    await ownerPage.getByLabel('Your payment address').dispatchEvent('change')
    await expect(ownerPage.locator('[data-stat="earned"]')).toHaveText(String(4n * 10n ** 15n), { timeout: 30_000 })
    await ownerPage.close()

    // stopping: the frame has the relay cash what it holds, paid to the owner, not to the tab's own account
    expect(await tokens(owner)).toBe(0n)
    await page.evaluate(() => { (document.querySelector('golem-clay-widget') as any).stop() })
    await expect(frame.getByText('Stopped. Nothing runs now.')).toBeVisible()
    await expect.poll(async () => await tokens(owner), { timeout: 30_000 }).toBe(4n * 10n ** 15n)
    expect(await tokens(address)).toBe(0n)
    await context.close()
  } finally {
    await chained.stop()
  }
})

test('on battery the work pauses, and it resumes when plugged in again', async () => {
  test.setTimeout(120_000)
  const site = await hostSite('127.0.0.2', '<golem-clay-widget></golem-clay-widget>')
  // no device here has a battery to unplug and Chromium emulates none: the frame gets a BatteryManager-like object the test drives
  const { context, page, frame } = await openSite(site, () => {
    if (!location.pathname.startsWith('/widget-frame')) return
    const battery = Object.assign(new EventTarget(), { charging: true, level: 1 })
    ;(window as any).__battery = battery
    Object.defineProperty(Navigator.prototype, 'getBattery', { value: async () => battery, configurable: true })
  })
  await joinAndWork(page, frame)
  const state = async (): Promise<string | null> => await widgetState(page)

  // unplugged: paused; plugged in again: working
  await frame.evaluate(() => { const b = (window as any).__battery; b.charging = false; b.dispatchEvent(new Event('chargingchange')) })
  await expect.poll(state).toBe('paused')
  await expect(frame.getByText('Paused: on battery')).toBeVisible()
  await frame.evaluate(() => { const b = (window as any).__battery; b.charging = true; b.dispatchEvent(new Event('chargingchange')) })
  await expect.poll(state).toBe('working')
  expect((await events(page, 'paused')).map(e => e.detail.reason)).toEqual(['battery'])
  await context.close()
})

test('under CPU pressure the work pauses, and it resumes when the pressure is nominal again', async () => {
  test.setTimeout(120_000)
  const site = await hostSite('127.0.0.2', '<golem-clay-widget></golem-clay-widget>')
  // Chromium hands a cross-origin frame no emulated pressure readings (DevTools' override reaches the top page only, even with the
  // frame focused under Xvfb): the frame gets a PressureObserver the test drives, as the Compute Pressure API would call it
  const { context, page, frame } = await openSite(site, () => {
    if (!location.pathname.startsWith('/widget-frame')) return
    const observers: Array<(records: Array<{ state: string }>) => void> = []
    ;(window as any).__pressure = (state: string) => { for (const cb of observers) cb([{ state }]) }
    ;(window as any).PressureObserver = class {
      constructor (private readonly cb: (records: Array<{ state: string }>) => void) {}
      async observe (source: string): Promise<void> { if (source === 'cpu') observers.push(this.cb) }
      disconnect (): void { observers.splice(observers.indexOf(this.cb), 1) }
    }
  })
  await joinAndWork(page, frame)
  const state = async (): Promise<string | null> => await widgetState(page)

  // serious pressure: paused; nominal again: working
  await frame.evaluate(() => { (window as any).__pressure('serious') })
  await expect.poll(state).toBe('paused')
  await expect(frame.getByText('Paused: the computer is busy')).toBeVisible()
  await frame.evaluate(() => { (window as any).__pressure('nominal') })
  await expect.poll(state).toBe('working')
  expect((await events(page, 'paused')).map(e => e.detail.reason)).toEqual(['pressure'])
  await context.close()
})

/** An X server for a headed Chromium (headless pages never hide); its display, and a way to stop it. */
async function startXvfb (): Promise<{ display: string, stop: () => void }> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] })
  const display = await new Promise<string>((resolve, reject) => {
    let out = ''
    const fd = child.stdio[3] as NodeJS.ReadableStream
    fd.on('data', (d) => {
      out += String(d)
      if (out.includes('\n')) resolve(`:${out.trim()}`)
    })
    child.once('error', reject)
    child.once('exit', (code) => { reject(new Error(`Xvfb exited with ${code}`)) })
  })
  return { display, stop: () => { child.kill('SIGTERM') } }
}

test('a hidden page pauses the work and a visible one resumes it (headed Chromium under Xvfb, another tab in front)', async () => {
  test.setTimeout(120_000)
  const xvfb = await startXvfb()
  const raw = await RawChromium.launch(xvfb.display)
  try {
    const site = await hostSite('127.0.0.2', '<golem-clay-widget></golem-clay-widget>')
    const host = await raw.newTab(site)
    const state = async (): Promise<string | null> => await raw.evaluate(host, "document.querySelector('golem-clay-widget')?.getAttribute('data-state') ?? null")
    let frame: Awaited<ReturnType<RawChromium['target']>>
    await expect.poll(async () => (frame = await raw.target('iframe', /\/widget-frame/)) != null).toBe(true)
    // the visitor's yes, clicked inside the frame (the test has DevTools; the host page could not)
    await expect.poll(async () => await raw.evaluate(frame as any, "document.querySelector('button.primary')?.textContent ?? null")).toBe('Join')
    await expect.poll(async () => await raw.evaluate(frame as any, "'seen' in document.documentElement.dataset")).toBe(true)
    await raw.evaluate(frame as any, "document.querySelector('button.primary').click()")
    await expect.poll(state, { timeout: 60_000 }).toBe('working')
    expect(await raw.evaluate(host, 'document.visibilityState')).toBe('visible')

    // another tab in front: the host page and its frame are hidden, the work pauses
    const other = await raw.newTab('about:blank')
    await expect.poll(async () => await raw.evaluate(host, 'document.visibilityState')).toBe('hidden')
    await expect.poll(state).toBe('paused')
    expect(await raw.evaluate(frame as any, 'document.querySelector("main")?.textContent ?? ""')).toContain('Paused: the page is hidden')

    // in front again: working again
    await raw.closeTab(other.id)
    await raw.activate(host.id)
    await expect.poll(async () => await raw.evaluate(host, 'document.visibilityState')).toBe('visible')
    await expect.poll(state).toBe('working')
  } finally {
    await raw.close()
    xvfb.stop()
  }
})
