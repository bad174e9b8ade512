/**
 * web/bench/sandbox.html: drives a browser task runner from Playwright
 * (e2e/sandbox.spec.ts) without the node or the app. Bytes cross as base64.
 * It exposes the runner's own API only: jobs are module bytes and inputs,
 * and the probe is the sandbox's fixed scope report, never code to run.
 */
import { moduleHash } from '../../shared/compute/index.ts'
import { createBrowserTaskRunner } from '../src/compute/browser-task-runner.ts'
import type { SubtaskLimits, TaskRunnerState } from '../../shared/compute/index.ts'

export type SandboxRunResult =
  | { ok: true, output: string, ms: number, progress: number[] }
  | { ok: false, name: string, message: string, ms: number }

export interface SandboxTestApi {
  /** `/tasks/<name>.wasm` as base64. */
  loadTask: (name: string) => Promise<string>
  run: (arg: { id?: string, module: string, input: string, limits?: SubtaskLimits, abortAfterMs?: number }) => Promise<SandboxRunResult>
  probe: () => Promise<Record<string, string>>
  state: () => TaskRunnerState
  setCores: (n: number) => void
  /** Main-thread timer ticks so far (a blocked page stops counting). */
  ticks: () => number
}

declare global {
  interface Window {
    sandboxTest?: SandboxTestApi
  }
}

function fromBase64 (text: string): Uint8Array {
  const bin = atob(text)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

function toBase64 (bytes: Uint8Array): string {
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

const runner = createBrowserTaskRunner()
runner.start()
let ticks = 0
setInterval(() => { ticks++ }, 10)
let nextId = 0

window.sandboxTest = {
  loadTask: async (name) => {
    const res = await fetch(`/tasks/${encodeURIComponent(name)}.wasm`)
    if (!res.ok) throw new Error(`GET /tasks/${name}.wasm: ${res.status}`)
    return toBase64(new Uint8Array(await res.arrayBuffer()))
  },
  run: async ({ id, module, input, limits, abortAfterMs }) => {
    const bytes = fromBase64(module)
    const started = performance.now()
    const progress: number[] = []
    const signal = abortAfterMs != null ? AbortSignal.timeout(abortAfterMs) : undefined
    try {
      const output = await runner.run({ id: id ?? `job-${nextId++}`, module: bytes, moduleHash: await moduleHash(bytes), input: fromBase64(input), limits }, {
        signal,
        onProgress: (p) => { if (p.fraction != null) progress.push(p.fraction) }
      })
      return { ok: true, output: toBase64(output), ms: performance.now() - started, progress }
    } catch (err: any) {
      return { ok: false, name: String(err?.name), message: String(err?.message), ms: performance.now() - started }
    }
  },
  probe: async () => await runner.probe(),
  state: () => runner.state,
  setCores: (n) => { runner.setCores(n) },
  ticks: () => ticks
}
