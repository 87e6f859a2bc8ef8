// Minimal IPv4 header checks for the data plane (RFC 791 §3.1): what routing and anti-spoofing need,
// read in place with no allocation. (src/ip/ipv4.ts, the full header view, was not there yet.)

/** Why a packet is not a routable IPv4 packet, or '' when it is; used as a counter reason. */
export type Ipv4Fault = '' | 'short-packet' | 'not-ipv4' | 'bad-ihl' | 'bad-total-length' | 'bad-header-checksum'

/**
 * Checks the fixed header: version 4, IHL >= 5 and inside the packet, total length within the
 * packet and covering the header, header checksum (RFC 791 §3.1 "Header Checksum"). Bytes after
 * total length (link padding) are allowed; callers trim with ipv4TotalLength().
 */
export function checkIpv4(p: Uint8Array): Ipv4Fault {
  if (p.length < 20) return 'short-packet'
  const vihl = p[0]!
  if (vihl >> 4 !== 4) return 'not-ipv4'
  const hlen = (vihl & 0x0f) * 4
  if (hlen < 20 || hlen > p.length) return 'bad-ihl'
  const total = (p[2]! << 8) | p[3]!
  if (total < hlen || total > p.length) return 'bad-total-length'
  let sum = 0
  for (let i = 0; i < hlen; i += 2) sum += (p[i]! << 8) | p[i + 1]!
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  if (sum !== 0xffff) return 'bad-header-checksum'
  return ''
}

/** Total Length field (bytes 2-3). */
export function ipv4TotalLength(p: Uint8Array): number { return (p[2]! << 8) | p[3]! }
/** Source address as an unsigned 32-bit integer (bytes 12-15). */
export function ipv4Src(p: Uint8Array): number { return ((p[12]! << 24) >>> 0) + ((p[13]! << 16) | (p[14]! << 8) | p[15]!) }
/** Destination address as an unsigned 32-bit integer (bytes 16-19). */
export function ipv4Dst(p: Uint8Array): number { return ((p[16]! << 24) >>> 0) + ((p[17]! << 16) | (p[18]! << 8) | p[19]!) }

/** 'a.b.c.d' -> u32; undefined when malformed. */
export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (!m) return undefined
  let v = 0
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i])
    if (o > 255) return undefined
    v = v * 256 + o
  }
  return v
}

/** u32 -> 'a.b.c.d'. */
export function formatIpv4(a: number): string {
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`
}
