import { WIDGET_CHANNEL, WIDGET_PROTOCOL_VERSION, readFrameMessage } from '../widget-protocol.ts'
import type { FrameToHost, WidgetCommand, WidgetState } from '../widget-protocol.ts'

/** The size the element takes before and after it loads: the snippet's host CSS rule reserves the same. */
export const WIDGET_WIDTH = 340
export const WIDGET_HEIGHT = 200

const CSS = `
:host { display: block; width: ${WIDGET_WIDTH}px; height: ${WIDGET_HEIGHT}px; max-width: 100%; contain: content; color-scheme: light dark; }
:host([hidden]) { display: none; }
iframe { border: 0; width: 100%; height: 100%; display: block; border-radius: 10px; background: transparent; }
.mirror { box-sizing: border-box; height: 100%; display: flex; flex-direction: column; justify-content: center; gap: 8px; padding: 12px 16px;
  font: 14px/1.4 system-ui, sans-serif; border-radius: 10px; border: 1px solid #8884; background: Canvas; color: CanvasText; }
.mirror button { font: inherit; padding: 4px 12px; border-radius: 6px; border: 1px solid #8886; background: ButtonFace; color: ButtonText; cursor: pointer; align-self: flex-start; }
`

let sheet: CSSStyleSheet | undefined
/** One constructed stylesheet for every element: under a strict host CSP an inline <style> would be blocked, this is not. */
function styles (): CSSStyleSheet {
  if (sheet == null) {
    sheet = new CSSStyleSheet()
    sheet.replaceSync(CSS)
  }
  return sheet
}

/** The script's own address, read while it runs: the default relay is the one that served it. */
const SCRIPT_SRC = (document.currentScript as HTMLScriptElement | null)?.src ?? ''

/** One frame (one node) per relay origin on a page; every element for that origin shares it. */
interface SharedFrame {
  origin: string
  iframe: HTMLIFrameElement
  owner: GolemClayWidget
  members: Set<GolemClayWidget>
  state: WidgetState
  /** The frame said something: it listens. Commands before that wait here (a loading frame is still about:blank). */
  ready: boolean
  queued: WidgetCommand[]
}
const frames = new Map<string, SharedFrame>()

function listen (): void {
  window.addEventListener('message', (e: MessageEvent) => {
    for (const shared of frames.values()) {
      // only the frame we made, from the origin we loaded it from
      if (e.source !== shared.iframe.contentWindow || e.origin !== shared.origin) continue
      const msg = readFrameMessage(e.data)
      if (msg != null) for (const el of shared.members) el.hear(msg)
    }
  })
}
listen()

/**
 * `<golem-clay-widget>`: a consenting visitor lends part of their CPU. The
 * consent card and the node live in a frame served by the relay (another
 * origin): the host page can't click for the visitor nor read the node's
 * keys, and the node can't touch the host's DOM or storage.
 */
export class GolemClayWidget extends HTMLElement {
  static observedAttributes = ['relay', 'account', 'cores', 'max-cpu', 'start', 'theme', 'lang']
  private readonly root: ShadowRoot
  private shared?: SharedFrame
  private _state: WidgetState = 'consent'

  constructor () {
    super()
    this.root = this.attachShadow({ mode: 'closed' })
    this.root.adoptedStyleSheets = [styles()]
  }

  /** Where the widget is (mirrors the frame's state). */
  get state (): WidgetState { return this._state }

  connectedCallback (): void {
    if (this.shared != null) return
    const { origin, query } = this.frameAddress()
    let shared = frames.get(origin)
    if (shared == null || !shared.owner.isConnected) {
      const iframe = document.createElement('iframe')
      iframe.src = `${origin}/widget-frame.html?${query}`
      iframe.title = 'Golem Clay: lend spare CPU'
      // the frame asks for what it uses; it may not navigate the host page
      iframe.allow = 'compute-pressure'
      iframe.setAttribute('sandbox', 'allow-scripts allow-same-origin')
      this.root.replaceChildren(iframe)
      shared = { origin, iframe, owner: this, members: new Set(), state: 'consent', ready: false, queued: [] }
      frames.set(origin, shared)
    } else {
      this.root.replaceChildren(this.mirror())
    }
    shared.members.add(this)
    this.shared = shared
    this.setState(shared.state)
  }

  disconnectedCallback (): void {
    const shared = this.shared
    if (shared == null) return
    shared.members.delete(this)
    this.shared = undefined
    if (shared.owner === this) {
      // the frame (and its node) goes with its element; another element for the relay makes a new one
      frames.delete(shared.origin)
      shared.iframe.remove()
      this.rehome(shared)
    }
  }

