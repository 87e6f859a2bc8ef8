// RFC 2637 §1.4 (control message header) and §2.1–2.15 (every control message): fixed-size layouts as one table
// keyed by Control Message Type, decoded and encoded by one pair of functions. A length that does not match the type,
// a wrong Magic Cookie or a PPTP Message Type other than 1 is a DecodeError (fatal for the connection).
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |             Length            |       PPTP Message Type       |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         Magic Cookie                          |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |     Control Message Type      |           Reserved0           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                      message body (per type) ...
import { ByteReader, ByteWriter } from '../../lib/bytes.js'
import { DecodeError } from '../../lib/errors.js'
import { ControlMessageType as T, PPTP_HEADER_LENGTH, PPTP_MAGIC_COOKIE, PPTP_MESSAGE_TYPE_CONTROL } from './constants.js'

/** Field kinds: integers, 64-octet NUL-padded strings (§2.1 Host Name etc.), the 128-octet Call Statistics (§2.13),
 *  and reserved fields (r8/r16/r32) that are written as zero and ignored on receipt. */
type Kind = 'u8' | 'u16' | 'u32' | 'str64' | 'bin128' | 'r8' | 'r16' | 'r32'
type Layout = readonly (readonly [string, Kind])[]
const WIDTH: Readonly<Record<Kind, number>> = { u8: 1, u16: 2, u32: 4, str64: 64, bin128: 128, r8: 1, r16: 2, r32: 4 }

/**
 * Bodies after the 12-octet header, in wire order, transcribed from the packet diagrams of §2.1–2.15.
 * The total lengths (header included) are in PPTP_MESSAGE_LENGTHS and checked by the tests against the RFC.
 */
export const LAYOUTS = {
  // §2.1 Start-Control-Connection-Request (156 octets)
  [T.StartControlConnectionRequest]: [['protocolVersion', 'u16'], ['reserved1', 'r16'], ['framingCapabilities', 'u32'], ['bearerCapabilities', 'u32'],
    ['maximumChannels', 'u16'], ['firmwareRevision', 'u16'], ['hostName', 'str64'], ['vendorString', 'str64']],
  // §2.2 Start-Control-Connection-Reply (156)
  [T.StartControlConnectionReply]: [['protocolVersion', 'u16'], ['resultCode', 'u8'], ['errorCode', 'u8'], ['framingCapabilities', 'u32'],
    ['bearerCapabilities', 'u32'], ['maximumChannels', 'u16'], ['firmwareRevision', 'u16'], ['hostName', 'str64'], ['vendorString', 'str64']],
  // §2.3 Stop-Control-Connection-Request (16)
  [T.StopControlConnectionRequest]: [['reason', 'u8'], ['reserved1', 'r8'], ['reserved2', 'r16']],
  // §2.4 Stop-Control-Connection-Reply (16)
  [T.StopControlConnectionReply]: [['resultCode', 'u8'], ['errorCode', 'u8'], ['reserved1', 'r16']],
  // §2.5 Echo-Request (16)
  [T.EchoRequest]: [['identifier', 'u32']],
  // §2.6 Echo-Reply (20)
  [T.EchoReply]: [['identifier', 'u32'], ['resultCode', 'u8'], ['errorCode', 'u8'], ['reserved1', 'r16']],
  // §2.7 Outgoing-Call-Request (168)
  [T.OutgoingCallRequest]: [['callId', 'u16'], ['callSerialNumber', 'u16'], ['minimumBps', 'u32'], ['maximumBps', 'u32'], ['bearerType', 'u32'],
    ['framingType', 'u32'], ['packetRecvWindowSize', 'u16'], ['packetProcessingDelay', 'u16'], ['phoneNumberLength', 'u16'], ['reserved1', 'r16'],
    ['phoneNumber', 'str64'], ['subaddress', 'str64']],
  // §2.8 Outgoing-Call-Reply (32)
  [T.OutgoingCallReply]: [['callId', 'u16'], ['peerCallId', 'u16'], ['resultCode', 'u8'], ['errorCode', 'u8'], ['causeCode', 'u16'],
    ['connectSpeed', 'u32'], ['packetRecvWindowSize', 'u16'], ['packetProcessingDelay', 'u16'], ['physicalChannelId', 'u32']],
  // §2.9 Incoming-Call-Request (220)
  [T.IncomingCallRequest]: [['callId', 'u16'], ['callSerialNumber', 'u16'], ['callBearerType', 'u32'], ['physicalChannelId', 'u32'],
    ['dialedNumberLength', 'u16'], ['dialingNumberLength', 'u16'], ['dialedNumber', 'str64'], ['dialingNumber', 'str64'], ['subaddress', 'str64']],
  // §2.10 Incoming-Call-Reply (24)
  [T.IncomingCallReply]: [['callId', 'u16'], ['peerCallId', 'u16'], ['resultCode', 'u8'], ['errorCode', 'u8'], ['packetRecvWindowSize', 'u16'],
    ['packetTransmitDelay', 'u16'], ['reserved1', 'r16']],
  // §2.11 Incoming-Call-Connected (28)
  [T.IncomingCallConnected]: [['peerCallId', 'u16'], ['reserved1', 'r16'], ['connectSpeed', 'u32'], ['packetRecvWindowSize', 'u16'],
    ['packetTransmitDelay', 'u16'], ['framingType', 'u32']],
  // §2.12 Call-Clear-Request (16)
  [T.CallClearRequest]: [['callId', 'u16'], ['reserved1', 'r16']],
  // §2.13 Call-Disconnect-Notify (148)
  [T.CallDisconnectNotify]: [['callId', 'u16'], ['resultCode', 'u8'], ['errorCode', 'u8'], ['causeCode', 'u16'], ['reserved1', 'r16'],
    ['callStatistics', 'bin128']],
  // §2.14 WAN-Error-Notify (40)
  [T.WanErrorNotify]: [['peerCallId', 'u16'], ['reserved1', 'r16'], ['crcErrors', 'u32'], ['framingErrors', 'u32'], ['hardwareOverruns', 'u32'],
    ['bufferOverruns', 'u32'], ['timeoutErrors', 'u32'], ['alignmentErrors', 'u32']],
  // §2.15 Set-Link-Info (24)
  [T.SetLinkInfo]: [['peerCallId', 'u16'], ['reserved1', 'r16'], ['sendAccm', 'u32'], ['receiveAccm', 'u32']],
} as const satisfies Readonly<Record<number, Layout>>

