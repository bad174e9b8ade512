import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { gunzipSync } from 'node:zlib'
import { logger } from '@libp2p/logger'
import { toHex } from 'viem'
import { english, generateMnemonic, mnemonicToAccount } from 'viem/accounts'
import { GolemClayError, NotStartedError } from '../../shared/errors.ts'
import { jsonRpc } from './json-rpc.ts'
import type { ChildProcess } from 'node:child_process'
import type { Address, Hex } from 'viem'

const log = logger('golem-clay:chain')

/** Anvil could not be started (no binary for this platform, bad arguments, it exited or did not listen in time). */
export class AnvilStartError extends GolemClayError { override name = 'AnvilStartError'; override readonly code = 'ANVIL_START' }

export interface AnvilProcessInit {
  /** The anvil program. @default the binary @foundry-rs/anvil ships for this platform */
  binary?: string
  /** @default '127.0.0.1' */
  host?: string
  /** @default 0: a free port the system picks */
  port?: number
  /** @default 31337 */
  chainId?: number
  /** How many funded accounts. @default 10 */
  accounts?: number
  /** Each account's balance, in ether. @default 10000 */
  balance?: number
  /**
   * The BIP-39 mnemonic the accounts derive from (it is passed on anvil's
   * command line: a local chain's keys hold nothing of value). Give the one a
   * state was made with along with `loadState`, or its accounts are lost.
   * @default a new random one at each start: Anvil's default keys are public
   */
  mnemonic?: string
  /** Start from the state in this file (made by `dumpState`). @default a new chain */
  loadState?: string
  /** Write the state to this file when stopped. @default none kept */
  dumpState?: string
  /** Seconds between blocks. @default none: a block for each transaction */
  blockTime?: number
  /** No block unless asked for (`evm_mine`): whoever sends decides when blocks are made. @default false */
  noMining?: boolean
  /** How long `start()` waits for anvil to listen, in ms. @default 10000 */
  startTimeoutMs?: number
  /** How long `stop()` waits for anvil to exit (and dump its state) before killing it, in ms. @default 5000 */
  stopTimeoutMs?: number
  /** Called with anvil's pid right after it is spawned, before it listens (to record it in a pidfile). @default nothing */
  onSpawn?: (pid: number) => void
}

export interface AnvilAccount {
  address: Address
  privateKey: Hex
}

export interface AnvilChain {
  /** HTTP JSON-RPC (WebSocket on the same port: `ws://…`). */
  rpcUrl: string
  chainId: number
  mnemonic: string
  /** The funded accounts, derived from `mnemonic` (m/44'/60'/0'/0/i). */
  accounts: AnvilAccount[]
}

/** The anvil binary @foundry-rs/anvil installs for this platform (its optional dependency). */
export function anvilBinary (): string {
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch]
  const name = `@foundry-rs/anvil-${process.platform}-${arch ?? process.arch}`
  try {
    return createRequire(import.meta.url).resolve(`${name}/bin/anvil${process.platform === 'win32' ? '.exe' : ''}`)
  } catch {
    throw new AnvilStartError(`no anvil binary for ${process.platform}-${process.arch}: ${name} is not installed (npm install)`)
  }
}

/**
 * A local Ethereum chain: an Anvil process on loopback, for tests and for a
 * relay's own development chain. Its accounts come from a random mnemonic
 * unless one is given.
 */
export class AnvilProcess {
  private readonly init: AnvilProcessInit
  private child?: ChildProcess
  private chain?: AnvilChain
  private readonly killOnExit = (): void => { this.child?.kill('SIGKILL') }

  constructor (init: AnvilProcessInit = {}) {
    this.init = init
  }

  /** The running chain. */
  get info (): AnvilChain {
    if (this.chain == null) throw new NotStartedError('anvil is not running')
    return this.chain
  }

  get rpcUrl (): string {
    return this.info.rpcUrl
  }

  /** The anvil process's id while it runs. */
  get pid (): number | undefined {
    return this.child?.pid
  }

  isStarted (): boolean {
    return this.chain != null
  }

