// EspDriver: ESP (RFC 4303) over raw IP protocol 50 and UDP-encapsulated on port 4500 (RFC 3948 §2,
// shared with IKE: Non-ESP Marker), one EspDemux for both; NAT-keepalives (RFC 3948 §4). The GRE
// driver's shape: sends batched per event-loop turn, one SA's fault closes that SA only.
import { EspDemux } from '../esp/demux.js'
import type { EspInboundSa } from '../esp/sa-inbound.js'
import type { EspOutboundSa } from '../esp/sa-outbound.js'
import type { EspSaEvent } from '../esp/sa-common.js'
import { addNonEspMarker, natKeepalive, IPSEC_NAT_T_PORT, NAT_KEEPALIVE_INTERVAL_MS } from '../esp/udp-encap.js'
import type { Endpoint } from '../lib/endpoint.js'
import { Counters } from '../lib/counters.js'
import { RawIpSocket } from './raw-ip.js'
import type { RawIpPacket } from './raw-ip.js'
import { UdpSocket } from './udp.js'

/** The parts of RawIpSocket / UdpSocket the driver uses (tests pass fakes). */
export type EspRawSocket = Pick<RawIpSocket, 'send' | 'sendMany' | 'counters' | 'onPackets' | 'onError' | 'unref' | 'close'>
export type EspUdpSocket = Pick<UdpSocket, 'send' | 'counters' | 'onDatagram' | 'unref' | 'close'>

/** Where an SA's packets go: `port` set = UDP-encapsulated (RFC 3948), absent = raw protocol 50. */
export interface EspPeer {
  readonly address: string
  readonly port?: number
  /** We are behind a NAT (NAT-D said so): send NAT-keepalives to this peer (RFC 3948 §4). UDP only. */
  readonly behindNat?: boolean
}

/** One inbound/outbound SA pair on the driver. `peer` follows 'peer-moved'. */
export interface EspSaHandle {
  readonly inboundSpi: number
  readonly outboundSpi: number
  readonly peer: EspPeer
  readonly removed: boolean
}

/** What the driver reports besides payloads: SA lifetime events and NAT rebinding. */
export type EspDriverEvent =
  | { readonly type: 'sa'; readonly handle: EspSaHandle; readonly event: EspSaEvent }
  | { readonly type: 'peer-moved'; readonly handle: EspSaHandle; readonly from: Endpoint; readonly previous: Endpoint | undefined }

export interface EspDriverOptions {
  readonly raw?: EspRawSocket
  readonly udp?: EspUdpSocket
  /** A decrypted packet; `payload` is a view valid only during the call. A throw closes that SA (onFault). */
  readonly onPayload: (handle: EspSaHandle, nextHeader: number, payload: Uint8Array) => void
  /** An IKE message from port 4500, Non-ESP Marker stripped (a view valid during the call). */
  readonly onIke?: (data: Uint8Array, from: Endpoint) => void
  readonly onEvent?: (e: EspDriverEvent) => void
  /** An SA was removed because a callback for it threw (our bug, isolated to that SA). */
  readonly onFault?: (handle: EspSaHandle, err: unknown) => void
  /** Socket errors (raw reader stopped, failed sends). */
  readonly onError: (e: Error) => void
  /** Wraps the handling of each received batch (the data plane's batch(), as for GreDriver). */
  readonly aroundReceive?: (fn: () => void) => void
  /** Default 20 s (RFC 3948 §4); tests shorten it. */
  readonly keepaliveIntervalMs?: number
}

interface Entry {
  readonly inbound: EspInboundSa
  readonly outbound: EspOutboundSa
  peer: EspPeer
  removed: boolean
  keepalive: NodeJS.Timeout | undefined
  readonly handle: EspSaHandle
}

/**
 * Owns the ESP sockets of a gateway or client and every SA on them. Received ESP (raw or UDP) is
 * looked up by SPI in one EspDemux, decrypted and handed to onPayload; IKE on 4500 goes to onIke.
 * Counters ('drop:*' reasons included) are merged from sockets, demux, the driver and every SA.
 */
