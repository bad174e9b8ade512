import type { SetupSamples, ThroughputRequest } from '../../../bench/transport/loops.ts'

export type { ThroughputRequest }

/** Shape of a set-up run requested by the bench process. */
export interface SetupRequest {
  reps: number
  warmup: number
  timeoutMs: number
  maxAttempts: number
  spacingMs: number
}

export interface TabInfo {
  peerId: string
  /** This tab's `/p2p-circuit/webrtc` address, with its peer ID. */
  webrtcAddr: string
}

/**
 * What the bench page exposes as `window.transportBench`; the bench process
 * drives it with `page.evaluate`. Only plain data crosses that boundary.
 */
export interface TransportBenchApi {
  init: (opts: { relayWs: string }) => Promise<TabInfo>
  libp2pWebrtcSetup: (opts: SetupRequest & { target: string }) => Promise<SetupSamples>
  libp2pWebrtcThroughput: (opts: ThroughputRequest & { target: string }) => Promise<number[]>
  rawWebrtcSetup: (opts: SetupRequest & { answerer: string }) => Promise<SetupSamples>
  rawWebrtcThroughput: (opts: ThroughputRequest & { answerer: string }) => Promise<number[]>
  libp2pWsSetup: (opts: SetupRequest & { relayWs: string }) => Promise<SetupSamples>
  libp2pWsThroughput: (opts: ThroughputRequest & { relayPeer: string }) => Promise<number[]>
  rawWsSetup: (opts: SetupRequest & { url: string }) => Promise<SetupSamples>
  rawWsThroughput: (opts: ThroughputRequest & { url: string }) => Promise<number[]>
  /** Opens the tab's end of the raw relayed path and keeps it open. */
  rawForwardAttach: (opts: { url: string }) => Promise<void>
  stop: () => Promise<void>
}

declare global {
  interface Window {
    transportBench?: TransportBenchApi
    /** Provided by the bench process (`page.exposeFunction`) for progress lines. */
    benchLog?: (line: string) => Promise<void>
  }
}
