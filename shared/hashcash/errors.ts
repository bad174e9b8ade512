import { GolemClayError } from '../errors.ts'
/** A challenge, nonce or difficulty is malformed (wrong length, out of range). */
export class HashcashInvalidError extends GolemClayError { override name = 'HashcashInvalidError'; override readonly code = 'HASHCASH_INVALID' }

/** The solve was aborted (signal fired or the solver stopped) before a solution was found. */
export class HashcashAbortedError extends GolemClayError { override name = 'HashcashAbortedError'; override readonly code = 'HASHCASH_ABORTED' }

/** A solver worker failed to start or crashed. */
export class HashcashWorkerError extends GolemClayError { override name = 'HashcashWorkerError'; override readonly code = 'HASHCASH_WORKER'; override readonly retryable = true }
