import { open } from 'node:fs/promises'
import { KeyFileError } from '../identity/key-file.ts'
import { readTextIfExists, removeIfExists } from '../chain/atomic-file.ts'

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

/**
 * 2: a snapshot and its journal. Format 1 (a snapshot alone) is still read;
 * the first write makes it a format 2 snapshot, which a version that
 * knows no journal refuses instead of reading it without its journal.
 */
export const FORMAT = 2

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

/** An entry as its ledger files hold it. */
export function entryText (entry: unknown): string {
  return JSON.stringify(entry, replacer)
}

/** An entry read back from its text. */
export function entryOf<T> (text: string): T {
  return JSON.parse(text, reviver) as T
}

/** What a ledger's files hold: its entries (as text), and where its journal stands. */
export interface LedgerOnDisk {
  entries: Map<string, string>
  /** The snapshot's format (0: none). */
  snapshotFormat: number
  /** The journal's whole lines, in bytes and in number. */
  journalBytes: number
  journalLines: number
}

/**
 * Reads a ledger: its snapshot (format 1 or 2), then its journal's lines
 * over it, in order. A last line that does not parse is one a crash cut
 * short (or, after a power loss, one whose pages never all reached the
 * disk): its write never resolved, so it is dropped and cut off. A bad line
 * with good ones after it, or a bad snapshot, is refused (LedgerFileError).
 */
export async function readLedger (path: string, journalPath: string): Promise<LedgerOnDisk> {
  // a write cut short by a crash left only its temporary file: the ledger itself is whole
  await removeIfExists(`${path}.tmp`)
  const out: LedgerOnDisk = { entries: new Map(), snapshotFormat: 0, journalBytes: 0, journalLines: 0 }
  const text = await readTextIfExists(path)
  if (text != null) {
    const file = parseText(text, path)
    if (!isRecord(file) || (file.v !== 1 && file.v !== FORMAT) || !isRecord(file.entries)) {
      throw new LedgerFileError(`Ledger file ${path} is not a ledger of format 1 or ${FORMAT}; it may hold unpaid cheques: repair it or move it away (losing them) before starting again`, path)
    }
    out.snapshotFormat = file.v
    take(file.entries, out.entries, path)
  }
  const journal = await readTextIfExists(journalPath)
  if (journal == null) return out
  const lines = journal.split('\n')
  for (const [i, line] of lines.entries()) {
    const last = lines.slice(i + 1).every(rest => rest === '')
    if (line === '') {
      // a blank line (an editor's, not ours) still takes its byte: the next write goes after it
      if (i < lines.length - 1) out.journalBytes += 1
      continue
    }
    // the part after the last newline was never a whole line
    const parsed = i === lines.length - 1 ? undefined : journalLine(line, last, journalPath)
    if (parsed == null || parsed.v !== FORMAT || !isRecord(parsed.e)) {
      if (last) break
      throw new LedgerFileError(`Ledger journal ${journalPath} has a line that is not of format ${FORMAT}; it may hold unpaid cheques: repair it or move it away (losing them) before starting again`, journalPath)
    }
    take(parsed.e, out.entries, journalPath)
    out.journalLines++
    out.journalBytes += Buffer.byteLength(line) + 1
  }
  if (out.journalBytes < Buffer.byteLength(journal)) {
    const handle = await open(journalPath, 'r+')
    try {
      await handle.truncate(out.journalBytes)
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
  return out
}

/** A journal line parsed; undefined for the last one when it does not parse (torn). */
function journalLine (line: string, last: boolean, path: string): Record<string, unknown> | undefined {
  try {
    const parsed = parseText(line, path)
    return isRecord(parsed) ? parsed : {}
  } catch (err) {
    if (last) return undefined
    throw err
  }
}

function parseText (text: string, path: string): unknown {
  try {
    return JSON.parse(text, reviver)
  } catch (err: any) {
    throw new LedgerFileError(`Ledger file ${path} is corrupt (${err.message}); it may hold unpaid cheques: repair it or move it away (losing them) before starting again`, path)
  }
}

function take (from: Record<string, unknown>, into: Map<string, string>, path: string): void {
  for (const [key, entry] of Object.entries(from)) {
    if (entry == null || typeof entry !== 'object') throw new LedgerFileError(`Ledger file ${path} has a bad entry for ${key}`, path)
    into.set(key, entryText(entry))
  }
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value)
}
