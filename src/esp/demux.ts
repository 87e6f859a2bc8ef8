// Inbound SA lookup by SPI (RFC 4303 §3.4.2) for raw ESP (IP protocol 50) and for UDP port 4500
// (RFC 3948 §2, shared with IKE and NAT-keepalives); SPI allocation for IKE.
import type { Rng } from '../crypto/rng.js'
import { randomU32 } from '../crypto/rng.js'
import { Counters } from '../lib/counters.js'
import type { Endpoint } from '../lib/endpoint.js'
import { ESP_HEADER_LENGTH, ESP_MIN_SPI, readU32 } from './packet.js'
import type { EspInboundSa, EspReceived } from './sa-inbound.js'
import { classifyUdpEncap, stripNonEspMarker } from './udp-encap.js'

/** What a UDP-4500 payload turned out to be. */
export type EspUdpResult =
  | { readonly kind: 'ike'; readonly message: Uint8Array }
  | { readonly kind: 'keepalive' }
  | { readonly kind: 'esp'; readonly sa: EspInboundSa; readonly received: EspReceived }
  | { readonly kind: 'dropped' }

/**
 * An authenticated UDP-encapsulated packet of an SA came from another address or port than the
 * last one (a NAT rebinding or a roaming client). The IKE/gateway side should send this SA's
 * traffic, and IKE, to `from` from now on (issue 4: "reply to the port actually observed"; the
 * Linux kernel reports the same thing to its IKE daemon as an XFRM mapping change).
 */
export interface EspPeerMoved {
  readonly type: 'peer-moved'
  readonly spi: number
  readonly from: Endpoint
  readonly previous: Endpoint | undefined
}

const DROPPED: EspUdpResult = { kind: 'dropped' }
const KEEPALIVE: EspUdpResult = { kind: 'keepalive' }

/**
 * Our inbound SAs by SPI. SPIs are ours (we choose them in IKE), unique across raw and UDP
 * encapsulation and across peers, so several clients behind one NAT each reach their own SA by
 * SPI alone. Never throws on peer bytes; drops are counted here ('drop:too-short', 'drop:bad-spi'
 * — §3.4.2 "If no valid Security Association exists for this packet, the receiver MUST discard
 * the packet; this is an auditable event", 'drop:malformed') or in the SA.
 */
export class EspDemux {
  private readonly sas = new Map<number, EspInboundSa>()
  private readonly reserved = new Set<number>()
  private readonly remotes = new Map<number, Endpoint>()
  private readonly events: EspPeerMoved[] = []
  private readonly stats = new Counters()

  /**
   * Picks a random unused SPI >= 256 (§2.1) and reserves it until add() or release(). Throws
   * RangeError if 64 draws all collide (a full table or a broken Rng).
   */
  reserveSpi(rng: Rng): number {
    for (let i = 0; i < 64; i++) {
      const spi = randomU32(rng)
      if (spi < ESP_MIN_SPI || this.sas.has(spi) || this.reserved.has(spi)) continue
      this.reserved.add(spi)
      return spi
    }
    throw new RangeError('no free ESP SPI found')
  }

  /** Frees a reservation that never became an SA. */
  release(spi: number): void { this.reserved.delete(spi) }

  /**
   * Registers an inbound SA, with the peer's UDP endpoint when it is UDP-encapsulated (the one IKE
   * talked to). Throws RangeError for an SPI below 256 or already registered (our bug).
   */
  add(sa: EspInboundSa, remote?: Endpoint): void {
    if (sa.spi < ESP_MIN_SPI) throw new RangeError(`SPI ${sa.spi} is reserved (RFC 4303 §2.1)`)
    if (this.sas.has(sa.spi)) throw new RangeError(`SPI 0x${sa.spi.toString(16)} is already registered`)
    this.reserved.delete(sa.spi)
    this.sas.set(sa.spi, sa)
    if (remote) this.remotes.set(sa.spi, remote)
  }

  /** Unregisters (does not close) the SA; returns whether it was there. */
  remove(spi: number): boolean { this.remotes.delete(spi); return this.sas.delete(spi) }
  /** The last endpoint an authenticated UDP packet of this SA came from (or the one given to add). */
  remoteOf(spi: number): Endpoint | undefined { return this.remotes.get(spi) }
  get(spi: number): EspInboundSa | undefined { return this.sas.get(spi) }
  get size(): number { return this.sas.size }
  all(): IterableIterator<EspInboundSa> { return this.sas.values() }

  /** The SA an ESP packet (from the SPI on) names, or undefined (counted). */
  lookup(packet: Uint8Array): EspInboundSa | undefined {
    if (packet.length < ESP_HEADER_LENGTH) { this.stats.inc('drop:too-short'); return undefined }
    const sa = this.sas.get(readU32(packet, 0))
    if (!sa) { this.stats.inc('drop:bad-spi'); return undefined }
    return sa
  }

  /** Looks up and decrypts a raw ESP packet (IP protocol 50 payload). */
  receive(packet: Uint8Array): { readonly sa: EspInboundSa; readonly received: EspReceived } | undefined {
    const sa = this.lookup(packet)
    if (!sa) return undefined
    const received = sa.decrypt(packet)
    return received ? { sa, received } : undefined
  }

  /**
   * Sorts a UDP payload from port 4500: IKE (marker stripped, a view) goes back to the caller for
   * the IKE core, keepalives are counted and ignored, ESP is decrypted by its SA. With `from`, an
   * ESP packet that authenticated, moved the replay window to its own sequence number (so a late
   * reordered packet from an old port cannot flap it back) and came from a new endpoint queues a
   * 'peer-moved' event — only authenticated packets can move a peer, never a forged one.
   */
  receiveUdp(payload: Uint8Array, from?: Endpoint): EspUdpResult {
    switch (classifyUdpEncap(payload)) {
      case 'ike':
        this.stats.inc('rx:ike')
        return { kind: 'ike', message: stripNonEspMarker(payload) }
      case 'keepalive':
        this.stats.inc('rx:keepalive')
        return KEEPALIVE
      case 'malformed':
        this.stats.inc('drop:malformed')
        return DROPPED
      case 'esp': {
        const r = this.receive(payload)
        if (!r) return DROPPED
        if (from) this.notePeer(r.sa, r.received.sequenceNumber, from)
        return { kind: 'esp', sa: r.sa, received: r.received }
      }
    }
  }

  pollEvent(): EspPeerMoved | undefined { return this.events.shift() }
  counters(): Record<string, number> { return this.stats.snapshot() }

  private notePeer(sa: EspInboundSa, seq: number, from: Endpoint): void {
    const previous = this.remotes.get(sa.spi)
    if (previous && previous.address === from.address && previous.port === from.port) return
    // With anti-replay off highestSequenceNumber stays 0; then every authenticated packet counts.
    if (sa.highestSequenceNumber !== 0 && seq !== sa.highestSequenceNumber) return
    this.remotes.set(sa.spi, from)
    if (previous) { this.stats.inc('peer-moved'); this.events.push({ type: 'peer-moved', spi: sa.spi, from, previous }) }
  }
}
