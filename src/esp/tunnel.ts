// What ESP carries: tunnel mode's inner IPv4 packet (RFC 4303 §3.1.2, Next Header 4) with its
// selector-check hook (RFC 4301 §5.2), and transport mode's UDP datagram for L2TP (RFC 4303
// §3.1.1, RFC 3193 §4) with the NAT checksum rule of RFC 3948 §3.1.2.
import { DecodeError } from '../lib/errors.js'
import { internetChecksum, pseudoHeaderSum, readU16, writeU16 } from '../ip/checksum.js'
import { validateIpv4 } from '../ip/ipv4.js'
import type { Ipv4InvalidReason } from '../ip/ipv4.js'
import { EspNextHeader, readU32 } from './packet.js'
import type { EspSelectorCheck } from './sa-inbound.js'

/** Why tunnelInnerIpv4 refused a payload: not Next Header 4, or an ip/ipv4.ts validation reason. */
export type TunnelInnerFault = 'not-ipv4' | Ipv4InvalidReason

/**
 * The inner IPv4 packet of a tunnel-mode payload, as a view trimmed to its Total Length (bytes
 * after it are Traffic Flow Confidentiality padding, RFC 4303 §2.7, which the receiver discards),
 * or a fault: Next Header other than 4, or a header that fails validateIpv4 (version, IHL, Total
 * Length, header checksum). Sending needs no helper: the inner packet is the payload, Next Header
 * EspNextHeader.IPv4. Never throws.
 */
export function tunnelInnerIpv4(nextHeader: number, payload: Uint8Array): Uint8Array | TunnelInnerFault {
  if (nextHeader !== EspNextHeader.IPv4) return 'not-ipv4'
  const bad = validateIpv4(payload)
  if (bad) return bad
  const total = readU16(payload, 2)
  return total === payload.length ? payload : payload.subarray(0, total)
}

/**
 * An EspSelectorCheck for a tunnel-mode SA: keeps a payload only when it is a valid inner IPv4
 * packet whose addresses (and protocol) `allow` accepts — the SA's traffic selectors, which the
 * IKE side supplies (e.g. source inside the peer's subnet or equal to its pool address).
 */
export function ipv4SelectorCheck(allow: (source: number, destination: number, protocol: number) => boolean): EspSelectorCheck {
  return (nextHeader, payload) => {
    const inner = tunnelInnerIpv4(nextHeader, payload)
    if (typeof inner === 'string') return false
    return allow(readU32(inner, 12), readU32(inner, 16), inner[9]!)
  }
}

/*
 * RFC 768 (User Datagram Protocol):
 *    0      7 8     15 16    23 24    31
 *   +--------+--------+--------+--------+
 *   |     Source      |   Destination   |
 *   |      Port       |      Port       |
 *   +--------+--------+--------+--------+
 *   |                 |                 |
 *   |     Length      |    Checksum     |
 *   +--------+--------+--------+--------+
 *   |          data octets ...
 */

export const UDP_HEADER_LENGTH = 8

/** A UDP datagram carried in transport mode (Next Header 17). `data` is a view. */
export interface TransportUdp {
  readonly sourcePort: number
  readonly destinationPort: number
  readonly data: Uint8Array
}

/**
 * Reads the UDP datagram of a transport-mode payload. The checksum is not verified: the ICV
 * already authenticated these bytes, and behind a NAT the peer computed it over addresses the NAT
 * rewrote (RFC 3948 §3.1.2 lets the receiver skip or zero it for UDP). Throws DecodeError
 * ('udp.header' when under 8 bytes, 'udp.length' when Length is under 8 or beyond the payload).
 */
export function decodeTransportUdp(payload: Uint8Array): TransportUdp {
  if (payload.length < UDP_HEADER_LENGTH) throw new DecodeError('udp.header', 0, `need ${UDP_HEADER_LENGTH} bytes, have ${payload.length}`)
  const length = readU16(payload, 4)
  if (length < UDP_HEADER_LENGTH || length > payload.length) throw new DecodeError('udp.length', 4, `length ${length} with ${payload.length} bytes`)
  return { sourcePort: readU16(payload, 0), destinationPort: readU16(payload, 2), data: payload.subarray(UDP_HEADER_LENGTH, length) }
}

/** Addresses (as u32) for the UDP checksum pseudo-header (RFC 768): the outer IP addresses in transport mode. */
export interface UdpPseudoHeader { readonly source: number; readonly destination: number }

/**
 * Writes UDP header + data at out[at..] and returns the length. Without `pseudo` the checksum is 0
 * ("no checksum", RFC 768 for IPv4) — what works through NATs whose rewrite the peer cannot see;
 * with it, the real checksum (0 sent as 0xFFFF). Throws RangeError for a short `out` or data over
 * 65527 bytes (caller bugs).
 */
export function encodeTransportUdpInto(out: Uint8Array, at: number, sourcePort: number, destinationPort: number, data: Uint8Array, pseudo?: UdpPseudoHeader): number {
  const length = UDP_HEADER_LENGTH + data.length
  if (length > 0xffff) throw new RangeError(`UDP datagram of ${length} bytes`)
  if (out.length - at < length) throw new RangeError(`UDP output buffer too small: need ${length}`)
  writeU16(out, at, sourcePort)
  writeU16(out, at + 2, destinationPort)
  writeU16(out, at + 4, length)
  writeU16(out, at + 6, 0)
  out.set(data, at + UDP_HEADER_LENGTH)
  if (pseudo) {
    const c = internetChecksum(out, at, at + length, pseudoHeaderSum(pseudo.source, pseudo.destination, 17, length))
    writeU16(out, at + 6, c === 0 ? 0xffff : c)
  }
  return length
}

/** encodeTransportUdpInto into a fresh buffer. */
export function encodeTransportUdp(sourcePort: number, destinationPort: number, data: Uint8Array, pseudo?: UdpPseudoHeader): Uint8Array {
  const out = new Uint8Array(UDP_HEADER_LENGTH + data.length)
  encodeTransportUdpInto(out, 0, sourcePort, destinationPort, data, pseudo)
  return out
}
