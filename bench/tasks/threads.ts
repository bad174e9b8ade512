// Where the cores go, by thread: CPU ms per subtask of every thread of the
// relays, this process and each Chromium, grouped by process type and thread
// name, in two rounds of a direct and a network run of 100 ms subtasks.
//   npm run build && node --import tsx bench/tasks/threads.ts
// BENCH_TASKS_REQUESTOR=tab submits from the bench page instead of the Node peer.
import { addTicks, log, round, threadTable, threadTicks, ticksBetween } from '../common/index.ts'
import { call, direct, network, ranges, setUp } from './rig.ts'
import type { Requestor } from './rig.ts'

const SUBTASKS = Number(process.env.BENCH_TASKS_SUBTASKS ?? 100)
const TARGET_MS = Number(process.env.BENCH_TASKS_SIZES ?? 100)
const FROM: Requestor = process.env.BENCH_TASKS_REQUESTOR === 'tab' ? 'tab' : 'node'

const rig = await setUp(2, log)
try {
  await call(rig.bench, 'direct', { ranges: ranges(1e7, 8) })
  await network(rig, FROM, ranges(1e7, 8))
  const probe = Math.min(...await call(rig.bench, 'sequential', { ranges: ranges(1e7, 5) }))
  let width = Math.round(TARGET_MS / probe * 1e7 / 1000) * 1000
  const alone = Math.min(...await call(rig.bench, 'sequential', { ranges: ranges(width, 5) }))
  width = Math.round(width * TARGET_MS / alone / 1000) * 1000
  const rs = ranges(width, SUBTASKS)
  const runs: Array<[string, Map<string, number>]> = []
  for (let i = 0; i < 2; i++) {
    let a = threadTicks(rig.pids)
    const d = await direct(rig, rs)
    runs.push(['direct', ticksBetween(a, threadTicks(rig.pids))])
    a = threadTicks(rig.pids)
    const n = await network(rig, FROM, rs, d.outputs)
    runs.push(['network', ticksBetween(a, threadTicks(rig.pids))])
    log(`round ${i}: direct ${d.wallMs} ms, network ${n.wallMs} ms, efficiency ${round(d.wallMs / n.wallMs, 3)}`)
  }
  const sum = (kind: string): Map<string, number> => {
    const total = new Map<string, number>()
    for (const [k, ticks] of runs) if (k === kind) addTicks(total, ticks)
    return total
  }
  for (const line of threadTable(sum('direct'), sum('network'), 2 * SUBTASKS, { labels: ['direct', 'network'], per: 'subtask', minMs: 0.2, digits: 2 })) log(line)
} finally {
  await rig.close()
  setTimeout(() => process.exit(), 1000).unref()
}
