export interface MemorySample {
  /** V8 heap in use plus memory held outside it (Buffers, ArrayBuffers), bytes. */
  heapAndExternal: number
  rss: number
}

const gc = (globalThis as { gc?: () => void }).gc

/** Collects garbage first (needs `--expose-gc`) so samples compare live memory, not GC timing. */
export async function sampleMemory (): Promise<MemorySample> {
  if (gc == null) throw new Error('run with node --expose-gc')
  for (let i = 0; i < 3; i++) {
    gc()
    // let finalizers and pending microtasks run between collections
    await new Promise(resolve => setImmediate(resolve))
  }
  const m = process.memoryUsage()
  return { heapAndExternal: m.heapUsed + m.external, rss: m.rss }
}
