// What a BENCHMARKS.md section says about the machine it was measured on.
import { readFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'

export interface MachineInfo {
  cpu: string
  cores: number
  ramGiB: number
  node: string
  chromium: string
  date: string
  /** 1-minute load average when the run started: other work on the machine skews results. */
  loadAtStart: number
}

function cpuModel (): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find(l => l.startsWith('model name'))
    const model = line?.split(':')[1]?.trim()
    if (model != null && model !== '') return model
  } catch {}
  return cpus()[0]?.model ?? 'unknown'
}

export function loadAverage (): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100
}

export function machineInfo (chromium: string, loadAtStart: number): MachineInfo {
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    ramGiB: Math.round(totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    chromium,
    date: new Date().toISOString(),
    loadAtStart
  }
}

/**
 * The "Machine: …" sentence of a BENCHMARKS.md section; `withChromium` for
 * benches that drive tabs.
 */
export function machineLine (m: MachineInfo, withChromium: boolean): string {
  return `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM; Node ${m.node}${withChromium ? `; ${m.chromium} (headless)` : ''}. Date: ${m.date}; 1-minute load average at the start: ${m.loadAtStart}.`
}
