// MPPE data packet header (RFC 3078 §3): the A/B/C/D bits and the 12-bit coherency count that precede
// the encrypted PPP Protocol field and payload, carried in a PPP frame of protocol 0x00FD.
import { DecodeError } from '../../lib/errors.js'

/** PPP protocol number of an MPPE-encrypted (CCP "compressed") datagram, RFC 1962 §1 / RFC 3078 §3. */
export const MPPE_PROTOCOL = 0x00fd
/** Bytes the header adds; the encrypted part is the same length as the plaintext (RC4 is a stream cipher). */
export const MPPE_HEADER_LENGTH = 2
/** Coherency counts run modulo 4096 (12 bits, RFC 3078 §3). */
export const COHERENCY_SPACE = 4096

/** Flag bits in the first header octet (RFC 3078 §3). */
export const MppeFlag = {
  /** A: "flushed" — the RC4 table was reinitialised for this packet. */
  Flushed: 0x80,
  /** B: MPPC "packet at front" (compression only; never set by us). */
  AtFront: 0x40,
  /** C: MPPC compressed (we never negotiate MPPC). */
  Compressed: 0x20,
  /** D: "encrypted" — MUST be set on every MPPE packet. */
  Encrypted: 0x10,
} as const

/*
 *    0                   1
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |A|B|C|D|    Coherency Count    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |        Encrypted Data ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export interface MppeHeader {
  readonly flags: number // the four high bits of octet 0 (MppeFlag values)
  readonly coherencyCount: number // 0..4095
}

/** Reads the header of an MPPE packet (bytes after the 0x00FD protocol field). Throws DecodeError if short. */
export function decodeMppeHeader(data: Uint8Array): MppeHeader {
  if (data.length < MPPE_HEADER_LENGTH) throw new DecodeError('mppe.header', 0, `packet of ${data.length} bytes`)
  const b0 = data[0]!
  return { flags: b0 & 0xf0, coherencyCount: ((b0 & 0x0f) << 8) | data[1]! }
}

/** Writes the two header octets at out[0..1]. coherencyCount is taken modulo 4096. */
export function encodeMppeHeaderInto(out: Uint8Array, flags: number, coherencyCount: number): void {
  if (out.length < MPPE_HEADER_LENGTH) throw new RangeError('MPPE output buffer shorter than the header')
  const cc = coherencyCount & 0x0fff
  out[0] = (flags & 0xf0) | (cc >>> 8)
  out[1] = cc & 0xff
}
