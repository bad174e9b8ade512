import { open, rename } from 'node:fs/promises'
import { logger } from '@libp2p/logger'
import { readTextIfExists, writeFileAtomic } from './atomic-file.ts'
import { mutex } from './mutex.ts'
import type { FileHandle } from 'node:fs/promises'
import type { Hex } from 'viem'

const log = logger('golem-clay:chain')

export const JOURNAL_FILE_NAME = 'journal.jsonl'

export interface JournalEntry {
  /** keccak256 of `raw`. */
  hash: Hex
  /** The signed transaction, exactly as sent: what is sent again. */
  raw: Hex
  /** What it was for (deploy, faucet, tab, …), for the log. */
  kind: string
  /** When it was journaled (ms since the epoch). */
  at: number
  /** The block it was mined in, once seen. */
  block?: number
}

/**
 * The transactions a relay sent to its chain, one JSON line each, appended
 * and fsynced before the transaction is sent; a refused one gets a `drop`
 * line. Lines are only ever appended, except when `compact` rewrites the
 * file whole (atomically) without the entries both snapshots hold. A line
 * torn by a crash was never sent and is ignored.
 */
export class TxJournal {
  readonly path: string
  private live = new Map<Hex, JournalEntry>()
  private handle?: FileHandle
  private readonly locked = mutex()
  /** The highest block compaction ever left out: entries up to there are only in snapshots. */
  private prunedBlock?: number

  constructor (path: string) {
    this.path = path
  }

  /** Reads the journal (rewriting it clean) and opens it for appending; returns the live entries, oldest first. */
  async open (): Promise<JournalEntry[]> {
    const text = await readTextIfExists(this.path) ?? ''
    const lines = text.split('\n')
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue
      let record: any
      try {
        record = JSON.parse(line)
      } catch {
        // only the last line can be torn (it was being appended when the process died)
        if (i < lines.length - 1 && lines.slice(i + 1).some(l => l.trim() !== '')) log.error('journal line %d does not parse: skipped', i + 1)
        continue
      }
      if (typeof record.pruned === 'number') this.prunedBlock = Math.max(this.prunedBlock ?? 0, record.pruned)
      else if (typeof record.drop === 'string') this.live.delete(record.drop)
      else if (typeof record.hash === 'string' && typeof record.raw === 'string') this.live.set(record.hash, { hash: record.hash, raw: record.raw, kind: String(record.kind), at: Number(record.at) })
    }
    await this.rewrite()
    return this.entries()
  }

  /** Live entries, in the order they were sent. */
  entries (): JournalEntry[] {
    return [...this.live.values()]
  }

  has (hash: Hex): boolean {
    return this.live.has(hash)
  }

  /** Whether entries were ever left out because snapshots held them: without a snapshot, the journal alone can't rebuild the chain. */
  get pruned (): boolean {
    return this.prunedBlock != null
  }

  /** Appends an entry and waits until it is on disk: only then may the transaction be sent. */
  async append (entry: JournalEntry): Promise<void> {
    await this.locked(async () => {
      this.live.set(entry.hash, entry)
      await this.write(entry, true)
    })
  }

  /** The transaction was refused (never mined): it is not sent again. */
  async drop (hash: Hex): Promise<void> {
    await this.locked(async () => {
      if (!this.live.delete(hash)) return
      await this.write({ drop: hash }, false)
    })
  }

  /** Rewrites the journal without the entries `covered` says both snapshots hold. Returns how many went. */
  async compact (covered: (entry: JournalEntry) => boolean, coveredBlock: number): Promise<number> {
    return await this.locked(async () => {
      const gone = this.entries().filter(covered)
      if (gone.length === 0) return 0
      for (const entry of gone) this.live.delete(entry.hash)
      this.prunedBlock = Math.max(this.prunedBlock ?? 0, coveredBlock)
      await this.rewrite()
      return gone.length
    })
  }

  /** Forgets everything (the chain it described is gone): the file is kept aside as `.lost`. */
  async reset (): Promise<void> {
    await this.locked(async () => {
      await this.handle?.close()
      this.handle = undefined
      await rename(this.path, `${this.path}.lost`).catch(() => {})
      this.live.clear()
      this.prunedBlock = undefined
      await this.rewrite()
    })
  }

  async close (): Promise<void> {
    await this.locked(async () => {
      await this.handle?.close()
      this.handle = undefined
    })
  }

  private async write (record: object, sync: boolean): Promise<void> {
    this.handle ??= await open(this.path, 'a', 0o600)
    await this.handle.write(`${JSON.stringify(record)}\n`)
    if (sync) await this.handle.datasync()
  }

  private async rewrite (): Promise<void> {
    await this.handle?.close()
    this.handle = undefined
    const lines = [
      ...(this.prunedBlock != null ? [JSON.stringify({ pruned: this.prunedBlock })] : []),
      // the block is not kept: after a restart the transaction may be mined again, elsewhere
      ...this.entries().map(({ hash, raw, kind, at }) => JSON.stringify({ hash, raw, kind, at }))
    ]
    await writeFileAtomic(this.path, lines.map(l => `${l}\n`).join(''), { mode: 0o600 })
  }
}
