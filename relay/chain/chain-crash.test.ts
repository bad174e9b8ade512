import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, http } from 'viem'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { clayTestTokenAbi } from '../../contracts/index.ts'
import { isRunning, readPidFile } from './anvil-pidfile.ts'
import { PID_FILE_NAME } from './embedded-chain.ts'
import type { ChildProcess } from 'node:child_process'
import type { Address, Hex } from 'viem'

// The relay's process killed with SIGKILL at random moments (often while a
// snapshot is being taken), sometimes its Anvil too (a machine going down):
// every transaction the relay had reported sent is on the chain after a restart.

const ROOT = new URL('../../', import.meta.url).pathname
const dirs: string[] = []
const children: ChildProcess[] = []
afterAll(async () => {
  for (const child of children) if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL')
  for (const dir of dirs) {
    const record = readPidFile(join(dir, PID_FILE_NAME))
    if (record != null && isRunning(record.pid)) process.kill(record.pid, 'SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
})

interface Sent { kind: string, hash: Hex, to: Address, amount: bigint }
interface Ready { rpcUrl: string, token: Address, deposit: Address, salt: Hex, events: Record<string, unknown> }

/** The chain service in a process of its own (relay/testing/chain-child.ts), its stdout as lines. */
function startChild (dir: string, tabKey: Hex): { child: ChildProcess, lines: string[], waitFor: (test: (line: string) => boolean) => Promise<string>, closed: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'relay/testing/chain-child.ts', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CHAIN_CHILD_TAB_KEY: tabKey, CHAIN_CHILD_SNAPSHOT_MS: '20' } })
  children.push(child)
  const lines: string[] = []
  const wakers = new Set<() => void>()
  let rest = ''
  let stderr = ''
  child.stdout?.on('data', (d) => {
    const parts = (rest + String(d)).split('\n')
    rest = parts.pop() ?? ''
    lines.push(...parts)
    for (const wake of wakers) wake()
  })
  child.stderr?.on('data', (d) => { stderr += String(d) })
  const closed = new Promise<number | null>(resolve => { child.once('close', (code) => { for (const wake of wakers) wake(); resolve(code) }) })
  const waitFor = async (test: (line: string) => boolean): Promise<string> => await new Promise((resolve, reject) => {
    let seen = 0
    const check = (): void => {
      for (; seen < lines.length; seen++) {
        const line = lines[seen] as string
        if (test(line)) { wakers.delete(check); resolve(line); return }
      }
      if (child.exitCode != null || child.signalCode != null) { wakers.delete(check); reject(new Error(`chain child exited: ${stderr}`)) }
    }
    wakers.add(check)
    check()
  })
  return { child, lines, waitFor, closed }
}

/** Every transaction reported sent has a successful receipt, and every recipient holds what it was sent. */
async function expectAllThere (ready: Ready, sent: Sent[]): Promise<void> {
  const client = createPublicClient({ transport: http(ready.rpcUrl) })
  await Promise.all(sent.map(async ({ kind, hash, to, amount }) => {
    const receipt = await client.getTransactionReceipt({ hash }).catch(() => undefined)
    expect(receipt?.status, `${kind} ${hash}`).toBe('success')
    const held = kind === 'mint'
      ? await client.readContract({ address: ready.token, abi: clayTestTokenAbi, functionName: 'balanceOf', args: [to] })
      : await client.getBalance({ address: to })
    expect(held, `${kind} to ${to}`).toBe(amount)
  }))
}

describe('embedded chain, kill -9', () => {
  it('loses nothing the relay sent when its process is killed at any moment, during a snapshot included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-chain-crash-'))
    dirs.push(dir)
    const tabKey = generatePrivateKey()
    const sent: Sent[] = []
    let deployment: string | undefined
    let killedMidDump = 0
    let resubmitted = 0
    let salvaged = 0
    let dropped = 0
    const ROUNDS = 6
    for (let round = 0; round < ROUNDS; round++) {
      const { child, lines, waitFor, closed } = startChild(dir, tabKey)
      const ready = JSON.parse((await waitFor(l => l.startsWith('ready '))).slice('ready '.length)) as Ready
      resubmitted += Number(ready.events.resubmitted ?? 0)
      dropped += Number(ready.events.dropped ?? 0)
      if (ready.events.salvaged === true) salvaged++
      // the same contracts all along: nothing was ever lost for good
      deployment ??= `${ready.deposit} ${ready.salt}`
      expect(`${ready.deposit} ${ready.salt}`).toBe(deployment)
      await expectAllThere(ready, sent)

      // a few transactions, then SIGKILL: on odd rounds the moment a snapshot starts
      const target = sent.length + 2 + Math.floor(Math.random() * 8)
      let count = sent.length
      await waitFor(line => {
        if (line.startsWith('sent ')) count++
        return count >= target && (round % 2 === 0 || line === 'dump')
      })
      child.kill('SIGKILL')
      await closed
      for (const line of lines) {
        const [word, kind = '', hash = '', to = '', amount = '0'] = line.split(' ')
        if (word === 'sent') sent.push({ kind, hash: hash as Hex, to: to as Address, amount: BigInt(amount) })
      }
      if (lines.lastIndexOf('dump') > lines.findLastIndex(l => l.startsWith('dumped '))) killedMidDump++
      // every third round the machine goes down: Anvil dies too, and only the files are left
      if (round % 3 === 2) {
        const record = readPidFile(join(dir, PID_FILE_NAME))
        if (record != null && isRunning(record.pid)) process.kill(record.pid, 'SIGKILL')
      }
    }

    // then a clean stop (SIGTERM: a last snapshot), and a start from it
    for (const stop of [true, false]) {
      const { child, waitFor, closed } = startChild(dir, tabKey)
      const ready = JSON.parse((await waitFor(l => l.startsWith('ready '))).slice('ready '.length)) as Ready
      resubmitted += Number(ready.events.resubmitted ?? 0)
      await expectAllThere(ready, sent)
      if (!stop) {
        // after a clean stop there is nothing to send again
        expect(ready.events.resubmitted).toBe(0)
        expect(ready.events.salvaged).toBeUndefined()
      }
      child.kill('SIGTERM')
      expect(await closed).toBe(0)
      expect(existsSync(join(dir, PID_FILE_NAME))).toBe(false)
    }
    expect(sent.length).toBeGreaterThan(ROUNDS * 2)
    expect(killedMidDump).toBeGreaterThan(0)
    // both ways back were taken: the Anvil a killed relay left was found and its state saved,
    // and a dead Anvil's last transactions came back from the journal
    expect(salvaged).toBeGreaterThan(0)
    expect(resubmitted).toBeGreaterThan(0)
    // and every journaled transaction the chain lacked was taken again
    expect(dropped).toBe(0)
  }, 90_000)
})
