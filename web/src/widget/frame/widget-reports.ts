import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { decodeJson, encodeJson, WIDGET_PROTOCOL } from '../../../../shared/wire/index.ts'
import { MAX_WIDGET_FRAME } from '../../../../shared/widget/index.ts'
import type { BrowserNode } from '../../browser-node/index.ts'
import type { WidgetReport } from '../../../../shared/widget/index.ts'

/** How often a working widget reports, ms; a change is reported sooner, but not within MIN_GAP. */
const EVERY_MS = 15_000
const MIN_GAP_MS = 6_000

/**
 * Tells the relay this tab joined through whom it works for and what it
 * did (the site owner's page shows the sums): every 15 s, and soon after a
 * change. Best effort: a report that fails is not retried; the next one
 * carries the totals anyway.
 */
export function startWidgetReports (node: BrowserNode, account: string, read: () => { done: number, earned: bigint }, signal: AbortSignal): { poke: () => void } {
  const run = crypto.randomUUID()
  let last = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const send = async (): Promise<void> => {
    last = Date.now()
    const relay = node.services.sessions.list().find(s => s.remoteHello.roles.includes('relay'))?.remotePeer
    if (relay == null || signal.aborted) return
    const { done, earned } = read()
    const report: WidgetReport = { v: 1, run, account, done, earned: earned.toString() }
    const { stream } = await node.services.sessions.open(peerIdFromString(relay), WIDGET_PROTOCOL, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })
    const lp = lpStream(stream, { maxDataLength: MAX_WIDGET_FRAME })
    await lp.write(encodeJson(report, MAX_WIDGET_FRAME))
    decodeJson((await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray(), v => v)
    await stream.close()
  }
  const schedule = (ms: number): void => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      void send().catch(() => {}).finally(() => { if (!signal.aborted) schedule(EVERY_MS) })
    }, ms)
  }
  signal.addEventListener('abort', () => { clearTimeout(timer) }, { once: true })
  schedule(0)
  return {
    poke: () => { if (!signal.aborted) schedule(Math.max(0, last + MIN_GAP_MS - Date.now())) }
  }
}
