// The gateway data plane: TUN packet batches -> route by destination (host address, else the longest
// router-account prefix) -> session sink; session packets -> anti-spoofing + header checks -> TUN
// (or straight to another session).
// Sans-IO: the TUN is a writeTun callback, so every path is unit-testable (DESIGN.md §2).
import { Counters } from '../lib/counters.js'
import { VpnError } from '../lib/errors.js'
import { validateIpv4 } from '../ip/ipv4.js'
import { clampTcpMss } from '../ip/mss.js'
import { parseIpv4, prefixToString, tryParsePrefix, type Ipv4Prefix } from '../ip/prefix.js'
import { RouteTable } from './router.js'
import type { Route, SessionSink, SessionTraffic } from './router.js'

export interface DataplaneOptions {
  /** Hands one packet to the kernel (TunDevice.write). Must not block; may throw (counted). */
  readonly writeTun: (packet: Uint8Array) => void
  /**
   * Hands several packets to the kernel in one call (TunDevice.writeMany). When given, packets from
   * sessions inside batch() are queued and written together when the outermost batch() ends.
   * Must not block; may throw (counted 'tun-write-error' once per packet of the batch).
   */
  readonly writeTunMany?: (packets: readonly Uint8Array[]) => void
  /** Clamp the MSS option of TCP SYNs in both directions to this value (see mtu.ts); 0 = off. */
  readonly maxMss?: number
  /** Deliver packets between two sessions of the pool directly (default true); false drops them. */
  readonly clientToClient?: boolean
}

/** A session's attachment: feed its decapsulated IP packets to receive(). */
export interface SessionPort {
  readonly address: number
  readonly traffic: SessionTraffic
  /** One IP packet from the client (may be modified in place by MSS clamping). Never throws. */
  receive(packet: Uint8Array): void
  /** Same as Dataplane.detach(address) for this port; later receive() calls are dropped. */
  detach(): void
}

// Address fields read in place (RFC 791 §3.1 bytes 12-19): no view object per packet on the hot path.
function srcOf(p: Uint8Array): number { return ((p[12]! << 24) >>> 0) + ((p[13]! << 16) | (p[14]! << 8) | p[15]!) }
function dstOf(p: Uint8Array): number { return ((p[16]! << 24) >>> 0) + ((p[17]! << 16) | (p[18]! << 8) | p[19]!) }

/**
 * Counters (reasons): from the TUN — 'no-session', 'tun-not-ipv4'; from sessions — 'spoofed-source',
 * 'detached', 'client-to-client-denied' and the validateIpv4 reasons of src/ip/ipv4.ts
 * ('ipv4-too-short', 'ipv4-bad-version', 'ipv4-bad-ihl', 'ipv4-bad-total-length', 'ipv4-bad-checksum'); 'sink-error', 'tun-write-error' when
 * the next hop throws; 'mss-clamped' and 'client-to-client' count actions, not drops.
 */
export class Dataplane {
  readonly counters = new Counters()
  private readonly routes = new RouteTable()
  private readonly writeTun: (packet: Uint8Array) => void
  private readonly writeTunMany: ((packets: readonly Uint8Array[]) => void) | undefined
  private readonly maxMss: number
  private readonly clientToClient: boolean
  /** Nesting depth of batch(); > 0 with writeTunMany means TUN writes are queued in `tunQueue`. */
  private batchDepth = 0
  private readonly tunQueue: Uint8Array[] = []

  constructor(opts: DataplaneOptions) {
    this.writeTun = opts.writeTun
    this.writeTunMany = opts.writeTunMany
    this.maxMss = opts.maxMss ?? 0
    this.clientToClient = opts.clientToClient ?? true
    if (!Number.isInteger(this.maxMss) || this.maxMss < 0 || this.maxMss > 65535) throw new VpnError('ERR_DATAPLANE_CONFIG', `invalid maxMss ${this.maxMss}`)
  }

  /**
   * Binds a session to its assigned address ('a.b.c.d' or u32) and, for a router account, to the
   * networks behind it (`prefixes`, canonical "a.b.c.d/n"): packets to them go to this session
   * (longest match; an assigned host address wins), and it may source packets from them.
   * All or nothing. Throws VpnError ERR_ADDRESS_IN_USE when the address is bound already,
   * ERR_ROUTE_IN_USE (naming the prefix) when a prefix overlaps another session's prefix,
   * ERR_DATAPLANE_CONFIG for a malformed address or prefix, host bits set, or /0.
   */
  attach(address: number | string, sink: SessionSink, prefixes: readonly string[] = []): SessionPort {
    const a = typeof address === 'string' ? parseIpv4(address) : address >>> 0
    if (a === undefined) throw new VpnError('ERR_DATAPLANE_CONFIG', `invalid session address ${String(address)}`)
    const route = this.routes.add(a, sink, prefixes.map(parseRoutedPrefix))
    // A port is live while the table still maps its address to its own route: after detach (by
    // port or by address) or a re-attach of the address, the stale port drops.
    return {
      address: a,
      traffic: route.traffic,
      receive: (packet) => {
        if (this.routes.get(a) !== route) { this.counters.inc('detached'); return }
        this.fromSession(route, packet)
      },
      detach: () => {
        if (this.routes.get(a) === route) this.routes.remove(a)
      },
    }
  }

