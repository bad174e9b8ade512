import { mandelbrotProblems, primesProblems, wholeProblem } from '../../../tasks/job-limits.ts'
import { MAX_K } from '../../../shared/market/index.ts'
import { parsePrice } from './task-price.ts'
import type { TokenInfo } from './task-price.ts'

/** The task form's fields as the inputs give them: an emptied number input reads as null. */
export interface TaskForm {
  kind: 'mandelbrot' | 'primes'
  size: number | null
  tile: number | null
  k: number | null
  primesTo: number | null
  /** Per accepted subtask, in whole tokens as typed: asked only when the relay runs a chain. */
  price?: string
}

export type FormField = 'size' | 'tile' | 'k' | 'primesTo' | 'price'

/** Iterations and parts the form does not ask for. */
export const MAX_ITER = 256
export const PRIMES_PARTS = 20

/**
 * A message per field that holds a value the task does not take (empty:
 * submit). The job builders check the same limits. `paid`: the relay runs a
 * chain, and the price is checked against its token.
 */
export function formProblems (form: TaskForm, paid?: { token?: TokenInfo }): Partial<Record<FormField, string>> {
  const out: Partial<Record<FormField, string>> = {}
  const field: Record<string, FormField> = { width: 'size', height: 'size', tile: 'tile', to: 'primesTo', k: 'k' }
  const problems = form.kind === 'mandelbrot'
    ? mandelbrotProblems({ width: form.size, height: form.size, tile: form.tile, maxIter: MAX_ITER }, { width: 'Size', height: 'Size' })
    : primesProblems({ to: form.primesTo, parts: PRIMES_PARTS })
  const k = wholeProblem('k', 'Redundancy k', form.k, 1, MAX_K)
  for (const p of k == null ? problems : [...problems, k]) {
    const name = field[p.field]
    if (name != null) out[name] ??= p.message
  }
  const price = paid == null ? undefined : parsePrice(form.price ?? '', paid.token).problem
  if (price != null) out.price = price
  return out
}

/** How many subtasks the form's task has (undefined while a field is wrong): Mandelbrot tiles, or the primes' parts. */
export function subtasksOf (form: TaskForm): number | undefined {
  if (form.kind === 'primes') return PRIMES_PARTS
  if (form.size == null || form.tile == null || form.tile < 1) return undefined
  return Math.ceil(form.size / form.tile) ** 2
}
