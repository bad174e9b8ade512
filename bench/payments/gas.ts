// Gas per cashed cheque on a real Anvil chain (the relay's test chain
// fixture: ClayDeposit and a test token, freshly deployed), from receipts.
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { clayDepositAbi } from '../../contracts/index.ts'
import { fundDeposit, startTestChain, TOKEN } from '../../relay/testing/test-chain.ts'
import { cashoutTypes, depositDomain, signCheque } from '../../shared/payments/index.ts'
import type { SignedCheque } from '../../shared/payments/index.ts'
import type { Actor, TestChain } from '../../relay/testing/test-chain.ts'
import type { Hex, PrivateKeyAccount } from 'viem'

export interface GasRow {
  /** Cheques cashed in the transaction. */
  cheques: number
  /** `cashCheque` (one) or `cashCheques` (a batch). */
  call: 'cashCheque' | 'cashCheques'
  /** The first cheque of each account (requestor, beneficiary, provider) (its account and the beneficiary's token balance start at zero), or a later one. */
  first: boolean
  /** Each cashout pays the caller a fee the beneficiary signed for (how a relay that pays the gas is paid). */
  fee: boolean
  gasUsed: bigint
  perCheque: number
}

export interface GasResult {
  rows: GasRow[]
  chainId: number
  /** What anvil says it is (web3_clientVersion). */
  client: string
}

const PRICE = TOKEN / 1000n

/**
 * Cashes, from the `relay` account: one cheque with cashCheque, then
 * batches of 10 and 100 with cashCheques, each cheque to its own new
 * beneficiary from one requestor, and then the next cheque of each of those
 * pairs again (warm storage, a beneficiary already holding tokens); last,
 * the 100 again with caller fees.
 */
export async function measureGas (log: (line: string) => void): Promise<GasResult> {
  const t = await startTestChain()
  try {
    const { requestor, relay } = t.actors
    await fundDeposit(t, requestor, 1000n * TOKEN)
    const client = await t.client.request({ method: 'web3_clientVersion' } as never) as string
    const rows: GasRow[] = []
    for (const n of [1, 10, 100]) {
      const beneficiaries = Array.from({ length: n }, () => privateKeyToAccount(generatePrivateKey()))
      for (const round of [1n, 2n]) {
        const signed = await Promise.all(beneficiaries.map(async b => await signCheque(requestor.account, t.deployment, { requestor: requestor.address, beneficiary: b.address, provider: b.address, cumulative: round * PRICE, seq: round })))
        rows.push(await cash(t, relay, signed, round === 1n))
        log(`  ${describe(rows[rows.length - 1] as GasRow)}`)
      }
      if (n === 100) {
        const signed = await Promise.all(beneficiaries.map(async b => await signCheque(requestor.account, t.deployment, { requestor: requestor.address, beneficiary: b.address, provider: b.address, cumulative: 3n * PRICE, seq: 3n })))
        rows.push(await cash(t, relay, signed, false, beneficiaries))
        log(`  ${describe(rows[rows.length - 1] as GasRow)}`)
      }
    }
    return { rows, chainId: t.deployment.chainId, client }
  } finally {
    await t.stop()
  }
}

export function describe (row: GasRow): string {
  return `${row.cheques} cheque${row.cheques > 1 ? 's' : ''} (${row.call}, ${row.first ? 'first of each account' : 'later'}${row.fee ? ', caller fee' : ''}): ${row.gasUsed} gas, ${Math.round(row.perCheque)} per cheque`
}

/** Cashes `signed` in one transaction from `by`; with `feeFrom`, each beneficiary (here the provider itself) signs a caller fee of a tenth of its payout. */
async function cash (t: TestChain, by: Actor, signed: SignedCheque[], first: boolean, feeFrom?: PrivateKeyAccount[]): Promise<GasRow> {
  let hash: Hex
  if (signed.length === 1 && feeFrom == null) {
    const [one] = signed as [SignedCheque]
    hash = await by.wallet.writeContract({ address: t.contracts.deposit, abi: clayDepositAbi, functionName: 'cashCheque', args: [one.cheque, one.signature] })
  } else {
    const cashouts = await Promise.all(signed.map(async ({ cheque, signature }, i) => {
      const beneficiary = feeFrom?.[i]
      if (beneficiary == null) return { cheque, signature, callerFee: 0n, beneficiarySignature: '0x' as Hex }
      const callerFee = PRICE / 10n
      const beneficiarySignature = await beneficiary.signTypedData({ domain: depositDomain(t.deployment), types: cashoutTypes, primaryType: 'Cashout', message: { requestor: cheque.requestor, beneficiary: cheque.beneficiary, provider: cheque.provider, cumulative: cheque.cumulative, callerFee } })
      return { cheque, signature, callerFee, beneficiarySignature }
    }))
    hash = await by.wallet.writeContract({ address: t.contracts.deposit, abi: clayDepositAbi, functionName: 'cashCheques', args: [cashouts] })
  }
  const receipt = await t.client.waitForTransactionReceipt({ hash, timeout: 30_000 })
  if (receipt.status !== 'success') throw new Error(`cashing ${signed.length} cheques reverted in ${hash}`)
  return {
    cheques: signed.length,
    call: signed.length === 1 && feeFrom == null ? 'cashCheque' : 'cashCheques',
    first,
    fee: feeFrom != null,
    gasUsed: receipt.gasUsed,
    perCheque: Number(receipt.gasUsed) / signed.length
  }
}
