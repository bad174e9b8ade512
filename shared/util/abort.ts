/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export async function delay (ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** A signal that aborts when any input aborts or after `timeout` ms. */
export function anySignal (signals: Array<AbortSignal | undefined>, timeout?: number): AbortSignal {
  const list = signals.filter((s): s is AbortSignal => s != null)
  if (timeout != null) list.push(AbortSignal.timeout(timeout))
  return AbortSignal.any(list)
}

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it
 * aborts; the work behind `promise` goes on (and its failure is not left
 * unhandled).
 */
export async function raceSignal<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal == null) return await promise
  promise.catch(() => {})
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
