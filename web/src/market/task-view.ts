import type { TaskState } from './task-phase.ts'

export interface TileView { subtask: number, provider: string, left: number, top: number, width: number, height: number }

/** One task this tab submitted, as its card shows it: plain data, kept across reloads. */
export interface TaskView {
  /** This card's own ID, stable from the click on: the market's task ID comes once the task is stored. */
  key: string
  id: string
  kind: 'mandelbrot' | 'primes'
  name: string
  state: TaskState
  total: number
  done: number
  running: number
  providers: number
  k: number
  width?: number
  height?: number
  tiles: TileView[]
  answer?: { count: number, largest: number }
  rejected: Array<{ subtask: number, provider: string, reason: string }>
  reassigned: number
  error?: string
  startedAt: number
  /** Last subtask handed out or finished (or the task published): what `stalled` is measured from. */
  lastActivityAt: number
  finishedAt?: number
  /** The finished image was not kept (history holds only the newest few pictures). */
  imageDropped?: boolean
}
