import { persistedList } from '../node/persisted-list.ts'
import { isFinal } from './task-phase.ts'
import type { PersistedList } from '../node/persisted-list.ts'
import type { TaskView } from './task-view.ts'

/** One task as IndexedDB keeps it: its card, and its picture as a PNG (pictures are the big part). */
export interface TaskRecord { view: TaskView, png?: Blob }

export type TaskHistory = PersistedList<TaskRecord>

/** Tasks kept per identity. */
export const HISTORY_MAX = 20
/** Pictures kept: a 2048² render is a few MB of PNG. */
export const IMAGE_LIMITS = { count: 6, bytes: 48 * 1024 * 1024 }

export function openTaskHistory (owner: string): TaskHistory {
  return persistedList<TaskRecord>({ name: 'tasks', owner, max: HISTORY_MAX })
}

/** Which pictures stay (by task key), newest first, within `limits`: one too big for what is left is skipped, an older smaller one may still fit. */
export function imagesToKeep (newestFirst: ReadonlyArray<{ key: string, size: number }>, limits = IMAGE_LIMITS): Set<string> {
  const keep = new Set<string>()
  let bytes = 0
  for (const { key, size } of newestFirst) {
    if (keep.size >= limits.count) break
    if (bytes + size > limits.bytes) continue
    keep.add(key)
    bytes += size
  }
  return keep
}

/** A kept task as the page shows it after a reload: one that was still running died with the page's node. */
export function restoredView (view: TaskView): TaskView {
  if (isFinal(view.state)) return view
  return { ...view, state: 'interrupted', running: 0, error: 'The page was closed or reloaded while this task ran; it stopped with it' }
}
