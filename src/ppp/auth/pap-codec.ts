// PAP packets (RFC 1334 §2.2.1, §2.2.2): Authenticate-Request with Peer-ID and Password,
// Authenticate-Ack/Nak with a Message.
//   Request: | Peer-ID Length | Peer-Id ... | Passwd-Length | Password ... |
//   Ack/Nak: | Msg-Length | Message ... |
import { ByteReader, ByteWriter } from '../../lib/bytes.js'
import { DecodeError } from '../../lib/errors.js'
import { decodeAuthPacket, encodeAuthPacket } from './packet.js'

export const PapCode = {
  AUTHENTICATE_REQUEST: 1,
  AUTHENTICATE_ACK: 2,
  AUTHENTICATE_NAK: 3,
} as const

export type PapMessage =
  | { readonly code: 'Authenticate-Request'; readonly identifier: number; readonly peerId: Uint8Array; readonly password: Uint8Array }
  | { readonly code: 'Authenticate-Ack' | 'Authenticate-Nak'; readonly identifier: number; readonly message: Uint8Array }

/** Decodes a PAP packet (views into `info`). Throws DecodeError for short fields or unknown codes. */
export function decodePap(info: Uint8Array): PapMessage {
  const p = decodeAuthPacket(info)
  const r = new ByteReader(p.data)
  switch (p.code) {
    case PapCode.AUTHENTICATE_REQUEST: {
      const peerId = r.bytes(r.u8('peer-id-length'), 'peer-id')
      const password = r.bytes(r.u8('passwd-length'), 'password')
      return { code: 'Authenticate-Request', identifier: p.identifier, peerId, password }
    }
    case PapCode.AUTHENTICATE_ACK:
    case PapCode.AUTHENTICATE_NAK: {
      // Some implementations send an Ack with no Data at all; treat it as an empty message.
      const message = r.remaining === 0 ? new Uint8Array(0) : r.bytes(r.u8('msg-length'), 'message')
      return { code: p.code === PapCode.AUTHENTICATE_ACK ? 'Authenticate-Ack' : 'Authenticate-Nak', identifier: p.identifier, message }
    }
    default:
      throw new DecodeError('code', 0, `unknown PAP code ${p.code}`)
  }
}

/** Encodes a PAP packet. Throws RangeError if a field exceeds 255 octets (a one-octet length). */
export function encodePap(m: PapMessage): Uint8Array {
  const w = new ByteWriter(64)
  const field = (b: Uint8Array): void => {
    if (b.length > 255) throw new RangeError('PAP field longer than 255 octets')
    w.u8(b.length).bytes(b)
  }
  if (m.code === 'Authenticate-Request') {
    field(m.peerId)
    field(m.password)
    return encodeAuthPacket(PapCode.AUTHENTICATE_REQUEST, m.identifier, w.view())
  }
  field(m.message)
  return encodeAuthPacket(m.code === 'Authenticate-Ack' ? PapCode.AUTHENTICATE_ACK : PapCode.AUTHENTICATE_NAK, m.identifier, w.view())
}
