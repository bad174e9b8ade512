import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChequeBook, ChequeWallet, generatePaymentKey, paymentAccountOf } from '../../shared/payments/index.ts'
import { checkLedgerFiles, fileLedgerStores, LedgerFileError } from './file-ledger-stores.ts'
import type { ChequeWalletEntry, DepositDeployment } from '../../shared/payments/index.ts'
import type { Address } from 'viem'

/** The account of a provider paid itself. */
const self = (address: Address): { beneficiary: Address, provider: Address } => ({ beneficiary: address, provider: address })

const deployment: DepositDeployment = { chainId: 31337, address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', salt: `0x${'ab'.repeat(32)}` }
const NS = '31337-0x5fbdb2315678afecb367f032d93f642f64180aa3-abababababababab'

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'gc-ledgers-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

describe('fileLedgerStores', () => {
  it('keeps signed cheques and bigints across a reload, in a file of mode 600', async () => {
    const requestor = paymentAccountOf(generatePaymentKey())
    const provider = paymentAccountOf(generatePaymentKey())
    const book = new ChequeBook({ deployment, signer: requestor, store: fileLedgerStores(dir).book(NS) })
    const seq = await book.nextSeq(self(provider.address))
    const cheque = await book.pay(self(provider.address), 10n ** 30n, seq)
    const wallet = new ChequeWallet({ deployment, beneficiary: provider.address, store: fileLedgerStores(dir).wallet(NS) })
    expect(await wallet.credit(requestor.address, 10n ** 30n, cheque)).toEqual({ owed: 10n ** 30n, held: 10n ** 30n })
    await wallet.cashed(requestor.address, { tx: `0x${'12'.repeat(32)}`, amount: 5n, at: 1700000000000 }, 5n)

    // a second process: new stores on the same folder
    const again = fileLedgerStores(dir)
    const reloaded = new ChequeBook({ deployment, signer: requestor, store: again.book(NS) })
    expect(await reloaded.last(self(provider.address))).toEqual(cheque)
    expect(await reloaded.owed(self(provider.address))).toBe(10n ** 30n)
    // numbering goes on above the block the first assignment reserved
    expect(await reloaded.nextSeq(self(provider.address))).toBe(33n)
    const entries = new Map(await again.wallet(NS).load())
    expect(entries.get(requestor.address.toLowerCase())).toEqual({
      cheque, paidOut: 5n, drawnSeq: 0n, owed: 10n ** 30n, cashouts: [{ tx: `0x${'12'.repeat(32)}`, amount: 5n, at: 1700000000000 }]
    } satisfies ChequeWalletEntry)

    const file = join(dir, 'ledgers', `${NS}-wallet.json`)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(await readFile(file, 'utf8')).toContain('{"$bigint":"1000000000000000000000000000000"}')
    expect(await checkLedgerFiles(dir)).toBe(2)
    expect((await readdir(join(dir, 'ledgers'))).sort()).toEqual([`${NS}-book.json`, `${NS}-wallet.json`])
  })

  it('writes concurrent saves in few writes, each resolving once its entry is on disk', async () => {
    const store = fileLedgerStores(dir).book(NS)
    await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      await store.save(`0x${String(i).padStart(40, '0')}`, { assigned: BigInt(i), cumulative: BigInt(i) * 10n })
      // durable when resolved: a fresh reader sees it
      const seen = new Map(await fileLedgerStores(dir).book(NS).load())
      expect(seen.get(`0x${String(i).padStart(40, '0')}`)?.assigned).toBe(BigInt(i))
    }))
    expect([...await fileLedgerStores(dir).book(NS).load()]).toHaveLength(50)
  })

  it('refuses a corrupt file with a typed error naming it, and an unsafe namespace', async () => {
    const stores = fileLedgerStores(dir)
    await stores.wallet(NS).save('0xabc', { paidOut: 1n, drawnSeq: 0n, owed: 1n, cashouts: [] })
    const file = join(dir, 'ledgers', `${NS}-wallet.json`)
    await writeFile(file, '{"v":1,"entries":{"0xabc":{"paidOut":{"$bigint":"1"}')
    const err = await fileLedgerStores(dir).wallet(NS).load().then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(LedgerFileError)
    await expect(checkLedgerFiles(dir)).rejects.toThrow(file)
    expect((err as LedgerFileError).path).toBe(file)
    expect((err as Error).message).toContain(file)
    // a store that failed to load saves nothing over the file
    await expect(fileLedgerStores(dir).wallet(NS).save('0xdef', { paidOut: 0n, drawnSeq: 0n, owed: 0n, cashouts: [] })).rejects.toThrow(LedgerFileError)
    expect(await readFile(file, 'utf8')).toContain('"0xabc"')
    await writeFile(file, '[]')
    await expect(fileLedgerStores(dir).wallet(NS).load()).rejects.toThrow(/not a ledger/)
    expect(() => stores.book('../escape')).toThrow(LedgerFileError)
  })
})
