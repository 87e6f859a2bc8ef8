// CHAP packets (RFC 1994 §4.1, §4.2); MS-CHAPv2 (RFC 2759 §3-§6) reuses the same framing.
//   Challenge/Response: | Value-Size | Value ... | Name ... |
//   Success/Failure:    | Message ... |
import { ByteReader, ByteWriter } from '../../lib/bytes.js'
import { DecodeError } from '../../lib/errors.js'
import { decodeAuthPacket, encodeAuthPacket } from './packet.js'

export const ChapCode = {
  CHALLENGE: 1,
  RESPONSE: 2,
  SUCCESS: 3,
  FAILURE: 4,
} as const

interface ChapValueFields { readonly identifier: number; readonly value: Uint8Array; readonly name: Uint8Array }
interface ChapMessageFields { readonly identifier: number; readonly message: Uint8Array }
export type ChapMessage =
  | ({ readonly code: 'Challenge' } & ChapValueFields)
  | ({ readonly code: 'Response' } & ChapValueFields)
  | ({ readonly code: 'Success' } & ChapMessageFields)
  | ({ readonly code: 'Failure' } & ChapMessageFields)

const NAMES = ['Challenge', 'Response', 'Success', 'Failure'] as const

/** Decodes a CHAP packet (views into `info`). Throws DecodeError for a short Value or an unknown Code. */
export function decodeChap(info: Uint8Array): ChapMessage {
  const p = decodeAuthPacket(info)
  const code = NAMES[p.code - 1]
  if (code === undefined) throw new DecodeError('code', 0, `unknown CHAP code ${p.code}`)
  if (code === 'Success' || code === 'Failure') return { code, identifier: p.identifier, message: p.data }
  const r = new ByteReader(p.data)
  const size = r.u8('value-size')
  // RFC 1994 §4.1: "The Value-Size field is one octet and indicates the length of the Value field."
  if (size === 0) throw new DecodeError('value-size', 4, 'empty CHAP Value')
  const value = r.bytes(size, 'value')
  return { code, identifier: p.identifier, value, name: r.rest() }
}

/** Encodes a CHAP packet. Throws RangeError if the Value is empty or exceeds 255 octets. */
export function encodeChap(m: ChapMessage): Uint8Array {
  const code = NAMES.indexOf(m.code) + 1
  if (m.code === 'Success' || m.code === 'Failure') return encodeAuthPacket(code, m.identifier, m.message)
  if (m.value.length === 0 || m.value.length > 255) throw new RangeError('CHAP Value must be 1..255 octets')
  const w = new ByteWriter(1 + m.value.length + m.name.length).u8(m.value.length).bytes(m.value).bytes(m.name)
  return encodeAuthPacket(code, m.identifier, w.view())
}
