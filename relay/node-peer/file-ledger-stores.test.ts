import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChequeBook, ChequeWallet, generatePaymentKey, paymentAccountOf } from '../../shared/payments/index.ts'
import { checkLedgerFiles, fileLedgerStores, LedgerFileError } from './file-ledger-stores.ts'
import { parsePeerConfig } from './peer-config.ts'
import type { ChequeWalletEntry, DepositDeployment } from '../../shared/payments/index.ts'
import type { Address } from 'viem'

/** The account of a provider paid itself. */
const self = (address: Address): { beneficiary: Address, provider: Address } => ({ beneficiary: address, provider: address })

const deployment: DepositDeployment = { chainId: 31337, address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', salt: `0x${'ab'.repeat(32)}` }
const NS = '31337-0x5fbdb2315678afecb367f032d93f642f64180aa3-abababababababab'

const ROOT = join(import.meta.dirname, '..', '..')

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'gc-ledgers-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

/** Runs relay/testing/ledger-child.ts on the test's folder behind `shell` (e.g. a ulimit); its JSON lines. */
async function ledgerChild (shell: string, mode: 'fill' | 'kill'): Promise<Array<{ saved?: string, failed?: string, error?: string }>> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', ['-c', `${shell} "${process.execPath}" --import tsx relay/testing/ledger-child.ts "$0" "$1" "$2"`, dir, NS, mode], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => { text += chunk.toString() })
    child.on('error', reject)
    child.on('exit', () => { resolve(text) })
  })
  return out.trim().split('\n').filter(Boolean).map(line => JSON.parse(line) as { saved?: string, failed?: string, error?: string })
}

