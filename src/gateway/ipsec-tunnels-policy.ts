// The policy side of IPsec site-to-site tunnels (issue 4 §6): subnet traffic selectors as IKEv1 ID payloads
// (RFC 2407 §4.6.2.4 ID_IPV4_ADDR_SUBNET, §4.6.2.2 ID_IPV4_ADDR), which quick mode selectors a tunnel
// accepts (RFC 4301 §4.4.1: the SPD entry must cover them), and whether the peer's phase 1 ID is the one configured.
import type { IpsecTunnelConfig } from '../config/schema.js'
import type { IkeIdentity } from '../ike/v1/ike-sa.js'
import { IdType } from '../ike/v1/constants.js'
import type { TrafficSelector } from '../ike/v1/tasks/quick-mode.js'
import { ipv4SubnetSelector } from '../ike/v1/tasks/quick-mode.js'
import { parseIpv4, parsePrefix, type Ipv4Prefix } from '../ip/prefix.js'

/** An IPv4 range [first, last] as u32, what a selector or a configured subnet covers. */
export interface Ipv4Range { readonly first: number; readonly last: number }

const u32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!)

export function rangeOfPrefix(p: Ipv4Prefix): Ipv4Range { return { first: p.network, last: p.last } }

/**
 * The addresses an IPv4 selector covers: ID_IPV4_ADDR (one host), ID_IPV4_ADDR_SUBNET (address + mask; the
 * mask must be contiguous, RFC 2407 §4.6.2.4), ID_IPV4_ADDR_RANGE (§4.6.2.7: start, end). Anything else
 * (IPv6, names, a non-contiguous mask, a reversed range, wrong lengths): undefined.
 */
export function selectorRange(s: TrafficSelector): Ipv4Range | undefined {
  const d = s.data
  if (s.idType === IdType.Ipv4Addr && d.length === 4) { const a = u32(d, 0); return { first: a, last: a } }
  if (s.idType === IdType.Ipv4AddrSubnet && d.length === 8) {
    const mask = u32(d, 4)
    // Contiguous: the inverted mask plus one is a power of two (or the mask is all ones).
    const inv = (~mask) >>> 0
    if ((inv & (inv + 1)) !== 0) return undefined
    const first = (u32(d, 0) & mask) >>> 0
    return { first, last: (first | inv) >>> 0 }
  }
  if (s.idType === IdType.Ipv4AddrRange && d.length === 8) {
    const first = u32(d, 0), last = u32(d, 4)
    return first <= last ? { first, last } : undefined
  }
  return undefined
}

const within = (inner: Ipv4Range, outer: Ipv4Range): boolean => inner.first >= outer.first && inner.last <= outer.last

/** The selector of one configured subnet ("a.b.c.d/n"), protocol and port 0 (all traffic), as strongSwan sends it. */
export function subnetSelector(cidr: string): TrafficSelector {
  const p = parsePrefix(cidr)
  return ipv4SubnetSelector(Uint8Array.of(p.network >>> 24, (p.network >>> 16) & 0xff, (p.network >>> 8) & 0xff, p.network & 0xff), p.length)
}

/**
 * Responder check for a tunnel peer's quick mode: our side (IDcr) inside one of the local subnets and the
 * peer's side (IDci) inside one of its remote subnets, all protocols and ports (what we route is per
 * address only). A narrower selector is fine (the peer may split a subnet); a wider one is refused (we
 * would be told to send traffic we do not route there).
 */
export function tunnelAcceptsSelectors(t: Pick<IpsecTunnelConfig, 'localSubnets' | 'remoteSubnets'>, local: TrafficSelector, remote: TrafficSelector): boolean {
  if (local.protocol !== 0 || remote.protocol !== 0 || local.port !== 0 || remote.port !== 0) return false
  const l = selectorRange(local), r = selectorRange(remote)
  if (!l || !r) return false
  return t.localSubnets.some((c) => within(l, rangeOfPrefix(parsePrefix(c)))) && t.remoteSubnets.some((c) => within(r, rangeOfPrefix(parsePrefix(c))))
}

const rdns = (dn: string): string => dn.split(/[,\n/]/).map((x) => x.trim().toLowerCase().replace(/\s*=\s*/, '=')).filter((x) => x.length > 0).sort().join(',')

/**
 * Whether the authenticated phase 1 identity is the configured `peerId`: an IPv4 address against
 * ID_IPV4_ADDR; a DN ("CN=gw-b, O=Example", any order/case) against the certificate subject; user@fqdn
 * against ID_USER_FQDN; otherwise an FQDN against ID_FQDN (case-insensitive, RFC 4945 §3.1.2).
 */
export function peerIdMatches(want: string, id: IkeIdentity, certSubject: string | undefined): boolean {
  const ip = parseIpv4(want)
  if (ip !== undefined) return id.idType === IdType.Ipv4Addr && id.data.length === 4 && u32(id.data, 0) === ip
  if (want.includes('=')) return certSubject !== undefined && rdns(certSubject) === rdns(want)
  const text = new TextDecoder().decode(id.data).toLowerCase()
  if (want.includes('@')) return id.idType === IdType.UserFqdn && text === want.toLowerCase()
  return id.idType === IdType.Fqdn && text === want.toLowerCase()
}

/** True when `addr` (u32) lies in `p`. */
export function inPrefix(p: Ipv4Prefix, addr: number): boolean { return ((addr & p.mask) >>> 0) === p.network }
