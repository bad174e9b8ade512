// Loaded only after the visitor's yes: the node, its sandbox Workers and the duty cycle.
import { createBrowserPeer } from '../../browser-node/index.ts'
import { createBrowserTaskRunner } from '../../compute/browser-task-runner.ts'
import { DutyCycle } from '../../../../shared/market/index.ts'
import { watchRestraint } from './restraint.ts'
import { startWidgetReports } from './widget-reports.ts'
import type { Provider } from '../../../../shared/market/index.ts'
import type { Address } from '../../../../shared/payments/index.ts'
import type { WidgetEventName, WidgetSettings, WidgetState } from '../widget-protocol.ts'

export interface WidgetHooks {
  state: (state: WidgetState, detail?: Record<string, string | number | boolean | null>) => void
  event: (name: WidgetEventName, detail?: Record<string, string | number | boolean | null>) => void
}

/** Who or what paused the work; it runs only while none does. */
export type PauseReason = 'visitor' | 'host' | 'hidden' | 'battery' | 'pressure'

export interface WidgetNode {
  pause: (by: PauseReason) => void
  resume: (by: PauseReason) => void
  /** Hands the cheques held to the relay for cashing, then leaves the network. */
  stop: () => Promise<void>
}

/**
 * Joins the network as a provider that lends at most `cores` Workers for at
 * most `maxCpu` % of their time (a duty cycle between subtasks), paused
 * while the page is hidden, on battery or under CPU pressure, or for any of
 * the `paused` reasons given. It offers nothing until those are known. A
 * pause stops the Workers and gives the subtasks under way up (their
 * requestors assign them again at once).
 */
export async function startWidgetNode (settings: WidgetSettings, hooks: WidgetHooks, paused: Iterable<PauseReason> = []): Promise<WidgetNode> {
  const runner = createBrowserTaskRunner({ cores: settings.cores })
  const gate = new DutyCycle({ maxShare: settings.maxCpu / 100, cores: settings.cores })
  const life = new AbortController()
  const reasons = new Set<PauseReason>(paused)
  let provider: Provider | undefined
  let done = 0
  let earned = 0n
  let working = false
  const report = (): void => {
    if (provider == null || reasons.size > 0) return
    // the share of the cores' time used so far, shown to the visitor beside the cap
    hooks.state('working', { done, busy: provider.activeJobs.length > 0, share: Math.round(gate.achieved * 100) })
  }
  const apply = (): void => {
    if (provider == null) return
    const reason = [...reasons][0]
    if (reason != null) {
      provider.enabled = false
      runner.pause()
      provider.giveUp(`paused: ${reason}`)
      working = false
      hooks.state('paused', { reason })
      hooks.event('paused', { reason })
    } else {
      provider.enabled = true
      runner.resume()
      report()
    }
  }
  // known before the node offers anything: a page hidden while it joins joins paused
  watchRestraint((reason, active) => {
    const had = reasons.has(reason)
    if (active && !had) reasons.add(reason)
    else if (!active && had) reasons.delete(reason)
    else return
    apply()
  }, life.signal)

  const peer = createBrowserPeer({
    relays: settings.relays,
    statusUrl: new URL('/status', location.href).toString(),
    // offering waits for apply(); the site owner's account is paid for this tab's work when its cheques are cashed
    compute: { cores: settings.cores, enabled: false, runner, gate, ...(settings.account != null ? { payee: settings.account as Address } : {}) }
  })
  try {
    await peer.start({ signal: life.signal })
    provider = peer.node?.services.market.provider
    if (provider == null) throw new Error('the node has no provider')
  } catch (err) {
    life.abort()
    await peer.stop()
    throw err
  }
  const node = peer.node
  if (node == null) throw new Error('the node did not start')
  const earnings = node.services.market.earnings
  const reports = settings.account != null ? startWidgetReports(node, settings.account, () => ({ done, earned, working: reasons.size === 0 }), life.signal) : undefined
  provider.addEventListener('job', (evt) => {
    if (evt.detail.state === 'running' && !working) {
      working = true
      hooks.event('working', { task: evt.detail.task })
    }
    // computed, whether or not the requestor's answer makes it back (one that exits at once may cut it off)
    if (evt.detail.state === 'reporting' && evt.detail.error == null) {
      done++
      reports?.poke()
    }
    if (evt.detail.state === 'done' || evt.detail.state === 'failed' || evt.detail.state === 'running') report()
  }, { signal: life.signal })
  provider.addEventListener('verdict', () => { reports?.poke() }, { signal: life.signal })
  earnings?.addEventListener('earned', (evt) => {
    earned += evt.detail.amount
    hooks.event('earned', { payer: evt.detail.payer, amount: evt.detail.amount.toString(), total: evt.detail.total.toString() })
  }, { signal: life.signal })
  // a closing page can't wait: have the relay cash what is held, as far as it gets
  window.addEventListener('pagehide', () => { earnings?.cashSoon('the page is closing') }, { signal: life.signal })

  hooks.event('joined', { peer: node.peerId.toString(), address: node.services.payments.address })
  apply()
  let stopping: Promise<void> | undefined
  return {
    pause: (by) => { if (!reasons.has(by)) { reasons.add(by); apply() } },
    resume: (by) => { if (reasons.delete(by)) apply() },
    stop: async () => {
      stopping ??= (async () => {
        reasons.add('visitor')
        provider.enabled = false
        runner.pause()
        provider.giveUp('stopped')
        await Promise.all([reports?.flush(), earnings?.cash({ signal: AbortSignal.timeout(5_000) }).catch(() => {})])
        life.abort()
        // answers and verdicts under way go out before the goodbyes
        await peer.stop({ drainMs: 3_000 })
      })()
      await stopping
    }
  }
}
