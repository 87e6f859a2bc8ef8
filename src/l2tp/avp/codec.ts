// Control message bodies as AVP lists, RFC 2661 §4.1 (AVP format), §4.3 (hidden AVPs) and §4.4.1
// (Message Type first). Structure only: which AVPs a message must carry is checked by rules.ts.
import { DecodeError } from '../../lib/errors.js'
import { ByteWriter } from '../../lib/bytes.js'
import { AvpType } from './constants.js'
import { hideAvpValue, revealAvpValue } from './hidden.js'
import { AVP_BY_NAME, AVP_BY_TYPE, AVP_TABLE, MAX_AVP_VALUE, decodeAvpValue } from './table.js'
import type { AvpFields, AvpName } from './table.js'

/*
 * RFC 2661 §4.1:
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |M|H| rsvd  |      Length       |           Vendor ID           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Attribute Type        |        Attribute Value...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *                       [until Length is reached]...                |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

export const AvpBits = { M: 0x8000, H: 0x4000, Reserved: 0x3c00, Length: 0x03ff } as const
export const AVP_HEADER_LENGTH = 6

/** One AVP as it sits on the wire; `value` is a view into the decoded buffer (still hidden if H is set). */
export interface RawAvp {
  readonly mandatory: boolean
  readonly hidden: boolean
  /** The four reserved bits; §4.1: an AVP with any of them set "MUST be treated as an unrecognized AVP". */
  readonly reserved: number
  readonly vendorId: number
  readonly type: number
  readonly value: Uint8Array
}

/**
 * Splits a control message body into AVPs. Throws DecodeError('avp.length', offset) when an AVP
 * Length is below 6 (§4.1 "The minimum Length of an AVP is 6") or runs past the body.
 */
export function decodeRawAvps(body: Uint8Array): RawAvp[] {
  const out: RawAvp[] = []
  let o = 0
  while (o < body.length) {
    if (body.length - o < AVP_HEADER_LENGTH) throw new DecodeError('avp.length', o, `${body.length - o} trailing octets`)
    const w = (body[o]! << 8) | body[o + 1]!
    const len = w & AvpBits.Length
    if (len < AVP_HEADER_LENGTH || o + len > body.length) throw new DecodeError('avp.length', o, `Length ${len} with ${body.length - o} octets left`)
    out.push({
      mandatory: (w & AvpBits.M) !== 0, hidden: (w & AvpBits.H) !== 0, reserved: (w & AvpBits.Reserved) >>> 10,
      vendorId: (body[o + 2]! << 8) | body[o + 3]!, type: (body[o + 4]! << 8) | body[o + 5]!,
      value: body.subarray(o + AVP_HEADER_LENGTH, o + len),
    })
    o += len
  }
  return out
}

/** Writes one AVP (header + value). Throws RangeError when the value exceeds 1017 octets (our bug). */
export function writeAvp(w: ByteWriter, a: Omit<RawAvp, 'reserved'>): void {
  if (a.value.length > MAX_AVP_VALUE) throw new RangeError(`AVP ${a.vendorId}/${a.type} value of ${a.value.length} octets`)
  w.u16((a.mandatory ? AvpBits.M : 0) | (a.hidden ? AvpBits.H : 0) | (AVP_HEADER_LENGTH + a.value.length))
  w.u16(a.vendorId).u16(a.type).bytes(a.value)
}

/** A parsed control message (a body that is not a ZLB). */
export interface ControlMessage {
  readonly messageType: number
  /** The M bit of the Message Type AVP: §4.4.1 an unknown type with M set clears the tunnel. */
  readonly messageTypeMandatory: boolean
  /** Every recognized AVP's value, revealed if it was hidden; the first of duplicates wins. */
  readonly fields: Readonly<Partial<AvpFields>>
  /** Unrecognized AVPs (unknown type, a Vendor ID other than 0, or reserved bits set), kept raw. */
  readonly unrecognized: readonly RawAvp[]
  /** Names of the AVPs that arrived hidden. */
  readonly hidden: readonly AvpName[]
}

export interface DecodeBodyOptions {
  /** The tunnel's shared secret, needed to reveal hidden AVPs (§4.3). */
  readonly secret?: Uint8Array | undefined
}

/**
 * Parses a control message body. Throws DecodeError naming the field when: the body is empty or
 * its first AVP is not the Message Type (§4.4.1 "The Message Type AVP MUST be the first AVP in a
 * message"); an AVP Length is wrong (avp.length); a known AVP's value length is outside its row
 * (avp.<name>); a hidden AVP arrives without a secret or before any Random Vector (avp.hidden,
 * avp.randomVector: §4.3 the Random Vector "MUST precede the first AVP having an H bit of 1"),
 * or reveals to garbage (avp.hidden). Unknown AVPs, mandatory or not, are not errors here.
 */
