import { toString as toBase64 } from 'uint8arrays/to-string'
import { MAX_PEX_PEERS } from './pex-codec.ts'
import type { KeptPeer } from './kept-peer.ts'
import type { PeerKeeper } from './peer-keeper.ts'
import type { NodeRole } from '../peer-session/index.ts'

export interface PexCandidate { id: string, roles: NodeRole[], record: string, lastSeen: number }

export interface PexAnswersInit {
  /** Tabs and Node peers not seen for longer are not passed on, in ms. */
  maxAge: number
  /** How long one ranking serves every asker, in ms. @default 1_000 */
  reuseFor?: number
}

/**
 * What a node hands out to PEX askers, ranked once a second (and after any
 * change to the kept peers) rather than for every ask: a relay with
 * thousands of tabs, each asking every 15 s, spent a tenth of its time
 * filtering, sorting and encoding the same list again.
 */
export class PexAnswers {
  private readonly keeper: PeerKeeper
  private readonly maxAge: number
  private readonly reuseFor: number
  private readonly ranked = new Map<string, { at: number, list: PexCandidate[] }>()

  constructor (keeper: PeerKeeper, init: PexAnswersInit) {
    this.keeper = keeper
    this.maxAge = init.maxAge
    this.reuseFor = init.reuseFor ?? 1_000
  }

  /** Forget the rankings: the kept peers changed. */
  readonly clear = (): void => { this.ranked.clear() }

  /** Up to `max` candidates with one of `roles` (any role when empty), `asker` left out. */
  answer (asker: string, roles: NodeRole[], max: number): PexCandidate[] {
    const key = [...roles].sort().join(',')
    const now = Date.now()
    let hit = this.ranked.get(key)
    if (hit == null || now - hit.at >= this.reuseFor) {
      hit = { at: now, list: this.rank(roles, now) }
      this.ranked.set(key, hit)
    }
    return hit.list.filter(c => c.id !== asker).slice(0, Math.min(max, MAX_PEX_PEERS))
  }

  private rank (wanted: NodeRole[], now: number): PexCandidate[] {
    // we pass on only relays we verified ourselves, so poison stops here
    const verified = this.keeper.verifiedRelays()
    const vouch = (p: KeptPeer): NodeRole[] => verified(p.id) ? p.roles : p.roles.filter(r => r !== 'relay')
    return this.keeper.list()
      .filter(p => p.envelope != null)
      .map(p => ({ p, roles: vouch(p) }))
      .filter(({ roles }) => roles.length > 0 && (wanted.length === 0 || roles.some(r => wanted.includes(r))))
      // relays are long-lived; a tab not seen lately has probably left
      .filter(({ p, roles }) => roles.includes('relay') || now - p.lastSeen <= this.maxAge)
      .sort((a, b) => b.p.lastSeen - a.p.lastSeen)
      // one more than an answer holds: the asker may be among them
      .slice(0, MAX_PEX_PEERS + 1)
      .map(({ p, roles }) => ({ id: p.id, roles, record: toBase64(p.envelope as Uint8Array, 'base64'), lastSeen: p.lastSeen }))
  }
}
