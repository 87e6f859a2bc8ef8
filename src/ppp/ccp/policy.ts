// MPPE negotiation policy for CCP option 18 (RFC 3078 §2): which key strengths and modes a side
// accepts, and the single choice it Naks toward when the peer offers several.
import type { MppeBits } from '../../auth/mppe-keys.js'
import { MppeBit } from './options.js'

export interface MppePolicy {
  /** End the link when MPPE is not agreed (RFC 3078 §2: "the link SHOULD be terminated"). */
  readonly required: boolean
  /** Allowed key strengths; empty = MPPE disabled (option 18 is Rejected). */
  readonly keyBits: readonly MppeBits[]
  /** 'allowed': offer H and accept either mode; 'required': stateless only; 'refused': stateful only. */
  readonly stateless: 'allowed' | 'required' | 'refused'
}

/** Inside IPsec (L2TP/IPsec, RFC 3193) ESP protects PPP: MPPE is not negotiated, as Windows RRAS and its clients do. */
export const L2TP_IPSEC_MPPE_POLICY: MppePolicy = { required: false, keyBits: [], stateless: 'allowed' }

/** The gateway's default, as Windows RRAS: MPPE required, 128-bit only, stateless allowed. */
export const DEFAULT_MPPE_POLICY: MppePolicy = { required: true, keyBits: [128], stateless: 'allowed' }

const STRENGTH: readonly (readonly [MppeBits, number])[] = [[128, MppeBit.S], [56, MppeBit.M], [40, MppeBit.L]]

export function strengthBit(bits: MppeBits): number { return bits === 128 ? MppeBit.S : bits === 56 ? MppeBit.M : MppeBit.L }

/** The key strength a single-strength Supported Bits value names, or undefined (none or several). */
export function singleStrength(v: number): MppeBits | undefined {
  const found = STRENGTH.filter(([, b]) => (v & b) !== 0)
  return found.length === 1 ? found[0]![0] : undefined
}

/** What we put in our own Configure-Request: every allowed strength, H unless stateless is refused. */
export function offeredBits(p: MppePolicy): number {
  let v = 0
  for (const b of p.keyBits) v |= strengthBit(b)
  if (v !== 0 && p.stateless !== 'refused') v |= MppeBit.H
  return v >>> 0
}

/**
 * The one value we agree to for a peer offer `v`: the strongest common strength, stateless when the
 * peer set H (or our policy requires it) unless we refuse it. C, D and unknown bits are dropped
 * (we never negotiate MPPC). Undefined when no strength is common.
 */
export function chooseBits(p: MppePolicy, v: number): number | undefined {
  const pick = STRENGTH.find(([bits, b]) => (v & b) !== 0 && p.keyBits.includes(bits))
  if (!pick) return undefined
  const wantH = p.stateless === 'required' || (p.stateless === 'allowed' && (v & MppeBit.H) !== 0)
  return ((wantH ? MppeBit.H : 0) | pick[1]) >>> 0
}

/** True when a single value (a Nak's choice, or an Acked request) is within the policy. */
export function acceptable(p: MppePolicy, v: number): boolean {
  const s = singleStrength(v)
  if (s === undefined || !p.keyBits.includes(s)) return false
  if ((v & ~(MppeBit.H | MppeBit.S | MppeBit.M | MppeBit.L)) !== 0) return false
  const h = (v & MppeBit.H) !== 0
  return p.stateless === 'allowed' || (p.stateless === 'required') === h
}
