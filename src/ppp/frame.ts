// PPP frame codec for carriers without HDLC framing (SSTP, PPTP/GRE, L2TP): RFC 1661 §2 (Protocol
// field, PFC §6.5), RFC 1662 §3.1 (Address/Control FF 03, ACFC §6.6). No flags, FCS or escaping here.
import { DecodeError } from '../lib/errors.js'

/** PPP protocol numbers (IANA "PPP DLL Protocol Numbers"), named as the RFCs name them. */
export const PppProtocol = {
  IPv4: 0x0021, // RFC 1332
  IPv6: 0x0057, // RFC 5072
  LCP: 0xc021, // RFC 1661
  PAP: 0xc023, // RFC 1334
  LQR: 0xc025, // RFC 1989
  CHAP: 0xc223, // RFC 1994
  EAP: 0xc227, // RFC 3748
  IPCP: 0x8021, // RFC 1332
  IPV6CP: 0x8057, // RFC 5072
  CCP: 0x80fd, // RFC 1962
  CompressedData: 0x00fd, // RFC 1962 (MPPE-carried data)
  MP: 0x003d, // RFC 1990 multilink
  BACP: 0xc02b, // RFC 2125
} as const
export type PppProtocolNumber = (typeof PppProtocol)[keyof typeof PppProtocol]

/** A decoded frame. `info` is a view into the input buffer (no copy). */
export interface PppFrame {
  readonly protocol: number
  readonly info: Uint8Array
  /** The Address/Control fields were absent (ACFC form). */
  readonly acfcUsed: boolean
  /** The Protocol field was one byte (PFC form). */
  readonly pfcUsed: boolean
}

/** Header compression we may apply when sending: set from options the peer asked for and we Acked. */
export interface FrameCompression {
  readonly acfc: boolean
  readonly pfc: boolean
}

export const NO_COMPRESSION: FrameCompression = { acfc: false, pfc: false }

/**
 * Decodes one frame. Accepts FF 03 or none (RFC 1662 §3.2: receivers accept both once ACFC is in
 * use; being liberal costs nothing). Protocol: RFC 1661 §2 "the least significant bit of the least
 * significant octet is 1, and the least significant bit of the most significant octet is 0", so a
 * first byte with its low bit set is the whole (compressed) field. Throws DecodeError only.
 */
export function decodeFrame(frame: Uint8Array): PppFrame {
  let o = 0
  let acfcUsed = true
  if (frame.length >= 2 && frame[0] === 0xff && frame[1] === 0x03) { o = 2; acfcUsed = false }
  const b0 = frame[o]
  if (b0 === undefined) throw new DecodeError('ppp.protocol', o, 'empty frame')
  let protocol: number
  let pfcUsed: boolean
  if ((b0 & 1) === 1) { protocol = b0; pfcUsed = true; o += 1 } else {
    const b1 = frame[o + 1]
    if (b1 === undefined) throw new DecodeError('ppp.protocol', o, 'truncated protocol field')
    // §2: the low octet must be odd; an even one is not a valid protocol number.
    if ((b1 & 1) === 0) throw new DecodeError('ppp.protocol', o, 'protocol low octet is even')
    protocol = (b0 << 8) | b1
    pfcUsed = false
    o += 2
  }
  return { protocol, info: frame.subarray(o), acfcUsed, pfcUsed }
}

/** Header length encodeFrameInto writes for this protocol and compression. */
export function frameHeaderLength(protocol: number, c: FrameCompression): number {
  return (useAcfc(protocol, c) ? 0 : 2) + (usePfc(protocol, c) ? 1 : 2)
}

// RFC 1661 §6.6: "the Address and Control fields MUST NOT be compressed when sending any LCP packet".
function useAcfc(protocol: number, c: FrameCompression): boolean { return c.acfc && protocol !== PppProtocol.LCP }
// RFC 1661 §6.5: only protocol numbers below 0x100 have a one-octet form.
function usePfc(protocol: number, c: FrameCompression): boolean { return c.pfc && protocol < 0x100 }

/** Writes the header into `out` at 0 and returns its length; `out` must have room for 4 bytes. */
export function encodeFrameHeaderInto(out: Uint8Array, protocol: number, c: FrameCompression = NO_COMPRESSION): number {
  let o = 0
  if (!useAcfc(protocol, c)) { out[o++] = 0xff; out[o++] = 0x03 }
  if (usePfc(protocol, c)) out[o++] = protocol & 0xff
  else { out[o++] = (protocol >>> 8) & 0xff; out[o++] = protocol & 0xff }
  return o
}

/** A new frame: header + info (one allocation). */
export function encodeFrame(protocol: number, info: Uint8Array, c: FrameCompression = NO_COMPRESSION): Uint8Array {
  const h = frameHeaderLength(protocol, c)
  const out = new Uint8Array(h + info.length)
  encodeFrameHeaderInto(out, protocol, c)
  out.set(info, h)
  return out
}
