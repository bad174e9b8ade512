import { mergeSeries } from './series.ts'
import type { DashboardSnapshot, SeriesState } from './series.ts'

export interface SeriesPollerInit {
  /** Operator token for the peer table, when the operator gave one. */
  token: () => string | undefined
  onSnapshot: (snapshot: DashboardSnapshot, series: SeriesState) => void
  onError: (err: Error) => void
  /** @default 5000, until the relay says its own interval */
  interval?: number
  /** @default '/dashboard/series' */
  url?: string
}

export interface SeriesPoller {
  start: () => void
  stop: () => void
  /** Polls now (e.g. after the token changed), then on the interval again. */
  refresh: () => void
}

/** Polls the relay's series on its own interval: the whole hour first, then only the newer samples. */
export function seriesPoller (initial: SeriesState, init: SeriesPollerInit): SeriesPoller {
  let held = initial
  let interval = init.interval ?? 5000
  let timer: ReturnType<typeof setTimeout> | undefined
  let controller: AbortController | undefined
  let running = false

  async function poll (): Promise<void> {
    controller?.abort()
    const current = controller = new AbortController()
    const last = held.t.at(-1)
    const url = `${init.url ?? '/dashboard/series'}${last != null ? `?since=${last}` : ''}`
    const token = init.token()
    try {
      const res = await fetch(url, { cache: 'no-store', signal: current.signal, headers: token != null && token !== '' ? { Authorization: `Bearer ${token}` } : {} })
      if (!res.ok) throw new Error(`The relay answered ${res.status}`)
      const snapshot = await res.json() as DashboardSnapshot
      interval = snapshot.interval
      held = mergeSeries(held, snapshot, snapshot.capacity)
      init.onSnapshot(snapshot, held)
    } catch (err: any) {
      if (current.signal.aborted) return
      init.onError(err instanceof Error ? err : new Error(String(err)))
    }
    if (running && controller === current) timer = setTimeout(() => { void poll() }, interval)
  }

  return {
    start: () => {
      if (running) return
      running = true
      void poll()
    },
    stop: () => {
      running = false
      clearTimeout(timer)
      controller?.abort()
    },
    refresh: () => {
      if (!running) return
      clearTimeout(timer)
      void poll()
    }
  }
}
