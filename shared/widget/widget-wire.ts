import { InvalidMessageError } from '../errors.ts'

/**
 * What a widget's node reports to its relay, one JSON frame per stream: the
 * site owner's account it works for, the subtasks it computed and what its
 * cheques credit that account, both since the node started. The relay
 * knows which peer sent it (the session), so a report speaks only for its
 * sender; it is a count for the site owner's page, not a payment.
 */
export interface WidgetReport {
  v: 1
  /** This run of the node (a page load): counts are since it started, so a reload adds a run instead of resetting one. */
  run: string
  /** The site owner's payment address (0x + 40 hex). */
  account: string
  /** Subtasks computed and reported since the node started. */
  done: number
  /** What the cheques it holds credit the account, in the token's base units (decimal); self-reported. */
  earned: string
  /** Working now (not paused by the visitor, the site, a hidden page…). */
  working: boolean
}

/** Largest report frame, bytes. */
export const MAX_WIDGET_FRAME = 512

const ACCOUNT = /^0x[0-9a-fA-F]{40}$/
/** Up to 10^36 base units: more than any token's supply, and the board's sums stay sane. */
const AMOUNT = /^\d{1,36}$/
const RUN = /^[\w-]{1,40}$/

export function validateWidgetReport (value: unknown): WidgetReport {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidMessageError('A widget report is an object')
  const r = value as Record<string, unknown>
  if (r.v !== 1) throw new InvalidMessageError('A widget report has v: 1')
  if (typeof r.run !== 'string' || !RUN.test(r.run)) throw new InvalidMessageError('"run" must be a short id')
  if (typeof r.account !== 'string' || !ACCOUNT.test(r.account)) throw new InvalidMessageError('"account" must be an address')
  if (typeof r.done !== 'number' || !Number.isSafeInteger(r.done) || r.done < 0) throw new InvalidMessageError('"done" must be a count')
  if (typeof r.earned !== 'string' || !AMOUNT.test(r.earned)) throw new InvalidMessageError('"earned" must be a decimal amount')
  if (typeof r.working !== 'boolean') throw new InvalidMessageError('"working" must be true or false')
  return { v: 1, run: r.run, account: r.account, done: r.done, earned: r.earned, working: r.working }
}
