// The session table of the data plane: assigned IPv4 address (u32) -> the session's sink, with the
// per-session traffic counters that accounting reads (RFC 2866 §5.3-5.4 Acct-Input/Output-*).
import { VpnError } from '../lib/errors.js'
import { ipv4ToString } from '../ip/prefix.js'

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
}

/** Exact-match table from an assigned address to its session. */
export class RouteTable {
  private readonly routes = new Map<number, Route>()

  /** Binds `address` to `sink`. Throws VpnError ERR_ADDRESS_IN_USE if already bound (a pool bug). */
  add(address: number, sink: SessionSink): Route {
    const a = address >>> 0
    if (this.routes.has(a)) throw new VpnError('ERR_ADDRESS_IN_USE', `address ${ipv4ToString(a)} is already bound to a session`)
    const route: Route = { address: a, sink, traffic: { inPackets: 0, inBytes: 0, outPackets: 0, outBytes: 0, inDropped: 0 } }
    this.routes.set(a, route)
    return route
  }

  /** Unbinds `address`; returns the removed route (with its final counters) or undefined. */
  remove(address: number): Route | undefined {
    const a = address >>> 0
    const r = this.routes.get(a)
    if (r) this.routes.delete(a)
    return r
  }

  get(address: number): Route | undefined { return this.routes.get(address >>> 0) }
  get size(): number { return this.routes.size }
  values(): IterableIterator<Route> { return this.routes.values() }
}
