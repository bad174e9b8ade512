/** `task run`'s flags: parsed strictly, refused in the words of the flags. */
import { dirname, resolve } from 'node:path'
import { stat } from 'node:fs/promises'
import { UsageError } from '../../shared/errors.ts'
import { MAX_K } from '../../shared/market/index.ts'

/** The options each kind of task takes. */
export const OPTIONS = {
  mandelbrot: ['size', 'tile', 'iter', 'k', 'out', 'price'],
  primes: ['from', 'to', 'parts', 'k', 'price'],
  module: ['inputs', 'out', 'k', 'price']
}

// the shared limits name fields as the page shows them; here they are flags
export const MANDELBROT_LABELS = { width: '--size width', height: '--size height', tile: '--tile', maxIter: '--iter' }
export const PRIMES_LABELS = { from: '--from', to: '--to', parts: '--parts' }

/** `--name value` pairs, only of the names `allowed`: a typo is refused, not ignored. */
export function flags (args: string[], allowed: string[], what: string): Map<string, string> {
  const values = new Map<string, string>()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    const name = arg.slice(2)
    if (!arg.startsWith('--')) throw new UsageError(`unexpected "${arg}" in task run ${what} (options take the form --name value)`)
    if (!allowed.includes(name)) throw new UsageError(`task run ${what} has no option ${arg} (it takes ${allowed.map(n => `--${n}`).join(', ')})`)
    const value = args[++i]
    if (value == null) throw new UsageError(`${arg} needs a value`)
    values.set(name, value)
  }
  return values
}

export function whole (values: Map<string, string>, name: string, fallback: number): number {
  const text = values.get(name)
  if (text == null) return fallback
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`--${name} must be a whole number, not "${text}"`)
  return n
}

export function redundancy (values: Map<string, string>): number {
  const k = whole(values, 'k', 1)
  if (k < 1 || k > MAX_K) throw new UsageError(`--k must be from 1 to ${MAX_K}, not ${k}`)
  return k
}

/** `--size 512x384`, or `--size 512` for a square. */
export function imageSize (text = '512x512'): { width: number, height: number } {
  const m = /^(\d+)(?:[x×](\d+))?$/i.exec(text)
  if (m == null) throw new UsageError(`--size takes WIDTHxHEIGHT in pixels, e.g. 512x512 (one number for a square), not "${text}"`)
  const width = Number(m[1])
  return { width, height: m[2] != null ? Number(m[2]) : width }
}

/** Refuses an --out whose folder is missing before any work is done, not after. */
export async function checkOutFolder (out: string | undefined): Promise<void> {
  if (out == null) return
  const folder = dirname(resolve(out))
  const info = await stat(folder).catch(() => undefined)
  if (info?.isDirectory() !== true) throw new UsageError(`--out ${out}: the folder ${folder} does not exist`)
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
