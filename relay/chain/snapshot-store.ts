import { open, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { fsyncDir, readTextIfExists } from './atomic-file.ts'

const log = logger('golem-clay:chain')

export const SNAPSHOT_FILE_NAME = 'state.json'
export const PREVIOUS_SNAPSHOT_FILE_NAME = 'state.prev.json'

/** A snapshot file that parses, and the chain's block number in it. */
export interface Snapshot {
  which: 'newest' | 'previous'
  path: string
  block: number
}

/** The block number an Anvil state dump was taken at, or undefined when the text is not one. */
export function snapshotBlock (text: string): number | undefined {
  let state: any
  try {
    state = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof state !== 'object' || state == null || typeof state.accounts !== 'object') return undefined
  const block = typeof state.best_block_number === 'number' ? state.best_block_number : Number(state.block?.number)
  return Number.isSafeInteger(block) && block >= 0 ? block : undefined
}

/**
 * The embedded chain's two snapshots, `state.json` (newest) and
 * `state.prev.json` (the one before), Anvil state dumps as `--load-state`
 * reads them. A new one is written to a temporary file and fsynced; the
 * newest becomes the previous (rename), the new one the newest (rename),
 * then the folder is fsynced. A crash at any point leaves at least one
 * whole snapshot; one that does not parse, or that Anvil refuses, is moved
 * aside (`*.corrupt`) and the other is used.
 */
export class SnapshotStore {
  private readonly dir: string
  /** Block numbers of the files that are there and good. */
  private readonly kept: { newest?: number, previous?: number } = {}

  constructor (dir: string) {
    this.dir = dir
  }

  private pathOf (which: Snapshot['which']): string {
    return join(this.dir, which === 'newest' ? SNAPSHOT_FILE_NAME : PREVIOUS_SNAPSHOT_FILE_NAME)
  }

  /** The snapshots to start from, best first; those that don't parse are moved aside. */
  async candidates (): Promise<Snapshot[]> {
    const found: Snapshot[] = []
    this.kept.newest = this.kept.previous = undefined
    for (const which of ['newest', 'previous'] as const) {
      const path = this.pathOf(which)
      const text = await readTextIfExists(path)
      if (text == null) continue
      const block = snapshotBlock(text)
      if (block == null) {
        await this.discard({ which, path, block: 0 }, 'it does not parse')
        continue
      }
      this.kept[which] = block
      found.push({ which, path, block })
    }
    return found
  }

  /** Moves a snapshot that can't be used aside, so it never becomes the previous one. */
  async discard (snapshot: Snapshot, why: string): Promise<void> {
    log.error('snapshot %s is unusable (%s): moved aside', snapshot.path, why)
    await rename(snapshot.path, `${snapshot.path}.corrupt`).catch(() => {})
    this.kept[snapshot.which] = undefined
    await fsyncDir(this.dir)
  }

  /** Writes a new newest snapshot (Anvil's state JSON), keeping the newest as the previous one. */
  async write (text: string): Promise<Snapshot> {
    const block = snapshotBlock(text)
    if (block == null) throw new Error('not an anvil state dump')
    const newest = this.pathOf('newest')
    const tmp = `${newest}.tmp`
    const handle = await open(tmp, 'w', 0o600)
    try {
      await handle.writeFile(text)
      await handle.sync()
    } finally {
      await handle.close()
    }
    if (this.kept.newest != null) {
      await rename(newest, this.pathOf('previous'))
      this.kept.previous = this.kept.newest
    }
    await rename(tmp, newest)
    this.kept.newest = block
    await fsyncDir(this.dir)
    return { which: 'newest', path: newest, block }
  }

  /**
   * Transactions mined at or below this block are in both kept snapshots,
   * so whichever one a restart loads has them; undefined while there are
   * not two.
   */
  get coveredBlock (): number | undefined {
    const { newest, previous } = this.kept
    return newest != null && previous != null ? Math.min(newest, previous) : undefined
  }
}
