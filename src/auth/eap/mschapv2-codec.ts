// EAP-MS-CHAPv2 Type-Data (draft-kamath-pppext-eap-mschapv2-02 §2.1-§2.7): MS-CHAPv2 packets with
// the CHAP Code as OpCode; Success and Failure Responses are the OpCode alone.
//  | OpCode | MS-CHAPv2-ID | MS-Length (2) | Value-Size | Value ... | Name ... |   (Challenge, Response)
//  | OpCode | MS-CHAPv2-ID | MS-Length (2) | Message ... |                        (Success/Failure Request)
//  | OpCode |                                                                   (Success/Failure Response)
import { ByteReader, ByteWriter } from '../../lib/bytes.js'
import { DecodeError } from '../../lib/errors.js'

export const MsChapV2OpCode = {
  CHALLENGE: 1,
  RESPONSE: 2,
  SUCCESS: 3,
  FAILURE: 4,
  CHANGE_PASSWORD: 7,
} as const

interface ValueFields { readonly msChapV2Id: number; readonly value: Uint8Array; readonly name: Uint8Array }
interface MessageFields { readonly msChapV2Id: number; readonly message: Uint8Array }
export type EapMsChapV2Message =
  | ({ readonly opCode: 'Challenge' } & ValueFields)
  | ({ readonly opCode: 'Response' } & ValueFields)
  | ({ readonly opCode: 'Success-Request' } & MessageFields)
  | ({ readonly opCode: 'Failure-Request' } & MessageFields)
  | { readonly opCode: 'Success-Response' }
  | { readonly opCode: 'Failure-Response' }
  /** §2.7; we do not offer password change, so only its presence matters. */
  | { readonly opCode: 'Change-Password'; readonly body: Uint8Array }

/**
 * §2.1: "MS-Length ... MUST be set to the value of the EAP Length field minus 5", i.e. the
 * Type-Data length. We hold peers (Responses) to it; in Requests we tolerate a wrong value as
 * wpa_supplicant does, since EAP's own Length already bounds the data and servers have got it wrong.
 */
function header(r: ByteReader, total: number, strict: boolean): number {
  const id = r.u8('ms-chapv2-id')
  const msLength = r.u16('ms-length')
  if (strict && msLength !== total) throw new DecodeError('ms-length', 2, `MS-Length ${msLength} but Type-Data is ${total} octets`)
  return id
}

function valueFields(r: ByteReader, total: number, strict: boolean): ValueFields {
  const msChapV2Id = header(r, total, strict)
  const size = r.u8('value-size')
  const value = r.bytes(size, 'value')
  return { msChapV2Id, value, name: r.rest() }
}

/**
 * Decodes Type-Data travelling in `direction` (OpCodes 3 and 4 differ between Requests and
 * Responses). Views into `typeData`. Throws DecodeError on truncation, a wrong MS-Length in a
 * Response, or an OpCode not valid in that direction.
 */
export function decodeEapMsChapV2(typeData: Uint8Array, direction: 'request' | 'response'): EapMsChapV2Message {
  const r = new ByteReader(typeData)
  const op = r.u8('opcode')
  const total = typeData.length
  if (direction === 'request') {
    if (op === MsChapV2OpCode.CHALLENGE) return { opCode: 'Challenge', ...valueFields(r, total, false) }
    if (op === MsChapV2OpCode.SUCCESS || op === MsChapV2OpCode.FAILURE) {
      const msChapV2Id = header(r, total, false)
      const message = r.rest()
      return op === MsChapV2OpCode.SUCCESS ? { opCode: 'Success-Request', msChapV2Id, message } : { opCode: 'Failure-Request', msChapV2Id, message }
    }
  } else {
    if (op === MsChapV2OpCode.RESPONSE) return { opCode: 'Response', ...valueFields(r, total, true) }
    // §2.4, §2.6: the Success and Failure Responses carry the OpCode only.
    if (op === MsChapV2OpCode.SUCCESS) return { opCode: 'Success-Response' }
    if (op === MsChapV2OpCode.FAILURE) return { opCode: 'Failure-Response' }
    if (op === MsChapV2OpCode.CHANGE_PASSWORD) return { opCode: 'Change-Password', body: r.rest() }
  }
  throw new DecodeError('opcode', 0, `EAP-MS-CHAPv2 OpCode ${op} is not valid in a ${direction}`)
}

/** Encodes Type-Data (a fresh array). Throws RangeError for a Value outside 1..255 octets. */
export function encodeEapMsChapV2(m: EapMsChapV2Message): Uint8Array {
  const w = new ByteWriter(64)
  switch (m.opCode) {
    case 'Success-Response': return Uint8Array.of(MsChapV2OpCode.SUCCESS)
    case 'Failure-Response': return Uint8Array.of(MsChapV2OpCode.FAILURE)
    case 'Change-Password': return w.u8(MsChapV2OpCode.CHANGE_PASSWORD).bytes(m.body).finish()
    case 'Challenge':
    case 'Response': {
      if (m.value.length === 0 || m.value.length > 255) throw new RangeError('MS-CHAPv2 Value must be 1..255 octets')
      const total = 5 + m.value.length + m.name.length
      return w.u8(m.opCode === 'Challenge' ? MsChapV2OpCode.CHALLENGE : MsChapV2OpCode.RESPONSE).u8(m.msChapV2Id).u16(total)
        .u8(m.value.length).bytes(m.value).bytes(m.name).finish()
    }
    case 'Success-Request':
    case 'Failure-Request':
      return w.u8(m.opCode === 'Success-Request' ? MsChapV2OpCode.SUCCESS : MsChapV2OpCode.FAILURE).u8(m.msChapV2Id)
        .u16(4 + m.message.length).bytes(m.message).finish()
  }
}
