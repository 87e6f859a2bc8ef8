// L2TP header codec, RFC 2661 §3.1 (control and data messages over UDP port 1701). Pure functions;
// the decoder throws DecodeError only and applies the receive-side MUSTs of §3.1.
import { DecodeError } from '../lib/errors.js'

/*
 * RFC 2661 §3.1:
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |T|L|x|x|S|x|O|P|x|x|x|x|  Ver  |          Length (opt)         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           Tunnel ID           |           Session ID          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |             Ns (opt)          |             Nr (opt)          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      Offset Size (opt)        |    Offset pad... (opt)
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

/** Bits of the first 16-bit word, named as §3.1 names them. */
export const HeaderBits = {
  T: 0x8000, L: 0x4000, S: 0x0800, O: 0x0200, P: 0x0100, Ver: 0x000f,
} as const

/** §3.1 "Ver MUST be 2"; 1 is L2F, 3 is L2TPv3 (RFC 3931) — both discarded here. */
export const L2TP_VERSION = 2
/** The well-known UDP port (§8.1). */
export const L2TP_UDP_PORT = 1701
/** A control message header always carries Length, Ns and Nr: 12 octets. */
export const CONTROL_HEADER_LENGTH = 12

export interface ControlHeader {
  readonly type: 'control'
  readonly tunnelId: number
  readonly sessionId: number
  readonly ns: number
  readonly nr: number
}

export interface DataHeader {
  readonly type: 'data'
  readonly tunnelId: number
  readonly sessionId: number
  /** Present when the S bit is set (§5.4 sequencing on the data channel). */
  readonly ns: number | undefined
  /** §3.1 "In data messages, Nr is reserved and, if present ..., MUST be ignored upon receipt." Kept for tracing only. */
  readonly nr: number | undefined
  /** §3.1 P bit: preferential queuing (LCP echo, for instance). */
  readonly priority: boolean
}

export type L2tpHeader = ControlHeader | DataHeader

/** A decoded L2TP message: the header and a view (no copy) of the bytes after it (AVPs or a PPP frame). */
export interface L2tpPacket<H extends L2tpHeader = L2tpHeader> {
  readonly header: H
  readonly payload: Uint8Array
}

/**
 * Decodes one UDP payload. Throws DecodeError naming the field:
 * l2tp.Ver (not 2: §3.1 "Packets received with an unknown Ver field MUST be discarded"),
 * l2tp.L / l2tp.S (a control message without Length or sequence numbers, §3.1 MUSTs),
 * l2tp.O / l2tp.P (a control message with offset or priority, §3.1 "MUST be set to 0 for control
 * messages"; xl2tpd drops these too), l2tp.length (declared length beyond the datagram or shorter
 * than the header), l2tp.offset (offset pad past the end), or a short read. Reserved bits are
 * ignored (§3.1 "ignored on incoming messages"). Octets after a declared Length are not part of
 * the message and are left out of `payload`.
 */
