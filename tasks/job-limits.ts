/**
 * What the demo jobs accept, checked before anything is allocated: one
 * function per job that names each bad field with a sentence a person can
 * act on. The page shows them next to its fields, the CLI prints them, and
 * the job builders refuse to start without them being empty.
 */
import { GolemClayError } from '../shared/errors.ts'
import { PRIMES_MAX_TO } from './primes/ranges.ts'

/** One field with a bad value, and what to enter instead. */
export interface FieldProblem {
  field: string
  message: string
}

/** A demo job was asked for with values it does not take; `problems` names each field. */
export class InvalidJobError extends GolemClayError {
  override name = 'InvalidJobError'
  override readonly code = 'INVALID_JOB'
  readonly problems: FieldProblem[]

  constructor (problems: FieldProblem[]) {
    super(problems.map(p => p.message).join('; '))
    this.problems = problems
  }
}

export const MANDELBROT_LIMITS = {
  /** Image width and height, px: a 4096² picture is 64 MiB of RGBA. */
  side: { min: 16, max: 4096 },
  /** Tile edge, px: one 512² tile is a 1 MiB result, well under a report's cap. */
  tile: { min: 8, max: 512 },
  maxIter: { min: 1, max: 1_000_000 },
  /** Subtasks one image may need: more only makes round trips, not speed. */
  tiles: 10_000
} as const

export const PRIMES_LIMITS = {
  to: { min: 1, max: PRIMES_MAX_TO },
  parts: { min: 1, max: 10_000 }
} as const

/** The field names a caller may rename in messages (the page's one Size field stands for width and height). */
export type Labels = Partial<Record<string, string>>

const fmt = (n: number): string => n.toLocaleString('en')

/** Undefined when `value` is a whole number in [min, max]; otherwise the problem, naming `label`. */
export function wholeProblem (field: string, label: string, value: unknown, min: number, max: number, unit = ''): FieldProblem | undefined {
  const range = `a whole number from ${fmt(min)} to ${fmt(max)}${unit}`
  if (value == null || value === '' || (typeof value === 'number' && Number.isNaN(value))) return { field, message: `${label} is empty: enter ${range}` }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return { field, message: `${label} must be ${range}, not ${typeof value === 'number' ? fmt(value) : JSON.stringify(value)}` }
  }
  return undefined
}

const defined = (list: Array<FieldProblem | undefined>): FieldProblem[] => list.filter((p): p is FieldProblem => p != null)

export interface MandelbrotFields { width: unknown, height: unknown, tile?: unknown, maxIter?: unknown }

/** What is wrong with a Mandelbrot request (empty when nothing); `tile` and `maxIter` may be left out for their defaults. */
export function mandelbrotProblems (init: MandelbrotFields, labels: Labels = {}): FieldProblem[] {
  const { side, tile, maxIter } = MANDELBROT_LIMITS
  const problems = defined([
    wholeProblem('width', labels.width ?? 'Width', init.width, side.min, side.max, ' px'),
    wholeProblem('height', labels.height ?? 'Height', init.height, side.min, side.max, ' px'),
    init.tile === undefined ? undefined : wholeProblem('tile', labels.tile ?? 'Tile', init.tile, tile.min, tile.max, ' px'),
    init.maxIter === undefined ? undefined : wholeProblem('maxIter', labels.maxIter ?? 'Iterations', init.maxIter, maxIter.min, maxIter.max)
  ])
  if (problems.length > 0) return problems
  const edge = (init.tile as number | undefined) ?? 64
  const count = Math.ceil((init.width as number) / edge) * Math.ceil((init.height as number) / edge)
  if (count > MANDELBROT_LIMITS.tiles) {
    return [{ field: 'tile', message: `${labels.tile ?? 'Tile'} of ${edge} px cuts the image into ${fmt(count)} subtasks; at most ${fmt(MANDELBROT_LIMITS.tiles)}: use larger tiles` }]
  }
  return []
}

export interface PrimesFields { from?: unknown, to: unknown, parts?: unknown }

/** What is wrong with a prime-counting request (empty when nothing). */
export function primesProblems (init: PrimesFields, labels: Labels = {}): FieldProblem[] {
  const problems = defined([
    wholeProblem('to', labels.to ?? 'N', init.to, PRIMES_LIMITS.to.min, PRIMES_LIMITS.to.max),
    init.from === undefined ? undefined : wholeProblem('from', labels.from ?? 'From', init.from, 0, PRIMES_LIMITS.to.max),
    init.parts === undefined ? undefined : wholeProblem('parts', labels.parts ?? 'Parts', init.parts, PRIMES_LIMITS.parts.min, PRIMES_LIMITS.parts.max)
  ])
  if (problems.length === 0 && init.from !== undefined && (init.from as number) > (init.to as number)) {
    problems.push({ field: 'from', message: `${labels.from ?? 'From'} must not be above ${labels.to ?? 'N'}` })
  }
  return problems
}

/** Throws InvalidJobError when there is any problem. */
export function assertNoProblems (problems: FieldProblem[]): void {
  if (problems.length > 0) throw new InvalidJobError(problems)
}
