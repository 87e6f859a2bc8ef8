// A virtual UDP port inside transport-mode ESP (RFC 3193 §4: L2TP/IPsec is UDP 1701 protected by an ESP
// transport-mode SA; RFC 3948 §3.1.2 for the checksum behind NAT). The L2TP cores see an ordinary socket:
// datagrams that only ever came out of an authenticated SA, and sends that only ever go back into one.
import type { Endpoint } from '../lib/endpoint.js'
import { Counters } from '../lib/counters.js'
import { DecodeError } from '../lib/errors.js'
import { decodeTransportUdp, encodeTransportUdpInto } from '../esp/tunnel.js'
import type { EspPeer } from './esp-driver.js'
import type { IpsecChild } from './ike-driver.js'

/** IP protocol number of UDP (the ESP Next Header of a transport-mode UDP payload). */
const IPPROTO_UDP = 17
const UDP_HEADER = 8

/** One peer's L2TP flow: who it is to the L2TP core (`endpoint`), and the SA its datagrams use now. */
interface Flow {
  readonly endpoint: Endpoint
  readonly innerPort: number
  child: IpsecChild
}

export interface EspUdpPortOptions {
  /** Our inner UDP port (1701 for L2TP, RFC 2661 §8.1). */
  readonly port: number
  /** Encrypts one transport-mode payload on a child (IkeDriver.send). `payload` is a view of a reused buffer, valid during the call only. */
  readonly send: (c: IpsecChild, payload: Uint8Array, nextHeader: number) => boolean
  /** The last SA of a flow went down: the layer above should drop that peer's tunnels now, not after HELLO timeouts. */
  readonly onFlowGone?: (endpoint: Endpoint, reason: string) => void
}

/**
 * Maps each peer to a stable Endpoint for the L2TP core: the peer's address and, when its ESP is
 * UDP-encapsulated, its outer UDP port (several clients behind one NAT share an address and all use inner
 * port 1701: the outer port tells them apart), otherwise its inner source port. A rekeyed SA of the same
 * peer takes the flow over, so the L2TP tunnel does not notice the rekey. The outer address and port are
 * the ones the SA had when this port first saw it: a NAT that rebinds the peer mid-session moves the SA
 * (RFC 3948 §3.2, EspDriver 'peer-moved') and replies follow it, but the L2TP core keeps its peer; a new
 * SA that lands on a port a moved SA left is not handed that flow ('drop:flow-clash'). Counters: 'rx', 'tx',
 * 'drop:not-udp', 'drop:udp.*' (bad UDP header), 'drop:wrong-port', 'tx:drop:no-flow', 'tx:drop:esp'.
 */
export class EspUdpPort {
  readonly counters = new Counters()
  private readonly o: EspUdpPortOptions
  private cb: ((data: Uint8Array, from: Endpoint) => void) | undefined
  private readonly flows = new Map<string, Flow>()
  private readonly live = new Set<IpsecChild>()
  /** Each child's outer address and port when first seen (inherited by the child that rekeys it): its flows' identity. */
  private readonly origin = new WeakMap<IpsecChild, EspPeer>()
  // Hot path (one L2TP data packet each way per call): the last flow found by Endpoint identity (the L2TP
  // core hands back the Endpoint object it was given) and by (child, peer object, inner port) on receive,
  // so a packet builds no key string; both are forgotten whenever the flow table changes.
  private lastTo: Endpoint | undefined
  private lastToFlow: Flow | undefined
  private rxChild: IpsecChild | undefined
  private rxPeer: EspPeer | undefined
  private rxPort = -1
  private rxFlow: Flow | undefined
  /** One datagram being sealed: send() hands it to ESP, which copies it into the ESP packet before returning. */
  private scratch = new Uint8Array(2048)

  constructor(o: EspUdpPortOptions) { this.o = o }

  onDatagram(cb: (data: Uint8Array, from: Endpoint) => void): void { this.cb = cb }

  /** A transport-mode child came up: a flow of the same peer moves to it (rekey). */
  childUp(c: IpsecChild): void {
    if (c.mode !== 'transport') return
    const heir = [...this.live].find((x) => samePeer(x, c))
    if (heir && !this.origin.has(c)) this.origin.set(c, this.originOf(heir))
    this.live.add(c)
    for (const f of this.flows.values()) if (this.sameFlowPeer(f.child, c)) f.child = c
  }

  /** A child went down: its flows move to another live child of the same peer, or end. */
  childDown(c: IpsecChild, reason = 'SA deleted'): void {
    if (!this.live.delete(c)) return
    for (const [k, f] of [...this.flows]) {
      if (f.child !== c) continue
      const next = [...this.live].find((x) => this.sameFlowPeer(x, c))
      if (next) { f.child = next; continue }
      this.flows.delete(k)
      this.forgetCached()
      this.o.onFlowGone?.(f.endpoint, reason)
    }
  }

