// TCP MSS clamping on SYN segments (RFC 9293 §3.7.1 MSS option, kind 2 length 4; RFC 879): lowers
// an advertised MSS so tunnelled TCP never needs fragments. Incremental checksum per RFC 1624 §3.
// (Written here because src/ip/mss.ts did not exist yet when the data plane was built.)

const PROTO_TCP = 6
const TCP_SYN = 0x02
const OPT_EOL = 0
const OPT_NOP = 1
const OPT_MSS = 2

/** RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over one 16-bit word. */
function csumReplace(hc: number, oldWord: number, newWord: number): number {
  let s = (~hc & 0xffff) + (~oldWord & 0xffff) + newWord
  s = (s & 0xffff) + (s >>> 16)
  s = (s & 0xffff) + (s >>> 16)
  return ~s & 0xffff
}

/**
 * If `packet` is an IPv4 TCP SYN (or SYN-ACK) whose MSS option exceeds `maxMss`, rewrites the
 * option to `maxMss` in place and fixes the TCP checksum; returns true when it changed the packet.
 * Anything else (not IPv4/TCP, a non-first fragment, truncated or malformed headers/options) is
 * left untouched and returns false — it never throws on hostile bytes. A SYN without an MSS option
 * is left alone: RFC 9293 §3.7.1 then implies 536, below any tunnel MTU we use.
 */
export function clampTcpMss(packet: Uint8Array, maxMss: number): boolean {
  const p = packet
  if (p.length < 20 || p[0]! >> 4 !== 4 || p[9] !== PROTO_TCP) return false
  // Only the first fragment carries the TCP header (fragment offset 0).
  if ((((p[6]! & 0x1f) << 8) | p[7]!) !== 0) return false
  const ihl = (p[0]! & 0x0f) * 4
  const total = Math.min(p.length, (p[2]! << 8) | p[3]!)
  if (ihl < 20 || ihl + 20 > total) return false
  const t = ihl
  if ((p[t + 13]! & TCP_SYN) === 0) return false
  const doff = (p[t + 12]! >> 4) * 4
  if (doff < 20 || t + doff > total) return false
  let o = t + 20
  const end = t + doff
  while (o < end) {
    const kind = p[o]!
    if (kind === OPT_EOL) return false
    if (kind === OPT_NOP) { o++; continue }
    if (o + 1 >= end) return false
    const len = p[o + 1]!
    if (len < 2 || o + len > end) return false
    if (kind === OPT_MSS && len === 4) {
      const v = (p[o + 2]! << 8) | p[o + 3]!
      if (v <= maxMss) return false
      let ck = (p[t + 16]! << 8) | p[t + 17]!
      // The MSS value may straddle two checksum words when the option is not 16-bit aligned:
      // update every aligned word (relative to the TCP header) that one of the two bytes touches.
      // Both words lie inside the options: doff is a multiple of 4, so an odd-aligned value ends
      // at least two bytes before the end of the header.
      const first = o + 2 - ((o + 2 - t) & 1)
      const last = o + 3 - ((o + 3 - t) & 1)
      const before0 = (p[first]! << 8) | p[first + 1]!
      const before1 = last !== first ? (p[last]! << 8) | p[last + 1]! : 0
      p[o + 2] = (maxMss >>> 8) & 0xff
      p[o + 3] = maxMss & 0xff
      ck = csumReplace(ck, before0, (p[first]! << 8) | p[first + 1]!)
      if (last !== first) ck = csumReplace(ck, before1, (p[last]! << 8) | p[last + 1]!)
      p[t + 16] = ck >>> 8
      p[t + 17] = ck & 0xff
      return true
    }
    o += len
  }
  return false
}
