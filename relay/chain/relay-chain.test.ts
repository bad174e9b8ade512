import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RELAY_NODE_FLAGS } from '../bin/node-flags.ts'
import { isRunning, readPidFile } from './anvil-pidfile.ts'
import { createAnvilProcess, deployContracts } from './index.ts'
import type { ChildProcess } from 'node:child_process'

const ROOT = new URL('../../', import.meta.url).pathname
const dirs: string[] = []
const children: ChildProcess[] = []
afterAll(async () => {
  for (const child of children) if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL')
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

/** The relay CLI until it prints its ready line; then `stop` sends SIGTERM and waits for the exit. */
async function startRelay (args: string[]): Promise<{ stdout: () => string, url: string, stop: () => Promise<{ code: number | null, stderr: string }> }> {
  const child = spawn(process.execPath, [...RELAY_NODE_FLAGS, '--import', 'tsx', 'relay/bin/relay.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stderr?.on('data', (d) => { stderr += String(d) })
  const exited = new Promise<number | null>(resolve => { child.once('exit', resolve) })
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      stdout += String(d)
      const ready = /relay ready at (\S+)/.exec(stdout)
      if (ready?.[1] != null) resolve(ready[1])
    })
    void exited.then(() => { reject(new Error(`relay exited: ${stderr}`)) })
  })
  return {
    stdout: () => stdout,
    url,
    stop: async () => {
      child.kill('SIGTERM')
      return { code: await exited, stderr }
    }
  }
}

describe('relay with --chain embedded', () => {
  it('runs its chain beside it, serves /chain, and stops it after itself on SIGTERM with a last snapshot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-relay-chain-'))
    dirs.push(dir)
    const args = ['--data', dir, '--host', '127.0.0.1', '--http-port', '0', '--ws-port', '0', '--tcp-port', '0', '--metrics-listen', 'off', '--drain-timeout', '1s', '--chain', 'embedded']
    const relay = await startRelay(args)
    expect(relay.stdout()).toMatch(/chain\s+embedded 31337, deposits at 0x[0-9a-fA-F]{40}, faucet/)
    const anvil = readPidFile(join(dir, 'chain', 'anvil.pid'))
    expect(anvil?.pid).toBeGreaterThan(0)
    const info = await (await fetch(new URL('/chain', relay.url))).json()
    expect(info).toMatchObject({ mode: 'embedded', chainId: 31337, faucet: { url: '/chain/faucet' } })
    const grant = await fetch(new URL('/chain/faucet', relay.url), { method: 'POST', body: JSON.stringify({ address: `0x${'ab'.repeat(20)}` }) })
    expect(grant.status).toBe(200)
    // the structured log says what the chain did
    expect(relay.stdout()).toContain('"event":"chain-start"')

    const { code } = await relay.stop()
    expect(code).toBe(0)
    expect(isRunning(anvil?.pid ?? 0)).toBe(false)
    expect(existsSync(join(dir, 'chain', 'anvil.pid'))).toBe(false)
    expect(existsSync(join(dir, 'chain', 'state.json'))).toBe(true)

    // the same chain on the next start, from the last snapshot: nothing to send again
    const again = await startRelay(args)
    expect(await (await fetch(new URL('/chain', again.url))).json()).toEqual(info)
    expect(again.stdout()).toMatch(/"event":"chain-start".*"deployment":"kept".*"resubmitted":0/)
    expect((await again.stop()).code).toBe(0)
  })
})

describe('relay with --chain-rpc', () => {
  it('refuses to start, in one line and with exit code 2, when the RPC is another chain', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-relay-chain-'))
    dirs.push(dir)
    const anvil = createAnvilProcess({ accounts: 1, chainId: 1337 })
    const { rpcUrl, accounts } = await anvil.start()
    try {
      const { token, deposit } = await deployContracts({ rpcUrl, privateKey: accounts[0]?.privateKey ?? '0x' })
      const child = spawn(process.execPath, [...RELAY_NODE_FLAGS, '--import', 'tsx', 'relay/bin/relay.ts', '--data', dir, '--host', '127.0.0.1', '--http-port', '0', '--ws-port', '0', '--tcp-port', '0', '--metrics-listen', 'off',
        '--chain-rpc', rpcUrl, '--chain-id', '137', '--token', token, '--deposit-contract', deposit], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      children.push(child)
      let stderr = ''
      child.stderr?.on('data', (d) => { stderr += String(d) })
      const code = await new Promise(resolve => { child.once('exit', resolve) })
      expect(code).toBe(2)
      expect(stderr.trim()).toMatch(/^golem-clay-relay: --chain-rpc http:\/\/127\.0\.0\.1:\d+\/… is chain 1337, not --chain-id 137/)
      expect(stderr.trim().split('\n')).toHaveLength(1)
    } finally {
      await anvil.stop()
    }
  })
})
