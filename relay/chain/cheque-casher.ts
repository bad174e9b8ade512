import { logger } from '@libp2p/logger'
import { BaseError, ContractFunctionRevertedError, encodeFunctionData, isAddressEqual, parseEventLogs } from 'viem'
import { clayDepositAbi } from '../../contracts/index.ts'
import { GolemClayError } from '../../shared/errors.ts'
import { accountId, verifyCheque } from '../../shared/payments/index.ts'
import type { CashResultWire, DepositDeployment, SignedCheque } from '../../shared/payments/index.ts'
import type { TxSender } from './tx-sender.ts'
import type { Hex, PublicClient, TransactionReceipt } from 'viem'

const log = logger('golem-clay:chain')

export interface ChequeCasherComponents {
  /** Reads (and simulates on) the chain the deposit contract is on. */
  client: PublicClient
  /** The relay's account: sends the cashing transactions and pays their gas. */
  sender: TxSender
  /** The relay's deployment: cheques for any other are refused. */
  deployment: DepositDeployment
}

export interface ChequeCasherInit {
  /** How long cheques wait for others to share their transaction, in ms. @default 1000 */
  batchWindowMs?: number
  /** The most cheques in one transaction; a full batch goes at once. @default 100 */
  maxBatch?: number
}

type Refusal = Extract<CashResultWire, { ok: false }>

interface Waiting {
  signed: SignedCheque
  settle: (result: CashResultWire) => void
  fail: (err: unknown) => void
  /** Taken into a batch: past the point where the caller's signal can withdraw it. */
  taken: boolean
}

/** One cheque per account goes into the transaction; `covered` are the account's lower ones it pays for too. */
interface Chosen { entry: Waiting, covered: Waiting[] }

/**
 * Cashes cheques for the relay's peers, the relay paying the gas: each is
 * checked (signature, deployment) and simulated first, so that one bad
 * cheque is refused by name instead of reverting the others; the survivors
 * of everyone who asked within `batchWindowMs` go into one `cashCheques`
 * transaction. When that still reverts (two cheques of one requestor that
 * together exceed its deposit: each simulated alone fits), they are cashed
 * one by one.
 *
 * Several cheques of one account (requestor, beneficiary, provider) in one
 * batch: only the highest that the contract takes is cashed, and the lower ones get its
 * result (its transaction and payout) — cumulative cheques, the higher pays
 * for them too. Higher ones the contract refuses get their own refusal.
 */
export class ChequeCasher {
  private readonly components: ChequeCasherComponents
  private readonly batchWindowMs: number
  private readonly maxBatch: number
  private waiting: Waiting[] = []
  private timer?: ReturnType<typeof setTimeout>
  /** Batches run one after another: each is simulated on the state the one before left. */
  private running: Promise<void> = Promise.resolve()

  constructor (components: ChequeCasherComponents, init: ChequeCasherInit = {}) {
    this.components = components
    this.batchWindowMs = init.batchWindowMs ?? 1000
    this.maxBatch = Math.max(1, init.maxBatch ?? 100)
  }

  /**
   * Each cheque's outcome, in order. The signal withdraws cheques still
   * waiting for their batch (and rejects); a batch under way is seen
   * through, as its transaction may be journaled already.
   */
  async cash (cheques: SignedCheque[], options: { signal?: AbortSignal } = {}): Promise<CashResultWire[]> {
    options.signal?.throwIfAborted()
    const { deployment } = this.components
    return await Promise.all(cheques.map(async (signed): Promise<CashResultWire> => {
      try {
        verifyCheque(signed, { deployment, requestor: signed.cheque.requestor, beneficiary: signed.cheque.beneficiary, provider: signed.cheque.provider })
      } catch (err) {
        return refusal(err)
      }
      return await this.enqueue(signed, options.signal)
    }))
  }

  /** Cheques waiting for their batch. */
  get size (): number {
    return this.waiting.length
  }

  /** Sends what waits now; resolves when every batch so far is done. */
  async flush (): Promise<void> {
    if (this.waiting.length > 0) this.takeBatch()
    await this.running
  }

