// /widget on the relay: the site owner's page. Pick the settings, copy the
// snippet, watch it live below.
import { isAddress } from 'viem'
import { hostCspDirectives, hostCssRule, widgetSnippet } from './snippet.ts'
import type { SnippetOptions } from './snippet.ts'
import '../loader/widget.ts'
import './site.css'

const form = document.getElementById('settings') as HTMLFormElement
const out = document.getElementById('snippet') as HTMLElement
const css = document.getElementById('host-css') as HTMLElement
const csp = document.getElementById('host-csp') as HTMLElement
const preview = document.getElementById('preview') as HTMLElement
const problem = document.getElementById('problem') as HTMLElement

/** An address whose checksum holds (a mistyped mixed-case one would credit nobody's account). */
const valid = (a: string): boolean => isAddress(a, { strict: true })

function options (): SnippetOptions {
  const data = new FormData(form)
  const value = (name: string): string => String(data.get(name) ?? '').trim()
  const relays = value('relay').split(/\s+/).filter(Boolean)
  return {
    origin: location.origin,
    account: value('account'),
    cores: Number(value('cores')) || 1,
    maxCpu: Number(value('max-cpu')) || 50,
    start: value('start') === 'auto' ? 'auto' : 'click',
    theme: (['light', 'dark'].includes(value('theme')) ? value('theme') : 'auto') as SnippetOptions['theme'],
    lang: value('lang') === 'zh' ? 'zh' : 'en',
    relays
  }
}

function update (): void {
  const o = options()
  const bad = o.account != null && o.account !== '' && !valid(o.account) ? 'The account must be an Ethereum address: 0x and 40 hex digits, with a valid checksum if it mixes upper and lower case.' : ''
  problem.textContent = bad
  out.textContent = widgetSnippet(bad !== '' ? { ...o, account: '' } : o)
  css.textContent = hostCssRule()
  csp.textContent = hostCspDirectives(location.origin)
  // the preview is the real element, made again for the new settings
  const el = document.createElement('golem-clay-widget')
  for (const [name, v] of Object.entries({ account: bad !== '' ? '' : o.account, cores: String(o.cores), 'max-cpu': String(o.maxCpu), start: o.start, theme: o.theme, lang: o.lang, relay: (o.relays ?? []).join(' ') })) {
    if (v != null && v !== '') el.setAttribute(name, v)
  }
  preview.replaceChildren(el)
}

/** The account's widgets' sums from this relay, every few seconds while an account is given. */
async function refreshStats (): Promise<void> {
  const account = options().account ?? ''
  const cells = document.querySelectorAll<HTMLElement>('#stats [data-stat]')
  if (!valid(account)) {
    for (const c of cells) c.textContent = '–'
    return
  }
  try {
    const res = await fetch(`/widget/stats?account=${account}`)
    const stats = res.ok ? await res.json() as Record<string, string | number> : {}
    for (const c of cells) c.textContent = String(stats[c.dataset.stat ?? ''] ?? '–')
  } catch {}
}
setInterval(() => { void refreshStats() }, 3_000)

form.addEventListener('change', () => { void refreshStats() })
form.addEventListener('change', update)
form.addEventListener('submit', (e) => { e.preventDefault(); update() })
document.getElementById('copy')?.addEventListener('click', () => {
  void navigator.clipboard?.writeText(`${out.textContent ?? ''}\n`).catch(() => {})
})
update()
