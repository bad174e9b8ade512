import { chmod, mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { readTextIfExists, removeIfExists, writeFileAtomic } from '../chain/atomic-file.ts'
import { KeyFileError } from '../identity/key-file.ts'
import type { ChequeBookEntry, ChequeWalletEntry, LedgerStores, PaymentStore } from '../../shared/payments/index.ts'

/**
 * A ledger file that does not parse: refused, never read as empty (that
 * would lose the cheques in it). A KeyFileError: like a key, it holds value
 * and is never replaced, and the CLI refuses to start on it (exit code 2).
 */
export class LedgerFileError extends KeyFileError {
  override name = 'LedgerFileError'
  override readonly code = 'LEDGER_FILE'
  constructor (message: string, readonly path: string) {
    super(message)
  }
}

const FORMAT = 1

/** Bigints (amounts, seqs) as {"$bigint":"123"}: JSON has no integers that large. */
function replacer (_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? { $bigint: value.toString() } : value
}

function reviver (_key: string, value: unknown): unknown {
  if (value != null && typeof value === 'object' && !Array.isArray(value)) {
    const tagged = (value as { $bigint?: unknown }).$bigint
    if (typeof tagged === 'string' && Object.keys(value).length === 1) {
      if (!/^-?\d+$/.test(tagged)) throw new SyntaxError(`"${tagged}" is not an integer`)
      return BigInt(tagged)
    }
  }
  return value
}

/**
 * One ledger of one deployment in one file, rewritten whole on each save
 * (a ledger holds one entry per counterparty: small). Saves that arrive
 * while a write is under way are coalesced into the next write, and each
 * resolves only once a write that holds its entry is on disk.
 */
class FileLedgerStore<T> implements PaymentStore<T> {
  private readonly path: string
  /** Makes the folder, once. */
  private readonly ready: () => Promise<void>
  /** Each entry's JSON text as it will be written; `durable` as it is on disk. */
  private entries?: Map<string, string>
  private durable = new Map<string, string>()
  private loading?: Promise<Map<string, string>>
  private writing?: Promise<void>
  private queued?: Promise<void>

  constructor (path: string, ready: () => Promise<void>) {
    this.path = path
    this.ready = ready
  }

  async load (): Promise<Iterable<[string, T]>> {
    await this.ready()
    const entries = await this.read()
    return [...entries].map(([key, text]) => [key, JSON.parse(text, reviver) as T])
  }

  async save (key: string, entry: T): Promise<void> {
    await this.ready()
    const entries = await this.read()
    // the text now: the ledger's later changes to the object are not saved by accident
    entries.set(key, JSON.stringify(entry, replacer))
    await this.flush()
  }

  /** A write after the one under way (if any), shared by every save until it starts. */
  private async flush (): Promise<void> {
    if (this.queued != null) return await this.queued
    const before = this.writing ?? Promise.resolve()
    const next: Promise<void> = before.catch(() => {}).then(async () => {
      this.queued = undefined
      this.writing = next
      try {
        await this.write()
      } finally {
        if (this.writing === next) this.writing = undefined
      }
    })
    this.queued = next
    return await next
  }

  private async write (): Promise<void> {
    const entries = this.entries ?? new Map<string, string>()
    // taken at once, before any await: saves after this point go to the next write
    const snapshot = new Map(entries)
    const body = [...snapshot].map(([key, text]) => `${JSON.stringify(key)}:${text}`).join(',\n')
    try {
      await writeFileAtomic(this.path, `{"v":${FORMAT},"entries":{\n${body}\n}}\n`, { mode: 0o600 })
      this.durable = snapshot
    } catch (err) {
      // what this write held is not saved: an entry no later save replaced goes back to what is on disk
      for (const [key, text] of snapshot) {
        if (entries.get(key) !== text) continue
        const old = this.durable.get(key)
        if (old == null) entries.delete(key)
        else entries.set(key, old)
      }
      throw err
    }
  }

  private async read (): Promise<Map<string, string>> {
    if (this.entries != null) return this.entries
    this.loading ??= this.parse().then(entries => {
      this.entries = entries
      this.durable = new Map(entries)
      return entries
    }, (err: Error) => {
      this.loading = undefined
      throw err
    })
    return await this.loading
  }

  private async parse (): Promise<Map<string, string>> {
    // a write cut short by a crash left only its temporary file: the ledger itself is whole
    await removeIfExists(`${this.path}.tmp`)
    const text = await readTextIfExists(this.path)
    const entries = new Map<string, string>()
    if (text == null) return entries
    let parsed: unknown
    try {
      parsed = JSON.parse(text, reviver)
    } catch (err: any) {
      throw new LedgerFileError(`Ledger file ${this.path} is corrupt (${err.message}); it may hold unpaid cheques: repair it or move it away (losing them) before starting again`, this.path)
    }
    const file = parsed as { v?: unknown, entries?: unknown } | null
    if (file == null || typeof file !== 'object' || file.v !== FORMAT || file.entries == null || typeof file.entries !== 'object' || Array.isArray(file.entries)) {
      throw new LedgerFileError(`Ledger file ${this.path} is not a ledger of format ${FORMAT}; it may hold unpaid cheques: repair it or move it away (losing them) before starting again`, this.path)
    }
    for (const [key, entry] of Object.entries(file.entries)) {
      if (entry == null || typeof entry !== 'object') throw new LedgerFileError(`Ledger file ${this.path} has a bad entry for ${key}`, this.path)
      entries.set(key, JSON.stringify(entry, replacer))
    }
    return entries
  }
}

/**
 * A Node peer's ledgers in its data folder: `<dir>/ledgers/<namespace>-book.json`
 * (the requestor's cheque book) and `-wallet.json` (the provider's cheques),
 * mode 600, written atomically. One store per file, however often asked.
 */
export function fileLedgerStores (dir: string): LedgerStores {
  const folder = join(dir, 'ledgers')
  const stores = new Map<string, FileLedgerStore<any>>()
  let made: Promise<void> | undefined
  const ready = async (): Promise<void> => {
    made ??= mkdir(folder, { recursive: true, mode: 0o700 }).then(async () => { await chmod(folder, 0o700) }, (err: Error) => {
      made = undefined
      throw err
    })
    await made
  }
  const store = <T>(namespace: string, kind: 'book' | 'wallet'): PaymentStore<T> => {
    // the namespace becomes a file name: nothing that leaves the folder
    if (!/^[\w.-]{1,120}$/.test(namespace) || namespace.startsWith('.')) throw new LedgerFileError(`Ledger namespace "${namespace}" is not file-name safe`, folder)
    const path = join(folder, `${namespace}-${kind}.json`)
    let s = stores.get(path)
    if (s == null) {
      s = new FileLedgerStore<T>(path, ready)
      stores.set(path, s)
    }
    return s as PaymentStore<T>
  }
  return {
    book: (namespace) => store<ChequeBookEntry>(namespace, 'book'),
    wallet: (namespace) => store<ChequeWalletEntry>(namespace, 'wallet')
  }
}

/** Reads every ledger in `<dir>/ledgers` once, so a corrupt one stops a start (LedgerFileError), not a payment later. */
export async function checkLedgerFiles (dir: string): Promise<number> {
  const folder = join(dir, 'ledgers')
  const names = await readdir(folder).catch((err: any) => { if (err.code === 'ENOENT') return []; throw err })
  const files = names.filter(n => /-(book|wallet)\.json$/.test(n))
  for (const name of files) await new FileLedgerStore(join(folder, name), async () => {}).load()
  return files.length
}