  /** Unbinds an address; returns its final traffic counters (for the accounting stop record). */
  detach(address: number | string): SessionTraffic | undefined {
    const a = typeof address === 'string' ? parseIpv4(address) : address >>> 0
    return a === undefined ? undefined : this.routes.remove(a)?.traffic
  }

  /** Current counters of the session at `address`, if attached. */
  traffic(address: number): SessionTraffic | undefined { return this.routes.get(address)?.traffic }

  get sessionCount(): number { return this.routes.size }

  /**
   * Runs `fn` (the handling of one batch of carrier input, e.g. a batch of raw GRE datagrams) and
   * writes the packets it sent towards the TUN in one writeTunMany call at the end (one crossing
   * into native code per batch instead of one per packet). The packets' bytes must stay unchanged
   * until `fn` returns: use it only around carriers whose packet views outlive the next input
   * (PPTP: fresh datagram batches, MPPE output in slab regions). Nests; without writeTunMany it
   * only runs `fn`.
   */
  batch(fn: () => void): void {
    this.batchDepth++
    try {
      fn()
    } finally {
      if (--this.batchDepth === 0) this.flushTun()
    }
  }

  /** Feed for TunDevice.onPackets: each packet goes to the session owning its destination. */
  handleTunPackets(packets: readonly Uint8Array[]): void {
    for (let i = 0; i < packets.length; i++) this.handleTunPacket(packets[i]!)
  }

  /** One packet the kernel routed into the TUN. Never throws. */
  handleTunPacket(packet: Uint8Array): void {
    // The kernel hands us well-formed packets; check only what routing reads.
    if (packet.length < 20 || packet[0]! >> 4 !== 4) { this.counters.inc('tun-not-ipv4'); return }
    const route = this.routes.lookup(dstOf(packet))
    if (!route) { this.counters.inc('no-session'); return }
    this.toSession(route, packet)
  }

  private toSession(route: Route, packet: Uint8Array): void {
    if (this.maxMss > 0 && clampTcpMss(packet, this.maxMss)) this.counters.inc('mss-clamped')
    try {
      route.sink.sendIp(packet)
    } catch {
      this.counters.inc('sink-error')
      return
    }
    route.traffic.outPackets++
    route.traffic.outBytes += packet.length
  }

  private fromSession(route: Route, raw: Uint8Array): void {
    // RFC 1122 §3.2.1.2: a bad header checksum is silently discarded (and counted here).
    const fault = validateIpv4(raw)
    if (fault !== undefined) { this.counters.inc(fault); route.traffic.inDropped++; return }
    // Link layers may pad (PPP over some carriers); the IP datagram is Total Length long.
    const total = (raw[2]! << 8) | raw[3]!
    const packet = total < raw.length ? raw.subarray(0, total) : raw
    // Anti-spoofing: a client may only source packets from the address we assigned it, a router
    // account also from its networks: strict reverse-path check (RFC 3704 §2.2), the source must
    // route back to this very session.
    const src = srcOf(packet)
    if (src !== route.address && (route.prefixes.length === 0 || this.routes.lookup(src) !== route)) {
      this.counters.inc('spoofed-source'); route.traffic.inDropped++; return
    }
    route.traffic.inPackets++
    route.traffic.inBytes += packet.length
    const peer = this.routes.lookup(dstOf(packet))
    if (peer && peer !== route) {
      if (!this.clientToClient) { this.counters.inc('client-to-client-denied'); return }
      this.counters.inc('client-to-client')
      this.toSession(peer, packet)
      return
    }
    if (this.maxMss > 0 && clampTcpMss(packet, this.maxMss)) this.counters.inc('mss-clamped')
    if (this.batchDepth > 0 && this.writeTunMany !== undefined) { this.tunQueue.push(packet); return }
    try {
      this.writeTun(packet)
    } catch {
      this.counters.inc('tun-write-error')
    }
  }

  private flushTun(): void {
    const q = this.tunQueue
    if (q.length === 0 || this.writeTunMany === undefined) return
    try {
      this.writeTunMany(q)
    } catch {
      this.counters.inc('tun-write-error', q.length)
    } finally {
      q.length = 0
    }
  }
}

/** A router account's prefix as the data plane takes it: canonical, never the default route. */
function parseRoutedPrefix(text: string): Ipv4Prefix {
  const p = tryParsePrefix(text)
  if (!p || p.length === 0 || p.address !== p.network) {
    throw new VpnError('ERR_DATAPLANE_CONFIG', `invalid routed prefix ${JSON.stringify(text)}${p && p.address !== p.network ? ` (host bits set; ${prefixToString(p)})` : ''}`)
  }
  return p
}
