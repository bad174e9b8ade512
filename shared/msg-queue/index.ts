/** MsgQueue: per-peer outbound queue with priorities, backpressure and store-and-forward. */
export { MessageExpiredError, MessageTooLargeForQueueError, MsgQueue, QueueClosedError } from './msg-queue.ts'
export type { MsgQueueInit, Priority } from './msg-queue.ts'
