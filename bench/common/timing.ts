// Waiting helpers for benches, on Node and in bench pages alike: this module
// imports nothing, so a page (web/bench/) may import it directly, while the
// rest of bench/common (index.ts) is Node-only.

export async function sleep (ms: number): Promise<void> {
  await new Promise<void>(resolve => setTimeout(resolve, ms))
}

/** Rejects with a named timeout when `promise` takes longer than `ms`. */
export async function withTimeout<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what} timed out after ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Polls `test` every `every` ms until it holds, failing after `ms`. */
export async function waitUntil (test: () => boolean | Promise<boolean>, ms: number, what: string, every = 50): Promise<void> {
  const deadline = Date.now() + ms
  while (!await test()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`)
    await sleep(every)
  }
}
