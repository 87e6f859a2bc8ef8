// Enhanced GRE header codec of PPTP, RFC 2637 §4.1 (a GRE variant, RFC 1701 layout with Ver=1 and
// the Key split into Payload Length + Call ID). Pure functions; decoders throw DecodeError only.
import { DecodeError } from '../../lib/errors.js'

/*
 * RFC 2637 §4.1:
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |    Key (HW) Payload Length    |       Key (LW) Call ID        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                  Sequence Number (Optional)                   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |               Acknowledgment Number (Optional)                |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

/** Bits and constants of the §4.1 header, named as the RFC names them. */
export const GreBits = {
  /** First octet. */
  C: 0x80, R: 0x40, K: 0x20, S: 0x10, s: 0x08, Recur: 0x07,
  /** Second octet: A, then Flags (bits 9-12), then Ver (bits 13-15). */
  A: 0x80, Flags: 0x78, Ver: 0x07,
} as const

export const GRE_VERSION_ENHANCED = 1
/** §4.1 "Protocol Type: Set to hex 880B" (PPP). */
export const GRE_PROTOCOL_PPP = 0x880b
/** Fixed part: flags/version, protocol, key. */
export const GRE_BASE_HEADER_LENGTH = 8
/** Largest header: base + sequence + acknowledgment numbers. */
export const GRE_MAX_HEADER_LENGTH = 16
/** Payload Length is 16 bits. */
export const GRE_MAX_PAYLOAD = 0xffff

/**
 * One enhanced GRE packet. `sequenceNumber` is present on every data packet (S=1); a packet
 * without it is acknowledgment-only (§4.1: S "Set to zero (0) if payload is not present") and
 * then carries `acknowledgmentNumber`. `payload` is a view into the decoded buffer (no copy).
 */
export interface GrePacket {
  /** §4.1 "Call ID: Contains the Peer's Call ID for the session to which this packet belongs." */
  readonly callId: number
  readonly sequenceNumber: number | undefined
  readonly acknowledgmentNumber: number | undefined
  /** A PPP frame without flags or FCS (§4.1); empty for an ack-only packet. */
  readonly payload: Uint8Array
}

/** Header length for a packet with these optional fields. */
export function greHeaderLength(hasSequence: boolean, hasAck: boolean): number {
  return GRE_BASE_HEADER_LENGTH + (hasSequence ? 4 : 0) + (hasAck ? 4 : 0)
}

/** Total encoded length of `p`. */
export function encodedGreLength(p: GrePacket): number {
  return greHeaderLength(p.sequenceNumber !== undefined, p.acknowledgmentNumber !== undefined) + p.payload.length
}

/**
 * Decodes one enhanced GRE packet (the bytes after the IPv4 header). Structure first, then the
 * MUSTs of §4.1; anything else throws DecodeError naming the field:
 * gre.C / gre.R / gre.K / gre.s / gre.Recur / gre.Flags / gre.Ver / gre.protocol (header bits),
 * gre.payloadLength (declared length does not match the bytes), gre.A (ack-only without an
 * acknowledgment number), gre.S (a payload without a sequence number), or a short read.
 */
export function decodeGre(b: Uint8Array): GrePacket {
  if (b.length < GRE_BASE_HEADER_LENGTH) throw new DecodeError('gre.header', 0, `need ${GRE_BASE_HEADER_LENGTH} bytes, have ${b.length}`)
  const f0 = b[0]!, f1 = b[1]!
  // §4.1: C, R, s and Recur "Set to zero (0)"; K "Set to one (1)"; Flags "Must be set to zero";
  // Ver "Must contain 1 (enhanced GRE)". Linux and pptpd discard such packets the same way.
  if (f0 & GreBits.C) throw new DecodeError('gre.C', 0, 'checksum present bit set')
  if (f0 & GreBits.R) throw new DecodeError('gre.R', 0, 'routing present bit set')
  if (!(f0 & GreBits.K)) throw new DecodeError('gre.K', 0, 'key present bit clear')
  if (f0 & GreBits.s) throw new DecodeError('gre.s', 0, 'strict source route bit set')
  if (f0 & GreBits.Recur) throw new DecodeError('gre.Recur', 0, `recursion control ${f0 & GreBits.Recur}`)
  if (f1 & GreBits.Flags) throw new DecodeError('gre.Flags', 1, `flags 0x${((f1 & GreBits.Flags) >> 3).toString(16)}`)
  if ((f1 & GreBits.Ver) !== GRE_VERSION_ENHANCED) throw new DecodeError('gre.Ver', 1, `version ${f1 & GreBits.Ver}`)
  const protocol = (b[2]! << 8) | b[3]!
  if (protocol !== GRE_PROTOCOL_PPP) throw new DecodeError('gre.protocol', 2, `protocol type 0x${protocol.toString(16).padStart(4, '0')}`)
  const payloadLength = (b[4]! << 8) | b[5]!
  const callId = (b[6]! << 8) | b[7]!
  const hasSeq = (f0 & GreBits.S) !== 0
  const hasAck = (f1 & GreBits.A) !== 0
  const headerLength = greHeaderLength(hasSeq, hasAck)
  if (b.length < headerLength) throw new DecodeError(hasSeq && b.length < 12 ? 'gre.sequenceNumber' : 'gre.acknowledgmentNumber', b.length, `header needs ${headerLength} bytes, have ${b.length}`)
  let o = GRE_BASE_HEADER_LENGTH
  let sequenceNumber: number | undefined
  let acknowledgmentNumber: number | undefined
  if (hasSeq) { sequenceNumber = u32(b, o); o += 4 }
  if (hasAck) { acknowledgmentNumber = u32(b, o); o += 4 }
  // The raw socket hands us the IP payload trimmed to the IP total length, so extra bytes are
  // not link padding: a length that disagrees either way is a malformed packet.
  if (b.length - o !== payloadLength) throw new DecodeError('gre.payloadLength', 4, `declares ${payloadLength} bytes, packet carries ${b.length - o}`)
  if (!hasSeq && payloadLength !== 0) throw new DecodeError('gre.S', 0, 'payload without a sequence number')
  if (!hasSeq && !hasAck) throw new DecodeError('gre.A', 1, 'acknowledgment-only packet without an acknowledgment number')
  return { callId, sequenceNumber, acknowledgmentNumber, payload: b.subarray(o) }
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!)
}

