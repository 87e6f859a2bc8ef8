// IPv4 addresses and prefixes: dotted-quad <-> u32 and "a.b.c.d/n" (RFC 4632 §3.1 prefix notation).
import { VpnError } from '../lib/errors.js'

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** Parses a strict dotted quad ("10.0.0.1"; no leading zeros, each octet 0..255) to a u32, or undefined. */
export function parseIpv4(s: string): number | undefined {
  const m = DOTTED.exec(s)
  if (!m) return undefined
  let v = 0
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!
    // Leading zeros are refused: "010" is octal to some parsers and decimal to others.
    if (part.length > 1 && part[0] === '0') return undefined
    const n = Number(part)
    if (n > 255) return undefined
    v = v * 256 + n
  }
  return v
}

/** True when `s` is a strict dotted-quad IPv4 address. */
export function isIpv4(s: string): boolean { return parseIpv4(s) !== undefined }

/** A u32 as a dotted quad (the value is taken modulo 2^32). */
export function ipv4ToString(v: number): string {
  v >>>= 0
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`
}

/** The u32 netmask of a prefix length 0..32. */
export function prefixMask(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0
}

/** An IPv4 prefix; `network` has the host bits cleared, `address` is the address as written. */
export interface Ipv4Prefix {
  readonly address: number
  readonly network: number
  readonly length: number
  readonly mask: number
  /** Last address of the prefix (the directed broadcast address for length <= 30). */
  readonly last: number
}

/** Parses "a.b.c.d/n" (or a bare address, as /32); undefined when malformed. Host bits are allowed and kept in `address`. */
export function tryParsePrefix(s: string): Ipv4Prefix | undefined {
  const slash = s.indexOf('/')
  const addr = parseIpv4(slash < 0 ? s : s.slice(0, slash))
  if (addr === undefined) return undefined
  let length = 32
  if (slash >= 0) {
    const l = s.slice(slash + 1)
    if (!/^\d{1,2}$/.test(l) || (l.length > 1 && l[0] === '0')) return undefined
    length = Number(l)
    if (length > 32) return undefined
  }
  const mask = prefixMask(length)
  const network = (addr & mask) >>> 0
  return { address: addr, network, length, mask, last: (network | ~mask) >>> 0 }
}

/** As tryParsePrefix, but a malformed prefix is a configuration error: VpnError ERR_BAD_PREFIX naming the input. */
export function parsePrefix(s: string): Ipv4Prefix {
  const p = tryParsePrefix(s)
  if (!p) throw new VpnError('ERR_BAD_PREFIX', `not an IPv4 address or prefix (a.b.c.d/n): ${JSON.stringify(s)}`)
  return p
}

/** Whether `addr` (u32 or dotted quad) lies inside the prefix. A malformed string is not contained. */
export function prefixContains(p: Ipv4Prefix, addr: number | string): boolean {
  const a = typeof addr === 'string' ? parseIpv4(addr) : addr >>> 0
  return a !== undefined && ((a & p.mask) >>> 0) === p.network
}

/** Number of addresses the prefix spans (2^(32-length)). */
export function prefixSize(p: Ipv4Prefix): number { return 2 ** (32 - p.length) }

/** Canonical "network/length" text. */
export function prefixToString(p: Ipv4Prefix): string { return `${ipv4ToString(p.network)}/${p.length}` }
