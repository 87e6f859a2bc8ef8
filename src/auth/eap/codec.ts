// EAP packets (RFC 3748 §4, §4.1, §4.2) and the Type table (§5, IANA EAP registry); Nak (§5.3.1).
//  |     Code      |  Identifier   |            Length             |
//  |     Type      |  Type-Data ...                 (Request/Response only)
import { ByteReader, ByteWriter } from '../../lib/bytes.js'
import { DecodeError } from '../../lib/errors.js'

export const EapCode = {
  REQUEST: 1,
  RESPONSE: 2,
  SUCCESS: 3,
  FAILURE: 4,
} as const

export const EapType = {
  IDENTITY: 1,
  NOTIFICATION: 2,
  NAK: 3,
  MD5_CHALLENGE: 4,
  OTP: 5,
  GTC: 6,
  TLS: 13,
  TTLS: 21,
  PEAP: 25,
  MSCHAPV2: 26,
  EXPANDED: 254,
  EXPERIMENTAL: 255,
} as const

/** Per-Type facts the codec checks: the name for logs and the least Type-Data a valid packet has. */
export const EAP_TYPES: ReadonlyMap<number, { readonly name: string; readonly minLength: number }> = new Map([
  [EapType.IDENTITY, { name: 'Identity', minLength: 0 }],
  [EapType.NOTIFICATION, { name: 'Notification', minLength: 0 }],
  [EapType.NAK, { name: 'Nak', minLength: 1 }], // §5.3.1: one or more Types, 0 meaning none
  [EapType.MD5_CHALLENGE, { name: 'MD5-Challenge', minLength: 1 }], // Value-Size
  [EapType.OTP, { name: 'One-Time Password', minLength: 0 }],
  [EapType.GTC, { name: 'Generic Token Card', minLength: 0 }],
  [EapType.TLS, { name: 'EAP-TLS', minLength: 1 }],
  [EapType.TTLS, { name: 'EAP-TTLS', minLength: 1 }],
  [EapType.PEAP, { name: 'PEAP', minLength: 1 }],
  [EapType.MSCHAPV2, { name: 'EAP-MS-CHAPv2', minLength: 1 }], // OpCode (a Success/Failure Response is only that)
  [EapType.EXPANDED, { name: 'Expanded', minLength: 7 }], // §5.7: Vendor-Id (3) + Vendor-Type (4)
  [EapType.EXPERIMENTAL, { name: 'Experimental', minLength: 0 }],
])

interface EapTyped { readonly identifier: number; readonly type: number; readonly typeData: Uint8Array }
export type EapPacket =
  | ({ readonly code: 'Request' } & EapTyped)
  | ({ readonly code: 'Response' } & EapTyped)
  | { readonly code: 'Success'; readonly identifier: number }
  | { readonly code: 'Failure'; readonly identifier: number }

/**
 * Decodes one EAP packet; Type-Data is a view into `bytes`. RFC 3748 §4: "Octets outside the
 * range of the Length field should be treated as Data Link Layer padding and MUST be ignored upon
 * reception. A message with the Length field set to a value larger than the number of received
 * octets MUST be silently discarded." Throws DecodeError for that, a Request/Response without a
 * Type, Type-Data shorter than the Type's minimum, or an unknown Code. Unknown Types are kept raw.
 */
export function decodeEap(bytes: Uint8Array): EapPacket {
  const r = new ByteReader(bytes)
  const code = r.u8('code')
  const identifier = r.u8('identifier')
  const length = r.u16('length')
  if (length < 4) throw new DecodeError('length', 2, `EAP length ${length} below 4`)
  if (length > bytes.length) throw new DecodeError('length', 2, `EAP length ${length} exceeds ${bytes.length} received octets`)
  if (code === EapCode.SUCCESS || code === EapCode.FAILURE) {
    // §4.2 gives Success/Failure a Length of 4; extra octets inside Length carry nothing we use.
    return code === EapCode.SUCCESS ? { code: 'Success', identifier } : { code: 'Failure', identifier }
  }
  if (code !== EapCode.REQUEST && code !== EapCode.RESPONSE) throw new DecodeError('code', 0, `unknown EAP code ${code}`)
  const body = new ByteReader(bytes, 4, length)
  const type = body.u8('type')
  const typeData = body.rest()
  const min = EAP_TYPES.get(type)?.minLength ?? 0
  if (typeData.length < min) throw new DecodeError('type-data', 5, `${EAP_TYPES.get(type)?.name ?? type} needs ${min} octets of Type-Data`)
  return code === EapCode.REQUEST ? { code: 'Request', identifier, type, typeData } : { code: 'Response', identifier, type, typeData }
}

/** Octets encodeEap(p) produces. */
export function encodedEapLength(p: EapPacket): number {
  return p.code === 'Success' || p.code === 'Failure' ? 4 : 5 + p.typeData.length
}

/** Encodes an EAP packet (a fresh array). Throws RangeError if it would exceed 65535 octets. */
export function encodeEap(p: EapPacket): Uint8Array {
  const n = encodedEapLength(p)
  if (n > 0xffff) throw new RangeError('EAP packet longer than 65535 octets')
  const w = new ByteWriter(n)
  w.u8(EapCode[p.code === 'Request' ? 'REQUEST' : p.code === 'Response' ? 'RESPONSE' : p.code === 'Success' ? 'SUCCESS' : 'FAILURE']).u8(p.identifier).u16(n)
  if (p.code === 'Request' || p.code === 'Response') w.u8(p.type).bytes(p.typeData)
  return w.finish()
}

/** The Types a legacy Nak asks for (§5.3.1), in the peer's order; 0 ("no viable alternative") omitted. */
export function decodeNak(typeData: Uint8Array): number[] {
  return [...typeData].filter((t) => t !== 0)
}

/** Nak Type-Data listing `types`, or the single octet 0 when there is none (§5.3.1). */
export function encodeNak(types: readonly number[]): Uint8Array {
  return types.length === 0 ? Uint8Array.of(0) : Uint8Array.from(types)
}
