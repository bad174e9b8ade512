import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { decodeJson, encodeJson, WIDGET_PROTOCOL } from '../../../../shared/wire/index.ts'
import { MAX_WIDGET_FRAME } from '../../../../shared/widget/index.ts'
import type { BrowserNode } from '../../browser-node/index.ts'
import type { WidgetReport } from '../../../../shared/widget/index.ts'

/** How often a working widget reports, ms; a change is reported sooner, but not within MIN_GAP. */
const EVERY_MS = 10_000
const MIN_GAP_MS = 6_000

/**
 * Tells the relay this tab joined through whom it works for and what it
 * did and whether it works now (the site owner's page shows the sums):
 * every 10 s, soon after a change, and once more before it stops. Best
 * effort: a report that fails is not retried; the next one carries the
 * totals anyway.
 */
export function startWidgetReports (node: BrowserNode, account: string, read: () => { done: number, earned: bigint, working: boolean }, signal: AbortSignal): { poke: () => void, flush: () => Promise<void> } {
  const run = crypto.randomUUID()
  let last = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const send = async (): Promise<void> => {
    last = Date.now()
    const relay = node.services.sessions.list().find(s => s.remoteHello.roles.includes('relay'))?.remotePeer
    if (relay == null) return
    const { done, earned, working } = read()
    const report: WidgetReport = { v: 1, run, account, done, earned: earned.toString(), working }
    const { stream } = await node.services.sessions.open(peerIdFromString(relay), WIDGET_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_WIDGET_FRAME })
      await lp.write(encodeJson(report, MAX_WIDGET_FRAME))
      decodeJson((await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray(), v => v)
      await stream.close()
    } catch (err: any) {
      stream.abort(err)
      throw err
    }
  }
  let sending = false
  let poked = false
  const schedule = (ms: number): void => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      sending = true
      poked = false
      void send().catch(() => {}).finally(() => {
        sending = false
        // a change during the send is told after the gap, not at the next round
        if (!signal.aborted) schedule(poked ? MIN_GAP_MS : EVERY_MS)
      })
    }, ms)
  }
  signal.addEventListener('abort', () => { clearTimeout(timer) }, { once: true })
  schedule(0)
  return {
    poke: () => {
      if (signal.aborted) return
      if (sending) poked = true
      else schedule(Math.max(0, last + MIN_GAP_MS - Date.now()))
    },
    // the last word before the node stops: sent now, whatever the gap
    flush: async () => {
      clearTimeout(timer)
      await send().catch(() => {})
    }
  }
}
