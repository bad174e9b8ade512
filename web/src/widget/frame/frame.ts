// The relay's frame inside <golem-clay-widget>: the consent card, the stored
// opt-in and the controls. The node's code is imported only after a yes.
import { WIDGET_CHANNEL, WIDGET_PROTOCOL_VERSION, readHostMessage, readSettings } from '../widget-protocol.ts'
import { fill, STRINGS } from './strings.ts'
import { forgetOptIn, hasOptIn, storeOptIn } from './opt-in.ts'
import type { FrameToHost, WidgetState } from '../widget-protocol.ts'
import type { PauseReason, WidgetNode } from './frame-node.ts'
import './frame.css'

type Detail = Record<string, string | number | boolean | null>

const settings = readSettings(new URLSearchParams(location.search))
const t = STRINGS[settings.lang]
document.documentElement.lang = settings.lang
if (settings.theme !== 'auto') document.documentElement.dataset.theme = settings.theme

/** The page that embeds us, as the browser reports it (not as the query claims): the only one we talk to. */
const hostOrigin = ((): string | undefined => {
  const ancestors = location.ancestorOrigins
  if (ancestors != null && ancestors.length > 0) return ancestors[0]
  try { return new URL(document.referrer).origin } catch { return undefined }
})()

let state: WidgetState = 'consent'
let detail: Detail = {}
let node: WidgetNode | undefined
let starting: Promise<void> | undefined
let note = ''

function post (msg: Omit<FrameToHost, 'channel' | 'v'>): void {
  if (hostOrigin == null || window.parent === window) return
  window.parent.postMessage({ channel: WIDGET_CHANNEL, v: WIDGET_PROTOCOL_VERSION, ...msg }, hostOrigin)
}

function setState (next: WidgetState, d: Detail = {}): void {
  const changed = next !== state || JSON.stringify(d) !== JSON.stringify(detail)
  state = next
  detail = d
  if (!changed) return
  post({ kind: 'state', state: next, detail: d })
  render()
}

/** Starts the node (imported now, not before), or resumes it. */
async function begin (): Promise<void> {
  if (node != null) {
    node.resume('visitor')
    node.resume('host')
    return
  }
  starting ??= (async () => {
    setState('joining')
    try {
      const { startWidgetNode } = await import('./frame-node.ts')
      node = await startWidgetNode(settings, {
        state: setState,
        event: (event, d) => { post({ kind: 'event', event, ...(d != null ? { detail: d } : {}) }) }
      })
    } catch (err: any) {
      const message = String(err?.message ?? err)
      setState('error', { message })
      post({ kind: 'event', event: 'error', detail: { message } })
    } finally {
      starting = undefined
    }
  })()
  await starting
}

async function end (): Promise<void> {
  await starting
  const n = node
  node = undefined
  await n?.stop()
  setState('stopped')
}

function pauseBy (by: PauseReason): void {
  node?.pause(by)
}

// the host page's commands: it may pause and stop, and start only what the visitor already agreed to
window.addEventListener('message', (e: MessageEvent) => {
  if (e.source !== window.parent || e.origin !== hostOrigin) return
  const msg = readHostMessage(e.data)
  if (msg == null) return
  if (msg.command === 'start') {
    if (hasOptIn()) void begin()
    else post({ kind: 'state', state, detail: { ...detail, needsClick: true } })
  } else if (msg.command === 'pause') {
    pauseBy('host')
  } else {
    void end()
  }
})

function button (label: string, onClick: () => void, primary = false): HTMLButtonElement {
  const b = document.createElement('button')
  b.type = 'button'
  b.textContent = label
  if (primary) b.className = 'primary'
  b.addEventListener('click', onClick)
  return b
}

function text (tag: string, content: string, className?: string): HTMLElement {
  const el = document.createElement(tag)
  el.textContent = content
  if (className != null) el.className = className
  return el
}

const reasonText = (r: unknown): string => {
  const key = ({ visitor: 'byVisitor', host: 'byHost', hidden: 'hidden', battery: 'battery', pressure: 'pressure' } as const)[String(r) as PauseReason]
  return key != null ? t[key] : String(r)
}

function render (): void {
  const card = document.createElement('main')
  card.dataset.state = state
  const controls = document.createElement('div')
  controls.className = 'controls'
  const limits = fill(t.limits, { cores: settings.cores, cpu: settings.maxCpu })
  const account = settings.account != null ? fill(t.forAccount, { account: `${settings.account.slice(0, 6)}…${settings.account.slice(-4)}` }) : ''
  if (state === 'consent') {
    card.append(text('h1', t.title), text('p', t.body), text('p', `${account} ${limits}`.trim(), 'small'))
    if (hasOptIn()) card.append(text('p', t.remembered, 'small'))
    controls.append(
      button(t.join, () => { storeOptIn(); void begin() }, true),
      button(t.notNow, () => { setState('stopped') })
    )
  } else if (state === 'joining') {
    card.append(text('p', t.joining, 'status'))
  } else if (state === 'working') {
    card.append(text('p', detail.done != null && Number(detail.done) > 0 ? fill(t.working, { done: Number(detail.done) }) : t.waiting, 'status working'), text('p', limits, 'small'))
    controls.append(button(t.pause, () => { pauseBy('visitor') }), button(t.stop, () => { void end() }))
  } else if (state === 'paused') {
    card.append(text('p', fill(t.paused, { reason: reasonText(detail.reason) }), 'status'))
    controls.append(button(t.resume, () => { void begin() }, true), button(t.stop, () => { void end() }))
  } else if (state === 'stopped') {
    card.append(text('p', t.stopped, 'status'))
    controls.append(button(t.startAgain, () => { storeOptIn(); void begin() }))
  } else {
    card.append(text('p', fill(t.failed, { reason: String(detail.message ?? '') }), 'status'))
    controls.append(button(t.startAgain, () => { void begin() }))
  }
  if (hasOptIn() && state !== 'consent') {
    controls.append(button(t.forget, () => {
      forgetOptIn()
      note = t.forgotten
      void end()
    }))
  }
  card.append(controls)
  if (note !== '') card.append(text('p', note, 'small'))
  document.body.replaceChildren(card)
}

render()
post({ kind: 'state', state })
// `auto` resumes a stored yes by itself; `click` always waits for one
if (settings.start === 'auto' && hasOptIn()) void begin()
