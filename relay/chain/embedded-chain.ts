import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { createPublicClient, http } from 'viem'
import { NotStartedError } from '../../shared/errors.ts'
import { AnvilStartError, createAnvilProcess, dumpState } from './anvil-process.ts'
import { removePidFile, stopStaleAnvil, writePidFile } from './anvil-pidfile.ts'
import { ensureDeployment } from './chain-deployment.ts'
import { loadOrCreateChainKeys } from './chain-keys.ts'
import { rpcChain } from './deploy.ts'
import { Faucet } from './faucet.ts'
import { SILENT_CHAIN_LOG } from './relay-chain.ts'
import { SnapshotStore } from './snapshot-store.ts'
import { JOURNAL_FILE_NAME, TxJournal } from './tx-journal.ts'
import { jsonRpc } from './json-rpc.ts'
import { mutex } from './mutex.ts'
import { TxSender } from './tx-sender.ts'
import type { AnvilProcess, AnvilProcessInit } from './anvil-process.ts'
import type { EnsureDeploymentInit, ChainDeployment } from './chain-deployment.ts'
import type { FaucetInit } from './faucet.ts'
import type { ChainLog, RelayChain, RelayChainComponents, RelayChainInfo } from './relay-chain.ts'
import type { Hex } from 'viem'

const log = logger('golem-clay:chain')

export const PID_FILE_NAME = 'anvil.pid'

export interface EmbeddedChainInit {
  /** The chain's folder (`<data>/chain`): keys, pidfile, snapshots, journal, deployment. */
  dir: string
  /** @default 31337 */
  chainId?: number
  /** A snapshot this often, in ms (and after transactions, and on stop). @default 30000 */
  snapshotIntervalMs?: number
  /** A snapshot this long after a transaction sent through the relay is mined, in ms (several share one). @default 250 */
  snapshotAfterTxMs?: number
  /** The faucet's amounts and limits; false for none. @default FaucetInit's defaults */
  faucet?: FaucetInit | false
  /** @default the owner account gets 1,000,000 ether at genesis */
  anvil?: Pick<AnvilProcessInit, 'binary' | 'startTimeoutMs' | 'stopTimeoutMs' | 'balance'>
  deploy?: Pick<EnsureDeploymentInit, 'withdrawDelay' | 'maxDeposit'>
}

export interface EmbeddedChainEvents {
  'snapshot:start': CustomEvent<void>
  /** A snapshot is on disk. */
  snapshot: CustomEvent<{ block: number, ms: number, pruned: number }>
  'snapshot:error': CustomEvent<Error>
}

/**
 * The relay's own chain: Anvil as a child process with random accounts, its
 * state kept in the data folder so that a `kill -9` at any moment loses
 * nothing the relay sent (see README, "Payments: the chain"). On start: a
 * stale Anvil left by a killed relay is stopped (its state saved first), the
 * newest snapshot that loads is loaded, journaled transactions the chain
 * lost are sent again, and the contracts are deployed if they are not there.
 * Anvil mines only when told: the relay makes a block after each
 * transaction, under the lock snapshots take (a dump taken while Anvil mines
 * can hold a block's state without the block).
 */
export class EmbeddedChain extends TypedEventEmitter<EmbeddedChainEvents> implements RelayChain {
  readonly mode = 'embedded'
  faucet?: Faucet
  private readonly init: EmbeddedChainInit
  private readonly log: ChainLog
  private readonly store: SnapshotStore
  private readonly journal: TxJournal
  /** Held to send and mine a transaction, and to take a dump: Anvil's dump can catch a block half made. */
  private readonly exclusive = mutex()
  private anvil?: AnvilProcess
  private sender?: TxSender
  private deployment?: ChainDeployment
  private timer?: ReturnType<typeof setInterval>
  private afterTx?: ReturnType<typeof setTimeout>
  private snapshotting?: Promise<void>
  private again = false

  constructor (components: RelayChainComponents, init: EmbeddedChainInit) {
    super()
    this.init = init
    this.log = components.log ?? SILENT_CHAIN_LOG
    this.store = new SnapshotStore(init.dir)
    this.journal = new TxJournal(join(init.dir, JOURNAL_FILE_NAME))
  }

