// SSTP control-message attributes as a table: [MS-SSTP] §2.2.4 (attribute format), §2.2.5 Encapsulated Protocol ID,
// §2.2.6 Crypto Binding Request, §2.2.7 Crypto Binding, §2.2.8 Status Info. Unknown IDs are kept raw.
import { ByteReader, ByteWriter } from '../lib/bytes.js'
import { DecodeError } from '../lib/errors.js'

/*  [MS-SSTP] §2.2.4 attribute
    0                   1                   2                   3
    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |   Reserved    | Attribute ID  |   R   |  Length (12 bits)     |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |  Value (Length - 4 bytes) ...
*/

export const SstpAttributeId = {
  NoError: 0x00,
  EncapsulatedProtocolId: 0x01,
  StatusInfo: 0x02,
  CryptoBinding: 0x03,
  CryptoBindingReq: 0x04,
} as const

/** §2.2.5 */
export const SstpEncapsulatedProtocol = { Ppp: 0x0001 } as const

/** §2.2.6: Hash Protocol Bitmask bits (CERT_HASH_PROTOCOL_SHA1 / _SHA256). */
export const SstpHashProtocol = { Sha1: 0x01, Sha256: 0x02 } as const

/** §2.2.8 Status values. */
export const SstpAttribStatus = {
  NoError: 0x00000000,
  DuplicateAttribute: 0x00000001,
  UnrecognizedAttribute: 0x00000002,
  InvalidAttribValueLength: 0x00000003,
  ValueNotSupported: 0x00000004,
  UnacceptedFrameReceived: 0x00000005,
  RetryCountExceeded: 0x00000006,
  InvalidFrameReceived: 0x00000007,
  NegotiationTimeout: 0x00000008,
  AttribNotSupportedInMsg: 0x00000009,
  RequiredAttributeMissing: 0x0000000a,
  StatusInfoNotSupportedInMsg: 0x0000000b,
} as const

export const SSTP_NONCE_LENGTH = 32
/** Cert Hash and Compound MAC fields are 32 bytes; SHA-1 values use the first 20 and zero padding (§2.2.7). */
export const SSTP_HASH_FIELD_LENGTH = 32
export const SSTP_ATTRIBUTE_HEADER_LENGTH = 4

export type SstpAttribute =
  | { readonly attribute: 'encapsulatedProtocolId'; readonly protocolId: number }
  /** §2.2.8: which attribute the status is about, the status, and up to 64 bytes of the offending value. */
  | { readonly attribute: 'statusInfo'; readonly attribId: number; readonly status: number; readonly value: Uint8Array }
  /** §2.2.7: certHash and compoundMac are the full 32-byte fields (SHA-1 fills 20 and pads with zeros). */
  | { readonly attribute: 'cryptoBinding'; readonly hashProtocol: number; readonly nonce: Uint8Array; readonly certHash: Uint8Array; readonly compoundMac: Uint8Array }
  | { readonly attribute: 'cryptoBindingRequest'; readonly hashBitmask: number; readonly nonce: Uint8Array }
  | { readonly attribute: 'unknown'; readonly attributeId: number; readonly value: Uint8Array }

interface AttributeSpec {
  readonly name: SstpAttribute['attribute']
  /** Whole attribute length bounds (header included), from the spec's "Its value MUST be ..." lines. */
  readonly minLength: number
  readonly maxLength: number
  /** Decodes the value (bytes after the 4-byte header); byte fields are copies. */
  readonly decode: (r: ByteReader) => SstpAttribute
  readonly encode: (a: SstpAttribute, w: ByteWriter) => void
}

/** A real copy: `new Uint8Array(view)` copies even when the input is a Node Buffer, whose slice() is a view. */
function copy(b: Uint8Array): Uint8Array { return new Uint8Array(b) }

function fixed(b: Uint8Array, n: number, what: string): Uint8Array {
  if (b.length !== n) throw new RangeError(`${what} must be ${n} bytes, got ${b.length}`)
  return b
}

