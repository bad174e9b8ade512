import { open } from 'node:fs/promises'
import { readTextIfExists, removeIfExists, writeFileAtomic } from '../chain/atomic-file.ts'
import { KeyFileError } from '../identity/key-file.ts'
import type { FileHandle } from 'node:fs/promises'
import type { PaymentStore } from '../../shared/payments/index.ts'

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
 * One ledger of one deployment: a snapshot file (`<name>.json`, written
 * atomically) and a journal beside it (`<name>.journal`), one line per
 * write holding the entries it changed, appended and fsynced. A save
 * costs an append, not a whole atomic rewrite (about a fifth of the CPU:
 * one fsync instead of two, no new file or rename). Past `compactAfter`
 * lines the snapshot is written whole again and the journal emptied.
 * Saves that arrive while a write is under way go into the next one, and
 * each resolves only once a write that holds its entry is on disk.
 */
export class FileLedgerStore<T> implements PaymentStore<T> {
  private readonly path: string
  private readonly journalPath: string
  private readonly compactAfter: number
  /** Makes the folder, once. */
  private readonly ready: () => Promise<void>
  /** Each entry's JSON text as it will be written; `durable` as it is on disk. */
  private entries?: Map<string, string>
  private durable = new Map<string, string>()
  /** Entries changed since the last write took its snapshot. */
  private dirty = new Set<string>()
  private loading?: Promise<Map<string, string>>
  private writing?: Promise<void>
  private queued?: Promise<void>
  private journal?: FileHandle
  /** The journal's length in bytes and lines, as far as it is known good. */
  private journalBytes = 0
  private journalLines = 0
  /** A failed write whose torn line could not be cut off: nothing more is appended after it. */
  private broken?: Error

  constructor (path: string, ready: () => Promise<void>, compactAfter = 1024) {
    this.path = path
    this.journalPath = path.replace(/\.json$/, '.journal')
    this.compactAfter = compactAfter
    this.ready = ready
  }

  async load (): Promise<Iterable<[string, T]>> {
    await this.ready()
    const entries = await this.read()
    return [...entries].map(([key, text]) => [key, JSON.parse(text, reviver) as T])
  }

  async save (key: string, entry: T): Promise<void> {
    await this.saveMany([[key, entry]])
  }

  /** Several entries in one journal line: a crash keeps all of them or none. */
  async saveMany (list: Array<[string, T]>): Promise<void> {
    await this.ready()
    const entries = await this.read()
    // the text now: the ledger's later changes to the object are not saved by accident
    for (const [key, entry] of list) {
      entries.set(key, JSON.stringify(entry, replacer))
      this.dirty.add(key)
    }
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
    const changed = new Map([...this.dirty].flatMap(key => {
      const text = entries.get(key)
      return text == null ? [] : [[key, text] as [string, string]]
    }))
    this.dirty = new Set()
    if (changed.size === 0) return
    try {
      if (this.broken != null) throw this.broken
      await this.append(`{"v":${FORMAT},"e":{${[...changed].map(([key, text]) => `${JSON.stringify(key)}:${text}`).join(',')}}}\n`)
    } catch (err) {
      // what this write held is not saved: an entry no later save replaced goes back to what is on disk
      for (const [key, text] of changed) {
        if (entries.get(key) !== text) continue
        const old = this.durable.get(key)
        if (old == null) entries.delete(key)
        else entries.set(key, old)
      }
      throw err
    }
    for (const [key, text] of changed) this.durable.set(key, text)
    // the journal replayed gives what the snapshot will hold, so a crash between the two loses nothing
    if (this.journalLines >= this.compactAfter) await this.compact().catch(() => {})
  }

  private async append (line: string): Promise<void> {
    this.journal ??= await open(this.journalPath, 'a', 0o600)
    const bytes = Buffer.from(line)
    try {
      await this.journal.write(bytes)
      await this.journal.sync()
    } catch (err) {
      // cut a torn line off, or append nothing more after it (a restart reads the journal up to it)
      await this.journal.truncate(this.journalBytes).then(async () => { await this.journal?.sync() }).catch((cut: Error) => {
        this.broken = new LedgerFileError(`Ledger journal ${this.journalPath} could not be repaired after a failed write (${cut.message}); restart to go on from what is on disk`, this.journalPath)
      })
      throw err
    }
    this.journalBytes += bytes.length
    this.journalLines++
  }

  /** The snapshot written whole from what is durable, then the journal emptied. */
  private async compact (): Promise<void> {
    const body = [...this.durable].map(([key, text]) => `${JSON.stringify(key)}:${text}`).join(',\n')
    await writeFileAtomic(this.path, `{"v":${FORMAT},"entries":{\n${body}\n}}\n`, { mode: 0o600 })
    await this.journal?.truncate(0)
    await this.journal?.sync()
    this.journalBytes = 0
    this.journalLines = 0
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
    const entries = new Map<string, string>()
    const text = await readTextIfExists(this.path)
    if (text != null) {
      const file = this.parseLine(text, this.path) as { v?: unknown, entries?: unknown } | null
      if (file == null || typeof file !== 'object' || file.v !== FORMAT || !isRecord(file.entries)) {
        throw new LedgerFileError(`Ledger file ${this.path} is not a ledger of format ${FORMAT}; it may hold unpaid cheques: repair it or move it away (losing them) before starting again`, this.path)
      }
      this.take(file.entries, entries, this.path)
    }
    await this.replay(entries)
    return entries
  }

  /** The journal's lines over the snapshot, in order; a last line a crash cut short is dropped (its write never resolved). */
  private async replay (entries: Map<string, string>): Promise<void> {
    const journal = await readTextIfExists(this.journalPath)
    if (journal == null) return
    const whole = journal.lastIndexOf('\n') + 1
    for (const line of journal.slice(0, whole).split('\n')) {
      if (line === '') continue
      const parsed = this.parseLine(line, this.journalPath) as { v?: unknown, e?: unknown } | null
      if (parsed == null || typeof parsed !== 'object' || parsed.v !== FORMAT || !isRecord(parsed.e)) {
        throw new LedgerFileError(`Ledger journal ${this.journalPath} has a line that is not of format ${FORMAT}; it may hold unpaid cheques: repair it or move it away (losing them) before starting again`, this.journalPath)
      }
      this.take(parsed.e, entries, this.journalPath)
      this.journalLines++
    }
    this.journalBytes = Buffer.byteLength(journal.slice(0, whole))
    if (whole < journal.length) {
      const handle = await open(this.journalPath, 'r+')
      try {
        await handle.truncate(this.journalBytes)
        await handle.sync()
      } finally {
        await handle.close()
      }
    }
  }

  private parseLine (text: string, path: string): unknown {
    try {
      return JSON.parse(text, reviver)
    } catch (err: any) {
      throw new LedgerFileError(`Ledger file ${path} is corrupt (${err.message}); it may hold unpaid cheques: repair it or move it away (losing them) before starting again`, path)
    }
  }

  private take (from: Record<string, unknown>, into: Map<string, string>, path: string): void {
    for (const [key, entry] of Object.entries(from)) {
      if (entry == null || typeof entry !== 'object') throw new LedgerFileError(`Ledger file ${path} has a bad entry for ${key}`, path)
      into.set(key, JSON.stringify(entry, replacer))
    }
  }
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value)
}
