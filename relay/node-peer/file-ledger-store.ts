import { constants, writeSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { dirname } from 'node:path'
import { defaultLogger } from '@libp2p/logger'
import { fsyncDir, writeFileAtomic } from '../chain/atomic-file.ts'
import { entryOf, entryText, FORMAT, LedgerFileError, readLedger } from './ledger-files.ts'
import type { FileHandle } from 'node:fs/promises'
import type { PaymentStore } from '../../shared/payments/index.ts'

export { LedgerFileError }

/** A journal handle unused this long is closed (opened again on the next write), ms. */
const IDLE_CLOSE_MS = 5_000

/** How soon a save counts as done (FileLedgerStoresInit.durability). */
export type LedgerDurability = 'relaxed' | 'strict'

export interface FileLedgerStoreInit {
  /** Journal lines past which the snapshot is written whole again and the journal emptied. @default 1024 */
  compactAfter?: number
  /** @default 'relaxed' */
  durability?: LedgerDurability
  /** With relaxed durability, the journal is fsynced this long after a write at most, ms. @default 100 */
  syncMs?: number
}

/**
 * One ledger of one deployment: a snapshot file (`<name>.json`, written
 * atomically) and a journal beside it (`<name>.journal`), one line per
 * write holding the entries it changed. Past `compactAfter` lines the
 * snapshot is written whole again and the journal emptied. Saves that
 * arrive while a write is under way go into the next one.
 *
 * Durability as IndexedDB's (a tab's ledgers): `relaxed` (its default in
 * every browser) resolves a save once its line is written to the operating
 * system, which keeps it through a crash of the process, and fsyncs the
 * journal within `syncMs`: an operating system crash or a power cut may
 * lose that window's writes. `strict` fsyncs before a save resolves: on
 * the verdict's path, that wait (about a millisecond under load here)
 * slowed paid tasks by a few percent.
 *
 * Before its first journal line a ledger gets a format 2 snapshot, so an
 * older version refuses it rather than read it without its journal.
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
  /** The snapshot's format on disk (0: none). */
  private snapshotFormat = 0
  private idleTimer?: ReturnType<typeof setTimeout>
  private readonly log = defaultLogger().forComponent('golem-clay:ledgers')

  private readonly strict: boolean
  private readonly syncMs: number
  /** A background fsync waiting or under way (relaxed durability). */
  private syncing?: ReturnType<typeof setTimeout>

  constructor (path: string, ready: () => Promise<void>, init: FileLedgerStoreInit = {}) {
    this.path = path
    this.journalPath = path.replace(/\.json$/, '.journal')
    this.compactAfter = init.compactAfter ?? 1024
    this.strict = init.durability === 'strict'
    this.syncMs = init.syncMs ?? 100
    this.ready = ready
  }

  async load (): Promise<Iterable<[string, T]>> {
    await this.ready()
    const entries = await this.read()
    return [...entries].map(([key, text]) => [key, entryOf<T>(text)])
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
      entries.set(key, entryText(entry))
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
      // an older snapshot (or none) first becomes one an older version refuses
      if (this.snapshotFormat !== FORMAT) await this.compact()
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
    } finally {
      this.closeWhenIdle()
    }
    for (const [key, text] of changed) this.durable.set(key, text)
    // the journal replayed gives what the snapshot will hold, so a crash between the two loses nothing
    if (this.journalLines >= this.compactAfter) {
      await this.compact().catch((err: Error) => { this.log.error('ledger %s not compacted (the journal goes on) - %s', this.path, err.message) })
    }
  }

  private async append (line: string): Promise<void> {
    const journal = await this.open()
    const bytes = Buffer.from(line)
    try {
      // one write call may write part of the line: go on until all of it is written. Relaxed, the
      // line only goes to the page cache, which a synchronous write does without a thread pool's round trip
      for (let done = 0; done < bytes.length;) {
        const at = this.journalBytes + done
        const written = this.strict ? (await journal.write(bytes, done, bytes.length - done, at)).bytesWritten : writeSync(journal.fd, bytes, done, bytes.length - done, at)
        if (written <= 0) throw new LedgerFileError(`Ledger journal ${this.journalPath}: a write made no progress`, this.journalPath)
        done += written
      }
      if (this.strict) await journal.sync()
      else this.syncSoon()
    } catch (err) {
      // cut a torn line off, or append nothing more after it (a restart reads the journal up to it)
      await journal.truncate(this.journalBytes).then(async () => { await journal.sync() }).catch((cut: Error) => {
        this.broken = new LedgerFileError(`Ledger journal ${this.journalPath} could not be repaired after a failed write (${cut.message}); restart to go on from what is on disk`, this.journalPath)
      })
      throw err
    }
    this.journalBytes += bytes.length
    this.journalLines++
  }

  /**
   * The journal fsynced within syncMs (relaxed durability). A failed fsync
   * may have lost written lines, so nothing more is saved after it: the
   * ledger refuses (LedgerFileError) until a restart reads what is on disk.
   */
  private syncSoon (): void {
    if (this.syncing != null) return
    this.syncing = setTimeout(() => {
      const journal = this.journal
      void (journal?.sync() ?? Promise.resolve()).catch((err: Error) => {
        this.broken = new LedgerFileError(`Ledger journal ${this.journalPath} could not be synced to disk (${err.message}); restart to go on from what is on disk`, this.journalPath)
        this.log.error('%s', this.broken.message)
      }).finally(() => { this.syncing = undefined })
    }, this.syncMs)
    ;(this.syncing as { unref?: () => void }).unref?.()
  }

  /** The snapshot written whole from what is durable, then the journal emptied. */
  private async compact (): Promise<void> {
    const body = [...this.durable].map(([key, text]) => `${JSON.stringify(key)}:${text}`).join(',\n')
    await writeFileAtomic(this.path, `{"v":${FORMAT},"entries":{\n${body}\n}}\n`, { mode: 0o600 })
    this.snapshotFormat = FORMAT
    const journal = await this.open()
    await journal.truncate(0)
    // emptied: the counters say so even if the sync below fails, so a repair never cuts past the end
    this.journalBytes = 0
    this.journalLines = 0
    await journal.sync()
  }

  /**
   * The journal (once per idle spell); the folder synced once it exists.
   * Written at its known length rather than opened for appending: Windows
   * refuses to truncate a file opened for appending only, which the repair
   * and the compaction do.
   */
  private async open (): Promise<FileHandle> {
    clearTimeout(this.idleTimer)
    if (this.journal != null) return this.journal
    const handle = await open(this.journalPath, constants.O_RDWR | constants.O_CREAT, 0o600)
    // a journal just made: its name must be on disk before a line in it counts
    await fsyncDir(dirname(this.journalPath)).catch(async (err: Error) => { await handle.close(); throw err })
    this.journal = handle
    return handle
  }

  /** Closes the journal after IDLE_CLOSE_MS without a write: a ledger used now and then holds no file open. */
  private closeWhenIdle (): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => {
      if (this.writing != null || this.queued != null || this.syncing != null) return this.closeWhenIdle()
      const handle = this.journal
      this.journal = undefined
      void handle?.close().catch(() => {})
    }, IDLE_CLOSE_MS)
    ;(this.idleTimer as { unref?: () => void }).unref?.()
  }

  private async read (): Promise<Map<string, string>> {
    if (this.entries != null) return this.entries
    this.loading ??= readLedger(this.path, this.journalPath).then(disk => {
      this.snapshotFormat = disk.snapshotFormat
      this.journalBytes = disk.journalBytes
      this.journalLines = disk.journalLines
      this.entries = disk.entries
      this.durable = new Map(disk.entries)
      return disk.entries
    }, (err: Error) => {
      this.loading = undefined
      throw err
    })
    return await this.loading
  }
}
