// What /proc says about one process: CPU time (all its threads, and its main
// thread alone: the relay's JavaScript runs there, so that is the thread that
// saturates first) and resident memory; and the machine's free memory.
import { readFileSync } from 'node:fs'
import { HZ } from '../common/index.ts'

/** utime + stime in clock ticks, from a /proc/…/stat line. */
function statTicks (path: string): number {
  const stat = readFileSync(path, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(f[11]) + Number(f[12])
}

export interface ProcSample {
  at: number
  /** Ticks of every thread of the process. */
  ticks: number
  /** Ticks of its main thread. */
  mainTicks: number
}

export function procSample (pid: number): ProcSample {
  return { at: performance.now(), ticks: statTicks(`/proc/${pid}/stat`), mainTicks: statTicks(`/proc/${pid}/task/${pid}/stat`) }
}

/** Cores used between two samples: the whole process and its main thread. */
export function coresUsed (a: ProcSample, b: ProcSample): { cores: number, mainCores: number } {
  const s = (b.at - a.at) / 1000
  return { cores: (b.ticks - a.ticks) / HZ / s, mainCores: (b.mainTicks - a.mainTicks) / HZ / s }
}

function statusKiB (pid: number, field: string): number {
  const match = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1] ?? Number.NaN)
}

/** Resident set size now, KiB. */
export function rssKiB (pid: number): number {
  return statusKiB(pid, 'VmRSS')
}

/** The machine's MemAvailable, MiB: what can still be used without swapping (there is no swap here). */
export function memAvailableMiB (): number {
  const match = /MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))
  return Number(match?.[1] ?? 0) / 1024
}

/** Whether `pid` still runs. */
export function alive (pid: number | undefined): boolean {
  if (pid == null) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
