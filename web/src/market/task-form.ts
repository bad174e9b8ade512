import { mandelbrotProblems, primesProblems, wholeProblem } from '../../../tasks/job-limits.ts'
import { MAX_K } from '../../../shared/market/index.ts'

/** The task form's fields as the inputs give them: an emptied number input reads as null. */
export interface TaskForm {
  kind: 'mandelbrot' | 'primes'
  size: number | null
  tile: number | null
  k: number | null
  primesTo: number | null
}

export type FormField = 'size' | 'tile' | 'k' | 'primesTo'

/** Iterations and parts the form does not ask for. */
export const MAX_ITER = 256
export const PRIMES_PARTS = 20

/** A message per field that holds a value the task does not take (empty: submit). The job builders check the same limits. */
export function formProblems (form: TaskForm): Partial<Record<FormField, string>> {
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
  return out
}
