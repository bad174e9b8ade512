// Loaded only after the visitor's yes: the node, its sandbox Workers and the duty cycle.
import { createBrowserPeer } from '../../browser-node/index.ts'
import { createBrowserTaskRunner } from '../../compute/browser-task-runner.ts'
import { getAddress } from 'viem'
import { DutyCycle } from '../../../../shared/market/index.ts'
import { watchRestraint } from './restraint.ts'
import { startWidgetReports } from './widget-reports.ts'
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
  /** Subtasks computed and reported. */
  readonly done: number
  /** The share of the cores' time the subtasks took. */
  readonly achievedShare: number
}

/**
 * Joins the network as a provider that lends at most `cores` Workers for at
 * most `maxCpu` % of their time (a duty cycle between subtasks), paused
 * while the page is hidden, on battery or under CPU pressure. A pause stops
 * the Workers and gives the subtasks under way up (their requestors assign
 * them again at once).
 */
export async function startWidgetNode (settings: WidgetSettings, hooks: WidgetHooks): Promise<WidgetNode> {
  const runner = createBrowserTaskRunner({ cores: settings.cores })
  const gate = new DutyCycle({ maxShare: settings.maxCpu / 100, cores: settings.cores })
  const peer = createBrowserPeer({
    relays: settings.relays,
    statusUrl: new URL('/status', location.href).toString(),
    // the site owner's account is named as the payee: cheques for this tab's work are made out to it
    compute: { cores: settings.cores, enabled: true, runner, gate, ...(settings.account != null ? { payee: getAddress(settings.account) } : {}) }
  })
  const life = new AbortController()
  await peer.start({ signal: life.signal })
  const node = peer.node
  const provider = node?.services.market.provider
  if (node == null || provider == null) throw new Error('the node did not start')
  const earnings = node.services.market.earnings

  const reasons = new Set<PauseReason>()
  let done = 0
  let working = false
  const report = (): void => {
    if (reasons.size > 0) return
    hooks.state('working', { done, busy: provider.activeJobs.length > 0 })
  }
  const apply = (): void => {
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
  provider.addEventListener('job', (evt) => {
    if (evt.detail.state === 'running' && !working) {
      working = true
      hooks.event('working', { task: evt.detail.task })
    }
    if (evt.detail.state === 'done') done++
    if (evt.detail.state === 'done' || evt.detail.state === 'failed' || evt.detail.state === 'running') report()
  }, { signal: life.signal })
  earnings?.addEventListener('earned', (evt) => {
    hooks.event('earned', { payer: evt.detail.payer, amount: evt.detail.amount.toString(), total: evt.detail.total.toString() })
  }, { signal: life.signal })
  watchRestraint((reason, active) => {
    const had = reasons.has(reason)
    if (active && !had) reasons.add(reason)
    else if (!active && had) reasons.delete(reason)
    else return
    apply()
  }, life.signal)
  // a closing page can't wait: have the relay cash what is held, as far as it gets
  window.addEventListener('pagehide', () => { earnings?.cashSoon('the page is closing') }, { signal: life.signal })

  // the site owner's page counts this tab's work for the account
  let earned = 0n
  const reports = settings.account != null ? startWidgetReports(node, settings.account, () => ({ done, earned }), life.signal) : undefined
  provider.addEventListener('verdict', () => { reports?.poke() }, { signal: life.signal })
  earnings?.addEventListener('earned', (evt) => { earned += evt.detail.amount }, { signal: life.signal })

  hooks.event('joined', { peer: node.peerId.toString(), address: node.services.payments.address })
  if (reasons.size === 0) report()
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
        await earnings?.cash({ signal: AbortSignal.timeout(5_000) }).catch(() => {})
        life.abort()
        await peer.stop()
      })()
      await stopping
    },
    get done () { return done },
    get achievedShare () { return gate.achieved }
  }
}