type Layouts = typeof LAYOUTS
type ValueOf<K> = K extends 'str64' ? string : K extends 'bin128' ? Uint8Array : number
type Body<L extends Layout> = { readonly [E in L[number] as E[1] extends 'r8' | 'r16' | 'r32' ? never : E[0]]: ValueOf<E[1]> }

/** One decoded control message: `type` plus the named fields of its layout (reserved fields left out). */
export type PptpControlMessage = { [K in keyof Layouts]: { readonly type: K } & Body<Layouts[K]> }[keyof Layouts]
/** The message of one type, e.g. PptpMessageOf<typeof ControlMessageType.EchoRequest>. */
export type PptpMessageOf<K extends keyof Layouts> = Extract<PptpControlMessage, { type: K }>

/** Total length (header included) of each message type. */
export const PPTP_MESSAGE_LENGTHS: Readonly<Record<number, number>> = Object.fromEntries(
  Object.entries(LAYOUTS).map(([k, l]) => [Number(k), PPTP_HEADER_LENGTH + (l as Layout).reduce((n, [, kind]) => n + WIDTH[kind], 0)]),
)
/** The largest control message (Incoming-Call-Request, 220): a declared Length above this is refused unbuffered. */
export const PPTP_MAX_MESSAGE_LENGTH = Math.max(...Object.values(PPTP_MESSAGE_LENGTHS))

export interface PptpHeader { readonly length: number; readonly controlMessageType: number }