  attributeChangedCallback (): void {
    // settings are read when the frame is made: a change makes a new frame (only for the owner), which the others follow
    const shared = this.shared
    if (shared?.owner !== this || !this.isConnected) return
    shared.members.delete(this)
    this.shared = undefined
    frames.delete(shared.origin)
    shared.iframe.remove()
    this.connectedCallback()
    this.rehome(shared)
  }

  /** The other elements of a frame that went: they join (or make) the relay's new one. */
  private rehome (old: SharedFrame): void {
    for (const member of [...old.members]) {
      old.members.delete(member)
      member.shared = undefined
      if (member.isConnected) member.connectedCallback()
    }
  }

  /** Starts work if this site's opt-in is stored; otherwise the visitor's click on the consent card is still needed. */
  start (): void { this.send('start') }
  pause (): void { this.send('pause') }
  stop (): void { this.send('stop') }

  /** Stops the widget (its frame hands over what was earned first, for up to 10 s), then removes it and its frame. */
  async destroy (): Promise<void> {
    const shared = this.shared
    if (shared?.owner === this && shared.ready && shared.state !== 'stopped' && shared.state !== 'consent') {
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, 10_000)
        this.addEventListener('golemclay:stopped', () => { clearTimeout(timer); resolve() }, { once: true })
        this.send('stop')
      })
    }
    this.remove()
  }

  /** A checked message from this element's frame. */
  hear (msg: FrameToHost): void {
    const shared = this.shared
    if (shared != null && !shared.ready) {
      shared.ready = true
      for (const command of shared.queued.splice(0)) this.post(shared, command)
    }
    if (msg.kind === 'state' && msg.state != null) {
      if (shared != null) shared.state = msg.state
      this.setState(msg.state)
      // for destroy(): an internal signal, not one of the documented golemclay:* events
      if (msg.state === 'stopped') this.dispatchEvent(new Event('golemclay:stopped'))
      return
    }
    if (msg.kind === 'event' && msg.event != null) {
      this.dispatchEvent(new CustomEvent(`golemclay:${msg.event}`, { bubbles: true, composed: true, detail: { ...msg.detail } }))
    }
  }

  private send (command: WidgetCommand): void {
    const shared = this.shared
    if (shared == null) return
    if (shared.ready) this.post(shared, command)
    else shared.queued.push(command)
  }

  private post (shared: SharedFrame, command: WidgetCommand): void {
    shared.iframe.contentWindow?.postMessage({ channel: WIDGET_CHANNEL, v: WIDGET_PROTOCOL_VERSION, kind: 'command', command }, shared.origin)
  }

  private setState (state: WidgetState): void {
    this._state = state
    this.dataset.state = state
    const line = this.root.querySelector('.mirror span')
    if (line != null) line.textContent = mirrorText(state)
  }

  /** Where the frame comes from: the relay of a `relay` status URL, or the relay that served this script; its query carries the settings. */
  private frameAddress (): { origin: string, query: string } {
    const relay = (this.getAttribute('relay') ?? '').trim()
    const params = new URLSearchParams()
    let origin = SCRIPT_SRC !== '' ? new URL(SCRIPT_SRC).origin : location.origin
    for (const part of relay.split(/\s+/).filter(Boolean)) {
      if (part.startsWith('/')) params.append('relay', part)
      else if (URL.canParse(part)) origin = new URL(part).origin
    }
    for (const name of ['account', 'cores', 'max-cpu', 'start', 'theme', 'lang']) {
      const v = this.getAttribute(name)
      if (v != null) params.set(name, v)
    }
    if (!params.has('lang')) params.set('lang', document.documentElement.lang || navigator.language)
    return { origin, query: params.toString() }
  }

  /** A second widget on the page for the same relay: a status line and a pause button, the work stays in the first one's frame. */
  private mirror (): HTMLElement {
    const box = document.createElement('div')
    box.className = 'mirror'
    const line = document.createElement('span')
    line.textContent = mirrorText(this._state)
    const button = document.createElement('button')
    button.type = 'button'
    button.textContent = 'Pause'
    button.addEventListener('click', () => { this.pause() })
    box.append(line, button)
    return box
  }
}

function mirrorText (state: WidgetState): string {
  return `Golem Clay: ${state === 'consent' ? 'asks for your consent in the widget above' : state}`
}
