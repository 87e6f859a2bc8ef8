// IkeDriver: one IPsec host — the IKEv1 core (RFC 2409) on UDP 500 and, after NAT detection, on UDP 4500
// behind the Non-ESP Marker (RFC 3947 §4, RFC 3948 §2.2), plus the EspDriver that carries every child SA
// the core negotiates (raw IP protocol 50, or UDP 4500 when NAT-T was agreed). Gateway and client share it.
import type { Endpoint } from '../lib/endpoint.js'
import { IkeV1Endpoint } from '../ike/v1/endpoint.js'
import type { IkeV1EndpointOptions, IkeV1Event, ChildSaRequest } from '../ike/v1/endpoint.js'
import type { IkeIdentity, NatTState } from '../ike/v1/ike-sa.js'
import type { EspMode, TrafficSelector } from '../ike/v1/tasks/quick-mode.js'
import { splitEspKeyMaterial } from '../esp/algorithms.js'
import { EspInboundSa } from '../esp/sa-inbound.js'
import { EspOutboundSa } from '../esp/sa-outbound.js'
import { IPSEC_NAT_T_PORT } from '../esp/udp-encap.js'
import { systemRng } from '../crypto/rng.js'
import { EspDriver } from './esp-driver.js'
import type { EspDriverEvent, EspSaHandle } from './esp-driver.js'
import { DatagramDriver } from './datagram-driver.js'
import { UdpSocket } from './udp.js'
import { openIpsecKeyLog } from './ipsec-keylog.js'
import type { IpsecKeyLog } from './ipsec-keylog.js'

/** One installed child SA pair, as the layers above (L2TP, site-to-site routing) see it. */
export interface IpsecChild {
  /** The ISAKMP SA that negotiated it (its name in IKE events). */
  readonly ikeSa: string
  readonly peerId: IkeIdentity | undefined
  readonly mode: EspMode
  readonly selectors: { readonly local: TrafficSelector; readonly remote: TrafficSelector } | undefined
  /** UDP-encapsulated (RFC 3948) rather than raw protocol 50. */
  readonly udpEncapsulated: boolean
  /** "AES-CBC-256/HMAC-SHA1-96" and the like, for logs and `sessions`. */
  readonly suite: string
  readonly handle: EspSaHandle
}

export interface IkeDriverOptions {
  /** Address the sockets bind to ('0.0.0.0' for all). */
  readonly bindAddress: string
  /** Our address as peers see it: NAT-D input and the default IKE ID (RFC 3947 §3.2). */
  readonly localAddress: string
  /** 500 on a gateway; 0 (ephemeral) on a client, so it never collides with a local IKE daemon. */
  readonly ikePort: number
  /** 4500 on a gateway; 0 on a client. */
  readonly natTPort: number
  /** Open raw ESP (IP protocol 50) for peers without NAT. Without it every child must be UDP-encapsulated. */
  readonly raw: boolean
  readonly ike: Omit<IkeV1EndpointOptions, 'local' | 'rng' | 'inboundSpiInUse'>
  /** Anti-replay window of inbound SAs (RFC 4303 §3.4.3); default 128. */
  readonly replayWindow?: number
  readonly onChildUp: (c: IpsecChild) => void
  readonly onChildDown: (c: IpsecChild, reason: string) => void
  /** Every IKE event, after the driver installed/removed the SAs it names. */
  readonly onIkeEvent?: (e: IkeV1Event) => void
  /** A decrypted ESP payload (a view valid during the call). */
  readonly onPayload: (c: IpsecChild, nextHeader: number, payload: Uint8Array) => void
  readonly onError: (e: Error) => void
  readonly aroundReceive?: (fn: () => void) => void
  readonly keepaliveIntervalMs?: number
  /**
   * Debugging only: append every ISAKMP and ESP SA's keys to this file (ipsec-keylog.ts) so a capture can be
   * decrypted. Anyone holding the file can read the traffic; never set by default.
   */
  readonly keyLogFile?: string
}

/** Endpoints heard on (or floated to) 4500 are answered from 4500; bounded against spoofed sources. */
const MAX_NAT_T_PEERS = 16_384

export class IkeDriver {
  readonly ike: IkeV1Endpoint
  readonly esp: EspDriver
  private readonly o: IkeDriverOptions
  private readonly sock: UdpSocket
  private readonly loop: DatagramDriver<IkeV1Event>
  private readonly viaNatT = new Map<string, true>()
  /** NAT-T state of each established ISAKMP SA; its keys are the SAs close() DELETEs. */
  private readonly natOf = new Map<string, NatTState | undefined>()
  private readonly children = new Map<number, IpsecChild>()
  private stopped = false
  private readonly keyLog: IpsecKeyLog | undefined

