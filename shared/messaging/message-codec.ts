import { InvalidMessageError } from '../errors.ts'
import { expectLiteral, expectNumber, expectRecord, expectString } from '../wire/index.ts'

/** Wire version of the message protocol's frames. */
export const MESSAGE_WIRE_VERSION = 1
/** Longest text a direct message may carry, in UTF-16 code units. */
export const MAX_TEXT_LENGTH = 4096
/** Hard cap for one frame, checked before the frame is buffered. */
export const MAX_MESSAGE_FRAME = 16 * 1024

export interface TextFrame {
  v: 1
  type: 'text'
  id: string
  text: string
  sentAt: number
}

export interface AckFrame {
  v: 1
  type: 'ack'
  id: string
}

export function validateTextFrame (value: unknown): TextFrame {
  const obj = expectRecord(value, 'message')
  expectLiteral(obj, 'v', [MESSAGE_WIRE_VERSION])
  expectLiteral(obj, 'type', ['text'])
  const id = expectString(obj, 'id', 64)
  if (id.length === 0) throw new InvalidMessageError('"id" must not be empty')
  return { v: 1, type: 'text', id, text: expectString(obj, 'text', MAX_TEXT_LENGTH), sentAt: expectNumber(obj, 'sentAt') }
}

export function validateAckFrame (value: unknown): AckFrame {
  const obj = expectRecord(value, 'ack')
  expectLiteral(obj, 'v', [MESSAGE_WIRE_VERSION])
  expectLiteral(obj, 'type', ['ack'])
  return { v: 1, type: 'ack', id: expectString(obj, 'id', 64) }
}
