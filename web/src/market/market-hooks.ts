import type { ComputeState, MandelbrotRequest, PrimesRequest, TaskView } from './compute-state.svelte.ts'
import type { NodeState } from '../node/node-state.svelte.ts'
import type { ProviderJob, TaskFeedStatus } from '../../../shared/market/index.ts'

/**
 * `window.golemClayMarket`: a read-only view of this tab's market for tests
 * and curious users, and the demo tasks without the form.
 */
export interface MarketHooks {
  tasks: () => TaskView[]
  jobs: () => ProviderJob[]
  /** The picture of a Mandelbrot task so far, as base64 RGBA. */
  pixels: (task: string) => string | undefined
  /** Peers this tab caught with wrong results. */
  penalised: () => string[]
  /** Keeper score of a peer, as this tab sees it. */
  score: (peer: string) => number | undefined
  submitMandelbrot: (req: MandelbrotRequest) => Promise<TaskView>
  submitPrimes: (req: PrimesRequest) => Promise<TaskView>
  /** Cancels a task this tab submitted (by market ID or card key); false when it is not running. */
  cancel: (task: string) => boolean
  /** The tasks feed: subscribed, peers on the topic, last header, pulls (undefined before the market runs). */
  feed: () => TaskFeedStatus | undefined
}

declare global {
  interface Window {
    golemClayMarket?: MarketHooks
  }
}

function base64 (bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

export function exposeMarketHooks (state: ComputeState, node: NodeState): void {
  const hooks: MarketHooks = {
    tasks: () => state.tasks.map(t => JSON.parse(JSON.stringify(t))),
    jobs: () => state.jobs.map(j => ({ ...j })),
    pixels: (task) => {
      const view = state.board.find(task)
      const p = view == null ? undefined : state.board.pixels.get(view.key)
      return p == null ? undefined : base64(p)
    },
    penalised: () => state.penalised(),
    score: (peer) => node.score(peer),
    submitMandelbrot: async (req) => await state.submitMandelbrot(req),
    submitPrimes: async (req) => await state.submitPrimes(req),
    cancel: (task) => state.cancel(task),
    feed: () => state.feed == null ? undefined : { ...state.feed }
  }
  Object.defineProperty(window, 'golemClayMarket', { value: Object.freeze(hooks), configurable: false, writable: false })
}
