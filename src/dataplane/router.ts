// The session table of the data plane: assigned IPv4 address (u32) -> the session's sink, plus the
// prefixes a router account routes over its session (longest match, RFC 4632 §5.1), with the
// per-session traffic counters that accounting reads (RFC 2866 §5.3-5.4 Acct-Input/Output-*).
import { VpnError } from '../lib/errors.js'
import { ipv4ToString, prefixToString, type Ipv4Prefix } from '../ip/prefix.js'
import { PrefixTable } from './prefix-table.js'

/** Where the data plane hands packets for one session (its encapsulator). Must not block. */
export interface SessionSink {
  sendIp(packet: Uint8Array): void
}

/**
 * Traffic of one session, seen from the gateway: `in*` counts packets the client sent into the
 * tunnel (accepted after validation), `out*` packets delivered to the client. Plain mutable
 * numbers so the hot path does not allocate; read them, do not write them.
 */
export interface SessionTraffic {
  inPackets: number
  inBytes: number
  outPackets: number
  outBytes: number
  /** Packets from this session dropped by validation (spoofed source, bad header). */
  inDropped: number
}

export interface Route {
  readonly address: number
  readonly sink: SessionSink
  readonly traffic: SessionTraffic
  /** Networks routed to this session besides its address (a router account's); usually empty. */
  readonly prefixes: readonly Ipv4Prefix[]
}

/**
 * Exact-match table from an assigned address to its session, and a prefix table for router
 * accounts. Lookups try the exact host address first, so ordinary sessions pay nothing for
 * prefixes, and an assigned address wins over any prefix containing it.
 */
export class RouteTable {
  private readonly routes = new Map<number, Route>()
  private readonly prefixes = new PrefixTable<Route>()

  /**
   * Binds `address` and `prefixes` (canonical, length >= 1) to `sink`, all or nothing. Throws
   * VpnError ERR_ADDRESS_IN_USE if the address is bound already (a pool bug), ERR_ROUTE_IN_USE
   * naming the prefix and its holder when a prefix overlaps another session's prefix.
   */
  add(address: number, sink: SessionSink, prefixes: readonly Ipv4Prefix[] = []): Route {
    const a = address >>> 0
    if (this.routes.has(a)) throw new VpnError('ERR_ADDRESS_IN_USE', `address ${ipv4ToString(a)} is already bound to a session`)
    for (const p of prefixes) {
      const held = this.prefixes.overlapping(p.network, p.length)
      if (held) throw new VpnError('ERR_ROUTE_IN_USE', `${prefixToString(p)} overlaps ${ipv4ToString(held.network)}/${held.length}, routed to the session at ${ipv4ToString(held.value.address)}`)
    }
    const route: Route = { address: a, sink, traffic: { inPackets: 0, inBytes: 0, outPackets: 0, outBytes: 0, inDropped: 0 }, prefixes: [...prefixes] }
    this.routes.set(a, route)
    for (const p of prefixes) this.prefixes.set(p.network, p.length, route)
    return route
  }

  /** Unbinds `address` and its prefixes; returns the removed route (with its final counters) or undefined. */
  remove(address: number): Route | undefined {
    const a = address >>> 0
    const r = this.routes.get(a)
    if (!r) return undefined
    this.routes.delete(a)
    for (const p of r.prefixes) if (this.prefixes.get(p.network, p.length) === r) this.prefixes.delete(p.network, p.length)
    return r
  }

  /** The session bound to exactly this address. */
  get(address: number): Route | undefined { return this.routes.get(address >>> 0) }

  /** The session a packet to `address` goes to: the exact host first, then the longest prefix. */
  lookup(address: number): Route | undefined {
    return this.routes.get(address) ?? (this.prefixes.size === 0 ? undefined : this.prefixes.lookup(address))
  }

  get size(): number { return this.routes.size }
  /** Number of prefixes routed to sessions. */
  get prefixCount(): number { return this.prefixes.size }
  values(): IterableIterator<Route> { return this.routes.values() }
}
