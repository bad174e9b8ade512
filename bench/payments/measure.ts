// The timed work of npm run bench:payments, on Node and in a tab alike: this
// module imports only shared/ and viem (the tab gets it bundled, see tab-bundle.ts),
// so both run the very same code. Each phase is prepared (inputs made, not
// timed), then run; the caller reads CPU time around `run`.
import {
  ChequeBook, chequeFromWire, chequeToWire, ChequeWallet, generatePaymentKey, MemoryPaymentStore, NoteGuard, noteFromWire, noteToWire, paymentAccountOf,
  preloadSignatureCheck, signCheque, subtaskId, verifyCheque, verifyNote
} from '../../shared/payments/index.ts'
import type { DepositDeployment, SignedCheque, SignedNote } from '../../shared/payments/index.ts'

/**
 * - `sign`: a requestor signs a cheque (signCheque: EIP-712 hash and secp256k1 signature).
 * - `verify`: a provider verifies a cheque of a requestor it has verified before (the usual case).
 * - `verifyFirst`: the same for a requestor seen for the first time (what JS alone, without WebAssembly, does slower).
 * - `cheque`: the whole per-subtask path: ChequeBook.pay (sign, save) → wire JSON → ChequeWallet.receive (parse, verify, save), in-memory stores.
 * - `note`: the promissory note of an assignment the same way: ChequeBook.assign → wire JSON → verifyNote and the NoteGuard.
 */
export const PHASES = ['sign', 'verify', 'verifyFirst', 'cheque', 'note'] as const
export type Phase = typeof PHASES[number]

export interface PhaseRun {
  ops: number
  /** Wall time of the timed loop, ms. */
  wallMs: number
}

const DEPLOYMENT: DepositDeployment = { chainId: 31337, address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', salt: `0x${'5a'.repeat(32)}` }
const TOKEN = 10n ** 18n
const PRICE = TOKEN / 1000n

/** One bench's state: a requestor and a provider, and the inputs of the phase prepared last. */
export class PaymentsBench {
  // accounts as nodes make them (paymentAccountOf: signing in WebAssembly)
  private readonly requestor = paymentAccountOf(generatePaymentKey())
  private readonly provider = paymentAccountOf(generatePaymentKey()).address
  private readonly to = { beneficiary: this.provider, provider: this.provider }
  private seq = 0n
  private prepared?: { phase: Phase, ops: number, run: () => Promise<void> }

  /** Makes the inputs of `phase` for `ops` operations (untimed). */
  async prepare (phase: Phase, ops: number): Promise<void> {
    await preloadSignatureCheck()
    const expected = { deployment: DEPLOYMENT, requestor: this.requestor.address, beneficiary: this.provider, provider: this.provider }
    const cheques = async (signer = this.requestor): Promise<SignedCheque[]> => await Promise.all(Array.from({ length: ops }, async (_, i) =>
      await signCheque(signer, DEPLOYMENT, { requestor: signer.address, beneficiary: this.provider, provider: this.provider, cumulative: BigInt(i + 1) * PRICE, seq: BigInt(i + 1) })))
    let run: () => Promise<void>
    if (phase === 'sign') {
      let n = 0
      run = async () => {
        for (let i = 0; i < ops; i++) {
          n++
          await signCheque(this.requestor, DEPLOYMENT, { requestor: this.requestor.address, beneficiary: this.provider, provider: this.provider, cumulative: BigInt(n) * PRICE, seq: BigInt(n) })
        }
      }
    } else if (phase === 'verify') {
      const signed = await cheques()
      verifyCheque(signed[0] as SignedCheque, expected) // the requestor's key is known from now on
      run = async () => { for (const s of signed) verifyCheque(s, expected) }
    } else if (phase === 'verifyFirst') {
      // one cheque each from `ops` requestors never seen (more than the key cache holds)
      const signed = await Promise.all(Array.from({ length: ops }, async () => (await cheques(paymentAccountOf(generatePaymentKey())))[0] as SignedCheque))
      run = async () => { for (const s of signed) verifyCheque(s, { ...expected, requestor: s.cheque.requestor }) }
    } else if (phase === 'cheque') {
      const { book, wallet, seqs } = await this.ledgers(ops)
      run = async () => {
        for (const seq of seqs) {
          const text = JSON.stringify(chequeToWire(await book.pay(this.to, PRICE, seq)))
          await wallet.receive(chequeFromWire(JSON.parse(text)), this.requestor.address)
        }
      }
    } else {
      const { book } = await this.ledgers(0)
      const guard = new NoteGuard()
      const task = `bench-${this.seq++}`
      run = async () => {
        for (let i = 0; i < ops; i++) {
          const text = JSON.stringify(noteToWire(await book.assign(this.to, subtaskId(task, i), PRICE)))
          const note: SignedNote = verifyNote(noteFromWire(JSON.parse(text)), { ...expected, amount: PRICE })
          guard.check(note.note)
        }
      }
    }
    this.prepared = { phase, ops, run }
  }

  /** Runs the phase prepared last, once. */
  async run (): Promise<PhaseRun> {
    if (this.prepared == null) throw new Error('nothing prepared')
    const { ops, run } = this.prepared
    this.prepared = undefined
    const t0 = performance.now()
    await run()
    return { ops, wallMs: performance.now() - t0 }
  }

  /** A fresh book and wallet of the pair, `ops` assignments numbered, the requestor's key known to the provider. */
  private async ledgers (ops: number): Promise<{ book: ChequeBook, wallet: ChequeWallet, seqs: bigint[] }> {
    const book = new ChequeBook({ deployment: DEPLOYMENT, signer: this.requestor, store: new MemoryPaymentStore() })
    const wallet = new ChequeWallet({ deployment: DEPLOYMENT, beneficiary: this.provider, store: new MemoryPaymentStore() })
    const seqs: bigint[] = []
    for (let i = 0; i <= ops; i++) seqs.push(await book.nextSeq(this.to))
    await wallet.receive(await book.pay(this.to, PRICE, seqs.shift() as bigint), this.requestor.address)
    return { book, wallet, seqs }
  }
}
