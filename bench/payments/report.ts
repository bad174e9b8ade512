// The Payments section of BENCHMARKS.md and the JSON summary, from one run of bench/payments/run.ts.
import { machineLine, round } from '../common/index.ts'
import { describe } from './gas.ts'
import type { GasResult, GasRow } from './gas.ts'
import type { Phase } from './measure.ts'
import type { MachineInfo } from '../common/index.ts'

/** One phase where it ran: medians over the rounds. */
export interface PhaseResult {
  /** CPU time per operation, ms: this process's on Node, the renderer main thread's in the tab. */
  cpuMs: number
  /** Wall time per operation, ms. */
  wallMs: number
  /** Cores the rest of the machine used meanwhile (mean over the rounds). */
  restCores: number
  /** CPU ms per operation of every round. */
  rounds: number[]
}

export type SideResult = Record<Phase, PhaseResult>

export interface PaymentsBenchResult {
  quick: boolean
  ops: number
  rounds: number
  node: SideResult
  tab: SideResult
  gas: GasResult
  machine: MachineInfo
  tookS: number
}

/** ms of CPU per accepted subtask allowed for payments (the target). */
export const TARGET_MS = 2

const LABELS: Record<Phase, string> = {
  sign: 'sign a cheque (`signCheque`)',
  verify: 'verify a cheque, requestor known (`verifyCheque`)',
  verifyFirst: 'verify a cheque, requestor seen first',
  cheque: 'cheque path: `ChequeBook.pay` → wire JSON → `ChequeWallet.receive`',
  note: 'note path: `ChequeBook.assign` → wire JSON → `verifyNote` + `NoteGuard`'
}

const perSec = (ms: number): number => Math.round(1000 / ms)

/** What payments cost per accepted subtask on one side: one cheque signed + verified, and the whole path. */
export function perSubtask (side: SideResult): { signVerifyMs: number, chequePathMs: number, withNoteMs: number } {
  return {
    signVerifyMs: round(side.sign.cpuMs + side.verify.cpuMs, 3),
    chequePathMs: round(side.cheque.cpuMs, 3),
    withNoteMs: round(side.cheque.cpuMs + side.note.cpuMs, 3)
  }
}

export function summary (r: PaymentsBenchResult): Record<string, unknown> {
  const side = (s: SideResult): Record<string, unknown> => ({
    signPerSec: perSec(s.sign.cpuMs),
    verifyPerSec: perSec(s.verify.cpuMs),
    verifyFirstPerSec: perSec(s.verifyFirst.cpuMs),
    ...perSubtask(s)
  })
  const gas = (cheques: number, first: boolean, fee = false): number | undefined =>
    r.gas.rows.find(g => g.cheques === cheques && g.first === first && g.fee === fee)?.perCheque
  const node = perSubtask(r.node)
  const tab = perSubtask(r.tab)
  return {
    quick: r.quick,
    targetMs: TARGET_MS,
    meetsTarget: node.signVerifyMs <= TARGET_MS && tab.signVerifyMs <= TARGET_MS,
    node: side(r.node),
    tab: side(r.tab),
    gasPerCheque: {
      single: { first: gas(1, true), later: gas(1, false) },
      batch10: { first: gas(10, true), later: gas(10, false) },
      batch100: { first: gas(100, true), later: gas(100, false), laterWithFee: gas(100, false, true) }
    }
  }
}

function table (head: string[], body: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map(row => `| ${row.join(' | ')} |`)].join('\n')
}

function sideRows (where: string, side: SideResult): string[][] {
  return (Object.keys(LABELS) as Phase[]).map(phase => {
    const p = side[phase]
    return [where, LABELS[phase], `${perSec(p.cpuMs).toLocaleString('en-US')}`, `${round(p.cpuMs, 3)}`, `${round(p.wallMs, 3)}`, p.rounds.map(x => round(x, 3)).join(', '), `${round(p.restCores, 2)}`]
  })
}

function gasRows (rows: GasRow[]): string[][] {
  return rows.map(g => [`${g.cheques}`, `\`${g.call}\``, g.first ? 'first of each account' : 'later', g.fee ? 'yes' : 'no', g.gasUsed.toLocaleString('en-US'), Math.round(g.perCheque).toLocaleString('en-US')])
}

