// The relay's frame inside <golem-clay-widget>: the consent card, the stored
// opt-in and the controls. The node's code is imported only after a yes.
import { isAddress } from 'viem'
import { WIDGET_CHANNEL, WIDGET_PROTOCOL_VERSION, readHostMessage, readSettings } from '../widget-protocol.ts'
import { fill, STRINGS } from './strings.ts'
import { forgetOptIn, hasOptIn, heldByVisitor, holdByVisitor, storeOptIn } from './opt-in.ts'
import { watchSeen } from './seen.ts'
import type { FrameToHost, WidgetState } from '../widget-protocol.ts'
import type { PauseReason, WidgetNode } from './frame-node.ts'
import './frame.css'

type Detail = Record<string, string | number | boolean | null>

const settings = readSettings(new URLSearchParams(location.search))
const t = STRINGS[settings.lang]
document.documentElement.lang = settings.lang
if (settings.theme !== 'auto') document.documentElement.dataset.theme = settings.theme
// a mistyped mixed-case address would pay an address nobody holds: its checksum must hold
const badAccount = settings.account != null && !isAddress(settings.account, { strict: true })

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
let stopping: Promise<void> | undefined
let note = ''
/** Pauses asked for before the node ran (the host's, a visitor's), handed to it when it starts. */
const pending = new Set<PauseReason>()
/** Clicks count only on a frame seen whole, uncovered, for a while: no host page lays it, transparent, over its own button. */
const seen = watchSeen(document.documentElement)

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

/** Starts the node (imported now, not before), or resumes it; waits for a stop under way first. */
async function begin (): Promise<void> {
  await stopping
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
      }, pending)
      pending.clear()
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

/** Stops the node (its cheques go to the relay first); one stop at a time, and a start waits for it. */
async function end (): Promise<void> {
  if (stopping != null) {
    await stopping
    return
  }
  stopping = (async () => {
    await starting
    const n = node
    node = undefined
    pending.clear()
    render()
    await n?.stop()
  })()
  try {
    await stopping
  } finally {
    stopping = undefined
  }
  setState('stopped')
  render()
}

function pause (by: PauseReason): void {
  if (node != null) node.pause(by)
  else if (starting != null) pending.add(by)
}

/** A visitor's yes: it counts only when the frame was seen whole for a while (a pause, stop or forget always counts). */
function visitor (act: () => void): () => void {
  return () => {
    if (!seen.long()) {
      note = t.notSeen
      render()
      return
    }
    note = ''
    act()
  }
}

// the host page's commands: it may pause and stop, and start only what the visitor agreed to and did not pause or stop
window.addEventListener('message', (e: MessageEvent) => {
  if (e.source !== window.parent || e.origin !== hostOrigin) return
  const msg = readHostMessage(e.data)
  if (msg == null) return
  if (msg.command === 'start') {
    if (hasOptIn(settings) && heldByVisitor(settings) == null && !badAccount) {
      if (node != null) node.resume('host')
      else void begin()
    } else {
      post({ kind: 'state', state, detail: { ...detail, needsClick: true } })
    }
  } else if (msg.command === 'pause') {
    pause('host')
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

/** The visitor's yes (Join, Start again, Resume): remembered for these terms, any earlier pause or stop of theirs cleared. */
const agree = visitor(() => {
  storeOptIn(settings)
  void begin()
})

function render (): void {
  const card = document.createElement('main')
  card.dataset.state = state
  const controls = document.createElement('div')
  controls.className = 'controls'
  const limits = fill(t.limits, { cores: settings.cores, cpu: settings.maxCpu })
  const account = settings.account != null ? fill(t.forAccount, { account: `${settings.account.slice(0, 6)}…${settings.account.slice(-4)}` }) : ''
  if (badAccount) {
    card.append(text('p', t.badAccount, 'status'))
  } else if (stopping != null) {
    card.append(text('p', t.stopping, 'status'))
  } else if (state === 'consent') {
    card.append(text('h1', t.title), text('p', t.body), text('p', `${account} ${limits}`.trim(), 'small'))
    if (hasOptIn(settings)) card.append(text('p', t.remembered, 'small'))
    controls.append(
      button(t.join, agree, true),
      button(t.notNow, () => { setState('stopped') })
    )
  } else if (state === 'joining') {
    card.append(text('p', t.joining, 'status'))
  } else if (state === 'working') {
    card.append(text('p', detail.done != null && Number(detail.done) > 0 ? fill(t.working, { done: Number(detail.done), share: Number(detail.share ?? 0) }) : t.waiting, 'status working'), text('p', limits, 'small'))
    // holding back is never refused: only a yes must be seen to be given
    controls.append(
      button(t.pause, () => { holdByVisitor(settings, 'paused'); pause('visitor') }),
      button(t.stop, () => { holdByVisitor(settings, 'stopped'); void end() })
    )
  } else if (state === 'paused') {
    card.append(text('p', fill(t.paused, { reason: reasonText(detail.reason) }), 'status'))
    controls.append(button(t.resume, agree, true), button(t.stop, () => { holdByVisitor(settings, 'stopped'); void end() }))
  } else if (state === 'stopped') {
    card.append(text('p', t.stopped, 'status'))
    controls.append(button(t.startAgain, agree))
  } else {
    card.append(text('p', fill(t.failed, { reason: String(detail.message ?? '') }), 'status'))
    controls.append(button(t.startAgain, agree))
  }
  if (hasOptIn(settings) && state !== 'consent' && stopping == null) {
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
// `auto` resumes a stored yes for these terms by itself, unless the visitor paused or stopped it; `click` always waits for one
if (settings.start === 'auto' && hasOptIn(settings) && heldByVisitor(settings) == null && !badAccount) void begin()
