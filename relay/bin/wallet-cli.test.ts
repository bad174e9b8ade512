import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createPublicClient, http } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEmbeddedChain } from '../chain/index.ts'
import { createRelayNode } from '../gateway/create-relay-node.ts'
import { FAST_SESSION } from '../testing/relays.ts'
import { tcpAddr, until } from '../testing/wait.ts'
import { generatePaymentKey, paymentAddressOf, TOKEN_ABI } from '../../shared/payments/index.ts'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import type { EmbeddedChain } from '../chain/index.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { Address } from 'viem'

const ROOT = new URL('../../', import.meta.url).pathname
/** --price 0.001 of an 18-decimal token. */
const PRICE = 10n ** 15n

type Event = Record<string, any> & { event: string }

/** A peer CLI with --json: its events as they come, commands on its stdin. */
class PeerProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly events: Event[] = []
  readonly exited: Promise<number | null>
  stderr = ''
  private buffer = ''
  private readonly waiters = new Set<() => void>()

  constructor (args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'relay/bin/peer.ts', '--json', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
    const killer = setTimeout(() => { this.child.kill('SIGKILL') }, 90_000)
    this.exited = new Promise(resolve => { this.child.on('exit', (code) => { clearTimeout(killer); resolve(code) }) })
    this.child.stderr.on('data', (d) => { this.stderr += String(d) })
    this.child.stdout.on('data', (d) => {
      this.buffer += String(d)
      const lines = this.buffer.split('\n')
      this.buffer = lines.pop() ?? ''
      for (const line of lines) if (line.startsWith('{')) this.events.push(JSON.parse(line))
      for (const w of this.waiters) w()
    })
  }

  /** The first event since `from` that matches; fails after `ms`. */
  async next (match: (e: Event) => boolean, from = 0, ms = 60_000): Promise<Event> {
    const found = (): Event | undefined => this.events.slice(from).find(match)
    return await new Promise((resolve, reject) => {
      const check = (): void => {
        const e = found()
        if (e == null) return
        cleanup()
        resolve(e)
      }
      const timer = setTimeout(() => { cleanup(); reject(new Error(`no matching event in ${ms} ms; saw ${JSON.stringify(this.events.slice(from))} ${this.stderr}`)) }, ms)
      const cleanup = (): void => { clearTimeout(timer); this.waiters.delete(check) }
      this.waiters.add(check)
      check()
    })
  }

  /** Runs one console command and waits for its event (or its error). */
  async command (line: string, event: string): Promise<Event> {
    const from = this.events.length
    this.child.stdin.write(`${line}\n`)
    const e = await this.next(e => e.event === event || e.event === 'error', from)
    if (e.event === 'error') throw new Error(`${line}: ${e.message as string}`)
    return e
  }

  async stop (): Promise<void> {
    if (this.child.exitCode == null) this.child.kill('SIGINT')
    await this.exited
  }
}

/** A data folder whose payment key is known before the peer starts. */
async function dataFolder (name: string): Promise<{ dir: string, address: Address }> {
  const dir = await mkdtemp(join(tmpdir(), `gc-wallet-${name}-`))
  const key = generatePaymentKey()
  await writeFile(join(dir, 'payment-key'), `${key}\n`, { mode: 0o600 })
  return { dir, address: paymentAddressOf(key) }
}

let dir: string
let chain: EmbeddedChain
let relay: RelayNode
let relayAddr: string
const peers: PeerProcess[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gc-wallet-cli-'))
  chain = createEmbeddedChain({}, { dir: join(dir, 'chain'), snapshotIntervalMs: 3600_000 })
  await chain.start()
  relay = await createRelayNode({ privateKey: await generateKeyPair('Ed25519'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, session: FAST_SESSION, storage: { dir: join(dir, 'storage') }, chain, chainServer: { casher: { batchWindowMs: 200 } } })
  await relay.start()
  relayAddr = tcpAddr(relay).toString()
}, 60_000)

