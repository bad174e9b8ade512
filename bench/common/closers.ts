/** What a rig undoes when it closes: added as it is made, undone last first. */
export interface Closers {
  /** Adds something to undo. */
  push: (close: () => Promise<unknown>) => void
  /** Undoes everything once, however many callers (a signal and the bench's own finally) ask; one failing does not stop the others. */
  close: () => Promise<void>
}

export function closers (): Closers {
  const list: Array<() => Promise<unknown>> = []
  let closing: Promise<void> | undefined
  return {
    push: (close) => { list.push(close) },
    close: async () => {
      closing ??= (async () => { for (const c of list.reverse()) await c().catch(() => {}) })()
      await closing
    }
  }
}