export function paymentsSection (r: PaymentsBenchResult): string {
  const node = perSubtask(r.node)
  const tab = perSubtask(r.tab)
  const verdict = (ms: number): string => (ms <= TARGET_MS ? `within the ${TARGET_MS} ms target` : `**over** the ${TARGET_MS} ms target`)
  return `## Payments

What cheques and promissory notes cost (\`shared/payments\`), in one run of \`npm run bench:payments\` (${r.tookS} s): CPU per cheque signed and verified on Node and in a tab, and gas per cheque cashed by ClayDeposit on a local Anvil chain. Target: payments add at most ${TARGET_MS} ms of CPU per subtask (one cheque signed by the requestor and verified by the provider per accepted subtask).

${machineLine(r.machine, true)}

**Per accepted subtask** (one cheque signed + verified, requestor known): **${node.signVerifyMs} ms** of CPU on Node (${verdict(node.signVerifyMs)}), **${tab.signVerifyMs} ms** in a tab (${verdict(tab.signVerifyMs)}). The whole cheque path (ledgers, wire form and in-memory stores included) takes ${node.chequePathMs} ms on Node and ${tab.chequePathMs} ms in a tab; with the assignment's promissory note signed and checked as well, ${node.withNoteMs} ms and ${tab.withNoteMs} ms.

${table(['Where', 'Operation', 'Per CPU-second', 'CPU ms', 'Wall ms', 'CPU ms by round', 'Rest of machine, cores'], [...sideRows('Node', r.node), ...sideRows('Tab', r.tab)])}

Gas per cashed cheque (${r.gas.client}, chain ${r.gas.chainId}; receipts' \`gasUsed\`, the transaction's 21,000 and calldata included):

${table(['Cheques', 'Call', 'Cheque', 'Caller fee', 'Gas', 'Gas per cheque'], gasRows(r.gas.rows))}

### Method

- **CPU.** Each operation runs ${r.ops} times in a row (${Math.min(r.ops, 200)} for first-contact verifications, each from a requestor never seen), after an untimed warm-up round; its inputs are made beforehand and not timed. ${r.rounds} round${r.rounds > 1 ? 's' : ''}, medians shown, all rounds listed. On Node the CPU time is the process's (\`process.cpuUsage\`, GC threads included); in the tab it is the renderer's main thread's, where the code runs (CDP \`Performance.getMetrics\`, \`ThreadTime\`; V8's concurrent GC threads are not in it). Both run the same code (\`bench/payments/measure.ts\`): the tab gets it as one bundle made by Vite from \`shared/\`, minified as the page is, evaluated in a blank page of headless Chromium. Wall times are from \`performance.now()\` around the loop; with other work on the machine they run above the CPU times, which are the figures to compare with the target.
- **Signing** is \`signCheque\` with an account as nodes make it (\`paymentAccountOf\`): the EIP-712 hash, then RFC 6979 secp256k1 in WebAssembly libsecp256k1 (@bitauth/libauth; the very signature viem's @noble/curves would make). **Verifying** checks the deployment, the parties and the terms, then the signature as the contract's ECDSA will (v of 27 or 28, low s): a public-key recovery in the same WebAssembly libsecp256k1 and the address compared, for a known requestor and a new one alike (\`shared/payments/signature-check.ts\`, the module loaded before the rounds by \`preloadSignatureCheck\`). Until it is loaded, or where WebAssembly is refused, both fall back to @noble/curves in JS (a recovery, then the key kept with precomputed multiples), as all of it ran before.
- **Gas.** One requestor's deposit pays every cheque; each cheque of a transaction has its own beneficiary (a new address, the provider itself). "First of each account" is the first cheque cashed for the account (requestor, beneficiary, provider: its counters and the beneficiary's token balance go from zero to non-zero), "later" the next cheque of the same accounts; "caller fee" batches carry each beneficiary's signed \`Cashout\` with a fee for the caller (how a relay that pays the gas is paid). ClayDeposit version 2, whose cheques also name the provider (an account per requestor, beneficiary and provider), costs about 1,400 gas more per cheque than version 1 did (95,205 and 60,993 for one cheque, first and later, on 2026-12-07).
`
}

export function gasLines (gas: GasResult): string[] {
  return gas.rows.map(describe)
}
