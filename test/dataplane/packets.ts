// Test packet builders for the data plane: IPv4/TCP/UDP/ICMP with checksums computed in full
// (RFC 791 §3.1, RFC 9293 §3.1 pseudo-header, RFC 1071) — independent of the incremental code under test.

export function ip(s: string): number {
  return s.split('.').reduce((a, o) => a * 256 + Number(o), 0)
}

export function onesSum(bytes: Uint8Array, start = 0, end = bytes.length, init = 0): number {
  let s = init
  for (let i = start; i < end; i += 2) s += (bytes[i]! << 8) | (i + 1 < end ? bytes[i + 1]! : 0)
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
  return s
}

export interface Ipv4Opts {
  src: string
  dst: string
  protocol: number
  payload: Uint8Array
  ttl?: number
  id?: number
  fragOffset?: number
}

export function ipv4(o: Ipv4Opts): Uint8Array {
  const total = 20 + o.payload.length
  const p = new Uint8Array(total)
  p[0] = 0x45
  p[2] = total >> 8; p[3] = total & 0xff
  p[4] = (o.id ?? 1) >> 8; p[5] = (o.id ?? 1) & 0xff
  const frag = o.fragOffset ?? 0
  p[6] = (frag >> 8) & 0x1f; p[7] = frag & 0xff
  p[8] = o.ttl ?? 64
  p[9] = o.protocol
  const s = ip(o.src), d = ip(o.dst)
  p[12] = s >>> 24; p[13] = (s >>> 16) & 255; p[14] = (s >>> 8) & 255; p[15] = s & 255
  p[16] = d >>> 24; p[17] = (d >>> 16) & 255; p[18] = (d >>> 8) & 255; p[19] = d & 255
  const ck = ~onesSum(p, 0, 20) & 0xffff
  p[10] = ck >> 8; p[11] = ck & 0xff
  p.set(o.payload, 20)
  return p
}

/** TCP checksum over the RFC 9293 §3.1 pseudo-header of an IPv4 packet with a 20-byte header. */
export function tcpChecksumOk(p: Uint8Array): boolean {
  const ihl = (p[0]! & 15) * 4
  const total = (p[2]! << 8) | p[3]!
  const tcpLen = total - ihl
  let s = onesSum(p, 12, 20)
  s += 6 + tcpLen
  s = onesSum(p, ihl, total, s)
  return s === 0xffff
}

export interface TcpOpts {
  src: string
  dst: string
  flags: number
  /** Raw option bytes (already padded to 4 if you want a valid header; tests may not). */
  options?: Uint8Array
  payload?: Uint8Array
  fragOffset?: number
}

export const SYN = 0x02, ACK = 0x10

export function tcp(o: TcpOpts): Uint8Array {
  const opts = o.options ?? new Uint8Array(0)
  const hlen = 20 + opts.length
  const payload = o.payload ?? new Uint8Array(0)
  const seg = new Uint8Array(hlen + payload.length)
  seg[0] = 0x30; seg[1] = 0x39 // port 12345
  seg[2] = 0x00; seg[3] = 0x50 // port 80
  seg[4] = 0x11; seg[5] = 0x22; seg[6] = 0x33; seg[7] = 0x44
  seg[12] = (Math.ceil(hlen / 4) << 4)
  seg[13] = o.flags
  seg[14] = 0xff; seg[15] = 0xff
  seg.set(opts, 20)
  seg.set(payload, hlen)
  const pkt = ipv4({ src: o.src, dst: o.dst, protocol: 6, payload: seg, fragOffset: o.fragOffset })
  let s = onesSum(pkt, 12, 20)
  s += 6 + seg.length
  s = onesSum(pkt, 20, pkt.length, s)
  const ck = ~s & 0xffff
  pkt[36] = ck >> 8; pkt[37] = ck & 0xff
  return pkt
}

/** MSS option bytes: kind 2, length 4, value. */
export function mssOpt(v: number): number[] { return [2, 4, v >> 8, v & 0xff] }

export function udp(src: string, dst: string, payload = new Uint8Array(8)): Uint8Array {
  const seg = new Uint8Array(8 + payload.length)
  seg[0] = 0x10; seg[1] = 0x00; seg[2] = 0x00; seg[3] = 0x35
  seg[4] = seg.length >> 8; seg[5] = seg.length & 0xff
  seg.set(payload, 8)
  return ipv4({ src, dst, protocol: 17, payload: seg })
}

/** The MSS value of the first MSS option of a TCP packet with a 20-byte IP header, or undefined. */
export function readMss(p: Uint8Array): number | undefined {
  const t = 20
  const end = t + (p[t + 12]! >> 4) * 4
  let o = t + 20
  while (o < end) {
    const k = p[o]!
    if (k === 0) return undefined
    if (k === 1) { o++; continue }
    const len = p[o + 1]!
    if (k === 2 && len === 4) return (p[o + 2]! << 8) | p[o + 3]!
    if (len < 2) return undefined
    o += len
  }
  return undefined
}
