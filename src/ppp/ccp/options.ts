// CCP (RFC 1962) codes and the MPPE/MPPC Configuration Option 18 (RFC 3078 §2, RFC 2118 §2):
// a 32-bit Supported Bits field with H (stateless), M (56-bit), S (128-bit), L (40-bit), D, C (MPPC).
import { DecodeError } from '../../lib/errors.js'
import type { PppOption, OptionTable } from '../fsm/packet.js'

/** PPP protocol number of CCP (RFC 1962 §1). */
export const CCP_PROTOCOL = 0x80fd

/** CCP codes beyond RFC 1661's 1..7 (RFC 1962 §2.1). */
export const CcpCode = {
  ResetRequest: 14,
  ResetAck: 15,
} as const

export const CcpOption = {
  /** MPPC/MPPE, "Microsoft PPC" (RFC 3078 §2). */
  Mppe: 18,
} as const

export const CCP_OPTIONS: OptionTable = {
  [CcpOption.Mppe]: { name: 'MPPE', minLength: 6, maxLength: 6 },
}

/*
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     Type      |    Length     |        Supported Bits         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |        Supported Bits         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   Supported Bits (most significant octet first):
 *    3 2 1
 *    1 0 9 8 7 6 5 4 3 2 1 0 9 8 7 6 5 4 3 2 1 0 9 8 7 6 5 4 3 2 1 0
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       |H|                       |M|S|L|D| | |C|
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export const MppeBit = {
  /** Stateless mode (key change every packet). */
  H: 0x0100_0000,
  /** 56-bit session keys. */
  M: 0x80,
  /** 128-bit session keys. */
  S: 0x40,
  /** 40-bit session keys. */
  L: 0x20,
  /** Obsolete (RFC 3078 §2: "SHOULD NOT be set"). */
  D: 0x10,
  /** MPPC compression (RFC 2118); never negotiated here. */
  C: 0x01,
} as const

/** The key-strength bits. */
export const MPPE_STRENGTH_BITS = MppeBit.S | MppeBit.M | MppeBit.L

/** Reads the Supported Bits of an option 18. Throws DecodeError unless the data is 4 octets. */
export function decodeMppeBits(o: PppOption): number {
  if (o.type !== CcpOption.Mppe || o.data.length !== 4) throw new DecodeError('ccp.mppe', 1, `option ${o.type} with ${o.data.length} data octets`)
  const d = o.data
  return ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0
}

export function mppeOption(bits: number): PppOption {
  return { type: CcpOption.Mppe, data: Uint8Array.of(bits >>> 24, (bits >>> 16) & 0xff, (bits >>> 8) & 0xff, bits & 0xff) }
}

/** Text like "H S" for logs. */
export function formatMppeBits(bits: number): string {
  const names: string[] = []
  for (const [n, v] of Object.entries(MppeBit)) if ((bits & v) !== 0) names.push(n)
  return names.join(' ') || 'none'
}
