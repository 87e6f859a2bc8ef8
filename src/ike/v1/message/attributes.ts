// ISAKMP data attributes (RFC 2408 §3.3) in both forms: TV (AF=1, a 16-bit value in the header) and
// TLV (AF=0, a length and that many bytes). Used by Transform payloads (§3.6) for Oakley and IPsec DOI.
import type { ByteReader, ByteWriter } from '../../../lib/bytes.js'
import { DecodeError } from '../../../lib/errors.js'

/*  RFC 2408 §3.3 Data Attributes
                         1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    !A!       Attribute Type        !    AF=0  Attribute Length     !
    !F!                             !    AF=1  Attribute Value      !
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    .                   AF=0  Attribute Value                       .
    .                   AF=1  Not Transmitted                       .
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
*/

/**
 * One attribute. A number value is the TV form (0..0xffff); a Uint8Array value is the TLV form. The
 * form is kept so a decoded transform re-encodes to the same bytes (a responder echoes the chosen
 * transform unchanged, RFC 2408 §4.2).
 */
export interface IsakmpAttribute {
  /** 15-bit attribute type (the AF bit is not part of it). */
  readonly type: number
  readonly value: number | Uint8Array
}

const AF = 0x8000

/** Reads attributes until the reader is exhausted. TLV values are copies. */
export function decodeAttributes(r: ByteReader, field: string): IsakmpAttribute[] {
  const out: IsakmpAttribute[] = []
  while (r.remaining > 0) {
    const t = r.u16(`${field}.type`)
    if (t & AF) { out.push({ type: t & 0x7fff, value: r.u16(`${field}.value`) }); continue }
    const n = r.u16(`${field}.length`)
    out.push({ type: t, value: new Uint8Array(r.bytes(n, `${field}.value`)) })
  }
  return out
}

export function encodeAttributes(w: ByteWriter, attrs: readonly IsakmpAttribute[]): void {
  for (const a of attrs) {
    if (!Number.isInteger(a.type) || a.type < 0 || a.type > 0x7fff) throw new RangeError(`attribute type ${a.type} out of range`)
    if (typeof a.value === 'number') {
      if (!Number.isInteger(a.value) || a.value < 0 || a.value > 0xffff) throw new RangeError(`TV attribute ${a.type} value ${a.value} does not fit 16 bits`)
      w.u16(a.type | AF).u16(a.value)
    } else {
      if (a.value.length > 0xffff) throw new RangeError(`TLV attribute ${a.type} too long`)
      w.u16(a.type).u16(a.value.length).bytes(a.value)
    }
  }
}

/** Bytes an attribute list takes on the wire. */
export function attributesLength(attrs: readonly IsakmpAttribute[]): number {
  let n = 0
  for (const a of attrs) n += typeof a.value === 'number' ? 4 : 4 + a.value.length
  return n
}

/**
 * The attribute's value as an unsigned integer whichever form carried it (Life Duration is "V" in
 * RFC 2409 Appendix A and arrives as TV or as a 4-byte TLV). Undefined for TLV values longer than
 * 6 bytes (beyond exact JavaScript integers) and for empty ones.
 */
export function attributeNumber(a: IsakmpAttribute): number | undefined {
  if (typeof a.value === 'number') return a.value
  if (a.value.length === 0 || a.value.length > 6) return undefined
  let v = 0
  for (const b of a.value) v = v * 256 + b
  return v
}

/** The first attribute of `type`, if any. */
export function findAttribute(attrs: readonly IsakmpAttribute[], type: number): IsakmpAttribute | undefined {
  return attrs.find((a) => a.type === type)
}

/** Builds an attribute in the shortest form: TV when the value fits 16 bits, else a 4-byte TLV (RFC 2409 App. A "V"). */
export function numericAttribute(type: number, value: number): IsakmpAttribute {
  if (value <= 0xffff) return { type, value }
  if (!Number.isInteger(value) || value > 0xffffffff) throw new RangeError(`attribute ${type} value ${value} out of range`)
  return { type, value: new Uint8Array([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]) }
}

/** Throws DecodeError if a reader still has bytes: used where a structure must fill its container. */
export function expectEnd(r: ByteReader, field: string): void {
  if (r.remaining !== 0) throw new DecodeError(field, r.offset, `${r.remaining} unexpected trailing bytes`)
}
