// The Code/Identifier/Length/Data frame shared by PAP (RFC 1334 §2.2) and CHAP (RFC 1994 §4): the
// same layout and padding rule as the RFC 1661 §5 control packet, so the one codec serves all.
//  0                   1                   2                   3
// |     Code      |  Identifier   |            Length             |
// |    Data ...
import { decodeControlPacket, encodeControlPacket, type ControlPacket } from '../fsm/packet.js'

export type AuthPacket = ControlPacket

/**
 * Splits a packet into its header and Data. RFC 1334 §2.2 / RFC 1994 §4: "Octets outside the range
 * of the Length field should be treated as Data Link Layer padding and should be ignored on
 * reception"; a Length below 4 or beyond the received octets throws DecodeError.
 */
export const decodeAuthPacket: (info: Uint8Array) => AuthPacket = decodeControlPacket

/** Builds Code, Identifier, Length, Data (a fresh array). Throws RangeError if Data exceeds 65531 octets. */
export function encodeAuthPacket(code: number, identifier: number, data: Uint8Array): Uint8Array {
  if (data.length > 0xffff - 4) throw new RangeError('auth packet data too long')
  return encodeControlPacket({ code, identifier, data })
}