  private constructor(o: IkeDriverOptions, sock: UdpSocket, esp: EspDriver | undefined, ike: IkeV1Endpoint, keyLog: IpsecKeyLog | undefined) {
    this.o = o
    this.sock = sock
    this.ike = ike
    this.esp = esp!
    this.keyLog = keyLog
    const router = {
      onDatagram: (cb: (data: Uint8Array, from: Endpoint) => void): void => sock.onDatagram((data, from) => {
        // The socket a peer last spoke to is the one it hears us from: a NAT may hand an address:port that
        // once floated to 4500 to a new peer that starts on 500 (answering it from 4500 would be dropped).
        this.viaNatT.delete(key(from))
        cb(data, from)
      }),
      send: (to: Endpoint, data: Uint8Array): void => {
        if (to.port === IPSEC_NAT_T_PORT || this.viaNatT.has(key(to))) this.esp.sendIke(to, data)
        else sock.send(to, data)
      },
    }
    this.loop = new DatagramDriver(ike, router, (e) => this.onEvent(e), (fault) => {
      o.onError(new Error(`internal error in the IKE core; IKE stopped: ${(fault as Error)?.stack ?? String(fault)}`))
    })
  }

  /** Binds UDP ikePort and natTPort (and raw ESP when asked). Rejects with ERR_LISTEN / throws ERR_RAW_OPEN naming the socket. */
  static async open(o: IkeDriverOptions): Promise<IkeDriver> {
    const sock = await UdpSocket.bind({ address: o.bindAddress, port: o.ikePort, what: 'IKE', bufferBytes: 1024 * 1024 })
    let self: IkeDriver | undefined
    let esp: EspDriver
    try {
      esp = await EspDriver.open({
        bindAddress: o.bindAddress, raw: o.raw, udpPort: o.natTPort,
        onPayload: (h, nh, p) => {
          const c = self?.children.get(h.inboundSpi)
          if (!c) return
          // Inbound traffic proves the peer alive: dead peer detection stays quiet (RFC 3706 §5.3).
          self!.ike.trafficSeen(Date.now(), h.inboundSpi)
          o.onPayload(c, nh, p)
        },
        onIke: (data, from) => self?.fromNatT(data, from),
        onEvent: (e) => self?.onEspEvent(e),
        onFault: (h, err) => { self?.childGone(h.inboundSpi, 'internal-error'); o.onError(err instanceof Error ? err : new Error(String(err))) },
        onError: o.onError,
        ...(o.aroundReceive ? { aroundReceive: o.aroundReceive } : {}),
        ...(o.keepaliveIntervalMs !== undefined ? { keepaliveIntervalMs: o.keepaliveIntervalMs } : {}),
      })
    } catch (e) { await sock.close(); throw e }
    let ike: IkeV1Endpoint
    const keyLog = o.keyLogFile !== undefined ? openIpsecKeyLog(o.keyLogFile, o.onError) : undefined
    try {
      ike = new IkeV1Endpoint({
        ...o.ike, rng: systemRng,
        ...(keyLog ? { keyLog: (k: Parameters<IpsecKeyLog['ike']>[0]) => keyLog.ike(k) } : {}),
        local: { address: o.localAddress, port: sock.local.port },
        inboundSpiInUse: (spi) => esp.demux.get(spi) !== undefined,
      })
    } catch (e) { await esp.close(); await sock.close(); throw e }
    self = new IkeDriver(o, sock, esp, ike, keyLog)
    return self
  }

  /** Our IKE port (useful when bound to 0). */
  get ikeLocal(): Endpoint { return this.sock.local }
  /** Our NAT-T port (UDP 4500 on a gateway), when the driver has one. */
  get natTLocal(): Endpoint | undefined { return this.esp.udpLocal }

  /** Starts main mode (then quick mode for `child`) towards `peer`; returns the SA name. */
  connect(peer: Endpoint, child?: ChildSaRequest): string {
    let name = ''
    this.loop.run(() => { name = this.ike.connect(Date.now(), peer, child) })
    return name
  }

  /** Runs a direct call into the IKE core (delete, new child), then sends and delivers what it produced. */
  run(fn: (now: number) => void): void { this.loop.run(() => fn(Date.now())) }

  /** Encrypts one payload on a child (false: not sent, counted by the ESP layer). */
  send(c: IpsecChild, payload: Uint8Array, nextHeader: number): boolean { return this.esp.send(c.handle, payload, nextHeader) }

  childList(): IpsecChild[] { return [...this.children.values()] }

