/** Small helpers shared by every part. */
export { anySignal, delay, raceSignal } from './abort.ts'
export { Backoff } from './backoff.ts'
export { describeError } from './describe-error.ts'
export type { BackoffInit } from './backoff.ts'
export { lastPeerId } from './multiaddr.ts'
export { webCryptoPreferred } from './platform.ts'
export { unref } from './timers.ts'
export { InFlight } from './in-flight.ts'
