// IPv4 header view, validation and header checksum (RFC 791 §3.1; checksum per RFC 1071, TTL
// decrement with the RFC 1624 incremental update).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version|  IHL  |Type of Service|          Total Length         |
//   |         Identification        |Flags|      Fragment Offset    |
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   |                       Source Address                          |
//   |                    Destination Address                        |
//   |                    Options                    |    Padding    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
import { DecodeError } from '../lib/errors.js'
import { internetChecksum, onesComplementSum, readU16, updateChecksum16, verifyInternetChecksum, writeU16 } from './checksum.js'
import { ipv4ToString } from './prefix.js'

/** IP protocol numbers Gatehouse meets (IANA "Assigned Internet Protocol Numbers"). */
export const IpProtocol = { ICMP: 1, TCP: 6, UDP: 17, GRE: 47, ESP: 50, AH: 51 } as const

export const IPV4_MIN_HEADER = 20

/** Reasons validateIpv4 gives; stable strings for drop counters. */
export const Ipv4Invalid = {
  tooShort: 'ipv4-too-short',
  badVersion: 'ipv4-bad-version',
  badIhl: 'ipv4-bad-ihl',
  badTotalLength: 'ipv4-bad-total-length',
  badChecksum: 'ipv4-bad-checksum',
} as const
export type Ipv4InvalidReason = (typeof Ipv4Invalid)[keyof typeof Ipv4Invalid]

/**
 * Checks what a forwarder must before trusting the header (RFC 1122 §3.2.1.1–3.2.1.2, RFC 791):
 * version 4, IHL >= 5, the header and Total Length fit in `packet`, Total Length >= header
 * length, and (unless `checksum: false`) a correct header checksum. Returns a reason or undefined.
 * Trailing bytes beyond Total Length (link padding) are allowed. Never throws.
 */
export function validateIpv4(packet: Uint8Array, opts: { checksum?: boolean } = {}): Ipv4InvalidReason | undefined {
  if (packet.length < IPV4_MIN_HEADER) return Ipv4Invalid.tooShort
  const b0 = packet[0]!
  if (b0 >>> 4 !== 4) return Ipv4Invalid.badVersion
  const hl = (b0 & 0x0f) * 4
  if (hl < IPV4_MIN_HEADER || hl > packet.length) return Ipv4Invalid.badIhl
  const total = readU16(packet, 2)
  if (total < hl || total > packet.length) return Ipv4Invalid.badTotalLength
  // RFC 1122 §3.2.1.2: "A host MUST verify the IP header checksum on every received datagram
  // and silently discard every datagram that has a bad checksum."
  if (opts.checksum !== false && !verifyInternetChecksum(packet, 0, hl)) return Ipv4Invalid.badChecksum
  return undefined
}

/**
 * A read view over an IPv4 header in `buf` (no copy; reads happen on access). The constructor
 * only requires 20 bytes (DecodeError otherwise); use validateIpv4 for the full checks.
 */
export class Ipv4View {
  readonly buf: Uint8Array
  constructor(buf: Uint8Array) {
    if (buf.length < IPV4_MIN_HEADER) throw new DecodeError('ipv4.header', 0, `need ${IPV4_MIN_HEADER} bytes, have ${buf.length}`)
    this.buf = buf
  }
  get version(): number { return this.buf[0]! >>> 4 }
  /** Header length in 32-bit words. */
  get ihl(): number { return this.buf[0]! & 0x0f }
  get headerLength(): number { return (this.buf[0]! & 0x0f) * 4 }
  get tos(): number { return this.buf[1]! }
  get totalLength(): number { return readU16(this.buf, 2) }
  get identification(): number { return readU16(this.buf, 4) }
  /** The three flag bits (bit 1 = DF, bit 0 = MF when read as a 3-bit number: 0b0DM). */
  get flags(): number { return this.buf[6]! >>> 5 }
  get dontFragment(): boolean { return (this.buf[6]! & 0x40) !== 0 }
  get moreFragments(): boolean { return (this.buf[6]! & 0x20) !== 0 }
  /** Fragment offset in 8-byte units. */
  get fragmentOffset(): number { return readU16(this.buf, 6) & 0x1fff }
  get ttl(): number { return this.buf[8]! }
  get protocol(): number { return this.buf[9]! }
  get checksum(): number { return readU16(this.buf, 10) }
  get src(): number { return ((this.buf[12]! << 24) >>> 0) + (readU16(this.buf, 14) | (this.buf[13]! << 16)) }
  get dst(): number { return ((this.buf[16]! << 24) >>> 0) + (readU16(this.buf, 18) | (this.buf[17]! << 16)) }
  get srcAddr(): string { return ipv4ToString(this.src) }
  get dstAddr(): string { return ipv4ToString(this.dst) }
  /** The payload after the header up to Total Length (a view; assumes a validated packet). */
  payload(): Uint8Array { return this.buf.subarray(this.headerLength, this.totalLength) }
}

/** The header checksum the header at packet[0..IHL*4) should carry (computed as if the field were zero; packet untouched). */
export function computeIpv4HeaderChecksum(packet: Uint8Array): number {
  const hl = (packet[0]! & 0x0f) * 4
  return internetChecksum(packet, 12, hl, onesComplementSum(packet, 0, 10))
}

/** Writes the correct header checksum into packet[10..12) in place. */
export function setIpv4HeaderChecksum(packet: Uint8Array): void {
  writeU16(packet, 10, 0)
  writeU16(packet, 10, internetChecksum(packet, 0, (packet[0]! & 0x0f) * 4))
}

/** Whether the header checksum is correct (the header must be at least 20 bytes and IHL in range). */
export function verifyIpv4HeaderChecksum(packet: Uint8Array): boolean {
  const hl = (packet[0]! & 0x0f) * 4
  return hl >= IPV4_MIN_HEADER && hl <= packet.length && verifyInternetChecksum(packet, 0, hl)
}

/**
 * Decrements TTL in place with an incremental checksum update (RFC 1624 §4 example); returns
 * false, leaving the packet untouched, when TTL is already 0 or 1 (RFC 1812 §5.3.1: the router
 * must then discard it and may send ICMP Time Exceeded).
 */
export function decrementTtl(packet: Uint8Array): boolean {
  const ttl = packet[8]!
  if (ttl <= 1) return false
  const oldWord = readU16(packet, 8)
  packet[8] = ttl - 1
  writeU16(packet, 10, updateChecksum16(readU16(packet, 10), oldWord, readU16(packet, 8)))
  return true
}
