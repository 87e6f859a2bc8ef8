// ISAKMP fixed header (RFC 2408 §3.1). Decoding checks only the structure (28 bytes, a Length that
// fits the datagram); version, exchange type and flags are judged by the caller (RFC 2408 §5.2).
import { ByteReader, ByteWriter } from '../../../lib/bytes.js'
import { DecodeError } from '../../../lib/errors.js'
import { COOKIE_LENGTH, ISAKMP_HEADER_LENGTH } from '../constants.js'

/*  RFC 2408 §3.1 ISAKMP Header Format
                         1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    !                          Initiator                            !
    !                            Cookie                             !
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    !                          Responder                            !
    !                            Cookie                             !
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    !  Next Payload ! MjVer ! MnVer ! Exchange Type !     Flags     !
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    !                          Message ID                           !
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    !                            Length                             !
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
*/

export interface IsakmpHeader {
  /** 8 bytes (CKY-I). */
  readonly initiatorCookie: Uint8Array
  /** 8 bytes (CKY-R); all zero in the first message of an exchange. */
  readonly responderCookie: Uint8Array
  readonly nextPayload: number
  /** MjVer in the high nibble, MnVer in the low nibble (0x10 for ISAKMP 1.0). */
  readonly version: number
  readonly exchangeType: number
  /** HeaderFlag bits (E, C, A). */
  readonly flags: number
  readonly messageId: number
  /** Total message length, header included (RFC 2408 §3.1). */
  readonly length: number
}

/**
 * Decodes the 28-byte header at the start of `buf`. Cookies are copies. Throws DecodeError when `buf`
 * is shorter than 28 bytes, Length is below 28, or Length exceeds `buf.length` (a truncated datagram).
 * Bytes beyond Length are the caller's to ignore.
 */
export function decodeHeader(buf: Uint8Array): IsakmpHeader {
  const r = new ByteReader(buf)
  const initiatorCookie = new Uint8Array(r.bytes(COOKIE_LENGTH, 'header.initiatorCookie'))
  const responderCookie = new Uint8Array(r.bytes(COOKIE_LENGTH, 'header.responderCookie'))
  const nextPayload = r.u8('header.nextPayload')
  const version = r.u8('header.version')
  const exchangeType = r.u8('header.exchangeType')
  const flags = r.u8('header.flags')
  const messageId = r.u32('header.messageId')
  const length = r.u32('header.length')
  if (length < ISAKMP_HEADER_LENGTH) throw new DecodeError('header.length', 24, `${length} is below the 28-byte header`)
  if (length > buf.length) throw new DecodeError('header.length', 24, `${length} exceeds the ${buf.length}-byte datagram`)
  return { initiatorCookie, responderCookie, nextPayload, version, exchangeType, flags, messageId, length }
}

/** Writes the header as given (Length and Next Payload are the caller's; see encodeMessage). */
export function encodeHeaderInto(w: ByteWriter, h: IsakmpHeader): void {
  if (h.initiatorCookie.length !== COOKIE_LENGTH || h.responderCookie.length !== COOKIE_LENGTH) throw new RangeError('ISAKMP cookies are 8 bytes')
  w.bytes(h.initiatorCookie).bytes(h.responderCookie).u8(h.nextPayload).u8(h.version).u8(h.exchangeType).u8(h.flags).u32(h.messageId).u32(h.length)
}

/** Peeks at the two cookies and the message ID without a full decode (for demultiplexing); undefined when short. */
export function peekSpis(buf: Uint8Array): { initiatorCookie: Uint8Array; responderCookie: Uint8Array; messageId: number } | undefined {
  if (buf.length < ISAKMP_HEADER_LENGTH) return undefined
  const r = new ByteReader(buf)
  const initiatorCookie = r.bytes(8), responderCookie = r.bytes(8)
  r.skip(4)
  return { initiatorCookie, responderCookie, messageId: r.u32() }
}
