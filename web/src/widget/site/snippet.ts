import { WIDGET_HEIGHT, WIDGET_WIDTH } from '../loader/widget-element.ts'

export interface SnippetOptions {
  /** The relay's origin, e.g. https://relay.example.org */
  origin: string
  account?: string
  cores?: number
  maxCpu?: number
  start?: 'click' | 'auto'
  theme?: 'light' | 'dark' | 'auto'
  lang?: 'en' | 'zh'
  /** Relay multiaddrs, when the visitors' nodes should join elsewhere than this relay. */
  relays?: string[]
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')

/** The tag and the element a site pastes; defaults are left out. */
export function widgetSnippet (o: SnippetOptions): string {
  const attrs: string[] = []
  if (o.relays != null && o.relays.length > 0) attrs.push(`relay="${escape(o.relays.join(' '))}"`)
  if (o.account != null && o.account !== '') attrs.push(`account="${escape(o.account)}"`)
  if (o.cores != null && o.cores !== 1) attrs.push(`cores="${o.cores}"`)
  if (o.maxCpu != null && o.maxCpu !== 50) attrs.push(`max-cpu="${o.maxCpu}"`)
  if (o.start === 'auto') attrs.push('start="auto"')
  if (o.theme != null && o.theme !== 'auto') attrs.push(`theme="${o.theme}"`)
  if (o.lang != null && o.lang !== 'en') attrs.push(`lang="${o.lang}"`)
  return [
    `<script src="${escape(o.origin)}/widget.js" async></script>`,
    `<golem-clay-widget${attrs.map(a => ` ${a}`).join('')}></golem-clay-widget>`
  ].join('\n')
}

/** The one host CSS rule that reserves the widget's space before the script loads (no layout shift). */
export function hostCssRule (): string {
  return `golem-clay-widget { display: block; width: ${WIDGET_WIDTH}px; height: ${WIDGET_HEIGHT}px; max-width: 100%; }`
}

/** The directives a host page with a strict Content-Security-Policy adds for the widget. */
export function hostCspDirectives (origin: string): string {
  return `script-src ${origin}; frame-src ${origin}`
}
