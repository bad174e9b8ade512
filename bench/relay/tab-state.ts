// What a tab process knows of each of its tabs, from the tab's own events:
// its session with the relay, its reservation there, its heartbeat RTTs.
import { isReserved } from './sim-tab.ts'
import type { SimTab } from './sim-tab.ts'

export interface TabState {
  tab: SimTab
  /** It holds a verified session with the relay now. */
  session: boolean
  /** It holds a reservation on the relay now. */
  reserved: boolean
  /** Sessions with the relay that ended since it joined. */
  lost: number
  /** Why they ended: the reason, and " (relay)" when the relay ended them. */
  lostWhy: Record<string, number>
  /** ms from start() to its first session. */
  joinMs?: number
  /** Resolves when its first session with the relay opens. */
  joined: Promise<void>
}

/** Follows `tab`'s session and reservation on the relay `relayId`; `onRtt` gets each heartbeat RTT measured by this tab. */
export function trackTab (tab: SimTab, relayId: string, onRtt?: (ms: number) => void): TabState {
  const started = performance.now()
  let resolveJoined = (): void => {}
  const state: TabState = { tab, session: false, reserved: false, lost: 0, lostWhy: {}, joined: new Promise<void>(resolve => { resolveJoined = resolve }) }
  const sessions = tab.services.sessions
  sessions.addEventListener('session:open', (evt) => {
    const session = evt.detail
    if (session.remotePeer !== relayId) return
    state.session = true
    state.joinMs ??= performance.now() - started
    resolveJoined()
    if (onRtt != null) session.addEventListener('session:rtt', (e) => { onRtt(e.detail) })
  })
  sessions.addEventListener('session:close', (evt) => {
    if (evt.detail.peer !== relayId) return
    state.session = false
    state.lost++
    const why = `${evt.detail.reason}${evt.detail.remote ? ' (relay)' : ''}`
    state.lostWhy[why] = (state.lostWhy[why] ?? 0) + 1
  })
  tab.addEventListener('self:peer:update', () => { state.reserved = isReserved(tab, relayId) })
  return state
}
