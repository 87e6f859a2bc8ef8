// The Code/Identifier/Length/Data frame shared by PAP (RFC 1334 §2.2) and CHAP (RFC 1994 §4).
//  0                   1                   2                   3
// |     Code      |  Identifier   |            Length             |
// |    Data ...
import { ByteReader, ByteWriter } from '../../lib/bytes.js'
import { DecodeError } from '../../lib/errors.js'

export interface AuthPacket {
  readonly code: number
  readonly identifier: number
  /** View into the input: the Data field, padding beyond Length already cut off. */
  readonly data: Uint8Array
}

/**
 * Splits a packet into its header and Data. RFC 1334 §2.2 / RFC 1994 §4: "Octets outside the range
 * of the Length field should be treated as Data Link Layer padding and should be ignored on
 * reception"; a Length below 4 or beyond the received octets throws DecodeError.
 */
export function decodeAuthPacket(info: Uint8Array): AuthPacket {
  const r = new ByteReader(info)
  const code = r.u8('code')
  const identifier = r.u8('identifier')
  const length = r.u16('length')
  if (length < 4) throw new DecodeError('length', 2, `length ${length} below header size`)
  if (length > info.length) throw new DecodeError('length', 2, `length ${length} exceeds ${info.length} received octets`)
  return { code, identifier, data: info.subarray(4, length) }
}

/** Builds Code, Identifier, Length, Data (a fresh array). Throws RangeError if Data exceeds 65531 octets. */
export function encodeAuthPacket(code: number, identifier: number, data: Uint8Array): Uint8Array {
  if (data.length > 0xffff - 4) throw new RangeError('auth packet data too long')
  return new ByteWriter(4 + data.length).u8(code).u8(identifier).u16(4 + data.length).bytes(data).finish()
}
