/**
 * The typed channel between the `<golem-clay-widget>` element in the host
 * page and the relay's frame that runs the consent card and the node. Both
 * sides check every message: its origin (the relay's, or the host's the
 * frame was opened for), its source window, and its shape; anything else is
 * dropped. Kept free of imports: the loader must stay small.
 */

/** Every message carries this, so other postMessage traffic on the page is ignored. */
export const WIDGET_CHANNEL = 'golem-clay-widget'
export const WIDGET_PROTOCOL_VERSION = 1

/** What the host page may ask for. `start` never starts work without the visitor's stored opt-in. */
export type WidgetCommand = 'start' | 'pause' | 'stop'

/** Where the widget is: consent asked, joining, working, paused (by the visitor, a hidden page, battery, pressure), stopped, failed. */
export type WidgetState = 'consent' | 'joining' | 'working' | 'paused' | 'stopped' | 'error'

/** The DOM events the element fires (`golemclay:<name>`). */
export type WidgetEventName = 'joined' | 'working' | 'paused' | 'earned' | 'error'

export interface HostToFrame {
  channel: typeof WIDGET_CHANNEL
  v: typeof WIDGET_PROTOCOL_VERSION
  kind: 'command'
  command: WidgetCommand
}

export interface FrameToHost {
  channel: typeof WIDGET_CHANNEL
  v: typeof WIDGET_PROTOCOL_VERSION
  kind: 'state' | 'event'
  /** For `state`. */
  state?: WidgetState
  /** For `event`. */
  event?: WidgetEventName
  /** Plain data for the DOM event's `detail` or the state's reason. */
  detail?: Record<string, string | number | boolean | null>
}

const COMMANDS = new Set<string>(['start', 'pause', 'stop'])
const STATES = new Set<string>(['consent', 'joining', 'working', 'paused', 'stopped', 'error'])
const EVENTS = new Set<string>(['joined', 'working', 'paused', 'earned', 'error'])

function isRecord (x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** The plain, small detail a message may carry: string, number, boolean or null values, at most 16 keys. */
function plainDetail (x: unknown): Record<string, string | number | boolean | null> | undefined {
  if (x === undefined) return undefined
  if (!isRecord(x)) throw new TypeError('detail is not an object')
  const keys = Object.keys(x)
  if (keys.length > 16) throw new TypeError('detail has too many keys')
  const out: Record<string, string | number | boolean | null> = {}
  for (const k of keys) {
    const v = x[k]
    if (typeof v === 'string') out[k] = v.slice(0, 500)
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) out[k] = v
    else throw new TypeError(`detail.${k} is not a plain value`)
  }
  return out
}

/** A command from the host, or undefined for anything else. */
export function readHostMessage (data: unknown): HostToFrame | undefined {
  if (!isRecord(data) || data.channel !== WIDGET_CHANNEL || data.v !== WIDGET_PROTOCOL_VERSION) return undefined
  if (data.kind !== 'command' || typeof data.command !== 'string' || !COMMANDS.has(data.command)) return undefined
  return { channel: WIDGET_CHANNEL, v: WIDGET_PROTOCOL_VERSION, kind: 'command', command: data.command as WidgetCommand }
}

/** A state or event from the frame, or undefined for anything else. */
export function readFrameMessage (data: unknown): FrameToHost | undefined {
  if (!isRecord(data) || data.channel !== WIDGET_CHANNEL || data.v !== WIDGET_PROTOCOL_VERSION) return undefined
  try {
    const detail = plainDetail(data.detail)
    if (data.kind === 'state' && typeof data.state === 'string' && STATES.has(data.state)) {
      return { channel: WIDGET_CHANNEL, v: WIDGET_PROTOCOL_VERSION, kind: 'state', state: data.state as WidgetState, ...(detail != null ? { detail } : {}) }
    }
    if (data.kind === 'event' && typeof data.event === 'string' && EVENTS.has(data.event)) {
      return { channel: WIDGET_CHANNEL, v: WIDGET_PROTOCOL_VERSION, kind: 'event', event: data.event as WidgetEventName, ...(detail != null ? { detail } : {}) }
    }
  } catch {}
  return undefined
}

/** The element's attributes as the frame gets them (its URL's query). */
export interface WidgetSettings {
  /** The site owner's payment address its visitors earn for (0x…40 hex), or none. */
  account?: string
  /** Subtasks at once. @default 1 */
  cores: number
  /** Share of those cores' time, 1-100 %. @default 50 */
  maxCpu: number
  /** `click`: only after the visitor's click; `auto`: at once when this site's opt-in is stored. @default 'click' */
  start: 'click' | 'auto'
  theme: 'light' | 'dark' | 'auto'
  lang: 'en' | 'zh'
  /** Relay multiaddrs to join through; none: the relay that served the frame. */
  relays: string[]
}

const ACCOUNT = /^0x[0-9a-fA-F]{40}$/

/** Reads and bounds the settings, whoever wrote them: bad values fall back to the defaults. */
export function readSettings (params: URLSearchParams): WidgetSettings {
  const int = (name: string, lo: number, hi: number, dflt: number): number => {
    const n = Number.parseInt(params.get(name) ?? '', 10)
    return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : dflt
  }
  const account = params.get('account') ?? ''
  const start = params.get('start')
  const theme = params.get('theme')
  const lang = (params.get('lang') ?? '').toLowerCase()
  return {
    ...(ACCOUNT.test(account) ? { account } : {}),
    cores: int('cores', 1, 16, 1),
    maxCpu: int('max-cpu', 1, 100, 50),
    start: start === 'auto' ? 'auto' : 'click',
    theme: theme === 'dark' || theme === 'light' ? theme : 'auto',
    lang: lang.startsWith('zh') ? 'zh' : 'en',
    relays: params.getAll('relay').filter(r => r.startsWith('/')).slice(0, 4)
  }
}