export class EspDriver {
  readonly demux = new EspDemux()
  private readonly raw: EspRawSocket | undefined
  private readonly udp: EspUdpSocket | undefined
  private readonly o: EspDriverOptions
  private readonly byIn = new Map<number, Entry>()
  private readonly byOut = new Map<number, Entry>()
  private readonly rawOut: { dest: string; payload: Uint8Array }[] = []
  private readonly udpOut: { to: Endpoint; payload: Uint8Array }[] = []
  private flushQueued = false
  private readonly stats = new Counters()
  /** Counters of SAs already removed, so totals do not go backwards. */
  private readonly retired = new Counters()
  private readonly keepaliveMs: number
  /** When anything last left on UDP to each 'address:port' (ESP, IKE, keepalive): one NAT binding each. */
  private readonly udpLastSent = new Map<string, number>()

  constructor(o: EspDriverOptions) {
    this.o = o
    this.raw = o.raw
    this.udp = o.udp
    this.keepaliveMs = o.keepaliveIntervalMs ?? NAT_KEEPALIVE_INTERVAL_MS
    if (o.raw) {
      o.raw.onError((e) => o.onError(e))
      o.raw.onPackets((batch) => this.around(() => this.receiveRaw(batch)))
    }
    o.udp?.onDatagram((data, from) => this.around(() => this.receiveUdp(data, from)))
  }

  /**
   * Opens raw protocol 50 (when `raw`) bound to `bindAddress`, and UDP on `udpPort` (default 4500;
   * null for none). Throws ERR_RAW_OPEN; rejects with ERR_LISTEN (the raw socket is then closed).
   */
  static async open(o: Omit<EspDriverOptions, 'raw' | 'udp'> & { readonly bindAddress: string; readonly raw?: boolean; readonly udpPort?: number | null }): Promise<EspDriver> {
    const raw = o.raw === false ? undefined : RawIpSocket.open({ protocol: 50, bindAddress: o.bindAddress, recvBufferBytes: 4 * 1024 * 1024 })
    let udp: UdpSocket | undefined
    try {
      if (o.udpPort !== null) udp = await UdpSocket.bind({ address: o.bindAddress, port: o.udpPort ?? IPSEC_NAT_T_PORT, what: 'IPsec NAT-T (ESP in UDP, IKE)', bufferBytes: 4 * 1024 * 1024 })
    } catch (e) { raw?.close(); throw e }
    return new EspDriver({ ...o, raw, udp })
  }

  /**
   * Installs an SA pair: inbound by its SPI in the demux, outbound by its SPI for send(). Throws
   * RangeError if either SPI is taken, or if the peer needs a socket the driver lacks (our bug).
   */
  addSa(inbound: EspInboundSa, outbound: EspOutboundSa, peer: EspPeer): EspSaHandle {
    if (this.byOut.has(outbound.spi)) throw new RangeError(`outbound SPI 0x${outbound.spi.toString(16)} is already installed`)
    if (peer.port === undefined ? !this.raw : !this.udp) throw new RangeError(`no ${peer.port === undefined ? 'raw ESP' : 'UDP 4500'} socket for SA 0x${outbound.spi.toString(16)}`)
    this.demux.add(inbound, peer.port === undefined ? undefined : { address: peer.address, port: peer.port })
    let e!: Entry
    const handle: EspSaHandle = {
      inboundSpi: inbound.spi, outboundSpi: outbound.spi,
      get peer() { return e.peer }, get removed() { return e.removed },
    }
    e = { inbound, outbound, peer, removed: false, keepalive: undefined, handle }
    this.byIn.set(inbound.spi, e)
    this.byOut.set(outbound.spi, e)
    this.armKeepalive(e)
    return e.handle
  }

  /** Removes the pair and closes both SAs (their keys are zeroed). Idempotent. */
  removeSa(h: EspSaHandle | number): void {
    const e = typeof h === 'number' ? this.byOut.get(h) : this.byOut.get(h.outboundSpi)
    if (e && (typeof h === 'number' || e.handle === h)) this.remove(e)
  }

  /**
   * Seals `payload` on the SA (by handle or outbound SPI) and queues it for this turn's batch.
   * Returns false when not sent (unknown/removed SA 'tx:drop:no-sa', or refused by the SA, counted there).
   */
  send(h: EspSaHandle | number, payload: Uint8Array, nextHeader: number): boolean {
    const e = this.byOut.get(typeof h === 'number' ? h : h.outboundSpi)
    if (!e || e.removed) { this.stats.inc('tx:drop:no-sa'); return false }
    const out = e.outbound.encrypt(payload, nextHeader)
    this.drainSaEvents(e)
    if (!out) return false
    this.queue(e.peer, out)
    return true
  }

