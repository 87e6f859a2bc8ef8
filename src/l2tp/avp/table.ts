// The AVP table of RFC 2661 §4.4: one row per Attribute Type with its value length limits, the M bit
// we send, whether it may be hidden (§4.3), and its value decoder/encoder.
import { DecodeError } from '../../lib/errors.js'
import { ByteReader, ByteWriter, fromUtf8, utf8 } from '../../lib/bytes.js'
import { AvpType } from './constants.js'

export interface ResultCodeValue {
  /** §4.4.2 Result Code (StopCcnResult or CdnResult). */
  readonly result: number
  /** §4.4.2 Error Code, present when the AVP is 8 octets or longer. */
  readonly error?: number | undefined
  /** §4.4.2 "Human readable text ... MUST be provided in the UTF-8 charset". */
  readonly message?: string | undefined
}
export interface Q931Value { readonly cause: number; readonly msg: number; readonly advisory?: string | undefined }
/** §4.4.6 Call Errors counters (the 2 reserved octets are written as 0). */
export interface CallErrorsValue {
  readonly crc: number; readonly framing: number; readonly hardwareOverruns: number
  readonly bufferOverruns: number; readonly timeouts: number; readonly alignment: number
}
/** §4.4.6 ACCM: the async control character maps each side should use. */
export interface AccmValue { readonly send: number; readonly receive: number }

/** The decoded value of every Attribute Type this table knows, keyed by field name. */
export interface AvpFields {
  messageType: number
  resultCode: ResultCodeValue
  protocolVersion: { readonly version: number; readonly revision: number }
  framingCapabilities: number
  bearerCapabilities: number
  tieBreaker: Uint8Array
  firmwareRevision: number
  hostName: string
  vendorName: string
  assignedTunnelId: number
  receiveWindowSize: number
  challenge: Uint8Array
  q931CauseCode: Q931Value
  challengeResponse: Uint8Array
  assignedSessionId: number
  callSerialNumber: number
  minimumBps: number
  maximumBps: number
  bearerType: number
  framingType: number
  calledNumber: string
  callingNumber: string
  subAddress: string
  txConnectSpeed: number
  physicalChannelId: number
  initialReceivedLcpConfreq: Uint8Array
  lastSentLcpConfreq: Uint8Array
  lastReceivedLcpConfreq: Uint8Array
  proxyAuthenType: number
  proxyAuthenName: string
  proxyAuthenChallenge: Uint8Array
  proxyAuthenId: number
  proxyAuthenResponse: Uint8Array
  callErrors: CallErrorsValue
  accm: AccmValue
  randomVector: Uint8Array
  privateGroupId: Uint8Array
  rxConnectSpeed: number
  sequencingRequired: true
}
export type AvpName = keyof AvpFields

/** One row of the table. Lengths are of the Attribute Value (the AVP Length minus 6). */
export interface AvpSpec<K extends AvpName = AvpName> {
  readonly type: number
  readonly name: K
  readonly minLength: number
  readonly maxLength: number
  /** The M bit we set when sending (§4.4 per attribute). */
  readonly mandatory: boolean
  /** §4.4 per attribute: whether the H bit may be set. */
  readonly hideable: boolean
  readonly decode: (v: Uint8Array) => AvpFields[K]
  readonly encode: (x: AvpFields[K]) => Uint8Array
}
type AnySpec = { [K in AvpName]: AvpSpec<K> }[AvpName]

/** §4.1: "The field itself is 10 bits, permitting a maximum of 1023 octets of data in a single AVP." */
export const MAX_AVP_VALUE = 1023 - 6

const u16 = { decode: (v: Uint8Array): number => (v[0]! << 8) | v[1]!, encode: (x: number): Uint8Array => new Uint8Array([(x >>> 8) & 0xff, x & 0xff]) }
const u32 = {
  decode: (v: Uint8Array): number => new ByteReader(v).u32(),
  encode: (x: number): Uint8Array => new ByteWriter(4).u32(x >>> 0).finish(),
}
const octets = { decode: (v: Uint8Array): Uint8Array => v.slice(), encode: (x: Uint8Array): Uint8Array => x }
const text = { decode: (v: Uint8Array): string => fromUtf8(v), encode: (x: string): Uint8Array => utf8(x) }

