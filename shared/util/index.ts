/** Small helpers shared by every part. */
export { delay } from './abort.ts'
export { Backoff } from './backoff.ts'
export type { BackoffInit } from './backoff.ts'
export { decodeJson, encodeJson, expectLiteral, expectNumber, expectRecord, expectString } from './json-codec.ts'
export type { Validator } from './json-codec.ts'
export { lastPeerId } from './multiaddr.ts'