  private async enqueue (signed: SignedCheque, signal?: AbortSignal): Promise<CashResultWire> {
    return await new Promise<CashResultWire>((resolve, reject) => {
      const onAbort = (): void => {
        if (entry.taken) return
        this.waiting = this.waiting.filter(e => e !== entry)
        reject(signal?.reason)
      }
      const done = (): void => { signal?.removeEventListener('abort', onAbort) }
      const entry: Waiting = {
        signed,
        taken: false,
        settle: (result) => { done(); resolve(result) },
        fail: (err) => { done(); reject(err) }
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(entry)
      if (this.waiting.length >= this.maxBatch) this.takeBatch()
      else this.timer ??= setTimeout(() => { this.takeBatch() }, this.batchWindowMs)
    })
  }

  private takeBatch (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const batch = this.waiting.splice(0, this.maxBatch)
    for (const entry of batch) entry.taken = true
    this.running = this.running.then(async () => { await this.cashBatch(batch) }).catch((err: unknown) => {
      // cashBatch settles each entry itself; this is a bug's last resort
      log.error('cashing a batch failed - %e', err)
      for (const entry of batch) entry.fail(err)
    })
    if (this.waiting.length > 0) this.timer = setTimeout(() => { this.takeBatch() }, this.waiting.length >= this.maxBatch ? 0 : this.batchWindowMs)
  }

  private async cashBatch (batch: Waiting[]): Promise<void> {
    const pairs = new Map<string, Waiting[]>()
    for (const entry of batch) {
      const { requestor, beneficiary, provider } = entry.signed.cheque
      const key = accountId(requestor, beneficiary, provider)
      pairs.set(key, [...(pairs.get(key) ?? []), entry])
    }
    const chosen = (await Promise.all([...pairs.values()].map(async entries => await this.choose(entries)))).filter(c => c != null)
    if (chosen.length === 0) return
    try {
      const receipt = await this.send(chosen.map(c => c.entry.signed))
      log('cashed %d cheques in %s', chosen.length, receipt.transactionHash)
      for (const c of chosen) settleAll(c, paid(receipt, c.entry.signed))
      return
    } catch (err) {
      if (chosen.length === 1) {
        // the contract's reason when it has one now (a send that reverts fails in its gas estimate, unnamed)
        for (const c of chosen) settleAll(c, await this.simulate(c.entry.signed) ?? refusal(err))
        return
      }
      log('a batch of %d cheques failed, cashing them one by one - %e', chosen.length, err)
    }
    for (const c of chosen) {
      const reason = await this.simulate(c.entry.signed)
      if (reason != null) {
        settleAll(c, reason)
        continue
      }
      try {
        settleAll(c, paid(await this.send([c.entry.signed]), c.entry.signed))
      } catch (err) {
        settleAll(c, refusal(err))
      }
    }
  }

  /** The account's highest cheque the contract takes now; those above it are refused by name. */
  private async choose (entries: Waiting[]): Promise<Chosen | undefined> {
    const sorted = [...entries].sort((a, b) => compare(b.signed, a.signed))
    for (const [i, entry] of sorted.entries()) {
      const reason = await this.simulate(entry.signed)
      if (reason == null) return { entry, covered: sorted.slice(i + 1) }
      entry.settle(reason)
    }
    return undefined
  }

  /** Why the contract would refuse to cash the cheque from the relay's account now, or undefined if it would pay. */
  private async simulate ({ cheque, signature }: SignedCheque): Promise<Refusal | undefined> {
    try {
      await this.components.client.simulateContract({
        address: this.components.deployment.address, abi: clayDepositAbi, functionName: 'cashCheque', args: [cheque, signature], account: this.components.sender.address
      })
      return undefined
    } catch (err) {
      return refusal(err)
    }
  }

  private async send (cheques: SignedCheque[]): Promise<TransactionReceipt> {
    const data = encodeFunctionData({
      abi: clayDepositAbi,
      functionName: 'cashCheques',
      args: [cheques.map(({ cheque, signature }) => ({ cheque, signature, callerFee: 0n, beneficiarySignature: '0x' as Hex }))]
    })
    return await this.components.sender.submit({ kind: 'cashout', to: this.components.deployment.address, data })
  }
}

/** Higher cumulative first, then higher seq. */
function compare (a: SignedCheque, b: SignedCheque): number {
  const by = a.cheque.cumulative - b.cheque.cumulative || a.cheque.seq - b.cheque.seq
  return by > 0n ? 1 : by < 0n ? -1 : 0
}

function settleAll (chosen: Chosen, result: CashResultWire): void {
  chosen.entry.settle(result)
  for (const entry of chosen.covered) entry.settle(result)
}

/** The cheque's payout from its ChequeCashed event in the receipt. */
function paid (receipt: TransactionReceipt, { cheque }: SignedCheque): CashResultWire {
  const events = parseEventLogs({ abi: clayDepositAbi, eventName: 'ChequeCashed', logs: receipt.logs })
  const event = events.find(e => isAddressEqual(e.args.requestor, cheque.requestor) && isAddressEqual(e.args.beneficiary, cheque.beneficiary) && isAddressEqual(e.args.provider, cheque.provider) && e.args.cumulative === cheque.cumulative)
  return { ok: true, tx: receipt.transactionHash, payout: String(event?.args.payout ?? 0n) }
}

/**
 * A refusal by name: the contract's custom error (ChequeNotHigher,
 * InsufficientDeposit, …), our own typed error, or a generic one that
 * does not pass on the chain's error text (it may name the RPC URL).
 */
function refusal (err: unknown): Refusal {
  const revert = err instanceof BaseError ? err.walk(e => e instanceof ContractFunctionRevertedError) : null
  if (revert instanceof ContractFunctionRevertedError) {
    const name = revert.data?.errorName ?? 'Reverted'
    const args = (revert.data?.args ?? []).map(a => String(a)).join(', ')
    return { ok: false, error: { name, message: `the deposit contract refuses the cheque: ${name}(${args})`.slice(0, 1000) } }
  }
  if (err instanceof GolemClayError) return { ok: false, error: { name: err.name, message: err.message.slice(0, 1000) } }
  log('cashing failed - %e', err)
  return { ok: false, error: { name: 'ChainTxError', message: 'the relay could not cash the cheque on its chain' } }
}
