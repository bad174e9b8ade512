// The bench process's own output, and the helper processes it starts.
import { spawn } from 'node:child_process'
import { REPO_ROOT } from './paths.ts'
import type { ChildProcess, ChildProcessByStdio } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'

/** A progress line on stderr: stdout is kept for a bench's results (its last line is a JSON summary). */
export function log (line: string): void {
  process.stderr.write(`${line}\n`)
}

/** Starts `script` (a .ts file, relative to the repository) in its own Node process, with piped stdio. */
export function spawnScript (script: string, args: string[] = [], nodeFlags: string[] = []): ChildProcessByStdio<Writable, Readable, Readable> {
  return spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
}

export interface StopInit {
  /** How to ask it to stop; SIGTERM unless given. */
  ask?: () => void
  /** SIGKILL if it has not exited this long after being asked; never unless given. */
  killAfterMs?: number
}

/** Asks `child` to stop and waits until it has exited. */
export async function stopChild (child: ChildProcess, init: StopInit = {}): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) return
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  if (init.ask != null) init.ask()
  else child.kill('SIGTERM')
  const timer = init.killAfterMs != null ? setTimeout(() => { child.kill('SIGKILL') }, init.killAfterMs) : undefined
  await exited
  clearTimeout(timer)
}
