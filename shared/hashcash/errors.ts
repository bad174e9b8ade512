/** A challenge, nonce or difficulty is malformed (wrong length, out of range). */
export class HashcashInvalidError extends Error {
  override name = 'HashcashInvalidError'
}

/** The solve was aborted (signal fired or the solver stopped) before a solution was found. */
export class HashcashAbortedError extends Error {
  override name = 'HashcashAbortedError'
}

/** A solver worker failed to start or crashed. */
export class HashcashWorkerError extends Error {
  override name = 'HashcashWorkerError'
}