/**
 * Writes the header for a payload of `payloadLength` bytes at `target[offset]` and returns the
 * header length. Pass `seq`/`ack` as -1 to omit them (S=0 / A=0). Hot path: no allocation.
 * Throws RangeError (our bug, never peer input) for out-of-range values or a short target.
 */
export function encodeGreHeaderInto(target: Uint8Array, offset: number, callId: number, payloadLength: number, seq: number, ack: number): number {
  const hasSeq = seq >= 0, hasAck = ack >= 0
  const n = greHeaderLength(hasSeq, hasAck)
  if (offset < 0 || offset + n > target.length) throw new RangeError(`GRE header needs ${n} bytes at offset ${offset} of ${target.length}`)
  if (!(callId >= 0 && callId <= 0xffff) || !(payloadLength >= 0 && payloadLength <= GRE_MAX_PAYLOAD)) throw new RangeError(`GRE call id ${callId} or payload length ${payloadLength} out of range`)
  if (seq > 0xffffffff || ack > 0xffffffff) throw new RangeError('GRE sequence/acknowledgment number above 2^32-1')
  if (!hasSeq && payloadLength !== 0) throw new RangeError('GRE payload needs a sequence number (RFC 2637 §4.1 S bit)')
  if (!hasSeq && !hasAck) throw new RangeError('GRE packet needs a sequence or an acknowledgment number')
  target[offset] = GreBits.K | (hasSeq ? GreBits.S : 0)
  target[offset + 1] = (hasAck ? GreBits.A : 0) | GRE_VERSION_ENHANCED
  target[offset + 2] = GRE_PROTOCOL_PPP >> 8
  target[offset + 3] = GRE_PROTOCOL_PPP & 0xff
  target[offset + 4] = payloadLength >> 8
  target[offset + 5] = payloadLength & 0xff
  target[offset + 6] = callId >> 8
  target[offset + 7] = callId & 0xff
  let o = offset + GRE_BASE_HEADER_LENGTH
  if (hasSeq) { putU32(target, o, seq); o += 4 }
  if (hasAck) { putU32(target, o, ack); o += 4 }
  return n
}

function putU32(t: Uint8Array, o: number, v: number): void {
  t[o] = (v >>> 24) & 0xff; t[o + 1] = (v >>> 16) & 0xff; t[o + 2] = (v >>> 8) & 0xff; t[o + 3] = v & 0xff
}

/** Encodes `p` into `target` at `offset`; returns the bytes written. Throws RangeError if it does not fit. */
export function encodeGreInto(p: GrePacket, target: Uint8Array, offset = 0): number {
  const total = encodedGreLength(p)
  if (offset + total > target.length) throw new RangeError(`GRE packet needs ${total} bytes at offset ${offset} of ${target.length}`)
  const h = encodeGreHeaderInto(target, offset, p.callId, p.payload.length, p.sequenceNumber ?? -1, p.acknowledgmentNumber ?? -1)
  target.set(p.payload, offset + h)
  return total
}

/** Encodes `p` into a fresh buffer. */
export function encodeGre(p: GrePacket): Uint8Array {
  const out = new Uint8Array(encodedGreLength(p))
  encodeGreInto(p, out, 0)
  return out
}
