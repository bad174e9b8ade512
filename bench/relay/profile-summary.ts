// Where a process's CPU went, from a V8 CPU profile (.cpuprofile, as
// `--cpu-prof` or the inspector's Profiler.stop writes it): self time by
// function and by package, so the report can say what the relay spends its
// cores on without anyone opening DevTools.

/** The parts of a V8 CPU profile this summary reads. */
export interface CpuProfile {
  nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number }>
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

export interface SelfTime {
  name: string
  ms: number
  /** Share of all sampled time, idle included, 0..1. */
  share: number
}

export interface ProfileSummary {
  totalMs: number
  /** Time the thread was idle (waiting in the event loop). */
  idleMs: number
  byFunction: SelfTime[]
  byPackage: SelfTime[]
}

/**
 * The package a frame belongs to: `node_modules/<name>` (scoped names kept),
 * the repository folder for our own code (`shared/peer-session`), `node:`
 * for Node's internals, or V8's pseudo-frames: (garbage collector),
 * (program), (idle).
 */
export function packageOf (url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : rest[0] ?? url
  }
  if (url.startsWith('node:')) return 'node:' + (url.slice(5).split('/')[0] ?? '')
  const ours = /\/(shared|relay|bench|web|e2e)\/([^/]+)\//.exec(url)
  if (ours != null) return `${ours[1] ?? ''}/${ours[2] ?? ''}`
  return url.split('/').slice(-2).join('/')
}

function shortUrl (url: string): string {
  const nm = url.lastIndexOf('node_modules/')
  if (nm !== -1) return url.slice(nm + 'node_modules/'.length)
  const ours = /\/((?:shared|relay|bench|web|e2e)\/.*)$/.exec(url)
  return ours?.[1] ?? url.replace(/^file:\/\//, '')
}

/** Self time per node id: from the samples and their time deltas when present, else hit counts × the mean interval. */
function selfTimes (profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  if (samples.length > 0 && deltas.length === samples.length) {
    // a sample's time is the gap to the next one (V8 records the gap before each)
    for (let i = 0; i < samples.length; i++) {
      const id = samples[i] as number
      const us = deltas[i + 1] ?? 0
      self.set(id, (self.get(id) ?? 0) + Math.max(0, us) / 1000)
    }
    return self
  }
  const hits = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0)
  const interval = hits > 0 ? (profile.endTime - profile.startTime) / 1000 / hits : 0
  for (const node of profile.nodes) self.set(node.id, (node.hitCount ?? 0) * interval)
  return self
}

function top (map: Map<string, number>, total: number, n: number): SelfTime[] {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, ms]) => ({ name, ms: Math.round(ms), share: total > 0 ? Math.round(ms / total * 1000) / 1000 : 0 }))
}

/** The `n` largest self times by function and by package. */
export function summarizeProfile (profile: CpuProfile, n = 15): ProfileSummary {
  const self = selfTimes(profile)
  const byFunction = new Map<string, number>()
  const byPackage = new Map<string, number>()
  let total = 0
  let idle = 0
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0
    if (ms === 0) continue
    total += ms
    const { functionName, url, lineNumber } = node.callFrame
    if (functionName === '(idle)') { idle += ms; continue }
    const fn = url === '' ? (functionName || '(anonymous)') : `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms)
    const pkg = packageOf(url, functionName)
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms)
  }
  return { totalMs: Math.round(total), idleMs: Math.round(idle), byFunction: top(byFunction, total, n), byPackage: top(byPackage, total, n) }
}
