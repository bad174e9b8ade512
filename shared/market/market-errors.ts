import { GolemClayError } from '../errors.ts'

/** A market message's signature, signer or nesting did not check out: the error every signed message is refused with. */
export { InvalidSignatureError } from '../errors.ts'

/** A signed message arrived a second time (an assignment or report replayed). */
export class ReplayedMessageError extends GolemClayError { override name = 'ReplayedMessageError'; override readonly code = 'REPLAYED_MESSAGE' }

/** A task description or header is unusable (bad module, inputs, limits). */
export class InvalidTaskError extends GolemClayError { override name = 'InvalidTaskError'; override readonly code = 'INVALID_TASK' }

/** A subtask's input does not match what the task header promised. */
export class InputMismatchError extends GolemClayError { override name = 'InputMismatchError'; override readonly code = 'INPUT_MISMATCH' }

/** A reported result does not hash to what the report claims. */
export class ResultMismatchError extends GolemClayError { override name = 'ResultMismatchError'; override readonly code = 'RESULT_MISMATCH' }

/** The message names a task this node does not know (or no longer runs). */
export class UnknownTaskError extends GolemClayError { override name = 'UnknownTaskError'; override readonly code = 'UNKNOWN_TASK' }

/** The task's deadline passed before it completed. */
export class TaskDeadlineError extends GolemClayError { override name = 'TaskDeadlineError'; override readonly code = 'TASK_DEADLINE' }

/** The requestor cancelled the task before it completed. */
export class TaskCancelledError extends GolemClayError { override name = 'TaskCancelledError'; override readonly code = 'TASK_CANCELLED' }

/** No provider could be found or kept for a subtask. */
export class NoProvidersError extends GolemClayError { override name = 'NoProvidersError'; override readonly code = 'NO_PROVIDERS'; override readonly retryable = true }

/** A peer sent more market requests than this node takes per second. */
export class MarketRateLimitedError extends GolemClayError { override name = 'MarketRateLimitedError'; override readonly code = 'MARKET_RATE_LIMITED'; override readonly retryable = true }

/** A paid task used up its budget (every assignment it may pay a note for) before every subtask was decided. */
export class BudgetExhaustedError extends GolemClayError { override name = 'BudgetExhaustedError'; override readonly code = 'BUDGET_EXHAUSTED' }

/** The provider gave its subtask up (its visitor paused it, the page went hidden): the requestor assigns it again at once. */
export class ProviderPausedError extends GolemClayError { override name = 'ProviderPausedError'; override readonly code = 'PROVIDER_PAUSED'; override readonly retryable = true }
