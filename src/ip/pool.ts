// IPv4 address pool for tunnel clients (IPCP RFC 1332 §3.3, IKEv2 INTERNAL_IP4_ADDRESS RFC 7296 §3.15):
// a bitmap over the prefix with a rotating cursor, so allocation is amortised O(1) and memory is
// one bit per address. The network and broadcast addresses are never handed out (RFC 919/922).
import { VpnError } from '../lib/errors.js'
import { ipv4ToString, parseIpv4, parsePrefix, prefixContains } from './prefix.js'
import type { Ipv4Prefix } from './prefix.js'

/** Prefixes shorter than this would need a bitmap of more than 2 MiB; refuse them as configuration errors. */
const MIN_PREFIX_LENGTH = 8

export class AddressPool {
  readonly prefix: Ipv4Prefix
  /** One bit per address in the prefix: set = in use or never allocatable. */
  private readonly taken: Uint8Array
  /** One bit per address: set = never allocatable (network, broadcast, excluded). */
  private readonly blocked: Uint8Array
  private readonly span: number
  private readonly capacity: number
  private used = 0
  private cursor = 0

  /**
   * @param cidr the pool, "a.b.c.d/n" with 8 <= n <= 32 (host bits ignored).
   * @param opts.exclude addresses or prefixes never to hand out (e.g. the gateway's own tunnel
   *   address); parts outside the pool are ignored.
   * For n <= 30 the network and broadcast addresses are excluded; /31 (RFC 3021) and /32 have
   * neither, so every address is allocatable. Throws VpnError ERR_BAD_PREFIX / ERR_POOL_TOO_LARGE.
   */
  constructor(cidr: string, opts: { exclude?: readonly string[] } = {}) {
    const p = parsePrefix(cidr)
    if (p.length < MIN_PREFIX_LENGTH) throw new VpnError('ERR_POOL_TOO_LARGE', `address pool ${cidr} is larger than a /${MIN_PREFIX_LENGTH}`)
    this.prefix = p
    this.span = 2 ** (32 - p.length)
    this.taken = new Uint8Array(Math.ceil(this.span / 8))
    this.blocked = new Uint8Array(this.taken.length)
    if (p.length <= 30) { this.block(0); this.block(this.span - 1) }
    for (const e of opts.exclude ?? []) {
      const x = parsePrefix(e)
      // Intersect the excluded prefix with the pool.
      const lo = Math.max(x.network, p.network), hi = Math.min(x.last, p.last)
      for (let a = lo; a <= hi; a++) this.block(a - p.network)
    }
    let blocked = 0
    for (const byte of this.blocked) for (let b = byte; b; b &= b - 1) blocked++
    this.capacity = this.span - blocked
    this.taken.set(this.blocked)
  }

  private bit(map: Uint8Array, i: number): boolean { return (map[i >>> 3]! & (1 << (i & 7))) !== 0 }
  private block(i: number): void { this.blocked[i >>> 3]! |= 1 << (i & 7) }
  private index(addr: string): number | undefined {
    const a = parseIpv4(addr)
    return a !== undefined && prefixContains(this.prefix, a) ? a - this.prefix.network : undefined
  }

  /**
   * Hands out `preferred` when it is in the pool, allocatable and free (a peer re-requesting its
   * old address, IPCP §3.3); otherwise the next free address after the last allocation. Returns
   * undefined when the pool is exhausted. Never returns an address twice before it is released.
   */
  allocate(preferred?: string): string | undefined {
    if (preferred !== undefined && this.claim(preferred)) return preferred
    if (this.used >= this.capacity) return undefined
    for (let n = 0; n < this.span; n++) {
      const i = (this.cursor + n) % this.span
      // Skip whole bytes of taken addresses quickly.
      if ((i & 7) === 0 && this.taken[i >>> 3] === 0xff && n + 8 <= this.span) { n += 7; continue }
      if (!this.bit(this.taken, i)) {
        this.taken[i >>> 3]! |= 1 << (i & 7)
        this.used++
        this.cursor = (i + 1) % this.span
        return ipv4ToString(this.prefix.network + i)
      }
    }
    return undefined
  }

  /** Takes exactly `addr` (a static per-user address) if it is in the pool, allocatable and free. */
  claim(addr: string): boolean {
    const i = this.index(addr)
    if (i === undefined || this.bit(this.taken, i)) return false
    this.taken[i >>> 3]! |= 1 << (i & 7)
    this.used++
    return true
  }

  /** Returns `addr` to the pool. Releasing a free, excluded or foreign address does nothing. */
  release(addr: string): void {
    const i = this.index(addr)
    if (i === undefined || this.bit(this.blocked, i) || !this.bit(this.taken, i)) return
    this.taken[i >>> 3]! &= ~(1 << (i & 7))
    this.used--
  }

  /** Whether `addr` is currently handed out. */
  isAllocated(addr: string): boolean {
    const i = this.index(addr)
    return i !== undefined && !this.bit(this.blocked, i) && this.bit(this.taken, i)
  }

  /** Addresses currently handed out. */
  inUse(): number { return this.used }
  /** Addresses this pool can hand out in total (excluding network, broadcast and exclusions). */
  size(): number { return this.capacity }
}
