import type { SetupRequest } from '../../web/bench/transport/bench-api.ts'

const MiB = 1024 * 1024

/** Set-up loops: a dial that takes longer than 5 s is abandoned and retried. */
const SETUP_BASE = { reps: 20, warmup: 2, timeoutMs: 5_000, maxAttempts: 3 }

export const SETUP: Record<'webrtc' | 'other', SetupRequest> = {
  // a WebRTC dial opens two inbound connections on the answering tab (the
  // signalling circuit and WebRTC itself) and libp2p allows 5/s per host
  webrtc: { ...SETUP_BASE, spacingMs: 600 },
  other: { ...SETUP_BASE, spacingMs: 300 }
}

export const THROUGHPUT = {
  bytes: { webrtc: 16 * MiB, websocket: 32 * MiB, tcp: 32 * MiB, relayed: 32 * MiB },
  reps: 5,
  /** One discarded transfer first, this fraction of the measured size. */
  warmupFraction: 1 / 4,
  timeoutMs: 60_000
}

/** The whole run (after the build) must finish within this. */
export const RUN_TIMEOUT_MS = 6 * 60_000
