// Longest-prefix match over IPv4 prefixes (RFC 4632 §5.1 "longest match" forwarding rule): one
// hash map per prefix length in use, probed from the longest length down.
//
// Why not a trie: the data plane holds a handful of router-account prefixes next to thousands of
// host addresses. With k distinct lengths a lookup is at most k map probes (k is tiny in
// practice, and at most 32), and an empty table costs one length check.
import { prefixMask } from '../ip/prefix.js'

// Netmask per length, so the lookup loop does no shifting or branching to build one.
const MASKS: readonly number[] = Array.from({ length: 33 }, (_, l) => prefixMask(l))

/** One stored prefix with its value. */
export interface PrefixEntry<T> {
  readonly network: number
  readonly length: number
  readonly value: T
}

export class PrefixTable<T> {
  /** byLength[len] maps network (u32) -> entry for prefixes of that length. */
  private readonly byLength: (Map<number, PrefixEntry<T>> | undefined)[] = new Array(33)
  /** Lengths with at least one entry, longest first: the probe order. */
  private lengths: number[] = []
  private count = 0

  get size(): number { return this.count }

  /**
   * Stores `value` for network/length (0..32). The network must have its host bits clear; a
   * prefix already present is replaced. Callers decide overlaps (see overlapping()).
   */
  set(network: number, length: number, value: T): void {
    const n = network >>> 0
    if (!Number.isInteger(length) || length < 0 || length > 32 || ((n & prefixMask(length)) >>> 0) !== n) {
      throw new RangeError(`not a canonical IPv4 prefix: ${n}/${length}`)
    }
    let m = this.byLength[length]
    if (!m) {
      m = new Map()
      this.byLength[length] = m
      this.lengths = [...this.lengths, length].sort((a, b) => b - a)
    }
    if (!m.has(n)) this.count++
    m.set(n, { network: n, length, value })
  }

  /** Removes network/length; returns whether it was present. */
  delete(network: number, length: number): boolean {
    const m = this.byLength[length]
    if (!m || !m.delete(network >>> 0)) return false
    this.count--
    if (m.size === 0) {
      this.byLength[length] = undefined
      this.lengths = this.lengths.filter((l) => l !== length)
    }
    return true
  }

  /** The value of the exact prefix network/length, if stored. */
  get(network: number, length: number): T | undefined { return this.byLength[length]?.get(network >>> 0)?.value }

  /** The value of the longest stored prefix containing `addr` (u32), or undefined. Allocates nothing. */
  lookup(addr: number): T | undefined {
    const lengths = this.lengths
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i]!
      const e = this.byLength[len]!.get((addr & MASKS[len]!) >>> 0)
      if (e) return e.value
    }
    return undefined
  }

  /**
   * A stored prefix sharing any address with network/length (containing it, equal to it or
   * inside it), or undefined. O(entries): meant for attach time, not the packet path.
   */
  overlapping(network: number, length: number): PrefixEntry<T> | undefined {
    for (const len of this.lengths) {
      const mask = prefixMask(Math.min(len, length))
      for (const e of this.byLength[len]!.values()) {
        if (((e.network & mask) >>> 0) === ((network & mask) >>> 0)) return e
      }
    }
    return undefined
  }

  entries(): PrefixEntry<T>[] {
    const out: PrefixEntry<T>[] = []
    for (const len of this.lengths) out.push(...this.byLength[len]!.values())
    return out
  }
}
