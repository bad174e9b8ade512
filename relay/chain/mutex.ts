/** Runs `fn` alone: after every call made before it has settled. */
export type Exclusive = <T>(fn: () => Promise<T>) => Promise<T>

/** A lock as a function: calls run one at a time, in order, whether earlier ones resolved or threw. */
export function mutex (): Exclusive {
  let tail: Promise<unknown> = Promise.resolve()
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn)
    tail = run.catch(() => {})
    return await run
  }
}
