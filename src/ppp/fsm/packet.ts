// PPP control packets shared by LCP and the NCPs: RFC 1661 §5 (Code, Identifier, Length, Data) and
// the Configuration Option TLV list of §6 / RFC 1332 §3, kept raw so unknown options can be rejected.
import { ByteReader, ByteWriter, bytesEqual } from '../../lib/bytes.js'
import { DecodeError } from '../../lib/errors.js'

/** RFC 1661 §5 codes (LCP uses all; NCPs only 1..7, RFC 1332 §2). */
export const PppCode = {
  ConfigureRequest: 1,
  ConfigureAck: 2,
  ConfigureNak: 3,
  ConfigureReject: 4,
  TerminateRequest: 5,
  TerminateAck: 6,
  CodeReject: 7,
  ProtocolReject: 8,
  EchoRequest: 9,
  EchoReply: 10,
  DiscardRequest: 11,
} as const

/*
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |     Code      |  Identifier   |            Length             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |    Data ...
 */
export interface ControlPacket {
  readonly code: number
  readonly identifier: number
  /** The Data field (a view into the input when decoded). */
  readonly data: Uint8Array
}

/**
 * Decodes one control packet from a frame's Information field. RFC 1661 §5: "Octets outside the
 * range of the Length field are treated as padding and are ignored"; a Length larger than the
 * packet means it "MUST be silently discarded" (DecodeError here; the caller counts the drop).
 */
export function decodeControlPacket(info: Uint8Array): ControlPacket {
  const r = new ByteReader(info)
  const code = r.u8('code')
  const identifier = r.u8('identifier')
  const length = r.u16('length')
  if (length < 4) throw new DecodeError('length', 2, `length ${length} < 4`)
  if (length > info.length) throw new DecodeError('length', 2, `length ${length} exceeds packet of ${info.length}`)
  return { code, identifier, data: info.subarray(4, length) }
}

export function encodeControlPacket(p: ControlPacket): Uint8Array {
  const w = new ByteWriter(4 + p.data.length)
  w.u8(p.code).u8(p.identifier).u16(4 + p.data.length).bytes(p.data)
  return w.finish()
}

/*
 *   0                   1                   2
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |     Type      |    Length     |    Data ...
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
/** One Configuration Option, data kept raw (Length = data.length + 2). */
export interface PppOption {
  readonly type: number
  readonly data: Uint8Array
}

/** One row of a protocol's option table: total-length bounds (Type and Length octets included). */
export interface OptionSpec {
  readonly name: string
  readonly minLength: number
  readonly maxLength: number
}
export type OptionTable = Readonly<Record<number, OptionSpec>>

/** Splits a Configure-* Data field into options. Throws DecodeError on Length < 2 or overrun. */
export function decodeOptions(data: Uint8Array): PppOption[] {
  const r = new ByteReader(data)
  const out: PppOption[] = []
  while (r.remaining > 0) {
    const at = r.offset
    const type = r.u8('option.type')
    const length = r.u8('option.length')
    if (length < 2) throw new DecodeError('option.length', at + 1, `option ${type} length ${length} < 2`)
    out.push({ type, data: r.bytes(length - 2, `option ${type} data`) })
  }
  return out
}

export function encodeOptions(options: readonly PppOption[]): Uint8Array {
  const w = new ByteWriter(64)
  for (const o of options) {
    if (o.data.length > 253) throw new RangeError(`option ${o.type} data too long`)
    w.u8(o.type).u8(o.data.length + 2).bytes(o.data)
  }
  return w.finish()
}

/** True when the option's total length fits the table row (false for unknown types). */
export function optionLengthOk(table: OptionTable, o: PppOption): boolean {
  const spec = table[o.type]
  const len = o.data.length + 2
  return spec !== undefined && len >= spec.minLength && len <= spec.maxLength
}

export function optionsEqual(a: readonly PppOption[], b: readonly PppOption[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!
    if (x.type !== y.type || !bytesEqual(x.data, y.data)) return false
  }
  return true
}

export function u16Option(type: number, v: number): PppOption { return { type, data: Uint8Array.of(v >>> 8, v & 0xff) } }
export function u32Option(type: number, v: number): PppOption { return { type, data: Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff) } }
export function readU16(d: Uint8Array): number { return ((d[0] ?? 0) << 8) | (d[1] ?? 0) }
export function readU32(d: Uint8Array): number { return (((d[0] ?? 0) << 24) >>> 0) + (((d[1] ?? 0) << 16) | ((d[2] ?? 0) << 8) | (d[3] ?? 0)) }
/** Copies an option out of a packet view (the caller keeps it beyond the input's lifetime). */
export function copyOption(o: PppOption): PppOption { return { type: o.type, data: o.data.slice() } }
