import { NoteReplayedError } from './payment-errors.ts'
import { accountId } from './deposit-typed-data.ts'
import type { PromissoryNote } from './deposit-typed-data.ts'

export interface NoteGuardInit {
  /**
   * Notes remembered per account (requestor, beneficiary, provider). Past it the lowest seq is
   * forgotten, and from then on every note at or below it is refused: a
   * guard that cannot tell an old note from a replay says no.
   * @default 1024
   */
  maxPerPair?: number
  /** Accounts remembered; the least recently used is forgotten whole (at the defaults, ~50 MB at most). @default 256 */
  maxPairs?: number
}

interface Pair {
  /** What each seq's note said: subtask and amount. */
  seen: Map<bigint, string>
  /** Notes at or below this seq are refused: settled, or forgotten. */
  floor: bigint
}

/**
 * Refuses a promissory note for a (requestor, beneficiary, provider, seq)
 * seen before with other content. The contract draws one note per seq of
 * an account, so a
 * requestor that signs two (another subtask, another amount) for one seq
 * has made one of them worthless; a provider or an arbiter takes the first
 * and refuses the others. The same note again passes. In memory: a
 * provider restarting forgets, which the notes it keeps tell it again.
 */
export class NoteGuard {
  private readonly pairs = new Map<string, Pair>()
  private readonly maxPerPair: number
  private readonly maxPairs: number

  constructor (init: NoteGuardInit = {}) {
    this.maxPerPair = init.maxPerPair ?? 1024
    this.maxPairs = init.maxPairs ?? 256
  }

  /** Remembers `note`, or throws NoteReplayedError when its seq came with other content or is settled or forgotten. */
  check (note: PromissoryNote): void {
    const pair = this.pair(note.requestor, note.beneficiary, note.provider)
    if (note.seq <= pair.floor) throw new NoteReplayedError(`A note at seq ${note.seq} of ${note.requestor} for ${note.provider}'s work comes after seq ${pair.floor} was settled or forgotten`)
    const content = `${note.subtask.toLowerCase()}:${note.amount}`
    const seen = pair.seen.get(note.seq)
    if (seen === content) return
    if (seen != null) throw new NoteReplayedError(`${note.requestor} already signed another note for seq ${note.seq} of ${note.provider}'s work`)
    pair.seen.set(note.seq, content)
    if (pair.seen.size > this.maxPerPair) {
      const lowest = [...pair.seen.keys()].reduce((a, b) => (b < a ? b : a))
      pair.seen.delete(lowest)
      pair.floor = lowest
    }
  }

  /**
   * The account's assignments through `seq` are settled (a cashed cheque's
   * seq): their notes can no longer be drawn, so they are forgotten and refused.
   */
  settle (requestor: string, beneficiary: string, provider: string, seq: bigint): void {
    const pair = this.pair(requestor, beneficiary, provider)
    if (seq <= pair.floor) return
    pair.floor = seq
    for (const s of pair.seen.keys()) if (s <= seq) pair.seen.delete(s)
  }

  private pair (requestor: string, beneficiary: string, provider: string): Pair {
    const key = accountId(requestor, beneficiary, provider)
    let pair = this.pairs.get(key)
    if (pair != null) {
      this.pairs.delete(key)
    } else {
      pair = { seen: new Map(), floor: 0n }
      if (this.pairs.size >= this.maxPairs) this.pairs.delete(this.pairs.keys().next().value as string)
    }
    this.pairs.set(key, pair)
    return pair
  }
}