  /**
   * A client opens its flow before the first datagram (it sends SCCRQ first): the returned Endpoint is
   * the peer as the L2TP core should address it; `innerPort` is the peer's inner UDP port.
   */
  open(c: IpsecChild, innerPort: number): Endpoint {
    this.live.add(c)
    const endpoint = this.flowEndpoint(c, innerPort)
    this.flows.set(`${endpoint.address}:${endpoint.port}`, { endpoint, innerPort, child: c })
    this.forgetCached()
    return endpoint
  }

  /** A decrypted payload from `c`. Only UDP to our port reaches the L2TP core; everything else is counted and dropped. */
  receive(c: IpsecChild, nextHeader: number, payload: Uint8Array): void {
    if (nextHeader !== IPPROTO_UDP || c.mode !== 'transport') { this.counters.inc('drop:not-udp'); return }
    let udp
    try { udp = decodeTransportUdp(payload) } catch (e) {
      if (e instanceof DecodeError) { this.counters.inc(`drop:${e.field}`); return }
      throw e
    }
    if (udp.destinationPort !== this.o.port) { this.counters.inc('drop:wrong-port'); return }
    let f: Flow | undefined
    if (c === this.rxChild && c.handle.peer === this.rxPeer && udp.sourcePort === this.rxPort && this.rxFlow!.child === c) f = this.rxFlow!
    else {
      const endpoint = this.flowEndpoint(c, udp.sourcePort)
      const k = `${endpoint.address}:${endpoint.port}`
      f = this.flows.get(k)
      if (!f) { f = { endpoint, innerPort: udp.sourcePort, child: c }; this.flows.set(k, f); this.forgetCached() }
      else if (f.child !== c && !this.sameFlowPeer(f.child, c)) { this.counters.inc('drop:flow-clash'); return }
      else if (f.child !== c && this.live.has(c)) f.child = c
      // Remembered only once the flow uses this child (a child not live does not take a flow over).
      if (f.child === c) { this.rxChild = c; this.rxPeer = c.handle.peer; this.rxPort = udp.sourcePort; this.rxFlow = f }
    }
    this.counters.inc('rx')
    this.cb?.(udp.data, f.endpoint)
  }

  /** Sends one datagram to a flow's peer inside its SA (zero UDP checksum: RFC 768 allows it for IPv4, and behind a NAT the peer could not check ours). */
  send(to: Endpoint, data: Uint8Array): void {
    const f = this.flowOf(to)
    if (!f) { this.counters.inc('tx:drop:no-flow'); return }
    const n = UDP_HEADER + data.length
    if (n > this.scratch.length) this.scratch = new Uint8Array(Math.min(0x10000, n * 2))
    if (n > this.scratch.length) { this.counters.inc('tx:drop:too-long'); return } // over 65535: the caller's bug, never sent
    encodeTransportUdpInto(this.scratch, 0, this.o.port, f.innerPort, data)
    if (this.o.send(f.child, this.scratch.subarray(0, n), IPPROTO_UDP)) this.counters.inc('tx')
    else this.counters.inc('tx:drop:esp')
  }

  /** Whether `e` is a flow of this port (datagrams to it go into ESP). */
  has(e: Endpoint): boolean { return this.flowOf(e) !== undefined }

  /** The child SA a flow uses now (for records: suite, peer ID, NAT). */
  childOf(e: Endpoint): IpsecChild | undefined { return this.flowOf(e)?.child }

  private flowOf(e: Endpoint): Flow | undefined {
    if (e === this.lastTo) return this.lastToFlow
    const f = this.flows.get(`${e.address}:${e.port}`)
    if (f) { this.lastTo = e; this.lastToFlow = f }
    return f
  }

  private originOf(c: IpsecChild): EspPeer {
    let o = this.origin.get(c)
    if (!o) { o = c.handle.peer; this.origin.set(c, o) }
    return o
  }

  private flowEndpoint(c: IpsecChild, innerPort: number): Endpoint {
    const p = this.originOf(c)
    return { address: p.address, port: c.udpEncapsulated && p.port !== undefined ? p.port : innerPort }
  }

  /** Children of one peer: where they are now (a rekey pair), or where they were first seen (one moved, one not yet). */
  private sameFlowPeer(a: IpsecChild, b: IpsecChild): boolean {
    return a !== b && a.mode === b.mode && (samePeer(a, b) || this.originOf(a) === this.originOf(b))
  }

  private forgetCached(): void {
    this.lastTo = undefined; this.lastToFlow = undefined
    this.rxChild = undefined; this.rxPeer = undefined; this.rxPort = -1; this.rxFlow = undefined
  }
}


function samePeer(a: IpsecChild, b: IpsecChild): boolean {
  return a !== b && a.handle.peer.address === b.handle.peer.address && a.handle.peer.port === b.handle.peer.port && a.mode === b.mode
}
