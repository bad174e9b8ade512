import { execFileSync } from 'node:child_process'
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { basename } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { logger } from '@libp2p/logger'
import { removeIfExists } from './atomic-file.ts'

const log = logger('golem-clay:chain')

/** What `<chain>/anvil.pid` says about the Anvil a relay started. */
export interface AnvilPidRecord {
  /** Anvil's process. */
  pid: number
  /** The relay that started it. */
  relayPid: number
  /** Where it listens, once it does. */
  rpcUrl?: string
}

/**
 * Records the Anvil just spawned. Synchronous on purpose: it runs right
 * after the spawn, so a relay killed a moment later still leaves the pid
 * for the next start to find.
 */
export function writePidFile (path: string, record: AnvilPidRecord): void {
  const tmp = `${path}.tmp`
  const fd = openSync(tmp, 'w', 0o644)
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}

export function readPidFile (path: string): AnvilPidRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(path, 'utf8'))
    return Number.isSafeInteger(record?.pid) && record.pid > 1 ? record : undefined
  } catch {
    return undefined
  }
}

export async function removePidFile (path: string): Promise<void> {
  await removeIfExists(path)
}

/**
 * Whether `pid` is an Anvil started with this mnemonic (so ours, from this
 * data folder), read from /proc/<pid>/cmdline, or `ps` where there is no
 * /proc: a pid reused by another program since is never killed.
 */
export function isOurAnvil (pid: number, mnemonic: string): boolean {
  let args: string[]
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
  } catch (err: any) {
    if (err.code !== 'ENOENT' || process.platform === 'linux') return false
    try {
      // no /proc (macOS): the command line as one string; the mnemonic is several words
      const line = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).trim()
      return /(^|\/)anvil(\.exe)?\s/.test(line) && line.includes(`--mnemonic ${mnemonic}`)
    } catch {
      return false
    }
  }
  const i = args.indexOf('--mnemonic')
  return /^anvil(\.exe)?$/.test(basename(args[0] ?? '')) && i > 0 && args[i + 1] === mnemonic
}

/** Alive and not a zombie waiting to be reaped. */
export function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err: any) {
    return err.code === 'EPERM'
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}

export interface StaleAnvilInit {
  pidFile: string
  mnemonic: string
  /** Runs while the stale Anvil still answers (to save its state) before it is stopped. @default none */
  salvage?: (rpcUrl: string) => Promise<void>
  /** How long it gets to exit after SIGTERM before SIGKILL, in ms. @default 3000 */
  stopTimeoutMs?: number
}

/**
 * A relay killed without its stop (SIGKILL, a crash) leaves its Anvil
 * running: found by the pidfile, checked to be ours, its state salvaged
 * when it answers, then stopped. Returns its pid when there was one.
 */
export async function stopStaleAnvil (init: StaleAnvilInit): Promise<{ pid: number, salvaged: boolean } | undefined> {
  const record = readPidFile(init.pidFile)
  if (record == null) return undefined
  const { pid } = record
  if (!isRunning(pid) || !isOurAnvil(pid, init.mnemonic)) {
    log('pidfile names %d, which is not our anvil (any more)', pid)
    await removePidFile(init.pidFile)
    return undefined
  }
  let salvaged = false
  if (record.rpcUrl != null && init.salvage != null) {
    try {
      await init.salvage(record.rpcUrl)
      salvaged = true
    } catch (err: any) {
      log.error('could not save the state of stale anvil %d: %s', pid, err.message)
    }
  }
  await terminate(pid, init.stopTimeoutMs ?? 3000)
  await removePidFile(init.pidFile)
  return { pid, salvaged }
}

async function terminate (pid: number, timeoutMs: number): Promise<void> {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    try {
      process.kill(pid, signal)
    } catch {
      return
    }
    const deadline = Date.now() + timeoutMs
    while (isRunning(pid) && Date.now() < deadline) await sleep(20)
    if (!isRunning(pid)) return
  }
}
