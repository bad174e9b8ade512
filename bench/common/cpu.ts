// CPU time from /proc: of the whole machine, and of this process and its
// descendants (Chromium, relay and server processes), so that a bench can say
// how many cores it got on a machine shared with other work.
import { readdirSync, readFileSync } from 'node:fs'
import { sleep } from './timing.ts'

/** Clock ticks per second of /proc times (USER_HZ, 100 on Linux). */
export const HZ = 100

export interface CpuSnapshot {
  at: number
  /** Busy ticks of the whole machine. */
  busy: number
  /** Ticks used by this process and its descendants (Chromium, the server process), per pid. */
  ours: Map<number, number>
}

/** Ticks of the whole machine since boot: busy (stolen time left out), and stolen by the hypervisor. */
export function machineTimes (): { busy: number, steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number)
  return { busy: user + nice + system + irq + softirq, steal }
}

/** Busy ticks of the whole machine since boot, stolen time included. */
export function machineBusy (): number {
  const { busy, steal } = machineTimes()
  return busy + steal
}

/** Parent pid and utime + stime of every process on the machine, by pid. */
export function procTable (): { parent: Map<number, number>, ticks: Map<number, number> } {
  const parent = new Map<number, number>()
  const ticks = new Map<number, number>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      // fields after the command (which may hold spaces) start at ") ": state ppid ... utime(12th) stime(13th)
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      parent.set(Number(name), Number(fields[1]))
      ticks.set(Number(name), Number(fields[11]) + Number(fields[12]))
    } catch {
      // the process ended meanwhile
    }
  }
  return { parent, ticks }
}

/** utime + stime of every descendant of `root` (and root), by pid. */
export function treeTicks (root: number): Map<number, number> {
  const { parent, ticks } = procTable()
  const ours = new Map<number, number>()
  for (const [pid, t] of ticks) {
    for (let p: number | undefined = pid; p != null && p > 1; p = parent.get(p)) {
      if (p === root) { ours.set(pid, t); break }
    }
  }
  return ours
}

export function cpuSnapshot (): CpuSnapshot {
  try {
    return { at: performance.now(), busy: machineBusy(), ours: treeTicks(process.pid) }
  } catch {
    return { at: performance.now(), busy: Number.NaN, ours: new Map() }
  }
}

/**
 * Cores used between two snapshots by our process tree and by everything
 * else. Approximate: a process of ours that exits in between counts as "rest".
 */
export function cpuBetween (a: CpuSnapshot, b: CpuSnapshot): { ours: number, rest: number } {
  const seconds = (b.at - a.at) / 1000
  if (seconds <= 0) return { ours: Number.NaN, rest: Number.NaN }
  let ours = 0
  for (const [pid, t] of b.ours) ours += t - (a.ours.get(pid) ?? 0)
  const busy = b.busy - a.busy
  return { ours: ours / HZ / seconds, rest: Math.max(0, busy - ours) / HZ / seconds }
}

/**
 * Waits (up to `maxMs`) for a quiet machine: other work sharing two cores
 * moves every number here. Returns the other processes' last measured load.
 */
export async function waitForQuiet (log: (line: string) => void, maxRest = 0.3, maxMs = 60_000): Promise<number> {
  const deadline = Date.now() + maxMs
  for (;;) {
    const a = cpuSnapshot()
    await sleep(2_000)
    const { rest } = cpuBetween(a, cpuSnapshot())
    if (!(rest > maxRest)) return rest
    if (Date.now() > deadline) {
      log(`bench: other processes still use ${rest.toFixed(2)} cores; measuring anyway`)
      return rest
    }
    log(`bench: other processes use ${rest.toFixed(2)} cores, waiting for a quieter machine`)
  }
}
