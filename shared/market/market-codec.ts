import { InvalidMessageError } from '../errors.ts'
import { expectBoolean, expectInt, expectList, expectLiteral, expectPeerId, expectRecord, expectSha256, expectString, expectStringList, literalItem } from '../wire/index.ts'
import { MAX_PAYMENT_BINDING_LENGTH } from '../payments/index.ts'
import type { Fields } from '../wire/index.ts'

/** How a provider runs subtasks. */
export type Runtime = 'browser' | 'node'
export type VerificationMode = 'redundancy' | 'none'
const RUNTIMES: readonly Runtime[] = ['browser', 'node']

export const MAX_SUBTASKS = 100_000
/** A task's deadline is at most this long after it was created, ms (timers stay far below 2^31 ms). */
export const MAX_TASK_LIFETIME = 7 * 24 * 3600 * 1000
/** A subtask's deadline is at most this long after its assignment, ms (the longest subtaskTimeout). */
export const MAX_SUBTASK_WINDOW = 3_600_000
/** How far ahead of our clock a peer's timestamp may be, ms. */
export const MAX_CLOCK_SKEW = 10 * 60 * 1000
/** Result bytes carried inline in a report frame. */
export const MAX_RESULT_BYTES = 4 * 1024 * 1024
const ID = 64

export interface ObjectRef { address: string, sha256: string, size: number }

/** Signed by the requestor; spread by pub/sub. */
export interface TaskHeader {
  v: 1
  type: 'task'
  id: string
  requestor: string
  /** Where providers reach the requestor (signed, so not an eclipse vector). */
  requestorAddrs: string[]
  name: string
  module: ObjectRef
  /** The per-subtask inputs, packed in one bundle (see input-bundle.ts). */
  inputs: ObjectRef
  subtasks: number
  /** Paid per accepted subtask, in the token's base units (of a paid task: see `pay`). */
  price: number
  /** ms since the epoch: after this nobody works on the task. */
  deadline: number
  /** Time a provider has per subtask, ms. */
  subtaskTimeout: number
  requirements: { runtimes: Runtime[], memoryMB: number }
  verification: { mode: VerificationMode, k: number }
  createdAt: number
  /** The requestor's payment binding (shared/payments): who pays for the work. */
  payment: string
  /** Where and how much it pays: absent for an unpaid task (no chain). */
  pay?: PayTerms
}

/**
 * A paid task's terms: the deposit contract that pays (chain, contract,
 * salt: what its cheques and notes name) and its budget, the most its
 * notes promise in all (subtasks × k × price plus reassignments), in the
 * token's base units.
 */
export interface PayTerms {
  chainId: number
  contract: string
  salt: string
  budget: string
}

export interface Offer {
  v: 1
  type: 'offer'
  task: string
  provider: string
  providerAddrs: string[]
  runtime: Runtime
  cores: number
  price: number
  at: number
  /** The provider's payment binding (shared/payments): whom the requestor pays. */
  payment: string
  /**
   * Pay this address instead of the bound one: a widget's node works for
   * its site owner, whose key it lacks. Only money given away, so no proof
   * is asked. @default the binding's address
   */
  payee?: string
}

export interface Assignment {
  v: 1
  type: 'assign'
  id: string
  task: string
  requestor: string
  provider: string
  subtask: number
  /** SHA-256 of this subtask's input as packed in the bundle. */
  input: string
  /** ms since the epoch: the report must arrive by then. */
  deadline: number
  at: number
}

export interface Report {
  v: 1
  type: 'report'
  /** The signed assignment this answers, as evidence. */
  assignment: string
  provider: string
  result?: { sha256: string, size: number }
  error?: { name: string, message: string }
  computeMs: number
  at: number
}

export interface Verdict { v: 1, type: 'verdict', report: string, requestor: string, accepted: boolean, reason: string, at: number }

/** Published by the requestor when a task ends; providers drop its work. */
export interface TaskClosed { v: 1, type: 'closed', task: string, requestor: string, reason: 'done' | 'cancelled' | 'expired', at: number }

/** A time in ms since the epoch that is not in the future beyond clock skew. */
function expectTime (obj: Fields, key: string): number {
  const value = expectInt(obj, key, 0, Number.MAX_SAFE_INTEGER)
  if (value > Date.now() + MAX_CLOCK_SKEW) throw new InvalidMessageError(`"${key}" lies in the future (more than ${MAX_CLOCK_SKEW / 60_000} minutes ahead of our clock)`)
  return value
}

/** A deadline no further than `window` ms after `from`: timers are set from it (one already past is the reader's to refuse). */
function expectDeadline (obj: Fields, from: number, window: number): number {
  const value = expectInt(obj, 'deadline', 0, Number.MAX_SAFE_INTEGER)
  if (value - from > window) throw new InvalidMessageError(`"deadline" must be at most ${Math.round(window / 60_000)} minutes after the message was made`)
  return value
}

function objectRef (value: unknown, what: string): ObjectRef {
  const obj = expectRecord(value, what)
  return { address: expectString(obj, 'address', 8192), sha256: expectSha256(obj, 'sha256'), size: expectInt(obj, 'size', 0, 2 ** 40) }
}

/** A market message's body: a version 1 object of `type`, whose other fields `fields` reads. */
function message<T extends string, B> (value: unknown, type: T, what: string, fields: (obj: Fields) => B): { v: 1, type: T } & B {
  const obj = expectRecord(value, what)
  expectLiteral(obj, 'v', [1])
  expectLiteral(obj, 'type', [type])
  return { v: 1, type, ...fields(obj) }
}

