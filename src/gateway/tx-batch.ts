// Coalesces the sends of one TUN batch: packets for a session are queued in its core during the
// batch and each touched connection is drained once at the end — one socket write (for TLS, a few
// large records) per session per batch instead of one per packet.

export interface Flushable { flush(): void }

export class TxBatch {
  private active = false
  private readonly pending = new Set<Flushable>()

  /** Runs `fn` (the data plane's handling of a TUN batch), then flushes every deferred connection. */
  run(fn: () => void): void {
    this.active = true
    try {
      fn()
    } finally {
      this.active = false
      for (const p of this.pending) p.flush()
      this.pending.clear()
    }
  }

  /** Inside run(): remembers `p` for the final flush and returns true; outside: returns false (send now). */
  defer(p: Flushable): boolean {
    if (!this.active) return false
    this.pending.add(p)
    return true
  }
}
