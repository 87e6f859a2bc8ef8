// Vendor ID payload values (RFC 2408 §3.16) that change IKEv1 behaviour: NAT-T (RFC 3947 §3.1 and the
// drafts older clients announce), DPD (RFC 3706 §3), IKE fragmentation (Cisco/Microsoft) and XAUTH/Unity.
import { fromHex } from '../../lib/bytes.js'

/** RFC 3947 §3.1: "the MD5 hash of the text "RFC 3947"". */
export const VID_NAT_T_RFC3947 = fromHex('4a131c81070358455c5728f20e95452f')
/** MD5("draft-ietf-ipsec-nat-t-ike-02\n"), the value Windows XP/2003-era stacks send (the trailing newline is real). */
export const VID_NAT_T_DRAFT_02N = fromHex('90cb80913ebb696e086381b5ec427b1f')
/** MD5("draft-ietf-ipsec-nat-t-ike-02"). */
export const VID_NAT_T_DRAFT_02 = fromHex('cd60464335df21f87cfdb2fc68b6a448')
/** MD5("draft-ietf-ipsec-nat-t-ike-03"). */
export const VID_NAT_T_DRAFT_03 = fromHex('7d9419a65310ca6f2c179d9215529d56')
/** RFC 3706 §3: DPD vendor ID, major version 1, minor version 0. */
export const VID_DPD = fromHex('afcad71368a1f1c96b8696fc77570100')
/** MD5("FRAGMENTATION"): IKEv1 fragmentation support; Cisco appends 4 capability bytes, so match by prefix. */
export const VID_FRAGMENTATION = fromHex('4048b7d56ebce88525e7de7f00d6c2d3')
/** MD5("CISCO-UNITY") followed by 2 version bytes on the wire; match by prefix. */
export const VID_CISCO_UNITY = fromHex('12f5f28c457168a9702d9fe274cc02d4')
/** draft-ietf-ipsec-isakmp-xauth vendor ID. */
export const VID_XAUTH = fromHex('09002689dfd6b712')

/** Which NAT-T dialect a set of peer vendor IDs announces, best first (RFC 3947 over the drafts). */
export type NatTDialect = 'rfc3947' | 'draft-03' | 'draft-02' | 'draft-02n'

/**
 * The NAT-T dialect to use with a peer that sent `vids`: RFC 3947 when announced, else the newest
 * draft it names. Draft dialects use NAT-D/NAT-OA 130/131 and encapsulation modes 61443/61444.
 */
export function natTDialect(vids: readonly Uint8Array[]): NatTDialect | undefined {
  const has = (v: Uint8Array): boolean => vids.some((x) => equal(x, v))
  if (has(VID_NAT_T_RFC3947)) return 'rfc3947'
  if (has(VID_NAT_T_DRAFT_03)) return 'draft-03'
  if (has(VID_NAT_T_DRAFT_02)) return 'draft-02'
  if (has(VID_NAT_T_DRAFT_02N)) return 'draft-02n'
  return undefined
}

/** True when `vid` starts with `prefix` (vendor IDs that carry version or capability bytes after the hash). */
export function vendorIdHasPrefix(vid: Uint8Array, prefix: Uint8Array): boolean {
  return vid.length >= prefix.length && equal(vid.subarray(0, prefix.length), prefix)
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