/** Table keyed by Attribute ID (DESIGN.md §3: TLV families are tables). */
export const SSTP_ATTRIBUTES: Readonly<Record<number, AttributeSpec>> = {
  // §2.2.5: Length "MUST be 6"; Protocol ID 2 bytes.
  [SstpAttributeId.EncapsulatedProtocolId]: {
    name: 'encapsulatedProtocolId', minLength: 6, maxLength: 6,
    decode: (r) => ({ attribute: 'encapsulatedProtocolId', protocolId: r.u16('encapsulatedProtocolId.protocolId') }),
    encode: (a, w) => { if (a.attribute === 'encapsulatedProtocolId') w.u16(a.protocolId) },
  },
  // §2.2.8: Reserved1 (3) + AttribID (1) + Status (4) + AttribValue (0..64): Length 12..76.
  [SstpAttributeId.StatusInfo]: {
    name: 'statusInfo', minLength: 12, maxLength: 76,
    decode: (r) => {
      r.skip(3, 'statusInfo.reserved')
      const attribId = r.u8('statusInfo.attribId')
      const status = r.u32('statusInfo.status')
      return { attribute: 'statusInfo', attribId, status, value: copy(r.rest()) }
    },
    encode: (a, w) => {
      if (a.attribute !== 'statusInfo') return
      if (a.value.length > 64) throw new RangeError('statusInfo value over 64 bytes')
      w.zeros(3).u8(a.attribId).u32(a.status).bytes(a.value)
    },
  },
  // §2.2.7: Length "MUST be 104": Reserved1 (3) + Hash Protocol (1) + Nonce (32) + Cert Hash (32) + Compound MAC (32).
  [SstpAttributeId.CryptoBinding]: {
    name: 'cryptoBinding', minLength: 104, maxLength: 104,
    decode: (r) => {
      r.skip(3, 'cryptoBinding.reserved')
      const hashProtocol = r.u8('cryptoBinding.hashProtocol')
      const nonce = copy(r.bytes(SSTP_NONCE_LENGTH, 'cryptoBinding.nonce'))
      const certHash = copy(r.bytes(SSTP_HASH_FIELD_LENGTH, 'cryptoBinding.certHash'))
      const compoundMac = copy(r.bytes(SSTP_HASH_FIELD_LENGTH, 'cryptoBinding.compoundMac'))
      return { attribute: 'cryptoBinding', hashProtocol, nonce, certHash, compoundMac }
    },
    encode: (a, w) => {
      if (a.attribute !== 'cryptoBinding') return
      w.zeros(3).u8(a.hashProtocol).bytes(fixed(a.nonce, SSTP_NONCE_LENGTH, 'nonce'))
        .bytes(fixed(a.certHash, SSTP_HASH_FIELD_LENGTH, 'certHash field')).bytes(fixed(a.compoundMac, SSTP_HASH_FIELD_LENGTH, 'compoundMac field'))
    },
  },
  // §2.2.6: Length "MUST be 40": Reserved1 (3) + Hash Protocol Bitmask (1) + Nonce (32).
  [SstpAttributeId.CryptoBindingReq]: {
    name: 'cryptoBindingRequest', minLength: 40, maxLength: 40,
    decode: (r) => {
      r.skip(3, 'cryptoBindingReq.reserved')
      const hashBitmask = r.u8('cryptoBindingReq.hashBitmask')
      return { attribute: 'cryptoBindingRequest', hashBitmask, nonce: copy(r.bytes(SSTP_NONCE_LENGTH, 'cryptoBindingReq.nonce')) }
    },
    encode: (a, w) => {
      if (a.attribute !== 'cryptoBindingRequest') return
      w.zeros(3).u8(a.hashBitmask).bytes(fixed(a.nonce, SSTP_NONCE_LENGTH, 'nonce'))
    },
  },
}

/** The Attribute ID an attribute is sent under. */
export function attributeIdOf(a: SstpAttribute): number {
  switch (a.attribute) {
    case 'encapsulatedProtocolId': return SstpAttributeId.EncapsulatedProtocolId
    case 'statusInfo': return SstpAttributeId.StatusInfo
    case 'cryptoBinding': return SstpAttributeId.CryptoBinding
    case 'cryptoBindingRequest': return SstpAttributeId.CryptoBindingReq
    case 'unknown': return a.attributeId
  }
}

/**
 * Decodes one attribute from `r`, advancing past it. Throws DecodeError on a Length below 4, past the message
 * end, or outside the table's bounds for a known ID (§2.2.8 calls this ATTRIB_STATUS_INVALID_ATTRIB_VALUE_LENGTH).
 */
export function decodeAttribute(r: ByteReader): SstpAttribute {
  const start = r.offset
  r.u8('attribute.reserved') // §2.2.4: "MUST be ignored on receipt"
  const id = r.u8('attribute.id')
  const length = r.u16('attribute.length') & 0x0fff
  if (length < SSTP_ATTRIBUTE_HEADER_LENGTH) throw new DecodeError('attribute.length', start + 2, `length ${length} below 4`)
  const body = r.sub(length - SSTP_ATTRIBUTE_HEADER_LENGTH, 'attribute.value')
  const spec = SSTP_ATTRIBUTES[id]
  if (!spec) return { attribute: 'unknown', attributeId: id, value: copy(body.rest()) }
  if (length < spec.minLength || length > spec.maxLength) {
    throw new DecodeError(`attribute.${spec.name}.length`, start + 2, `length ${length} not in ${spec.minLength}..${spec.maxLength}`)
  }
  const a = spec.decode(body)
  if (body.remaining !== 0) throw new DecodeError(`attribute.${spec.name}`, body.offset, 'trailing bytes')
  return a
}

/** Appends one attribute (header + value) to `w`. */
export function encodeAttribute(a: SstpAttribute, w: ByteWriter): void {
  const id = attributeIdOf(a)
  const start = w.length
  w.u8(0).u8(id).u16(0)
  if (a.attribute === 'unknown') w.bytes(a.value)
  else SSTP_ATTRIBUTES[id]!.encode(a, w)
  const length = w.length - start
  if (length > 0xfff) throw new RangeError('SSTP attribute over 4095 bytes')
  w.patchU16(start + 2, length)
}
