// What several benches use, and the only bench code a bench takes from
// outside its own folder (.dependency-cruiser.cjs: benches-share-through-common).
// Node only; a bench page imports timing.ts directly, which runs anywhere.
export { upsertSection } from './benchmarks-md.ts'
export { launchChromium, launchChromiumWithPid } from './chromium.ts'
export { HZ, cpuBetween, cpuSnapshot, machineTimes, treeTicks, waitForQuiet } from './cpu.ts'
export type { CpuSnapshot } from './cpu.ts'
export { addTicks, coresBetween, groupSnapshot, threadTable, threadTicks, ticksBetween } from './cpu-groups.ts'
export type { GroupSnapshot, ThreadTableInit } from './cpu-groups.ts'
export { loadAverage, machineInfo, machineLine } from './machine.ts'
export type { MachineInfo } from './machine.ts'
export { BENCHMARKS_MD, requireTestPage } from './paths.ts'
export { log, spawnScript, stopChild } from './processes.ts'
export type { StopInit } from './processes.ts'
export { startStaticServer } from './static-server.ts'
export type { StaticServer } from './static-server.ts'
export { mbps, median, percentile, round } from './stats.ts'
export { sleep, waitUntil, withTimeout } from './timing.ts'
