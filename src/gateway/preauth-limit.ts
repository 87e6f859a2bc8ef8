// Bounds connections that have not yet authenticated, per source address: one host (or a botnet
// behind one NAT) cannot hold thousands of half-open SSTP/PPP negotiations, each with its timers
// and buffers. Clients behind a shared NAT authenticate within seconds, so a generous cap suffices.

export const MAX_PREAUTH_PER_SOURCE = 32

export class PreauthLimit {
  private readonly counts = new Map<string, number>()
  private readonly max: number

  constructor(max = MAX_PREAUTH_PER_SOURCE) { this.max = max }

  /** Takes a slot for `source`; false when it already holds the maximum (refuse the connection). */
  acquire(source: string): boolean {
    const n = this.counts.get(source) ?? 0
    if (n >= this.max) return false
    this.counts.set(source, n + 1)
    return true
  }

  /** Gives the slot back (authenticated, or gone). Call once per successful acquire. */
  release(source: string): void {
    const n = this.counts.get(source) ?? 0
    if (n <= 1) this.counts.delete(source)
    else this.counts.set(source, n - 1)
  }

  held(source: string): number { return this.counts.get(source) ?? 0 }
}