describe('fileLedgerStores', () => {
  it('keeps signed cheques and bigints across a reload, in a file of mode 600', async () => {
    const requestor = paymentAccountOf(generatePaymentKey())
    const provider = paymentAccountOf(generatePaymentKey())
    const book = new ChequeBook({ deployment, signer: requestor, store: fileLedgerStores(dir).book(NS) })
    const seq = await book.nextSeq(self(provider.address))
    const cheque = await book.pay(self(provider.address), 10n ** 30n, seq)
    const wallet = new ChequeWallet({ deployment, beneficiary: provider.address, store: fileLedgerStores(dir).wallet(NS) })
    expect(await wallet.credit(requestor.address, 10n ** 30n, cheque)).toEqual({ owed: 10n ** 30n, held: 10n ** 30n, seq: 1n })
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

    // the writes so far are in each ledger's journal
    const journal = join(dir, 'ledgers', `${NS}-wallet.journal`)
    expect((await stat(journal)).mode & 0o777).toBe(0o600)
    expect(await readFile(journal, 'utf8')).toContain('{"$bigint":"1000000000000000000000000000000"}')
    expect(await checkLedgerFiles(dir)).toBe(2)
    // beside each journal, a format 2 snapshot: a version that knows no journal refuses it instead of reading half a ledger
    expect((await readdir(join(dir, 'ledgers'))).sort()).toEqual([`${NS}-book.journal`, `${NS}-book.json`, `${NS}-wallet.journal`, `${NS}-wallet.json`])
    expect(JSON.parse(await readFile(join(dir, 'ledgers', `${NS}-wallet.json`), 'utf8'))).toEqual({ v: 2, entries: {} })
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

  it('writes the snapshot whole past compactAfter journal lines and empties the journal; the journal replayed over it changes nothing', async () => {
    const key = (i: number): string => `0x${String(i).padStart(40, '0')}`
    const store = fileLedgerStores(dir, { compactAfter: 3 }).book(NS)
    const journal = join(dir, 'ledgers', `${NS}-book.journal`)
    for (let i = 0; i < 2; i++) await store.save(key(i), { assigned: BigInt(i), cumulative: 1n })
    const before = await readFile(journal, 'utf8')
    expect(before.split('\n').filter(Boolean)).toHaveLength(2)
    await store.save(key(0), { assigned: 7n, cumulative: 2n })
    // compacted: the snapshot holds everything, the journal is empty
    expect(await readFile(journal, 'utf8')).toBe('')
    expect(await readFile(join(dir, 'ledgers', `${NS}-book.json`), 'utf8')).toContain('"$bigint":"7"')
    const loaded = async (): Promise<Map<string, unknown>> => new Map(await fileLedgerStores(dir).book(NS).load())
    expect((await loaded()).get(key(0))).toEqual({ assigned: 7n, cumulative: 2n })
    // a crash after the snapshot, before the journal was emptied: its last lines are what the snapshot holds
    await writeFile(journal, before + (await readFile(journal, 'utf8')) + `{"v":2,"e":{"${key(0)}":{"assigned":{"$bigint":"7"},"cumulative":{"$bigint":"2"}}}}\n`)
    expect(await loaded()).toEqual(new Map([[key(0), { assigned: 7n, cumulative: 2n }], [key(1), { assigned: 1n, cumulative: 1n }]]))
  })

  it('drops a journal line a crash cut short (and cuts it off), and refuses a corrupt whole line', async () => {
    const store = fileLedgerStores(dir).book(NS)
    await store.save('0xabc', { assigned: 1n, cumulative: 1n })
    const journal = join(dir, 'ledgers', `${NS}-book.journal`)
    const whole = await readFile(journal, 'utf8')
    await writeFile(journal, `${whole}{"v":2,"e":{"0xabc":{"assigned":{"$big`)
    const again = fileLedgerStores(dir).book(NS)
    expect(new Map(await again.load()).get('0xabc')).toEqual({ assigned: 1n, cumulative: 1n })
    expect(await readFile(journal, 'utf8')).toBe(whole)
    // appends go on after the last whole line
    await again.save('0xabc', { assigned: 2n, cumulative: 2n })
    expect(new Map(await fileLedgerStores(dir).book(NS).load()).get('0xabc')).toEqual({ assigned: 2n, cumulative: 2n })
    // a whole last line that does not parse (a power loss kept its newline, not all its bytes): dropped too
    await writeFile(journal, `${whole}{"v":2,"e":{"0xabc"\u0000\u0000\n`)
    expect(new Map(await fileLedgerStores(dir).book(NS).load()).get('0xabc')).toEqual({ assigned: 1n, cumulative: 1n })
    expect(await readFile(journal, 'utf8')).toBe(whole)
    // a blank line between whole ones (an editor's) is kept, and the next line goes after it
    await writeFile(journal, `\n${whole}\n`)
    const edited = fileLedgerStores(dir).book(NS)
    await edited.save('0xdef', { assigned: 1n, cumulative: 1n })
    expect(new Map(await fileLedgerStores(dir).book(NS).load())).toEqual(new Map([['0xabc', { assigned: 1n, cumulative: 1n }], ['0xdef', { assigned: 1n, cumulative: 1n }]]))
    expect((await readFile(journal, 'utf8')).startsWith(`\n${whole}\n{`)).toBe(true)
    await writeFile(journal, `${whole}not json\n${whole}`)
    await expect(fileLedgerStores(dir).book(NS).load()).rejects.toThrow(LedgerFileError)
    await expect(checkLedgerFiles(dir)).rejects.toThrow(journal)
  })

  it('reads a format 1 ledger (a snapshot alone), and makes it format 2 at its first write', async () => {
    const folder = join(dir, 'ledgers')
    await mkdir(folder, { recursive: true })
    await writeFile(join(folder, `${NS}-book.json`), '{"v":1,"entries":{\n"0xabc":{"assigned":{"$bigint":"3"},"cumulative":{"$bigint":"9"}}\n}}\n')
    const store = fileLedgerStores(dir).book(NS)
    expect(new Map(await store.load()).get('0xabc')).toEqual({ assigned: 3n, cumulative: 9n })
    await store.save('0xdef', { assigned: 1n, cumulative: 1n })
    expect(JSON.parse(await readFile(join(folder, `${NS}-book.json`), 'utf8'))).toMatchObject({ v: 2, entries: { '0xabc': { assigned: { $bigint: '3' } } } })
    expect(new Map(await fileLedgerStores(dir).book(NS).load())).toEqual(new Map([['0xabc', { assigned: 3n, cumulative: 9n }], ['0xdef', { assigned: 1n, cumulative: 1n }]]))
  })

  it('a save that resolved survives the process killed right after it (relaxed durability: written to the OS, synced later)', async () => {
    const lines = await ledgerChild('exec', 'kill')
    const saved = lines.flatMap(l => l.saved != null ? [l.saved] : [])
    expect(saved).toHaveLength(5)
    expect([...new Map(await fileLedgerStores(dir).book(NS).load()).keys()]).toEqual(saved)
  })

  it('strict durability saves as well, and the peer CLI turns it on with --strict-ledgers', async () => {
    const store = fileLedgerStores(dir, { durability: 'strict' }).book(NS)
    await store.save('0xabc', { assigned: 1n, cumulative: 1n })
    expect(new Map(await fileLedgerStores(dir).book(NS).load()).get('0xabc')).toEqual({ assigned: 1n, cumulative: 1n })
    expect(parsePeerConfig(['--strict-ledgers'], {}).config.strictLedgers).toBe(true)
    expect(parsePeerConfig([], { GOLEM_CLAY_STRICT_LEDGERS: '1' }).config.strictLedgers).toBe(true)
    expect(parsePeerConfig([], {}).config.strictLedgers).toBe(false)
  })

  it('a write the disk cuts short (a file size limit) is refused and cut off: every save that resolved is there after a restart, and the ledger goes on', async () => {
    // the limit in 1 KiB blocks: the snapshot and a few lines fit, then a line is written in part and the next write fails
    const lines = await ledgerChild('ulimit -f 3; exec', 'fill')
    const saved = lines.flatMap(l => l.saved != null ? [l.saved] : [])
    expect(saved.length).toBeGreaterThan(2)
    expect(lines.at(-1)).toMatchObject({ error: 'EFBIG' })
    const journal = join(dir, 'ledgers', `${NS}-book.journal`)
    expect((await readFile(journal, 'utf8')).endsWith('\n')).toBe(true)
    const store = fileLedgerStores(dir).book(NS)
    const loaded = new Map(await store.load())
    expect([...loaded.keys()]).toEqual(saved)
    await store.save('0xabc', { assigned: 1n, cumulative: 1n })
    expect(new Map(await fileLedgerStores(dir).book(NS).load()).size).toBe(saved.length + 1)
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
