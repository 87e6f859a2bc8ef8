// SSTP packet header and data packets: [MS-SSTP] §2.2.1 (header), §2.2.2 (control packet), §2.2.3 (data packet).
// The header is 4 bytes; Length (12 bits) counts the whole packet, header included, so a packet is at most 4095 bytes.
import { ByteReader } from '../lib/bytes.js'
import { DecodeError } from '../lib/errors.js'

/*  [MS-SSTP] §2.2.1 SSTP packet header
    0                   1                   2                   3
    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |    Version    |  Reserved   |C|   R   |   Length (12 bits)    |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |  Data (PPP frame) or control message (Message Type, Num Attributes, Attributes) ...
*/

/** §2.2.1: "MUST be 0x10" (major 1, minor 0). */
export const SSTP_VERSION = 0x10
export const SSTP_HEADER_LENGTH = 4
/** The 12-bit Length field bounds every packet, header included. */
export const SSTP_MAX_PACKET_LENGTH = 0xfff
/** Largest payload (PPP frame or control body) one packet can carry. */
export const SSTP_MAX_PAYLOAD = SSTP_MAX_PACKET_LENGTH - SSTP_HEADER_LENGTH

export interface SstpPacketHeader {
  readonly control: boolean
  /** Whole packet length, header included (4..4095). */
  readonly length: number
}

/**
 * Reads and checks the 4-byte header at `offset`. Throws DecodeError for a version other than 0x10 or a Length
 * below 4 (either makes the stream undelineable: §3.1.5.1 says abort without a message). Reserved bits are ignored
 * ("MUST be ignored on receipt", §2.2.1).
 */
export function decodePacketHeader(buf: Uint8Array, offset = 0): SstpPacketHeader {
  const r = new ByteReader(buf, offset)
  const version = r.u8('sstp.version')
  if (version !== SSTP_VERSION) throw new DecodeError('sstp.version', offset, `version 0x${version.toString(16)} is not 0x10`)
  const c = r.u8('sstp.flags') & 0x01
  const length = r.u16('sstp.length') & 0x0fff
  if (length < SSTP_HEADER_LENGTH) throw new DecodeError('sstp.length', offset + 2, `length ${length} below the 4-byte header`)
  return { control: c === 1, length }
}

/** Writes a header into `target` at `offset` (no bounds beyond the target's own). */
export function writePacketHeader(target: Uint8Array, offset: number, control: boolean, length: number): void {
  if (length < SSTP_HEADER_LENGTH || length > SSTP_MAX_PACKET_LENGTH) throw new RangeError(`SSTP packet length ${length} out of range`)
  target[offset] = SSTP_VERSION
  target[offset + 1] = control ? 1 : 0
  target[offset + 2] = (length >>> 8) & 0x0f
  target[offset + 3] = length & 0xff
}

/**
 * §2.2.3 data packet: header with C = 0, then the PPP frame exactly as PPP produced it. The frame keeps its
 * Address/Control bytes (FF 03) unless ACFC was negotiated — SSTP does not strip or add them; the PPP link
 * accepts both forms (src/ppp/types.ts handleFrame).
 * Writes into `target` at `offset` and returns the number of bytes written (frame length + 4). Hot path: no
 * allocation. Throws RangeError if the frame exceeds 4091 bytes or the target is too small (our bug, not peer input).
 */
export function encodeDataPacketInto(target: Uint8Array, offset: number, pppFrame: Uint8Array): number {
  const length = pppFrame.length + SSTP_HEADER_LENGTH
  if (offset + length > target.length) throw new RangeError('encodeDataPacketInto: target too small')
  writePacketHeader(target, offset, false, length)
  target.set(pppFrame, offset + SSTP_HEADER_LENGTH)
  return length
}

/** A fresh data packet carrying `pppFrame` (one allocation). */
export function encodeDataPacket(pppFrame: Uint8Array): Uint8Array {
  const out = new Uint8Array(pppFrame.length + SSTP_HEADER_LENGTH)
  encodeDataPacketInto(out, 0, pppFrame)
  return out
}

/** The part after the header of a whole packet (a view). */
export function packetPayload(packet: Uint8Array): Uint8Array {
  return packet.subarray(SSTP_HEADER_LENGTH)
}