  counters(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [k, v] of Object.entries(this.ike.counters())) out[`ike.${k}`] = v
    for (const [k, v] of Object.entries(this.sock.counters.snapshot())) out[`ike.udp.${k}`] = v
    for (const [k, v] of Object.entries(this.esp.counters())) out[`esp.${k}`] = v
    // Gauges, so an operator sees a half-open flood held at its bound (issue 4) and how many SAs are live.
    out['ike.sas'] = this.ike.saCount
    out['esp.sa-pairs'] = this.children.size
    return out
  }

  /** Deletes every IKE SA (DELETE notifies go out), then closes the sockets; the SAs' keys are zeroed. */
  async close(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.loop.run(() => {
      const names = new Set([...this.children.values()].map((c) => c.ikeSa))
      for (const n of this.natOf.keys()) names.add(n)
      for (const n of names) this.ike.deleteIkeSa(Date.now(), n, 'shutting down')
    })
    this.loop.stop()
    // node:dgram resolves a send's address on a later tick and silently drops it if the socket closed
    // meanwhile: let this turn's DELETEs (on UDP 4500 behind a NAT, queued in the EspDriver) reach the kernel.
    await new Promise<void>((r) => setImmediate(r))
    await this.esp.close()
    await this.sock.close()
  }

  private fromNatT(data: Uint8Array, from: Endpoint): void {
    const k = key(from)
    if (!this.viaNatT.has(k)) {
      if (this.viaNatT.size >= MAX_NAT_T_PEERS) this.viaNatT.delete(this.viaNatT.keys().next().value!)
      this.viaNatT.set(k, true)
    }
    this.loop.run(() => this.ike.handleDatagram(Date.now(), data, from))
  }

  private onEvent(e: IkeV1Event): void {
    switch (e.type) {
      case 'ikeUp': this.natOf.set(e.sa, e.natT); break
      case 'natFloat': this.viaNatT.set(key(e.peer), true); break
      case 'childSaUp': this.install(e); break
      case 'childSaDown': this.childGone(e.inboundSpi, e.reason); break
      // The peer's 4500 binding stays known (bounded map): an ISAKMP SA that closed may have handed its children to a
      // newer one of the same peer (rekeyOf / keptChildren), whose traffic still goes out on 4500.
      case 'closed': this.natOf.delete(e.sa); break
      default: break
    }
    this.o.onIkeEvent?.(e)
  }

  private install(e: Extract<IkeV1Event, { type: 'childSaUp' }>): void {
    const integ = e.integrity
    const inKeys = splitEspKeyMaterial(e.encryption, integ, e.inbound.keymat)
    const outKeys = splitEspKeyMaterial(e.encryption, integ, e.outbound.keymat)
    if (this.keyLog) {
      const me = this.o.localAddress, them = e.peer.address
      const alg = { encryption: e.encryption.name, ...(integ ? { integrity: integ.name } : {}), udp: e.natT }
      this.keyLog.esp({ ...alg, spi: e.inbound.spi, src: them, dst: me, encryptionKey: inKeys.encryptionKey, ...(inKeys.integrityKey ? { integrityKey: inKeys.integrityKey } : {}) })
      this.keyLog.esp({ ...alg, spi: e.outbound.spi, src: me, dst: them, encryptionKey: outKeys.encryptionKey, ...(outKeys.integrityKey ? { integrityKey: outKeys.integrityKey } : {}) })
    }
    e.inbound.keymat.fill(0)
    e.outbound.keymat.fill(0)
    const common = { encryption: e.encryption, ...(integ ? { integrity: integ } : {}) }
    const inbound = new EspInboundSa({ ...common, spi: e.inbound.spi, keys: inKeys, replayWindow: this.o.replayWindow ?? 128 })
    const outbound = new EspOutboundSa({ ...common, spi: e.outbound.spi, keys: outKeys, rng: systemRng })
    for (const k of [inKeys, outKeys]) for (const v of Object.values(k)) if (v instanceof Uint8Array) v.fill(0)
    const nat = this.natOf.get(e.sa)
    const handle = this.esp.addSa(inbound, outbound, e.natT
      ? { address: e.peer.address, port: e.peer.port, behindNat: nat?.localBehindNat ?? false }
      : { address: e.peer.address })
    const child: IpsecChild = {
      ikeSa: e.sa, peerId: e.peerId, mode: e.mode, selectors: e.selectors,
      udpEncapsulated: e.natT, suite: `${e.encryption.name}${integ ? `/${integ.name}` : ''}`, handle,
    }
    this.children.set(e.inbound.spi, child)
    this.o.onChildUp(child)
  }

  private childGone(inboundSpi: number, reason: string): void {
    const c = this.children.get(inboundSpi)
    if (!c) return
    this.children.delete(inboundSpi)
    this.esp.removeSa(c.handle)
    this.o.onChildDown(c, reason)
  }

  private onEspEvent(e: EspDriverEvent): void {
    if (e.type !== 'sa') return
    const inSpi = e.handle.inboundSpi
    const c = this.children.get(inSpi)
    if (!c) return
    if (e.event.type === 'soft-limit') {
      // Sequence numbers or bytes running low: negotiate the replacement now (RFC 4303 §3.3.3, RFC 2407 §4.5).
      this.loop.run(() => { this.ike.rekeyChild(Date.now(), inSpi) })
    } else {
      // Used up: this pair carries nothing more; end it (its replacement, if any, is already up).
      const ev = e.event
      this.childGone(inSpi, `ESP ${ev.direction} SA reached its ${ev.reason} limit`)
    }
  }
}

const key = (e: Endpoint): string => `${e.address}:${e.port}`
