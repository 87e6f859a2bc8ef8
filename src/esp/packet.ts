// ESP packet layout, RFC 4303 §2: the cleartext header (§2.1 SPI, §2.2 Sequence Number) and the
// encrypted trailer (§2.4 Padding, §2.5 Pad Length, §2.6 Next Header). Pure functions; the
// cryptography around them is in transform.ts.
import { DecodeError } from '../lib/errors.js'

/*
 * RFC 4303 §2, Figure 1 (Top-Level Format of an ESP Packet):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
 *   |               Security Parameters Index (SPI)                 | ^Int.
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
 *   |                      Sequence Number                          | |ered
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ | ----
 *   |                    Payload Data* (variable)                   | |   ^
 *   ~                                                               ~ |   |
 *   |                                                               | |Conf.
 *   +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
 *   |               |     Padding (0-255 bytes)                     | |ered*
 *   +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |   |
 *   |                               |  Pad Length   | Next Header   | v   v
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ------
 *   |         Integrity Check Value-ICV   (variable)                |
 *   ~                                                               ~
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Payload Data starts with the algorithm's explicit IV (RFC 3602 §3, RFC 4106 §3).
 */

/** SPI + Sequence Number. */
export const ESP_HEADER_LENGTH = 8
/** Pad Length + Next Header. */
export const ESP_TRAILER_LENGTH = 2
/** §2.4: "The sender MAY add 0 to 255 bytes of padding." */
export const ESP_MAX_PAD_LENGTH = 255
/**
 * §2.1: "The SPI value of zero (0) is reserved for local, implementation-specific use and MUST NOT
 * be sent on the wire", and 1 through 255 are reserved by IANA for future use. So an SPI we
 * allocate is at least 256.
 */
export const ESP_MIN_SPI = 256

/** Next Header values (§2.6, IANA protocol numbers) that Gatehouse's ESP meets. */
export const EspNextHeader = {
  /** Tunnel mode: an IPv4 packet inside (RFC 4303 §3.1.2). */
  IPv4: 4,
  TCP: 6,
  /** Transport mode for L2TP (RFC 3193 §4). */
  UDP: 17,
  IPv6: 41,
  /** §2.6: "the protocol value 59 (which means "no next header") MUST be used to designate a "dummy" packet". */
  NoNextHeader: 59,
} as const

/** The cleartext part of an ESP packet. */
export interface EspHeader {
  readonly spi: number
  readonly sequenceNumber: number
}

/** Reads SPI and Sequence Number; throws DecodeError('esp.header') when fewer than 8 bytes. */
export function decodeEspHeader(packet: Uint8Array): EspHeader {
  if (packet.length < ESP_HEADER_LENGTH) throw new DecodeError('esp.header', 0, `need ${ESP_HEADER_LENGTH} bytes, have ${packet.length}`)
  return { spi: readU32(packet, 0), sequenceNumber: readU32(packet, 4) }
}

/** Writes SPI and Sequence Number at out[at..at+8). */
export function encodeEspHeaderInto(out: Uint8Array, at: number, spi: number, sequenceNumber: number): void {
  writeU32(out, at, spi)
  writeU32(out, at + 4, sequenceNumber)
}

/**
 * The smallest Padding length for a payload of `payloadLength` bytes: §2.4 "the Pad Length and
 * Next Header fields must be right aligned within a 4-byte word", and a block cipher needs
 * whole blocks of Payload Data + Padding + trailer, IV excluded (RFC 3602 §2.4: 16;
 * RFC 2451 §2.3: 8). `blockSize` 1 (AES-GCM, RFC 4106 §3.2) leaves the 4-byte rule.
 */
export function espPadLength(payloadLength: number, blockSize: number): number {
  const align = blockSize > 4 ? blockSize : 4
  const r = (payloadLength + ESP_TRAILER_LENGTH) % align
  return r === 0 ? 0 : align - r
}

/**
 * Writes Padding (§2.4 default contents: "a series of (unsigned, 1-byte) integer values. The first
 * padding byte appended to the plaintext is numbered 1"), Pad Length and Next Header at `at`.
 * Returns the offset after Next Header.
 */
export function writeEspTrailer(out: Uint8Array, at: number, padLength: number, nextHeader: number): number {
  for (let i = 1; i <= padLength; i++) out[at++] = i
  out[at++] = padLength
  out[at++] = nextHeader
  return at
}

/** Why a decrypted plaintext's trailer was refused (stable strings for counters). */
export const EspTrailerFault = {
  /** Fewer than the two trailer bytes. */
  tooShort: 'too-short',
  /** Pad Length points before the start of the plaintext (§2.5). */
  padLength: 'pad-length',
  /** Padding bytes differ from 1, 2, 3, ... (§2.4). */
  padding: 'padding',
} as const
export type EspTrailerFault = (typeof EspTrailerFault)[keyof typeof EspTrailerFault]

/**
 * Checks the trailer of a decrypted plaintext (Payload Data without the IV, Padding, Pad Length,
 * Next Header) and returns the Payload Data length, or a fault. With `checkPadding`, the Padding
 * must be 1, 2, 3, ...: §2.4 "When this padding scheme is employed, the receiver SHOULD inspect
 * the Padding field" (AES-CBC, 3DES and AES-GCM all use the default scheme: RFC 3602 §2.4,
 * RFC 2451 §2.3, RFC 4106 §3.2). The Next Header is `plain[plain.length - 1]`. Never throws.
 */
export function parseEspTrailer(plain: Uint8Array, checkPadding: boolean): number | EspTrailerFault {
  const n = plain.length
  if (n < ESP_TRAILER_LENGTH) return EspTrailerFault.tooShort
  const padLength = plain[n - 2]!
  const payloadLength = n - ESP_TRAILER_LENGTH - padLength
  if (payloadLength < 0) return EspTrailerFault.padLength
  if (checkPadding) {
    for (let i = 0; i < padLength; i++) if (plain[payloadLength + i] !== i + 1) return EspTrailerFault.padding
  }
  return payloadLength
}

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!)
}

export function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff; b[at + 1] = (v >>> 16) & 0xff; b[at + 2] = (v >>> 8) & 0xff; b[at + 3] = v & 0xff
}