  /** Sends an IKE message on UDP 4500 with the Non-ESP Marker (RFC 3948 §2.2). False without a UDP socket. */
  sendIke(to: Endpoint, data: Uint8Array): boolean {
    if (!this.udp) { this.stats.inc('tx:drop:no-udp'); return false }
    this.udpOut.push({ to, payload: addNonEspMarker(data) })
    this.scheduleFlush()
    return true
  }

  get saCount(): number { return this.byOut.size }
  /** The UDP 4500 socket's address (undefined without one, or for a test double that has none). */
  get udpLocal(): Endpoint | undefined { return this.udp && 'local' in this.udp ? (this.udp as UdpSocket).local : undefined }
  handles(): EspSaHandle[] { return [...this.byOut.values()].map((e) => e.handle) }

  counters(): Record<string, number> {
    const out: Record<string, number> = {}
    const add = (prefix: string, r: Record<string, number>): void => { for (const [k, v] of Object.entries(r)) out[`${prefix}${k}`] = (out[`${prefix}${k}`] ?? 0) + v }
    add('', this.stats.snapshot())
    add('demux.', this.demux.counters())
    if (this.raw) add('raw.', this.raw.counters.snapshot())
    if (this.udp) add('udp.', this.udp.counters.snapshot())
    add('sa.', this.retired.snapshot())
    for (const e of this.byOut.values()) { add('sa.', e.inbound.counters()); add('sa.', e.outbound.counters()) }
    return out
  }

  /** Counters of one SA pair (inbound 'rx:*' and outbound 'tx:*'). */
  saCounters(h: EspSaHandle): Record<string, number> {
    const e = this.byOut.get(h.outboundSpi)
    return e ? { ...e.inbound.counters(), ...e.outbound.counters() } : {}
  }

  unref(): void { this.raw?.unref(); this.udp?.unref() }

  /** Removes every SA (keys zeroed), sends what is queued, closes the sockets. */
  async close(): Promise<void> {
    for (const e of [...this.byOut.values()]) this.remove(e)
    this.flush()
    this.raw?.close()
    await this.udp?.close()
  }

  private around(fn: () => void): void {
    if (this.o.aroundReceive) this.o.aroundReceive(fn)
    else fn()
  }

  private receiveRaw(batch: readonly RawIpPacket[]): void {
    for (const p of batch) {
      const r = this.demux.receive(p.payload)
      if (!r) continue
      const e = this.byIn.get(r.sa.spi)
      if (!e) continue
      // An SA negotiated as UDP-encapsulated takes no raw ESP (a peer that can send raw has no NAT).
      if (e.peer.port !== undefined) { this.stats.inc('rx:drop:raw-on-udp-sa'); continue }
      this.deliver(e, r.received.nextHeader, r.received.payload)
    }
  }

  private receiveUdp(data: Uint8Array, from: Endpoint): void {
    const r = this.demux.receiveUdp(data, from)
    switch (r.kind) {
      case 'ike':
        if (!this.o.onIke) { this.stats.inc('rx:drop:ike-unhandled'); return }
        try { this.o.onIke(r.message, from) } catch (err) { this.stats.inc('fault:ike'); this.o.onError(err as Error) }
        return
      case 'esp': {
        const e = this.byIn.get(r.sa.spi)
        // Symmetric to raw-on-udp: an SA negotiated without NAT-T takes no UDP-encapsulated ESP.
        if (e && e.peer.port === undefined) this.stats.inc('rx:drop:udp-on-raw-sa')
        else if (e) this.deliver(e, r.received.nextHeader, r.received.payload)
        break
      }
      default:
    }
    for (let ev = this.demux.pollEvent(); ev; ev = this.demux.pollEvent()) {
      const e = this.byIn.get(ev.spi)
      if (!e || e.removed) continue
      e.peer = { ...e.peer, address: ev.from.address, port: ev.from.port }
      this.emit(e, { type: 'peer-moved', handle: e.handle, from: ev.from, previous: ev.previous })
    }
  }

