/** Direct messages between peers, with delivery acks, over MsgQueue. */
export { MAX_TEXT_LENGTH } from './message-codec.ts'
export { messaging } from './messaging.ts'
export type { DirectMessage, Messaging } from './messaging.ts'