  async start (options: { signal?: AbortSignal } = {}): Promise<AnvilChain> {
    if (this.chain != null) return this.chain
    options.signal?.throwIfAborted()
    const host = this.init.host ?? '127.0.0.1'
    const chainId = this.init.chainId ?? 31337
    const mnemonic = this.init.mnemonic ?? generateMnemonic(english)
    const count = this.init.accounts ?? 10
    const args = [
      '--host', host, '--port', String(this.init.port ?? 0), '--chain-id', String(chainId),
      '--accounts', String(count), '--balance', String(this.init.balance ?? 10_000), '--mnemonic', mnemonic
    ]
    if (this.init.loadState != null) args.push('--load-state', this.init.loadState)
    if (this.init.dumpState != null) args.push('--dump-state', this.init.dumpState)
    if (this.init.blockTime != null) args.push('--block-time', String(this.init.blockTime))
    if (this.init.noMining === true) args.push('--no-mining')

    const child = spawn(this.init.binary ?? anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    process.once('exit', this.killOnExit)
    try {
      if (child.pid != null) this.init.onSpawn?.(child.pid)
    } catch (err) {
      child.kill('SIGKILL')
      throw err
    }
    const stderr: string[] = []
    createInterface({ input: child.stderr }).on('line', line => { stderr.push(line); if (stderr.length > 20) stderr.shift(); log.error('anvil: %s', line) })
    const lines = createInterface({ input: child.stdout })
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const fail = (why: string): void => { reject(new AnvilStartError(`anvil ${why}${stderr.length > 0 ? `: ${stderr.join('\n')}` : ''}`)) }
        const timer = setTimeout(() => { fail(`did not listen within ${this.init.startTimeoutMs ?? 10_000} ms`) }, this.init.startTimeoutMs ?? 10_000)
        const onAbort = (): void => { reject(options.signal?.reason) }
        options.signal?.addEventListener('abort', onAbort, { once: true })
        const done = (): void => { clearTimeout(timer); options.signal?.removeEventListener('abort', onAbort) }
        child.once('error', err => { done(); fail(`could not run (${err.message})`) })
        child.once('exit', (code, signal) => { done(); fail(`exited (${signal ?? code})`) })
        lines.on('line', line => {
          log.trace('anvil: %s', line)
          const listening = /^Listening on .*:(\d+)$/.exec(line.trim())
          if (listening != null) { done(); resolve(Number(listening[1])) }
        })
      })
      child.removeAllListeners('exit')
      child.once('exit', (code, signal) => { log('anvil exited (%s)', signal ?? code); this.chain = undefined })
      const accounts = Array.from({ length: count }, (_, addressIndex) => {
        const account = mnemonicToAccount(mnemonic, { addressIndex })
        return { address: account.address, privateKey: toHex(account.getHdKey().privateKey ?? new Uint8Array()) }
      })
      this.chain = { rpcUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, chainId, mnemonic, accounts }
      log('anvil (pid %d) listening on %s, chain %d', child.pid, this.chain.rpcUrl, chainId)
      return this.chain
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  /** Stops anvil (which dumps its state first if `dumpState` is set); kills it if it takes too long. */
  async stop (): Promise<void> {
    const child = this.child
    this.child = undefined
    this.chain = undefined
    process.removeListener('exit', this.killOnExit)
    if (child?.pid == null || child.exitCode != null || child.signalCode != null) return
    const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
    child.kill('SIGTERM')
    const timer = setTimeout(() => {
      log.error('anvil (pid %d) did not stop in time: killing it', child.pid)
      child.kill('SIGKILL')
    }, this.init.stopTimeoutMs ?? 5000)
    await exited
    clearTimeout(timer)
  }
}

/** A local Anvil chain: `start()` returns its RPC URL and funded accounts, `stop()` ends it. */
export function createAnvilProcess (init: AnvilProcessInit = {}): AnvilProcess {
  return new AnvilProcess(init)
}

/** Anvil's state through `anvil_dumpState` (gzipped JSON, hex), as the JSON `--load-state` reads. */
export async function dumpState (rpcUrl: string, signal?: AbortSignal): Promise<string> {
  const hex = await jsonRpc(rpcUrl, 'anvil_dumpState', [], { signal, timeoutMs: 30_000 })
  if (typeof hex !== 'string') throw new Error('anvil_dumpState answered no bytes')
  const bytes = Buffer.from(hex.replace(/^0x/, ''), 'hex')
  return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8')
}
