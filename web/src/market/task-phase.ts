/** Where a submitted task stands, as the page shows it. */
export type TaskState =
  | 'storing' // module and inputs going to a relay
  | 'waiting' // published, but no provider has offered (or all have left)
  | 'running'
  | 'stalled' // providers are known, yet nothing was handed out or finished for STALL_AFTER
  | 'done'
  | 'failed'
  | 'cancelled'
  | 'interrupted' // the page went away while it ran: the task died with the tab's node

/**
 * No subtask handed out or finished for this long while providers are known,
 * ms: a demo subtask takes well under a second, so 30 s of nothing means the
 * providers stopped taking work (paused, gone quiet), not that they are slow.
 */
export const STALL_AFTER = 30_000

export const FINAL_STATES: ReadonlySet<TaskState> = new Set(['done', 'failed', 'cancelled', 'interrupted'])

export function isFinal (state: TaskState): boolean {
  return FINAL_STATES.has(state)
}

/** The live state of a published task from what the requestor reports. */
export function livePhase (t: { providers: number, lastActivityAt: number }, now: number): 'waiting' | 'running' | 'stalled' {
  if (t.providers === 0) return 'waiting'
  return now - t.lastActivityAt >= STALL_AFTER ? 'stalled' : 'running'
}
