/**
 * Which subtask goes to which provider, and when a subtask is decided. Pure
 * bookkeeping, no I/O: the requestor feeds it assignments, reports and
 * failures. With redundancy k, each subtask goes to k distinct providers and
 * needs floor(k/2) + 1 matching results; a tie or a failure sends it out
 * again, to providers that haven't had it.
 */
export interface SchedulerInit {
  subtasks: number
  /** Replicas per subtask. @default 1 */
  k?: number
  /** Replicas one subtask may use before it is given up. @default 2k + 3 */
  maxReplicas?: number
}

interface Replica { provider: string, subtask: number, state: 'running' | 'reported' | 'failed', sha?: string }

export interface Decision {
  subtask: number
  sha: string
  /** Assignment IDs whose result matched the majority. */
  winners: string[]
  /** Assignment IDs that reported something else. */
  losers: string[]
}

export class Scheduler {
  readonly subtasks: number
  readonly k: number
  readonly quorum: number
  private readonly maxReplicas: number
  private readonly replicas = new Map<string, Replica>()
  private readonly perSubtask: string[][]
  private readonly decided = new Map<number, string>()
  private readonly givenUp = new Set<number>()
  /** Providers that may get no more work in this task (wrong results, vanished). */
  private readonly excluded = new Set<string>()

  constructor (init: SchedulerInit) {
    this.subtasks = init.subtasks
    this.k = init.k ?? 1
    this.quorum = Math.floor(this.k / 2) + 1
    this.maxReplicas = init.maxReplicas ?? 2 * this.k + 3
    this.perSubtask = Array.from({ length: this.subtasks }, () => [])
  }

  get doneCount (): number { return this.decided.size }
  get complete (): boolean { return this.decided.size === this.subtasks }
  get failedSubtasks (): number[] { return [...this.givenUp] }
  isExcluded (provider: string): boolean { return this.excluded.has(provider) }
  exclude (provider: string): void { this.excluded.add(provider) }

  result (subtask: number): string | undefined { return this.decided.get(subtask) }

  /** Running assignments of a provider. */
  runningOf (provider: string): string[] {
    return [...this.replicas].filter(([, r]) => r.provider === provider && r.state === 'running').map(([id]) => id)
  }

  replica (id: string): Replica | undefined { return this.replicas.get(id) }

  /** The next subtask `provider` should take, lowest index first, or undefined. */
  next (provider: string): number | undefined {
    if (this.excluded.has(provider)) return undefined
    for (let s = 0; s < this.subtasks; s++) {
      if (this.decided.has(s) || this.givenUp.has(s)) continue
      const ids = this.perSubtask[s] as string[]
      const mine = ids.some(id => this.replicas.get(id)?.provider === provider)
      if (mine) continue
      if (this.live(s) < this.needed(s)) return s
    }
    return undefined
  }

  assigned (id: string, subtask: number, provider: string): void {
    this.replicas.set(id, { provider, subtask, state: 'running' })
    this.perSubtask[subtask]?.push(id)
  }

  /** The provider declined the assignment before starting: it doesn't count as a try. */
  withdrawn (id: string): void {
    const r = this.replicas.get(id)
    if (r == null || r.state !== 'running') return
    this.replicas.delete(id)
    const ids = this.perSubtask[r.subtask] as string[]
    ids.splice(ids.indexOf(id), 1)
  }

  /** The assignment ended without a result (refused, timed out, provider gone). */
  failed (id: string): void {
    const r = this.replicas.get(id)
    if (r == null || r.state !== 'running') return
    r.state = 'failed'
    const used = (this.perSubtask[r.subtask] ?? []).length
    if (!this.decided.has(r.subtask) && used >= this.maxReplicas) this.givenUp.add(r.subtask)
  }

  /** Records a result hash; returns the decision when this result settles the subtask. */
  reported (id: string, sha: string): Decision | undefined {
    const r = this.replicas.get(id)
    if (r == null || r.state !== 'running') return undefined
    r.state = 'reported'
    r.sha = sha
    const s = r.subtask
    if (this.decided.has(s)) {
      // late replica: judged against the decided result
      return { subtask: s, sha: this.decided.get(s) as string, winners: sha === this.decided.get(s) ? [id] : [], losers: sha === this.decided.get(s) ? [] : [id] }
    }
    const reported = (this.perSubtask[s] as string[]).filter(x => this.replicas.get(x)?.state === 'reported')
    const votes = new Map<string, number>()
    for (const x of reported) votes.set(this.replicas.get(x)?.sha as string, (votes.get(this.replicas.get(x)?.sha as string) ?? 0) + 1)
    for (const [hash, n] of votes) {
      if (n >= this.quorum) {
        this.decided.set(s, hash)
        return { subtask: s, sha: hash, winners: reported.filter(x => this.replicas.get(x)?.sha === hash), losers: reported.filter(x => this.replicas.get(x)?.sha !== hash) }
      }
    }
    if ((this.perSubtask[s] as string[]).length >= this.maxReplicas && this.live(s) === 0) this.givenUp.add(s)
    return undefined
  }

  /** Replicas running or reported without a decision. */
  private live (s: number): number {
    return (this.perSubtask[s] as string[]).filter(id => this.replicas.get(id)?.state !== 'failed').length
  }

  /** Replicas a subtask needs in total: k, or more while no result has a quorum. */
  private needed (s: number): number {
    const reported = (this.perSubtask[s] as string[]).map(id => this.replicas.get(id)).filter(r => r?.state === 'reported')
    const votes = new Map<string, number>()
    for (const r of reported) votes.set(r?.sha as string, (votes.get(r?.sha as string) ?? 0) + 1)
    const best = Math.max(0, ...votes.values())
    return Math.max(this.k, reported.length + (this.quorum - best))
  }
}