afterAll(async () => {
  await Promise.all(peers.map(async p => { await p.stop() }))
  await relay?.stop()
  await chain?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('peer CLI wallet commands on a relay with a chain', () => {
  it('deposits, runs a paid task, cashes its cheques, refuses an early withdrawal and keeps the cheques across a restart', { timeout: 120_000 }, async () => {
    const requestor = await dataFolder('requestor')
    const provider = await dataFolder('provider')
    const client = createPublicClient({ transport: http(chain.rpcUrl) })
    const tokensOf = async (a: Address): Promise<bigint> => await client.readContract({ address: chain.info.token, abi: TOKEN_ABI, functionName: 'balanceOf', args: [a] })

    const prov = new PeerProcess(['--relay', relayAddr, '--data', provider.dir, '--provide', '--cores', '1', '--timeout', '60s'])
    peers.push(prov)
    const started = await prov.next(e => e.event === 'started')
    expect(started.ledgers).toBe(join(provider.dir, 'ledgers'))
    await prov.next(e => e.event === 'ready')

    const req = new PeerProcess(['--relay', relayAddr, '--data', requestor.dir, '--timeout', '60s',
      '--exec', 'faucet', '--exec', 'deposit 1', '--exec', 'task run mandelbrot --size 128x128 --tile 64 --price 0.001', '--exec', 'wallet'])
    peers.push(req)
    expect(await req.exited, req.stderr + JSON.stringify(req.events)).toBe(0)
    const of = (name: string): Event | undefined => req.events.find(e => e.event === name)
    // test tokens and gas from the relay's faucet, over the chain protocol
    expect(of('faucet')).toMatchObject({ tokens: String(100n * 10n ** 18n) })
    expect(of('deposited')).toMatchObject({ amount: String(10n ** 18n), deposit: String(10n ** 18n) })
    // 4 tiles at k = 1: 5 assignments budgeted (one reassignment), twice that locked
    expect(of('task-cost')).toMatchObject({ paid: true, price: String(PRICE), assignments: 5, budget: String(PRICE * 5n), locks: String(PRICE * 10n) })
    expect(of('task-done')).toBeDefined()
    expect(of('task-paid')).toMatchObject({ accepted: 4, paid: String(PRICE * 4n) })
    expect(of('wallet')).toMatchObject({ address: requestor.address, deposit: String(10n ** 18n), depositState: 'locked' })

    // the provider holds the cheque (its last verdict may still be on its way)
    let cheques: Event | undefined
    await until(async () => {
      cheques = await prov.command('cheques', 'cheques')
      return cheques.uncashed === String(PRICE * 4n)
    }, 'the provider to hold the cheque', 10_000, 200).catch((err: Error) => { throw new Error(`${err.message}; it holds ${JSON.stringify(cheques)}`) })
    expect(cheques).toMatchObject({ earned: String(PRICE * 4n), cashed: '0', uncashed: String(PRICE * 4n), payers: [{ payer: requestor.address, uncashed: String(PRICE * 4n) }] })

    // cashing, and the requestor's early withdrawal, side by side
    const leaving = new PeerProcess(['--relay', relayAddr, '--data', requestor.dir, '--timeout', '60s', '--exec', 'unlock', '--exec', 'withdraw'])
    peers.push(leaving)
    const before = await tokensOf(provider.address)
    const cashed = await prov.command('cash', 'cashed')
    expect(cashed.total).toBe(String(PRICE * 4n))
    expect(cashed.cashouts[0].tx).toMatch(/^0x[0-9a-f]{64}$/)
    expect(await tokensOf(provider.address) - before).toBe(PRICE * 4n)
    expect(await leaving.exited).toBe(1)
    expect(leaving.events.find(e => e.event === 'unlocking')?.unlockAt).toBeGreaterThan(Date.now() / 1000)
    expect(leaving.events.find(e => e.event === 'error')).toMatchObject({ command: 'withdraw', message: expect.stringMatching(/^the deposit is still unlocking: withdrawable in 7 days \(from \d{4}-/) })
    await prov.stop()

    // a second start from the same folder: the ledger file kept the cheque and its cashout
    const again = new PeerProcess(['--relay', relayAddr, '--data', provider.dir, '--provide', '--cores', '1', '--timeout', '60s', '--exec', 'cheques'])
    peers.push(again)
    expect(await again.exited, again.stderr).toBe(0)
    expect(again.events.find(e => e.event === 'cheques')).toMatchObject({
      earned: String(PRICE * 4n), cashed: String(PRICE * 4n), uncashed: '0',
      history: [{ payer: requestor.address, tx: cashed.cashouts[0].tx, amount: String(PRICE * 4n) }]
    })
  })
})
