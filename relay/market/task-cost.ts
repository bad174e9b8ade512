import { formatUnits, parseUnits } from 'viem'
import { UsageError } from '../../shared/errors.ts'
import { maxAssignments, taskBudget } from '../../shared/market/index.ts'
import { chainAccess, tokens } from './chain-access.ts'
import type { ChainAccess } from './chain-access.ts'
import type { NodePeer } from '../node-peer/create-node-peer.ts'
import type { Emit } from '../storage/peer-commands.ts'
import type { RequestorTask, SubtaskResult, TaskSpec } from '../../shared/market/index.ts'

/** `--price` when not given, in whole tokens: a thousandth per accepted result. */
export const DEFAULT_PRICE = '0.001'

/** RequestorPaymentsInit.depositFactor's default (the Node peer sets none): a task locks this many times its budget. */
const DEPOSIT_FACTOR = 2n

/** What a task pays: a price per accepted result on the relay's chain, or nothing where no relay runs one. */
export type TaskPricing = { paid: false } | { paid: true, price: bigint, access: ChainAccess }

/** `--price` (whole tokens) in the token's base units, read from the token; unpaid when no connected relay runs a chain. */
export async function taskPricing (node: NodePeer, text: string | undefined, signal?: AbortSignal): Promise<TaskPricing> {
  if (text != null && !/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`--price takes an amount of tokens per accepted result, e.g. 0.001, not "${text}"`)
  if (await node.services.chain.chainInfo({ signal }) == null) return { paid: false }
  const access = await chainAccess(node, signal)
  const price = parseUnits(text ?? DEFAULT_PRICE, access.decimals)
  if (price < 1n) throw new UsageError(`--price ${text ?? ''} is less than the token's smallest unit (${formatUnits(1n, access.decimals)} ${access.symbol})`)
  // headers carry the price as a JSON number
  const max = BigInt(Number.MAX_SAFE_INTEGER)
  if (price > max) throw new UsageError(`--price may be at most ${tokens(max, access)} per accepted result`)
  return { paid: true, price, access }
}

/** The spec's payment fields: explicit, so a chain appearing between the cost shown and the submit does not change the terms. */
export function pricedSpec (spec: TaskSpec, pricing: TaskPricing): TaskSpec {
  return pricing.paid ? { ...spec, paid: true, price: Number(pricing.price) } : { ...spec, paid: false }
}

/** What the task may cost at most and what it locks of the deposit, before it is submitted. */
export function reportCost (spec: TaskSpec, pricing: TaskPricing, emit: Emit): void {
  if (!pricing.paid) {
    emit('task-cost', { paid: false }, 'unpaid task: this peer\'s relays run no chain, so providers volunteer')
    return
  }
  const budget = taskBudget(spec)
  const assignments = maxAssignments(spec.inputs.length, spec.k ?? 1, spec.reassignments)
  const locks = DEPOSIT_FACTOR * budget
  const unit = pricing.access
  emit('task-cost', { paid: true, price: String(pricing.price), budget: String(budget), assignments, locks: String(locks), symbol: unit.symbol, decimals: unit.decimals },
    `cost: ${tokens(pricing.price, unit)} per accepted result, at most ${tokens(budget, unit)} (${assignments} assignments budgeted); locks ${tokens(locks, unit)} of your deposit while it runs`)
}

/**
 * Counts what a task pays for: every accepted result, the k replicas that
 * agreed included (each is paid); a replica outvoted is not.
 */
export function followPayments (task: RequestorTask): { accepted: (results: SubtaskResult[]) => number } {
  let outvoted = 0
  task.addEventListener('rejected', () => { outvoted++ })
  const k = task.header.verification.k
  return { accepted: (results) => Math.max(results.length, results.length * k - outvoted) }
}

/** What the finished task paid: the price × its accepted results. */
export function reportPaid (task: RequestorTask, accepted: number, pricing: TaskPricing, emit: Emit): void {
  if (!pricing.paid) return
  const paid = pricing.price * BigInt(accepted)
  emit('task-paid', { task: task.id, accepted, paid: String(paid) }, `paid ${tokens(paid, pricing.access)} for ${accepted} accepted result${accepted === 1 ? '' : 's'}`)
}