  private deliver(e: Entry, nextHeader: number, payload: Uint8Array): void {
    if (e.removed) return
    try {
      this.o.onPayload(e.handle, nextHeader, payload)
    } catch (err) {
      this.fault(e, err)
      return
    }
    this.drainSaEvents(e)
  }

  private drainSaEvents(e: Entry): void {
    for (const sa of [e.inbound, e.outbound]) {
      for (let ev = sa.pollEvent(); ev && !e.removed; ev = sa.pollEvent()) this.emit(e, { type: 'sa', handle: e.handle, event: ev })
    }
  }

  private emit(e: Entry, ev: EspDriverEvent): void {
    if (!this.o.onEvent) return
    try { this.o.onEvent(ev) } catch (err) { this.fault(e, err) }
  }

  private fault(e: Entry, err: unknown): void {
    this.stats.inc('fault')
    this.remove(e)
    if (this.o.onFault) this.o.onFault(e.handle, err)
    else this.o.onError(err instanceof Error ? err : new Error(String(err)))
  }

  private queue(peer: EspPeer, packet: Uint8Array): void {
    if (peer.port === undefined) this.rawOut.push({ dest: peer.address, payload: packet })
    else this.udpOut.push({ to: { address: peer.address, port: peer.port }, payload: packet })
    this.scheduleFlush()
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return
    this.flushQueued = true
    queueMicrotask(() => this.flush())
  }

  private armKeepalive(e: Entry): void {
    if (e.peer.port === undefined || !e.peer.behindNat) return
    // RFC 3948 §4: a keepalive only when nothing else went to the peer within the interval.
    e.keepalive = setInterval(() => {
      if (e.removed || e.peer.port === undefined) return
      // One keepalive per NAT binding, however many SAs share it.
      const last = this.udpLastSent.get(`${e.peer.address}:${e.peer.port}`) ?? 0
      if (Date.now() - last < this.keepaliveMs - 1) return
      this.udpOut.push({ to: { address: e.peer.address, port: e.peer.port }, payload: natKeepalive() })
      this.stats.inc('tx:keepalive')
      this.scheduleFlush()
    }, this.keepaliveMs)
    e.keepalive.unref()
  }

  private remove(e: Entry): void {
    if (e.removed) return
    e.removed = true
    if (e.keepalive) clearInterval(e.keepalive)
    e.keepalive = undefined
    this.byIn.delete(e.inbound.spi)
    this.byOut.delete(e.outbound.spi)
    this.demux.remove(e.inbound.spi)
    for (const [k, v] of Object.entries({ ...e.inbound.counters(), ...e.outbound.counters() })) this.retired.inc(k, v)
    e.inbound.close()
    e.outbound.close()
  }

  private pruneLastSent(): void {
    const live = new Set<string>()
    for (const e of this.byOut.values()) if (e.peer.port !== undefined) live.add(`${e.peer.address}:${e.peer.port}`)
    for (const k of this.udpLastSent.keys()) if (!live.has(k)) this.udpLastSent.delete(k)
  }

  private flush(): void {
    this.flushQueued = false
    if (this.udpOut.length > 0) {
      const items = this.udpOut.splice(0)
      const now = Date.now()
      for (const it of items) {
        this.udp?.send(it.to, it.payload) // UdpSocket counts its own errors
        this.udpLastSent.set(`${it.to.address}:${it.to.port}`, now)
      }
      // Forget bindings no SA uses any more (the map stays bounded by the live peers).
      if (this.udpLastSent.size > 2 * this.byOut.size + 16) this.pruneLastSent()
    }
    if (this.rawOut.length === 0 || !this.raw) { this.rawOut.length = 0; return }
    const items = this.rawOut.splice(0)
    try {
      this.raw.sendMany(items)
    } catch {
      // As GreDriver: sendmmsg stops at the first failing datagram; resend one by one so one bad
      // destination costs only its own packets, each counted.
      let lastError: Error | undefined
      for (const it of items) {
        try { this.raw.send(it.dest, it.payload) } catch (err) {
          const code = ((err as { cause?: { code?: string } }).cause?.code) ?? 'error'
          this.raw.counters.inc(`tx-error:${code}`)
          lastError = err as Error
        }
      }
      if (lastError) this.o.onError(lastError)
    }
  }
}
