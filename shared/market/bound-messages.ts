import { openPaymentBinding } from '../payments/index.ts'
import { validateHeader, validateOffer } from './market-codec.ts'
import { openMessage } from './signed.ts'
import type { Offer, TaskHeader } from './market-codec.ts'
import type { Opened } from './signed.ts'
import type { Address, PaymentBinding } from '../payments/index.ts'

/**
 * The two market messages that name who pays and who is paid: a task
 * header (its requestor's payment binding) and an offer (its provider's).
 * Each is verified with its binding, which must bind the message's author:
 * a binding lifted from someone else's message is refused.
 */
export interface Bound<T> extends Opened<T> {
  /** The author's verified payment binding. */
  account: PaymentBinding
}

/** A verified task header and the address that pays for its work. */
export interface VerifiedHeader {
  header: TaskHeader
  /** The requestor's payment address, from its verified binding. */
  payer: Address
}

/** Opens a signed task header and its requestor's binding; throws typed errors (see openPaymentBinding). */
export async function openHeader (text: unknown): Promise<Bound<TaskHeader>> {
  const opened = await openMessage(text, 'task', validateHeader, h => h.requestor)
  return { ...opened, account: await openPaymentBinding(opened.body.payment, { peer: opened.body.requestor }) }
}

/** Opens a signed offer and its provider's binding; throws typed errors (see openPaymentBinding). */
export async function openOffer (text: unknown): Promise<Bound<Offer>> {
  const opened = await openMessage(text, 'offer', validateOffer, o => o.provider)
  return { ...opened, account: await openPaymentBinding(opened.body.payment, { peer: opened.body.provider }) }
}
