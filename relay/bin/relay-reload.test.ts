import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { RELAY_NODE_FLAGS } from './node-flags.ts'
import type { ChildProcess } from 'node:child_process'

const ROOT = new URL('../../', import.meta.url).pathname
const TOKEN = 'reload-test-token'
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const fn of cleanups.splice(0).reverse()) await fn() })

/** A relay process and its stdout lines, with a way to wait for one. */
async function startRelay (args: string[]): Promise<{ child: ChildProcess, url: string, waitFor: (pattern: RegExp) => Promise<string> }> {
  const child = spawn(process.execPath, [...RELAY_NODE_FLAGS, '--import', 'tsx', 'relay/bin/relay.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  cleanups.push(async () => {
    if (child.exitCode != null || child.signalCode != null) return
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGINT')
    await exited
  })
  const lines: string[] = []
  const waiters = new Set<() => void>()
  let rest = ''
  child.stdout?.on('data', (d) => {
    const parts = (rest + String(d)).split('\n')
    rest = parts.pop() ?? ''
    lines.push(...parts)
    for (const wake of waiters) wake()
  })
  let stderr = ''
  child.stderr?.on('data', (d) => { stderr += String(d) })
  const waitFor = async (pattern: RegExp): Promise<string> => await new Promise((resolve, reject) => {
    const check = (): void => {
      const found = lines.find(l => pattern.test(l))
      if (found != null) { waiters.delete(check); resolve(found) }
    }
    waiters.add(check)
    child.once('exit', () => { reject(new Error(`relay exited before printing ${String(pattern)}: ${stderr}`)) })
    check()
  })
  const ready = await waitFor(/relay ready at/)
  return { child, url: ready.slice(ready.indexOf('http')), waitFor }
}

async function difficulty (url: string): Promise<number> {
  const res = await fetch(new URL('/status', url), { headers: { Authorization: `Bearer ${TOKEN}` } })
  return ((await res.json()) as { session: { difficulty: number } }).session.difficulty
}

describe('relay SIGHUP', () => {
  it('applies changed limits from the config file, names what needs a restart, and keeps running on a broken file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-reload-'))
    cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const config = join(dir, 'relay.json')
    const base = { 'http-port': 0, 'ws-port': 0, 'tcp-port': 0, 'metrics-listen': 'off', host: '127.0.0.1', 'status-token': TOKEN, 'storage-quota': '1MiB' }
    await writeFile(config, JSON.stringify({ ...base, difficulty: 3, 'max-difficulty': 6 }))
    const relay = await startRelay(['--data', join(dir, 'data'), '--config', config])
    expect(await difficulty(relay.url)).toBe(3)

    await writeFile(config, JSON.stringify({ ...base, difficulty: 9, 'max-difficulty': 12, 'max-peers': 5, 'storage-quota': '2MiB' }))
    relay.child.kill('SIGHUP')
    const line = await relay.waitFor(/"event":"reload"/)
    const event = JSON.parse(line.slice(line.indexOf('{')))
    expect(event.limits.maxSessions).toBe(5)
    expect(event.restartNeeded).toEqual(['storage'])
    expect(await difficulty(relay.url)).toBe(9)

    await writeFile(config, '{ not json')
    relay.child.kill('SIGHUP')
    const refused = await relay.waitFor(/"event":"reload-refused"/)
    expect(refused).toContain('not valid JSON')
    expect(relay.child.exitCode).toBeNull()
    expect(await difficulty(relay.url)).toBe(9)
  })
})
