/** A market message's signature, signer or nesting did not check out. */
export class InvalidSignatureError extends Error {
  override name = 'InvalidSignatureError'
}

/** A signed message arrived a second time (an assignment or report replayed). */
export class ReplayedMessageError extends Error {
  override name = 'ReplayedMessageError'
}

/** A task description or header is unusable (bad module, inputs, limits). */
export class InvalidTaskError extends Error {
  override name = 'InvalidTaskError'
}

/** A subtask's input does not match what the task header promised. */
export class InputMismatchError extends Error {
  override name = 'InputMismatchError'
}

/** A reported result does not hash to what the report claims. */
export class ResultMismatchError extends Error {
  override name = 'ResultMismatchError'
}

/** The message names a task this node does not know (or no longer runs). */
export class UnknownTaskError extends Error {
  override name = 'UnknownTaskError'
}

/** The task's deadline passed before it completed. */
export class TaskDeadlineError extends Error {
  override name = 'TaskDeadlineError'
}

/** No provider could be found or kept for a subtask. */
export class NoProvidersError extends Error {
  override name = 'NoProvidersError'
}

/** A peer sent more market requests than this node takes per second. */
export class MarketRateLimitedError extends Error {
  override name = 'MarketRateLimitedError'
}
