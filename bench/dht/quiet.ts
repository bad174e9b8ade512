/**
 * Waits until this process is mostly idle (under `maxCores` of CPU over a
 * `windowMs` window), at most `maxMs`; returns how long it waited. Every
 * node shares this one process, so a lookup started while others are
 * still busy (pinging the peers the last lookup told them about) would
 * queue behind their work and time out requests a real network would
 * answer at once. Idle = little CPU used and the window's timer on time:
 * on a shared machine a busy process can also use little CPU while the OS
 * has it waiting for a core, and then its timers run late.
 */
export async function waitForQuiet (maxMs = 20_000, windowMs = 200, maxCores = 0.25, maxLateMs = 50): Promise<number> {
  const start = performance.now()
  while (performance.now() - start < maxMs) {
    const before = process.cpuUsage()
    const t = performance.now()
    await new Promise(resolve => setTimeout(resolve, windowMs))
    const used = process.cpuUsage(before)
    const elapsed = performance.now() - t
    if ((used.user + used.system) / 1000 / elapsed < maxCores && elapsed - windowMs < maxLateMs) break
  }
  return performance.now() - start
}
