// TCP MSS clamping for tunnelled IPv4 traffic: lowers the Maximum Segment Size option (RFC 9293
// §3.7.1, option kind 2) of a SYN so segments fit the tunnel MTU, fixing the TCP checksum with the
// RFC 1624 incremental update instead of recomputing it over the whole segment.
import { readU16, updateChecksum16, writeU16 } from './checksum.js'
import { IpProtocol, validateIpv4 } from './ipv4.js'

const TCP_FLAG_SYN = 0x02
const TCP_OPT_EOL = 0
const TCP_OPT_NOP = 1
const TCP_OPT_MSS = 2

/**
 * If `packet` is a well-formed IPv4 TCP segment with SYN set whose MSS option exceeds `maxMss`,
 * rewrites the option to `maxMss` in place, updates the TCP checksum, and returns true.
 * Anything else — not IPv4/TCP, a non-first fragment, a truncated or malformed header or option
 * list, no MSS option, MSS already small enough — is left untouched and returns false. Never throws.
 */
export function clampTcpMss(packet: Uint8Array, maxMss: number): boolean {
  if (!(maxMss >= 0 && maxMss <= 0xffff)) return false
  // The IP header checksum is not ours to judge here; the forwarder validates it separately.
  if (validateIpv4(packet, { checksum: false }) !== undefined) return false
  if (packet[9] !== IpProtocol.TCP) return false
  // Only the first fragment carries the TCP header.
  if ((readU16(packet, 6) & 0x1fff) !== 0) return false
  const ipEnd = readU16(packet, 2)
  const tcp = (packet[0]! & 0x0f) * 4
  if (tcp + 20 > ipEnd) return false
  if ((packet[tcp + 13]! & TCP_FLAG_SYN) === 0) return false
  const tcpHeaderLen = (packet[tcp + 12]! >>> 4) * 4
  if (tcpHeaderLen < 20 || tcp + tcpHeaderLen > ipEnd) return false
  const optEnd = tcp + tcpHeaderLen
  let o = tcp + 20
  while (o < optEnd) {
    const kind = packet[o]!
    if (kind === TCP_OPT_EOL) return false
    if (kind === TCP_OPT_NOP) { o++; continue }
    if (o + 1 >= optEnd) return false
    const len = packet[o + 1]!
    if (len < 2 || o + len > optEnd) return false
    if (kind === TCP_OPT_MSS) {
      if (len !== 4) return false
      const mss = readU16(packet, o + 2)
      if (mss <= maxMss) return false
      rewriteWithChecksum(packet, tcp, o + 2, maxMss)
      return true
    }
    o += len
  }
  return false
}

/**
 * Writes the u16 `value` at `at` and patches the TCP checksum (at tcp+16). The checksum sums
 * 16-bit words aligned to the TCP header start, and an option can sit at an odd offset, so the
 * update is applied per aligned word the two bytes touch.
 */
function rewriteWithChecksum(packet: Uint8Array, tcp: number, at: number, value: number): void {
  const first = tcp + ((at - tcp) & ~1)
  const last = tcp + ((at + 1 - tcp) & ~1)
  const old0 = readU16(packet, first), old1 = readU16(packet, last)
  writeU16(packet, at, value)
  let ck = readU16(packet, tcp + 16)
  ck = updateChecksum16(ck, old0, readU16(packet, first))
  if (last !== first) ck = updateChecksum16(ck, old1, readU16(packet, last))
  writeU16(packet, tcp + 16, ck)
}