/** Checks the 12-octet header at `off`; throws DecodeError on a bad PPTP Message Type, Magic Cookie, type or Length. */
export function decodeHeader(buf: Uint8Array, off = 0): PptpHeader {
  const r = new ByteReader(buf, off)
  const length = r.u16('pptp.length')
  const messageType = r.u16('pptp.messageType')
  if (messageType !== PPTP_MESSAGE_TYPE_CONTROL) throw new DecodeError('pptp.messageType', off + 2, `PPTP Message Type ${messageType}`)
  const cookie = r.u32('pptp.magicCookie')
  if (cookie !== PPTP_MAGIC_COOKIE) throw new DecodeError('pptp.magicCookie', off + 4, `0x${cookie.toString(16)}`)
  const controlMessageType = r.u16('pptp.controlMessageType')
  const want = PPTP_MESSAGE_LENGTHS[controlMessageType]
  if (want === undefined) throw new DecodeError('pptp.controlMessageType', off + 8, `unknown type ${controlMessageType}`)
  if (length !== want) throw new DecodeError('pptp.length', off, `type ${controlMessageType} is ${want} octets, Length says ${length}`)
  r.u16('pptp.reserved0') // §1.4: Reserved0 "MUST be 0" when sent; not checked on receipt, so a lenient peer still works
  return { length, controlMessageType }
}

/** Decodes one whole message (exactly its Length octets). Throws only DecodeError. */
export function decodeControlMessage(buf: Uint8Array): PptpControlMessage {
  const h = decodeHeader(buf, 0)
  if (buf.length !== h.length) throw new DecodeError('pptp.length', 0, `have ${buf.length} octets, Length says ${h.length}`)
  const layout: Layout = LAYOUTS[h.controlMessageType as keyof Layouts]
  const r = new ByteReader(buf, PPTP_HEADER_LENGTH)
  const out: Record<string, unknown> = { type: h.controlMessageType }
  for (const [name, kind] of layout) {
    const field = `pptp.${name}`
    switch (kind) {
      case 'u8': out[name] = r.u8(field); break
      case 'u16': out[name] = r.u16(field); break
      case 'u32': out[name] = r.u32(field); break
      case 'str64': out[name] = decodeString(r.bytes(64, field)); break
      case 'bin128': out[name] = r.bytes(128, field).slice(); break
      default: r.skip(WIDTH[kind], field)
    }
  }
  return out as unknown as PptpControlMessage
}

/** Encodes a message; reserved fields are zero. Throws RangeError for a string over 64 octets (our bug, not the peer's). */
export function encodeControlMessage(msg: PptpControlMessage): Uint8Array {
  const layout: Layout = LAYOUTS[msg.type]
  const len = PPTP_MESSAGE_LENGTHS[msg.type]!
  const w = new ByteWriter(len)
  w.u16(len).u16(PPTP_MESSAGE_TYPE_CONTROL).u32(PPTP_MAGIC_COOKIE).u16(msg.type).u16(0)
  const fields = msg as unknown as Readonly<Record<string, unknown>>
  for (const [name, kind] of layout) {
    const v = fields[name]
    switch (kind) {
      case 'u8': w.u8(num(v, name, 0xff)); break
      case 'u16': w.u16(num(v, name, 0xffff)); break
      case 'u32': w.u32(num(v, name, 0xffffffff)); break
      case 'str64': w.bytes(encodeString(typeof v === 'string' ? v : '', name)); break
      case 'bin128': {
        const b = v instanceof Uint8Array ? v : new Uint8Array(0)
        if (b.length > 128) throw new RangeError(`${name}: ${b.length} octets, at most 128`)
        w.bytes(b).zeros(128 - b.length)
        break
      }
      default: w.zeros(WIDTH[kind])
    }
  }
  return w.finish()
}

function num(v: unknown, name: string, max: number): number {
  const n = v === undefined ? 0 : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${name}: ${String(v)} is not an integer in 0..${max}`)
  return n
}

/** §2.1: Host Name etc. are 64 octets, "padded with nulls"; the text ends at the first NUL (none if all 64 are used). */
function decodeString(b: Uint8Array): string {
  const nul = b.indexOf(0)
  return String.fromCharCode(...(nul < 0 ? b : b.subarray(0, nul)))
}

function encodeString(s: string, name: string): Uint8Array {
  const out = new Uint8Array(64)
  if (s.length > 64) throw new RangeError(`${name}: ${s.length} characters, at most 64`)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff || c === 0) throw new RangeError(`${name}: character ${c} at ${i} is not a non-NUL octet`)
    out[i] = c
  }
  return out
}
