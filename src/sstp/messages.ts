// SSTP control messages: [MS-SSTP] §2.2.2 control packet, §2.2.9–§2.2.17 message types and which attributes
// each carries. Structure is parsed first (decodeControlPacket); the per-message rules are a separate table check.
import { ByteReader, ByteWriter } from '../lib/bytes.js'
import { DecodeError } from '../lib/errors.js'
import { SSTP_HEADER_LENGTH, SSTP_MAX_PACKET_LENGTH, decodePacketHeader } from './packet.js'
import { SstpAttribStatus, SstpAttributeId, attributeIdOf, decodeAttribute, encodeAttribute } from './attributes.js'
import type { SstpAttribute } from './attributes.js'

/*  [MS-SSTP] §2.2.2 control packet
    0                   1                   2                   3
    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |  Version 0x10 |  Reserved   |1|   R   |  Length (12 bits)     |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |         Message Type          |        Num Attributes         |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |  Attributes (§2.2.4) ...
*/

export const SstpMessageType = {
  CallConnectRequest: 0x0001,
  CallConnectAck: 0x0002,
  CallConnectNak: 0x0003,
  CallConnected: 0x0004,
  CallAbort: 0x0005,
  CallDisconnect: 0x0006,
  CallDisconnectAck: 0x0007,
  EchoRequest: 0x0008,
  EchoResponse: 0x0009,
} as const

export const SSTP_MESSAGE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(SstpMessageType).map(([k, v]) => [v, k]),
)

export interface SstpControlMessage {
  readonly messageType: number
  readonly attributes: readonly SstpAttribute[]
}

/** Per attribute ID: how many a message may carry (min..max). Absent IDs are not allowed in that message. */
type AttributeRule = Readonly<Record<number, readonly [min: number, max: number]>>

/**
 * Which attributes each message allows/requires. Sources: §2.2.9 Call Connect Request ("MUST have one Encapsulated
 * Protocol ID attribute"; a Status Info is recognised by the server as unacceptable, §3.3.1.1.1), §2.2.10 Ack (one
 * Crypto Binding Request), §2.2.11 Connected (one Crypto Binding), §2.2.12 Nak (one or more Status Info), §2.2.13
 * Abort / §2.2.14 Disconnect ("SHOULD have one Status Info ... MUST NOT have any other"), §2.2.15–§2.2.17 none.
 */
export const SSTP_MESSAGE_RULES: Readonly<Record<number, AttributeRule>> = {
  [SstpMessageType.CallConnectRequest]: { [SstpAttributeId.EncapsulatedProtocolId]: [1, 1], [SstpAttributeId.StatusInfo]: [0, 1] },
  [SstpMessageType.CallConnectAck]: { [SstpAttributeId.CryptoBindingReq]: [1, 1] },
  [SstpMessageType.CallConnectNak]: { [SstpAttributeId.StatusInfo]: [1, 256] },
  [SstpMessageType.CallConnected]: { [SstpAttributeId.CryptoBinding]: [1, 1] },
  [SstpMessageType.CallAbort]: { [SstpAttributeId.StatusInfo]: [0, 1] },
  [SstpMessageType.CallDisconnect]: { [SstpAttributeId.StatusInfo]: [0, 1] },
  [SstpMessageType.CallDisconnectAck]: {},
  [SstpMessageType.EchoRequest]: {},
  [SstpMessageType.EchoResponse]: {},
}

/**
 * Decodes a whole control packet (header included, e.g. one the framer produced). Structure only: header with C = 1,
 * Length equal to the packet size, Num Attributes attributes filling the body exactly. Throws DecodeError.
 */
export function decodeControlPacket(packet: Uint8Array): SstpControlMessage {
  const h = decodePacketHeader(packet)
  if (!h.control) throw new DecodeError('sstp.c', 1, 'not a control packet')
  if (h.length !== packet.length) throw new DecodeError('sstp.length', 2, `length ${h.length} but packet has ${packet.length} bytes`)
  const r = new ByteReader(packet, SSTP_HEADER_LENGTH)
  const messageType = r.u16('control.messageType')
  const count = r.u16('control.numAttributes')
  const attributes: SstpAttribute[] = []
  for (let i = 0; i < count; i++) attributes.push(decodeAttribute(r))
  if (r.remaining !== 0) throw new DecodeError('control.attributes', r.offset, `${r.remaining} bytes after ${count} attributes`)
  return { messageType, attributes }
}

/** Why a structurally valid message breaks its rules: the §2.2.8 status to report, about which attribute. */
export interface SstpRuleViolation {
  readonly reason: string
  readonly status: number
  readonly attribId: number
}

/** Checks a decoded message against SSTP_MESSAGE_RULES; undefined when it conforms. */
export function checkControlMessage(msg: SstpControlMessage): SstpRuleViolation | undefined {
  const rule = SSTP_MESSAGE_RULES[msg.messageType]
  if (!rule) return { reason: 'unknown-message-type', status: SstpAttribStatus.UnacceptedFrameReceived, attribId: SstpAttributeId.NoError }
  const counts = new Map<number, number>()
  for (const a of msg.attributes) {
    const id = attributeIdOf(a)
    if (a.attribute === 'unknown') return { reason: 'unknown-attribute', status: SstpAttribStatus.UnrecognizedAttribute, attribId: id }
    if (!rule[id]) {
      const status = id === SstpAttributeId.StatusInfo ? SstpAttribStatus.StatusInfoNotSupportedInMsg : SstpAttribStatus.AttribNotSupportedInMsg
      return { reason: 'attribute-not-allowed', status, attribId: id }
    }
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  for (const [idText, [min, max]] of Object.entries(rule)) {
    const id = Number(idText)
    const n = counts.get(id) ?? 0
    if (n < min) return { reason: 'required-attribute-missing', status: SstpAttribStatus.RequiredAttributeMissing, attribId: id }
    if (n > max) return { reason: 'duplicate-attribute', status: SstpAttribStatus.DuplicateAttribute, attribId: id }
  }
  return undefined
}

/** Encodes a whole control packet (header included). Throws RangeError past 4095 bytes (our bug). */
export function encodeControlPacket(msg: SstpControlMessage): Uint8Array {
  const w = new ByteWriter(64)
  w.u8(0x10).u8(0x01).u16(0).u16(msg.messageType).u16(msg.attributes.length)
  for (const a of msg.attributes) encodeAttribute(a, w)
  if (w.length > SSTP_MAX_PACKET_LENGTH) throw new RangeError('SSTP control packet over 4095 bytes')
  w.patchU16(2, w.length)
  return w.finish()
}

/** Shorthand for messages with no attributes (Disconnect Ack, Echo Request/Response). */
export function encodeBareMessage(messageType: number): Uint8Array {
  return encodeControlPacket({ messageType, attributes: [] })
}

/** Call Abort / Call Disconnect with one Status Info (§2.2.13/§2.2.14 "SHOULD have one"). */
export function encodeStatusMessage(messageType: number, attribId: number, status: number, value: Uint8Array = new Uint8Array(0)): Uint8Array {
  return encodeControlPacket({ messageType, attributes: [{ attribute: 'statusInfo', attribId, status, value }] })
}
