// Gateway-wide PPTP Call ID allocation (RFC 2637 §2.7/§2.8 Call ID; §4.1 GRE Key field) for the GRE
// driver: one raw protocol-47 socket serves every control connection, so IDs must not collide.
import type { GreDemux } from '../pptp/gre/demux.js'

/**
 * Hands out Call IDs unique across the whole gateway, not just per control connection: two control
 * connections from one address (two clients behind one NAT) share the GreDemux key space
 * (peer address, Call ID), so per-connection counters would collide. Also skips any ID the demux
 * still holds for some peer. 0 is never used (some peers read it as "none"). Matches the shape of
 * PptpPacConnection's `callIds` option.
 */
export class CallIdAllocator {
  private readonly inUse = new Set<number>()
  private next: number
  private readonly demux: GreDemux | undefined

  constructor(demux?: GreDemux, start = 1) {
    this.demux = demux
    this.next = start >= 1 && start <= 0xffff ? start : 1
  }

  /** A free Call ID, or undefined when all 65535 are taken (the PAC then refuses the call). */
  allocate(): number | undefined {
    for (let i = 0; i < 0xffff; i++) {
      const id = this.next
      this.next = id === 0xffff ? 1 : id + 1
      if (this.inUse.has(id) || this.heldByDemux(id)) continue
      this.inUse.add(id)
      return id
    }
    return undefined
  }

  release(callId: number): void { this.inUse.delete(callId) }

  get size(): number { return this.inUse.size }

  private heldByDemux(id: number): boolean {
    if (!this.demux) return false
    for (const c of this.demux.all()) if (c.localCallId === id) return true
    return false
  }
}