export function decodeControlBody(body: Uint8Array, opts: DecodeBodyOptions = {}): ControlMessage {
  const raw = decodeRawAvps(body)
  const first = raw[0]
  if (!first || first.vendorId !== 0 || first.type !== AvpType.MessageType || first.reserved !== 0 || first.hidden) {
    throw new DecodeError('avp.messageType', 0, 'the first AVP is not an unhidden Message Type')
  }
  const fields: Record<string, unknown> = {}
  const unrecognized: RawAvp[] = []
  const hidden: AvpName[] = []
  let randomVector: Uint8Array | undefined
  for (const a of raw) {
    const spec = a.vendorId === 0 && a.reserved === 0 ? AVP_BY_TYPE.get(a.type) : undefined
    if (!spec) { unrecognized.push(a); continue }
    let value = a.value
    if (a.hidden) {
      if (spec.name === 'randomVector') throw new DecodeError('avp.randomVector', 0, 'a hidden Random Vector')
      if (!opts.secret) throw new DecodeError('avp.hidden', 0, `hidden ${spec.name} without a shared secret`)
      if (!randomVector) throw new DecodeError('avp.randomVector', 0, `hidden ${spec.name} before any Random Vector`)
      value = revealAvpValue(a.type, a.value, opts.secret, randomVector)
      hidden.push(spec.name)
    }
    const decoded = decodeAvpValue(spec, value)
    // §4.3: a later Random Vector applies to the hidden AVPs after it.
    if (spec.name === 'randomVector') randomVector = decoded as Uint8Array
    if (!(spec.name in fields)) fields[spec.name] = decoded
  }
  return { messageType: fields.messageType as number, messageTypeMandatory: first.mandatory, fields: fields as Partial<AvpFields>, unrecognized, hidden }
}

export interface EncodeBodyOptions {
  /** AVPs to send hidden (§4.3); needs `secret` and `randomVector`. */
  readonly hide?: readonly AvpName[] | undefined
  readonly secret?: Uint8Array | undefined
  /** Random octets for the Random Vector AVP (fresh per message, from the core's Rng). */
  readonly randomVector?: Uint8Array | undefined
  /** Extra raw AVPs (vendor-specific) appended after the table's. */
  readonly extra?: readonly Omit<RawAvp, 'reserved'>[] | undefined
}

/**
 * Encodes a control message body: Message Type first (§4.4.1), then a Random Vector when anything
 * is hidden (§4.3 it precedes the first hidden AVP), then every present field in table order with
 * the M bit of its row. Throws RangeError for our own mistakes: a value outside its row's lengths,
 * hiding an AVP the RFC says must not be hidden, hiding without a secret or a random vector.
 */
export function encodeControlBody(fields: Readonly<Partial<AvpFields>> & { readonly messageType: number }, opts: EncodeBodyOptions = {}): Uint8Array {
  const hide = new Set(opts.hide ?? [])
  if (hide.size > 0 && (!opts.secret || !opts.randomVector || opts.randomVector.length === 0)) throw new RangeError('hidden AVPs need a secret and a random vector')
  const w = new ByteWriter(128)
  const put = (name: AvpName, value: unknown): void => {
    const spec = AVP_BY_NAME.get(name)!
    let bytes = (spec.encode as (x: unknown) => Uint8Array)(value)
    if (bytes.length < spec.minLength || bytes.length > spec.maxLength) throw new RangeError(`AVP ${name}: value of ${bytes.length} octets`)
    const h = hide.has(name)
    if (h) {
      if (!spec.hideable) throw new RangeError(`AVP ${name} must not be hidden (§4.4)`)
      bytes = hideAvpValue(spec.type, bytes, opts.secret!, opts.randomVector!)
    }
    writeAvp(w, { mandatory: spec.mandatory, hidden: h, vendorId: 0, type: spec.type, value: bytes })
  }
  put('messageType', fields.messageType)
  if (hide.size > 0) put('randomVector', opts.randomVector)
  for (const spec of AVP_TABLE) {
    if (spec.name === 'messageType' || (spec.name === 'randomVector' && hide.size > 0)) continue
    const v = fields[spec.name]
    if (v !== undefined) put(spec.name, v)
  }
  for (const a of opts.extra ?? []) writeAvp(w, a)
  return w.finish()
}