  get info (): RelayChainInfo {
    const d = this.deployment
    if (d == null) throw new NotStartedError('the chain is not started')
    return { mode: 'embedded', chainId: d.chainId, token: d.token, deposit: d.deposit, salt: d.salt, blockNumber: d.blockNumber }
  }

  get rpcUrl (): string {
    if (this.anvil == null) throw new NotStartedError('the chain is not started')
    return this.anvil.rpcUrl
  }

  async start (options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.anvil != null) return
    const { dir } = this.init
    const chainId = this.init.chainId ?? 31337
    const pidFile = join(dir, PID_FILE_NAME)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const keys = await loadOrCreateChainKeys(dir)
    await this.store.candidates()
    const stale = await stopStaleAnvil({ pidFile, mnemonic: keys.mnemonic, salvage: async (url) => { await this.store.write(await dumpState(url, options.signal)) } })
    if (stale != null) this.log.warn({ event: 'chain-stale-anvil', pid: stale.pid, salvaged: stale.salvaged }, 'stopped the Anvil a killed relay left running')
    const entries = await this.journal.open()

    const anvilInit: AnvilProcessInit = {
      accounts: 1, balance: 1_000_000, ...this.init.anvil, chainId, mnemonic: keys.mnemonic, noMining: true,
      onSpawn: (pid) => { writePidFile(pidFile, { pid, relayPid: process.pid }) }
    }
    let loaded: { path: string, block: number } | undefined
    for (const snapshot of await this.store.candidates()) {
      const anvil = createAnvilProcess({ ...anvilInit, loadState: snapshot.path })
      try {
        await anvil.start(options)
        this.anvil = anvil
        loaded = snapshot
        break
      } catch (err: any) {
        // only a snapshot Anvil refuses is set aside, not one it could not be tried with (no binary, …)
        if (!(err instanceof AnvilStartError) || !await startsWithout(anvilInit, options.signal)) throw err
        await this.store.discard(snapshot, `anvil refused it: ${String(err.message).slice(0, 300)}`)
      }
    }
    if (this.anvil == null) {
      if (this.journal.pruned) {
        this.log.error({ event: 'chain-lost', journaled: entries.length }, 'no snapshot of the chain survived and the journal no longer holds it all: starting a new chain')
        await this.journal.reset()
      }
      const anvil = createAnvilProcess(anvilInit)
      await anvil.start(options)
      this.anvil = anvil
    }
    try {
      writePidFile(pidFile, { pid: this.anvil.pid ?? 0, relayPid: process.pid, rpcUrl: this.anvil.rpcUrl })
      const rpcUrl = this.anvil.rpcUrl
      const client = createPublicClient({ chain: await rpcChain(rpcUrl), transport: http(rpcUrl), pollingInterval: 50 })
      const mine = async (): Promise<void> => { await jsonRpc(rpcUrl, 'evm_mine') }
      this.sender = new TxSender({ client, journal: this.journal, mine, exclusive: this.exclusive }, { rpcUrl, chainId, privateKey: keys.owner.privateKey, onSent: () => { this.snapshotSoon() } })
      const { resubmitted, dropped } = await this.sender.resubmit(options)
      if (resubmitted > 0 || dropped > 0) this.log.warn({ event: 'chain-resubmit', resubmitted, dropped }, 'sent again the transactions the chain had lost')
      const ensured = await ensureDeployment({ client, sender: this.sender }, { dir, chainId, ...this.init.deploy })
      this.deployment = ensured.deployment
      if (ensured.outcome === 'redeployed') {
        this.log.warn({ event: 'chain-redeploy', lost: ensured.lost, deposit: ensured.deployment.deposit, token: ensured.deployment.token, salt: ensured.deployment.salt }, 'the chain had lost its contracts: deployed again with a new salt (signatures for the old deployment never count)')
      }
      if (this.init.faucet !== false) {
        const token = ensured.deployment.token
        this.faucet = new Faucet({ client, sender: this.sender, token: () => token }, this.init.faucet ?? {})
      }
      await this.snapshot()
      this.timer = setInterval(() => { void this.snapshot() }, this.init.snapshotIntervalMs ?? 30_000)
      this.timer.unref()
      this.log.info({
        event: 'chain-start', mode: 'embedded', chainId, rpc: rpcUrl, pid: this.anvil.pid, deposit: this.deployment.deposit, token: this.deployment.token,
        deployment: ensured.outcome, loadedBlock: loaded?.block ?? null, ...(loaded != null ? { loadedFrom: loaded.path } : {}), resubmitted, newKeys: keys.created
      }, 'embedded chain started')
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  /** Sends a tab's signed transaction through the journal. */
  async sendRawTransaction (raw: Hex, options: { signal?: AbortSignal } = {}): Promise<Hex> {
    if (this.sender == null) throw new NotStartedError('the chain is not started')
    return await this.sender.sendRaw(raw, options)
  }

  /** The relay's own account on this chain (the owner), to send with; undefined unless started. */
  get txSender (): TxSender | undefined {
    return this.sender
  }

  /** Takes a snapshot now (one that is running and another after it, when asked while one runs). */
  async snapshot (): Promise<void> {
    if (this.snapshotting != null) {
      this.again = true
      await this.snapshotting
      return
    }
    this.snapshotting = (async () => {
      do {
        this.again = false
        await this.takeSnapshot()
      } while (this.again && this.anvil != null)
    })().finally(() => { this.snapshotting = undefined })
    await this.snapshotting
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    clearTimeout(this.afterTx)
    this.timer = undefined
    await this.snapshotting
    const anvil = this.anvil
    if (anvil?.isStarted() === true && this.deployment != null) await this.snapshot()
    this.anvil = undefined
    this.sender = undefined
    this.faucet = undefined
    await this.journal.close()
    if (anvil != null) {
      await anvil.stop()
      await removePidFile(join(this.init.dir, PID_FILE_NAME))
      this.log.info({ event: 'chain-stop' }, 'embedded chain stopped')
    }
  }

  private snapshotSoon (): void {
    if (this.afterTx != null || this.anvil == null) return
    this.afterTx = setTimeout(() => {
      this.afterTx = undefined
      void this.snapshot()
    }, this.init.snapshotAfterTxMs ?? 250)
    this.afterTx.unref()
  }

  /** Never throws: a failed snapshot is logged, the journal still holds what it would have. */
  private async takeSnapshot (): Promise<void> {
    const anvil = this.anvil
    if (anvil?.isStarted() !== true) return
    const started = Date.now()
    this.safeDispatchEvent('snapshot:start')
    try {
      const written = await this.store.write(await this.exclusive(async () => await dumpState(anvil.rpcUrl)))
      const covered = this.store.coveredBlock
      const pruned = covered != null && this.sender != null ? await this.sender.prune(covered) : 0
      log.trace('snapshot at block %d in %d ms, %d journal entries pruned', written.block, Date.now() - started, pruned)
      this.safeDispatchEvent('snapshot', { detail: { block: written.block, ms: Date.now() - started, pruned } })
    } catch (err: any) {
      if (this.anvil !== anvil) return
      this.log.error({ event: 'chain-snapshot-error', error: err.message }, 'chain snapshot failed; the journal keeps what it would have held')
      this.safeDispatchEvent('snapshot:error', { detail: err })
    }
  }
}

/** Whether Anvil starts at all (from no state): tells a snapshot it refuses from a broken installation. */
async function startsWithout (init: AnvilProcessInit, signal?: AbortSignal): Promise<boolean> {
  const probe = createAnvilProcess(init)
  try {
    await probe.start({ signal })
    return true
  } catch {
    return false
  } finally {
    await probe.stop()
  }
}

/** The relay's own Anvil chain, kept in `init.dir`. */
export function createEmbeddedChain (components: RelayChainComponents, init: EmbeddedChainInit): EmbeddedChain {
  return new EmbeddedChain(components, init)
}