export function decodeL2tp(b: Uint8Array): L2tpPacket {
  if (b.length < 6) throw new DecodeError('l2tp.header', 0, `need 6 bytes, have ${b.length}`)
  const w = (b[0]! << 8) | b[1]!
  if ((w & HeaderBits.Ver) !== L2TP_VERSION) throw new DecodeError('l2tp.Ver', 1, `version ${w & HeaderBits.Ver}`)
  const isControl = (w & HeaderBits.T) !== 0
  const hasLength = (w & HeaderBits.L) !== 0
  const hasSeq = (w & HeaderBits.S) !== 0
  const hasOffset = (w & HeaderBits.O) !== 0
  if (isControl) {
    if (!hasLength) throw new DecodeError('l2tp.L', 0, 'control message without Length')
    if (!hasSeq) throw new DecodeError('l2tp.S', 0, 'control message without Ns/Nr')
    if (hasOffset) throw new DecodeError('l2tp.O', 0, 'control message with offset')
    if (w & HeaderBits.P) throw new DecodeError('l2tp.P', 0, 'control message with priority')
  }
  let o = 2
  let end = b.length
  const need = (n: number, field: string): void => { if (o + n > end) throw new DecodeError(field, o, `need ${n} bytes, have ${end - o}`) }
  const u16 = (field: string): number => { need(2, field); const v = (b[o]! << 8) | b[o + 1]!; o += 2; return v }
  if (hasLength) {
    const length = u16('l2tp.length')
    if (length > b.length) throw new DecodeError('l2tp.length', 2, `declares ${length}, datagram has ${b.length}`)
    end = length
  }
  const tunnelId = u16('l2tp.tunnelId')
  const sessionId = u16('l2tp.sessionId')
  let ns: number | undefined, nr: number | undefined
  if (hasSeq) { ns = u16('l2tp.ns'); nr = u16('l2tp.nr') }
  if (hasOffset) {
    const size = u16('l2tp.offsetSize')
    need(size, 'l2tp.offset')
    o += size
  }
  if (o > end) throw new DecodeError('l2tp.length', 2, `declares ${end}, header needs ${o}`)
  const payload = b.subarray(o, end)
  if (isControl) return { header: { type: 'control', tunnelId, sessionId, ns: ns!, nr: nr! }, payload }
  return { header: { type: 'data', tunnelId, sessionId, ns, nr, priority: (w & HeaderBits.P) !== 0 }, payload }
}

/**
 * Encodes a control message: T, L, S set, O and P clear, Ver 2 (§3.1 MUSTs), then `body` (the
 * encoded AVPs; empty for a ZLB acknowledgment, §5.8). Throws RangeError above 65535 octets.
 */
export function encodeControl(h: Omit<ControlHeader, 'type'>, body: Uint8Array): Uint8Array {
  const len = CONTROL_HEADER_LENGTH + body.length
  if (len > 0xffff) throw new RangeError(`L2TP control message of ${len} octets`)
  const out = new Uint8Array(len)
  const w = HeaderBits.T | HeaderBits.L | HeaderBits.S | L2TP_VERSION
  out[0] = w >>> 8; out[1] = w & 0xff
  out[2] = len >>> 8; out[3] = len & 0xff
  put16(out, 4, h.tunnelId); put16(out, 6, h.sessionId)
  put16(out, 8, h.ns); put16(out, 10, h.nr)
  out.set(body, CONTROL_HEADER_LENGTH)
  return out
}

/** Options of a data header we send: no Length (§3.1 optional), Ns only when sequencing is on. */
export interface DataHeaderFields {
  readonly tunnelId: number
  readonly sessionId: number
  /** Sequence number to send (S bit set, Nr written as 0: reserved in data messages). */
  readonly ns?: number | undefined
  readonly priority?: boolean | undefined
}

/** Header length of a data message with these fields. */
export function dataHeaderLength(h: DataHeaderFields): number { return 6 + (h.ns !== undefined ? 4 : 0) }

/**
 * Writes a data header followed by `frame` (a PPP frame starting at Address/Control or Protocol)
 * into `target` at `offset`; returns the number of octets written. Throws RangeError if it does not fit.
 */
export function encodeDataInto(target: Uint8Array, offset: number, h: DataHeaderFields, frame: Uint8Array): number {
  const hl = dataHeaderLength(h)
  if (offset + hl + frame.length > target.length) throw new RangeError('L2TP data target buffer too small')
  let w = L2TP_VERSION
  if (h.ns !== undefined) w |= HeaderBits.S
  if (h.priority) w |= HeaderBits.P
  put16(target, offset, w)
  put16(target, offset + 2, h.tunnelId); put16(target, offset + 4, h.sessionId)
  if (h.ns !== undefined) { put16(target, offset + 6, h.ns); put16(target, offset + 8, 0) }
  target.set(frame, offset + hl)
  return hl + frame.length
}

/** Allocating form of encodeDataInto. */
export function encodeData(h: DataHeaderFields, frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(dataHeaderLength(h) + frame.length)
  encodeDataInto(out, 0, h, frame)
  return out
}

function put16(b: Uint8Array, o: number, v: number): void { b[o] = (v >>> 8) & 0xff; b[o + 1] = v & 0xff }
