// ISAKMP message = header (RFC 2408 §3.1) + a chain of payloads, each behind the generic payload header
// (§3.2). Walks the chain with bounds, keeps each payload's wire span (HASH/SIG inputs need the exact
// bytes: SAi_b, IDii_b, RFC 2409 §5), and encodes a chain with Next Payload and lengths filled in.
import { ByteReader, ByteWriter } from '../../../lib/bytes.js'
import { DecodeError } from '../../../lib/errors.js'
import { GENERIC_HEADER_LENGTH, HeaderFlag, ISAKMP_HEADER_LENGTH, PayloadType } from '../constants.js'
import { decodeHeader, encodeHeaderInto } from './header.js'
import type { IsakmpHeader } from './header.js'
import { PAYLOADS, encodePayloadBody, payloadBodyLength, payloadTypeOf } from './payloads.js'
import type { IsakmpPayload } from './payloads.js'

/*  RFC 2408 §3.2 Generic Payload Header
                         1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    ! Next Payload  !   RESERVED    !         Payload Length        !
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
*/

/** Where one payload sat in the decoded bytes: `start` is its generic header, `bodyStart` its body. */
export interface PayloadSpan {
  readonly payloadType: number
  readonly start: number
  readonly bodyStart: number
  readonly end: number
}
export interface PayloadChain {
  readonly payloads: readonly IsakmpPayload[]
  /** Parallel to `payloads`; offsets index the buffer given to decodePayloadChain. */
  readonly spans: readonly PayloadSpan[]
  /** Offset just after the last payload (padding of a decrypted body starts here). */
  readonly end: number
}

/** A peer cannot make us build more payload objects than this per message. */
export const MAX_PAYLOADS = 128

/**
 * Walks the chain that starts with type `first` at `offset` in `buf`, up to `end`. Every payload
 * length is checked against what is left and against the table's minimum. With `trailing` false the
 * chain must end exactly at `end` (a plaintext message, RFC 2408 §3.1 Length); with `trailing` true
 * bytes after the last payload are padding (a decrypted body; any padding content is accepted).
 * Throws only DecodeError.
 */
export function decodePayloadChain(first: number, buf: Uint8Array, offset: number, end: number, trailing: boolean): PayloadChain {
  const payloads: IsakmpPayload[] = []
  const spans: PayloadSpan[] = []
  const r = new ByteReader(buf, offset, end)
  let type = first
  while (type !== PayloadType.None) {
    if (payloads.length >= MAX_PAYLOADS) throw new DecodeError('payloads', r.offset, `more than ${MAX_PAYLOADS} payloads`)
    const start = r.offset
    const next = r.u8('payload.nextPayload')
    r.u8('payload.reserved')
    const len = r.u16('payload.length')
    const spec = PAYLOADS[type]
    const min = spec?.minLength ?? GENERIC_HEADER_LENGTH
    if (len < min) throw new DecodeError(`payload.length(${type})`, start + 2, `${len} below ${min}`)
    const body = r.sub(len - GENERIC_HEADER_LENGTH, `payload(${type}).body`)
    const bodyStart = body.offset
    const p: IsakmpPayload = spec ? spec.decode(body, type) : { payload: 'unknown', payloadType: type, body: new Uint8Array(body.rest()) }
    payloads.push(p)
    spans.push({ payloadType: type, start, bodyStart, end: r.offset })
    type = next
  }
  if (!trailing && r.remaining !== 0) throw new DecodeError('payloads', r.offset, `${r.remaining} bytes after the last payload`)
  return { payloads, spans, end: r.offset }
}

export interface DecodedMessage extends PayloadChain {
  readonly header: IsakmpHeader
  /** The message bytes (a view of the input, up to header.length). Spans index into it. */
  readonly bytes: Uint8Array
}

/**
 * Decodes a plaintext message (E flag clear). Bytes past header.length are ignored. Throws
 * DecodeError on any structural fault, and for an encrypted message (field 'header.flags': use
 * decodeHeader, decrypt the body, then decodePayloadChain with trailing = true).
 */
export function decodeMessage(datagram: Uint8Array): DecodedMessage {
  const header = decodeHeader(datagram)
  if (header.flags & HeaderFlag.Encryption) throw new DecodeError('header.flags', 19, 'encrypted body: decrypt first')
  const bytes = datagram.subarray(0, header.length)
  const chain = decodePayloadChain(header.nextPayload, bytes, ISAKMP_HEADER_LENGTH, bytes.length, false)
  return { header, bytes, ...chain }
}

/** Encodes payloads as a chain (generic headers, Next Payload links and lengths derived). */
export function encodePayloadChain(payloads: readonly IsakmpPayload[]): Uint8Array {
  const w = new ByteWriter(256)
  writeChain(w, payloads)
  return w.finish()
}

function writeChain(w: ByteWriter, payloads: readonly IsakmpPayload[]): void {
  payloads.forEach((p, i) => {
    const len = GENERIC_HEADER_LENGTH + payloadBodyLength(p)
    if (len > 0xffff) throw new RangeError(`payload ${p.payload} exceeds 65535 bytes`)
    const next = i + 1 < payloads.length ? payloadTypeOf(payloads[i + 1]!) : PayloadType.None
    w.u8(next).u8(0).u16(len)
    encodePayloadBody(w, p)
  })
}

/** The header fields a caller chooses; Next Payload and Length are derived by encodeMessage. */
export type HeaderFields = Omit<IsakmpHeader, 'nextPayload' | 'length'>

/** Encodes a plaintext message: header (Next Payload = first payload, Length = total) + chain. */
export function encodeMessage(header: HeaderFields, payloads: readonly IsakmpPayload[]): Uint8Array {
  const w = new ByteWriter(512)
  const first = payloads[0] ? payloadTypeOf(payloads[0]) : PayloadType.None
  encodeHeaderInto(w, { ...header, nextPayload: first, length: 0 })
  writeChain(w, payloads)
  const out = w.finish()
  new DataView(out.buffer).setUint32(24, out.length)
  return out
}

/**
 * Encodes a message whose body is already encrypted: header with E set, `firstPayload` as Next
 * Payload (RFC 2408 §3.1: it names the first payload inside the encrypted body) and Length over it all.
 */
export function encodeEncryptedMessage(header: HeaderFields, firstPayload: number, ciphertext: Uint8Array): Uint8Array {
  const w = new ByteWriter(ISAKMP_HEADER_LENGTH + ciphertext.length)
  encodeHeaderInto(w, { ...header, flags: header.flags | HeaderFlag.Encryption, nextPayload: firstPayload, length: ISAKMP_HEADER_LENGTH + ciphertext.length })
  w.bytes(ciphertext)
  return w.finish()
}

/** The body bytes (after the generic header) of payload `i` of a decoded chain: e.g. SAi_b, IDii_b, Ni_b. */
export function payloadBody(bytes: Uint8Array, span: PayloadSpan): Uint8Array { return bytes.subarray(span.bodyStart, span.end) }
