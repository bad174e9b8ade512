/** Challenge salts already answered, kept until they would have expired anyway. */
export class SpentChallenges {
  private readonly spent = new Map<string, number>()

  constructor (private readonly maxEntries = 100_000, private readonly now: () => number = Date.now) {}

  /** Marks `salt` spent; false if it already was. */
  spend (salt: string, until: number): boolean {
    this.prune()
    if (this.spent.has(salt)) return false
    if (this.spent.size >= this.maxEntries) this.spent.delete(this.spent.keys().next().value as string)
    this.spent.set(salt, until)
    return true
  }

  private prune (): void {
    const now = this.now()
    for (const [salt, until] of this.spent) {
      if (until > now) break
      this.spent.delete(salt)
    }
  }
}