function row<K extends AvpName>(type: number, name: K, minLength: number, maxLength: number, mandatory: boolean, hideable: boolean,
  codec: { decode: (v: Uint8Array) => AvpFields[K]; encode: (x: AvpFields[K]) => Uint8Array }): AvpSpec<K> {
  return { type, name, minLength, maxLength, mandatory, hideable, decode: codec.decode, encode: codec.encode }
}

const M = MAX_AVP_VALUE
/** The rows, in the order we encode them after Message Type (and Random Vector when hiding). */
export const AVP_TABLE: readonly AnySpec[] = [
  // §4.4.1 Message Type: 2 octets, M=1, "This AVP MUST NOT be hidden".
  row(AvpType.MessageType, 'messageType', 2, 2, true, false, u16),
  // §4.4.2 Result Code: Result Code (2) [Error Code (2) [Error Message]]; M=1, not hidden.
  row(AvpType.ResultCode, 'resultCode', 2, M, true, false, {
    decode: (v) => {
      // A 3-octet value would split the Error Code: §4.4.2 allows 2, 4 or more octets only.
      if (v.length === 3) throw new DecodeError('avp.resultCode', 0, 'length 3 splits the Error Code')
      const r = new ByteReader(v)
      const result = r.u16('avp.resultCode')
      if (r.remaining === 0) return { result }
      const error = r.u16('avp.resultCode.error')
      return r.remaining ? { result, error, message: fromUtf8(r.rest()) } : { result, error }
    },
    encode: (x) => {
      const w = new ByteWriter(8).u16(x.result)
      if (x.error !== undefined || x.message !== undefined) w.u16(x.error ?? 0)
      if (x.message !== undefined) w.bytes(utf8(x.message))
      return w.finish()
    },
  }),
  // §4.4.3 Protocol Version: Ver (1) Rev (1), M=1, not hidden.
  row(AvpType.ProtocolVersion, 'protocolVersion', 2, 2, true, false, {
    decode: (v) => ({ version: v[0]!, revision: v[1]! }), encode: (x) => new Uint8Array([x.version, x.revision]),
  }),
  row(AvpType.FramingCapabilities, 'framingCapabilities', 4, 4, true, true, u32),
  row(AvpType.BearerCapabilities, 'bearerCapabilities', 4, 4, true, true, u32),
  // §4.4.3 Tie Breaker: 8 octets, M=0, not hidden.
  row(AvpType.TieBreaker, 'tieBreaker', 8, 8, false, false, octets),
  row(AvpType.FirmwareRevision, 'firmwareRevision', 2, 2, false, true, u16),
  // §4.4.3 Host Name: "arbitrary length, but MUST be at least 1 octet"; not hidden.
  row(AvpType.HostName, 'hostName', 1, M, true, false, text),
  row(AvpType.VendorName, 'vendorName', 0, M, false, true, text),
  row(AvpType.AssignedTunnelId, 'assignedTunnelId', 2, 2, true, true, u16),
  row(AvpType.ReceiveWindowSize, 'receiveWindowSize', 2, 2, true, false, u16),
  // §4.4.3 Challenge: one or more octets of random data.
  row(AvpType.Challenge, 'challenge', 1, M, true, true, octets),
  // §4.4.2 Q.931 Cause Code: Cause Code (2), Cause Msg (1), [Advisory Msg].
  row(AvpType.Q931CauseCode, 'q931CauseCode', 3, M, true, false, {
    decode: (v) => { const cause = (v[0]! << 8) | v[1]!; const msg = v[2]!; return v.length > 3 ? { cause, msg, advisory: fromUtf8(v.subarray(3)) } : { cause, msg } },
    encode: (x) => new ByteWriter(8).u16(x.cause).u8(x.msg).bytes(x.advisory !== undefined ? utf8(x.advisory) : new Uint8Array(0)).finish(),
  }),
  // §4.4.3 Challenge Response: a 16 octet MD5 value.
  row(AvpType.ChallengeResponse, 'challengeResponse', 16, 16, true, true, octets),
  row(AvpType.AssignedSessionId, 'assignedSessionId', 2, 2, true, true, u16),
  row(AvpType.CallSerialNumber, 'callSerialNumber', 4, 4, true, false, u32),
  row(AvpType.MinimumBps, 'minimumBps', 4, 4, true, true, u32),
  row(AvpType.MaximumBps, 'maximumBps', 4, 4, true, true, u32),
  row(AvpType.BearerType, 'bearerType', 4, 4, true, true, u32),
  row(AvpType.FramingType, 'framingType', 4, 4, true, true, u32),
  row(AvpType.CalledNumber, 'calledNumber', 0, M, true, true, text),
  row(AvpType.CallingNumber, 'callingNumber', 0, M, true, true, text),
  row(AvpType.SubAddress, 'subAddress', 0, M, true, true, text),
  row(AvpType.TxConnectSpeed, 'txConnectSpeed', 4, 4, true, true, u32),
  row(AvpType.PhysicalChannelId, 'physicalChannelId', 4, 4, false, true, u32),
  row(AvpType.InitialReceivedLcpConfreq, 'initialReceivedLcpConfreq', 0, M, false, true, octets),
  row(AvpType.LastSentLcpConfreq, 'lastSentLcpConfreq', 0, M, false, true, octets),
  row(AvpType.LastReceivedLcpConfreq, 'lastReceivedLcpConfreq', 0, M, false, true, octets),
  row(AvpType.ProxyAuthenType, 'proxyAuthenType', 2, 2, false, true, u16),
  row(AvpType.ProxyAuthenName, 'proxyAuthenName', 0, M, false, true, text),
  row(AvpType.ProxyAuthenChallenge, 'proxyAuthenChallenge', 1, M, false, true, octets),
  // §4.4.5 Proxy Authen ID: 2 octets, "the most significant octet MUST be 0" — we keep the low octet.
  row(AvpType.ProxyAuthenId, 'proxyAuthenId', 2, 2, false, true, { decode: (v) => v[1]!, encode: (x) => new Uint8Array([0, x & 0xff]) }),
  row(AvpType.ProxyAuthenResponse, 'proxyAuthenResponse', 0, M, false, true, octets),
  // §4.4.6 Call Errors: Reserved (2, "MUST be 0") and six 32-bit counters.
  row(AvpType.CallErrors, 'callErrors', 26, 26, true, true, {
    decode: (v) => { const r = new ByteReader(v, 2); return { crc: r.u32(), framing: r.u32(), hardwareOverruns: r.u32(), bufferOverruns: r.u32(), timeouts: r.u32(), alignment: r.u32() } },
    encode: (x) => new ByteWriter(26).u16(0).u32(x.crc).u32(x.framing).u32(x.hardwareOverruns).u32(x.bufferOverruns).u32(x.timeouts).u32(x.alignment).finish(),
  }),
  // §4.4.6 ACCM: Reserved (2), Send ACCM (4), Receive ACCM (4).
  row(AvpType.Accm, 'accm', 10, 10, true, true, {
    decode: (v) => { const r = new ByteReader(v, 2); return { send: r.u32(), receive: r.u32() } },
    encode: (x) => new ByteWriter(10).u16(0).u32(x.send).u32(x.receive).finish(),
  }),
  // §4.4.3 Random Vector: any length, M=1, never hidden (it is the key to the others).
  row(AvpType.RandomVector, 'randomVector', 1, M, true, false, octets),
  row(AvpType.PrivateGroupId, 'privateGroupId', 0, M, false, true, octets),
  row(AvpType.RxConnectSpeed, 'rxConnectSpeed', 4, 4, false, true, u32),
  // §4.4.4 Sequencing Required: no value, M=1, not hidden.
  row(AvpType.SequencingRequired, 'sequencingRequired', 0, 0, true, false, { decode: () => true, encode: () => new Uint8Array(0) }),
]

/** Row by Attribute Type (Vendor ID 0), or undefined for a type this table does not know. */
export const AVP_BY_TYPE: ReadonlyMap<number, AnySpec> = new Map(AVP_TABLE.map((s) => [s.type, s]))
/** Row by field name. */
export const AVP_BY_NAME: ReadonlyMap<AvpName, AnySpec> = new Map(AVP_TABLE.map((s) => [s.name, s]))

/**
 * Decodes an Attribute Value with its row: checks the length limits (DecodeError
 * 'avp.<name>' with "length"), then the value codec.
 */
export function decodeAvpValue(spec: Pick<AvpSpec, 'name' | 'minLength' | 'maxLength'> & { readonly decode: (v: Uint8Array) => unknown }, v: Uint8Array): unknown {
  if (v.length < spec.minLength || v.length > spec.maxLength) {
    throw new DecodeError(`avp.${spec.name}`, 0, `length ${v.length} outside ${spec.minLength}..${spec.maxLength}`)
  }
  return spec.decode(v)
}