export function validateHeader (value: unknown): TaskHeader {
  return message(value, 'task', 'task header', obj => {
    const req = expectRecord(obj.requirements, 'requirements')
    const ver = expectRecord(obj.verification, 'verification')
    const runtimes = expectList(req, 'runtimes', 2, literalItem(RUNTIMES))
    if (runtimes.length === 0) throw new InvalidMessageError('"runtimes" must list browser and/or node')
    const createdAt = expectTime(obj, 'createdAt')
    return {
      id: expectString(obj, 'id', ID),
      requestor: expectPeerId(obj, 'requestor'),
      requestorAddrs: expectStringList(obj, 'requestorAddrs', 16, 1024),
      name: expectString(obj, 'name', 120),
      module: objectRef(obj.module, 'module'),
      inputs: objectRef(obj.inputs, 'inputs'),
      subtasks: expectInt(obj, 'subtasks', 1, MAX_SUBTASKS),
      price: expectInt(obj, 'price', 0, Number.MAX_SAFE_INTEGER),
      deadline: expectDeadline(obj, createdAt, MAX_TASK_LIFETIME),
      subtaskTimeout: expectInt(obj, 'subtaskTimeout', 100, MAX_SUBTASK_WINDOW),
      requirements: { runtimes, memoryMB: expectInt(req, 'memoryMB', 1, 4096) },
      verification: { mode: expectLiteral(ver, 'mode', ['redundancy', 'none'] as const), k: expectInt(ver, 'k', 1, 9) },
      createdAt,
      payment: expectString(obj, 'payment', MAX_PAYMENT_BINDING_LENGTH),
      ...(obj.pay != null ? { pay: payTerms(obj.pay) } : {})
    }
  })
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const SALT = /^0x[0-9a-f]{64}$/
const BUDGET = /^[1-9][0-9]{0,38}$/

function payTerms (value: unknown): PayTerms {
  const obj = expectRecord(value, 'pay')
  const contract = expectString(obj, 'contract', 42)
  const salt = expectString(obj, 'salt', 66)
  const budget = expectString(obj, 'budget', 39)
  if (!ADDRESS.test(contract)) throw new InvalidMessageError('"pay.contract" must be an address')
  if (!SALT.test(salt)) throw new InvalidMessageError('"pay.salt" must be 32 bytes of lowercase 0x hex')
  if (!BUDGET.test(budget)) throw new InvalidMessageError('"pay.budget" must be a positive decimal amount')
  return { chainId: expectInt(obj, 'chainId', 1, Number.MAX_SAFE_INTEGER), contract, salt, budget }
}

export function validateOffer (value: unknown): Offer {
  return message(value, 'offer', 'offer', obj => ({
    task: expectString(obj, 'task', ID),
    provider: expectPeerId(obj, 'provider'),
    providerAddrs: expectStringList(obj, 'providerAddrs', 16, 1024),
    runtime: expectLiteral(obj, 'runtime', RUNTIMES),
    cores: expectInt(obj, 'cores', 1, 1024),
    price: expectInt(obj, 'price', 0, Number.MAX_SAFE_INTEGER),
    at: expectTime(obj, 'at'),
    payment: expectString(obj, 'payment', MAX_PAYMENT_BINDING_LENGTH),
    ...(obj.payee !== undefined ? { payee: expectPayee(obj.payee) } : {})
  }))
}

function expectPayee (value: unknown): string {
  if (typeof value !== 'string' || !ADDRESS.test(value)) throw new InvalidMessageError('"payee" must be an address')
  return value
}

export function validateAssignment (value: unknown): Assignment {
  return message(value, 'assign', 'assignment', obj => {
    const at = expectTime(obj, 'at')
    return {
      id: expectString(obj, 'id', ID),
      task: expectString(obj, 'task', ID),
      requestor: expectPeerId(obj, 'requestor'),
      provider: expectPeerId(obj, 'provider'),
      subtask: expectInt(obj, 'subtask', 0, MAX_SUBTASKS - 1),
      input: expectSha256(obj, 'input'),
      deadline: expectDeadline(obj, at, MAX_SUBTASK_WINDOW),
      at
    }
  })
}

export function validateReport (value: unknown): Report {
  return message(value, 'report', 'report', obj => {
    const report: Omit<Report, 'v' | 'type'> = {
      assignment: expectString(obj, 'assignment', 16 * 1024),
      provider: expectPeerId(obj, 'provider'),
      computeMs: expectInt(obj, 'computeMs', 0, MAX_TASK_LIFETIME),
      at: expectTime(obj, 'at')
    }
    if (obj.result != null) {
      const r = expectRecord(obj.result, 'result')
      report.result = { sha256: expectSha256(r, 'sha256'), size: expectInt(r, 'size', 0, MAX_RESULT_BYTES) }
    } else {
      const e = expectRecord(obj.error, 'error')
      report.error = { name: expectString(e, 'name', 80), message: expectString(e, 'message', 1000) }
    }
    return report
  })
}

export function validateVerdict (value: unknown): Verdict {
  return message(value, 'verdict', 'verdict', obj => ({
    report: expectString(obj, 'report', 40 * 1024),
    requestor: expectPeerId(obj, 'requestor'),
    accepted: expectBoolean(obj, 'accepted'),
    reason: expectString(obj, 'reason', 200),
    at: expectTime(obj, 'at')
  }))
}

export function validateClosed (value: unknown): TaskClosed {
  return message(value, 'closed', 'task closed', obj => ({
    task: expectString(obj, 'task', ID),
    requestor: expectPeerId(obj, 'requestor'),
    reason: expectLiteral(obj, 'reason', ['done', 'cancelled', 'expired'] as const),
    at: expectTime(obj, 'at')
  }))
}
