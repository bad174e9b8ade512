// CPU time per process tree, so a run can say who used the cores: the relay
// process, this process (the requestor), each Chromium instance, the rest.
import { readdirSync, readFileSync } from 'node:fs'
import { HZ, machineBusy, procTable } from './cpu.ts'

export interface GroupSnapshot {
  at: number
  /** Ticks per group (a group is a root pid and all its descendants; `self` is this process alone). */
  groups: Record<string, number>
  /** Busy ticks of the whole machine. */
  busy: number
}

/** Direct children of `pid` whose command line contains `match`. */
export function childrenMatching (pid: number, match: string): number[] {
  const { parent } = procTable()
  const out: number[] = []
  for (const [child, p] of parent) {
    if (p !== pid) continue
    try {
      if (readFileSync(`/proc/${child}/cmdline`, 'utf8').includes(match)) out.push(child)
    } catch {}
  }
  return out
}

/**
 * The group a pid belongs to: the name of the first root among it and its
 * ancestors, `self` for this process and its children outside every root,
 * else undefined.
 */
export function groupOf (pid: number, parent: Map<number, number>, roots: Record<string, number>): string | undefined {
  for (let p: number | undefined = pid; p != null && p > 1; p = parent.get(p)) {
    for (const [name, root] of Object.entries(roots)) if (root === p) return name
    if (p === process.pid) return 'self'
  }
  return undefined
}

/** `roots`: group name → root pid. `self` is this process and its children outside every root. */
export function groupSnapshot (roots: Record<string, number>): GroupSnapshot {
  try {
    const { parent, ticks } = procTable()
    const groups: Record<string, number> = Object.fromEntries(Object.keys(roots).map(k => [k, 0]))
    groups.self = 0
    for (const [pid, t] of ticks) {
      const name = groupOf(pid, parent, roots)
      if (name != null) groups[name] = (groups[name] ?? 0) + t
    }
    return { at: performance.now(), groups, busy: machineBusy() }
  } catch {
    return { at: performance.now(), groups: {}, busy: Number.NaN }
  }
}

/** Cores used per group between two snapshots, and by the rest of the machine. */
export function coresBetween (a: GroupSnapshot, b: GroupSnapshot): Record<string, number> & { rest: number } {
  const seconds = (b.at - a.at) / 1000
  const out: Record<string, number> = {}
  let ours = 0
  for (const [name, t] of Object.entries(b.groups)) {
    const used = t - (a.groups[name] ?? 0)
    ours += used
    out[name] = Math.round(used / HZ / seconds * 100) / 100
  }
  const rest = Math.max(0, (b.busy - a.busy) - ours) / HZ / seconds
  return { ...out, rest: Math.round(rest * 100) / 100 }
}

/** What a process is: Chromium's `--type=` (with a utility's sub-type), `browser` for Chromium's main process, else `node`. */
export function processType (pid: number): string {
  const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  const type = /--type=([\w-]+)/.exec(cmd)?.[1] ?? (cmd.includes('chrom') ? 'browser' : 'node')
  const sub = /--utility-sub-type=([\w.]+)/.exec(cmd)?.[1]
  return sub != null ? `${type}:${sub.split('.').pop() ?? ''}` : type
}

/** Ticks per "group/process type/thread name" under the given roots. */
export function threadTicks (roots: Record<string, number>): Map<string, number> {
  const { parent } = procTable()
  const out = new Map<string, number>()
  for (const pid of parent.keys()) {
    const group = groupOf(pid, parent, roots)
    if (group == null) continue
    try {
      const type = processType(pid)
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '#')
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        const key = `${group} ${type} ${comm}`
        out.set(key, (out.get(key) ?? 0) + Number(f[11]) + Number(f[12]))
      }
    } catch {}
  }
  return out
}

export function ticksBetween (a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>()
  for (const [k, t] of b) out.set(k, t - (a.get(k) ?? 0))
  return out
}

/** Adds each thread's ticks in `more` to `into`. */
export function addTicks (into: Map<string, number>, more: Map<string, number>): void {
  for (const [k, t] of more) into.set(k, (into.get(k) ?? 0) + t)
}

export interface ThreadTableInit {
  /** What `a` and `b` are, e.g. `['raw', 'storage']`. */
  labels: [string, string]
  /** What the figures are per, e.g. `'upload'`. */
  per: string
  /** Rows whose two figures add up to less than this many ms are left out. */
  minMs: number
  /** Decimals shown. */
  digits: number
}

/**
 * Lines comparing two sets of runs thread by thread: CPU ms per unit in `a`,
 * in `b`, and the difference, largest difference first, then the totals.
 * `units`: how many units (uploads, subtasks) each set covers.
 */
export function threadTable (a: Map<string, number>, b: Map<string, number>, units: number, init: ThreadTableInit): string[] {
  const ms = (ticks: number | undefined): number => (ticks ?? 0) * 1000 / HZ / units
  const rows = [...new Set([...a.keys(), ...b.keys()])].map(k => ({ k, a: ms(a.get(k)), b: ms(b.get(k)) }))
    .filter(x => x.a + x.b >= init.minMs).sort((x, y) => (y.b - y.a) - (x.b - x.a))
  const fmt = (x: number): string => x.toFixed(init.digits).padStart(7)
  const sum = (f: (x: typeof rows[number]) => number): string => rows.reduce((t, x) => t + f(x), 0).toFixed(init.digits)
  return [
    `CPU ms per ${init.per}: ${init.labels[0]} / ${init.labels[1]} / extra   group type thread`,
    ...rows.map(x => `${fmt(x.a)} ${fmt(x.b)} ${fmt(x.b - x.a)}   ${x.k}`),
    `total ${sum(x => x.a)} / ${sum(x => x.b)} / ${sum(x => x.b - x.a)}`
  ]
}
