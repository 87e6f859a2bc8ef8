// What each control message must carry (RFC 2661 §6.1–§6.14) and the RFC's reaction to a message
// that breaks it: unknown mandatory AVPs (§4.1), unknown message types (§4.4.1), zero IDs (§5.3),
// an unsupported protocol version (§4.4.2 Result Code 5). A separate step after decodeControlBody.
import { CdnResult, ErrorCode, MESSAGE_NAMES, MessageType, PROTOCOL_VERSION, StopCcnResult, TUNNEL_MESSAGES } from './avp/constants.js'
import type { ControlMessage } from './avp/codec.js'
import type { AvpName, ResultCodeValue } from './avp/table.js'

/** §6.x "The following AVPs MUST be present in the <message>" (Message Type is checked by the decoder). */
export const REQUIRED_AVPS: Readonly<Record<number, readonly AvpName[]>> = {
  [MessageType.SCCRQ]: ['protocolVersion', 'hostName', 'framingCapabilities', 'assignedTunnelId'], // §6.1
  [MessageType.SCCRP]: ['protocolVersion', 'framingCapabilities', 'hostName', 'assignedTunnelId'], // §6.2
  [MessageType.SCCCN]: [], // §6.3
  [MessageType.StopCCN]: ['assignedTunnelId', 'resultCode'], // §6.4
  [MessageType.HELLO]: [], // §6.5
  [MessageType.OCRQ]: ['assignedSessionId', 'callSerialNumber', 'minimumBps', 'maximumBps', 'bearerType', 'framingType', 'calledNumber'], // §6.9
  [MessageType.OCRP]: ['assignedSessionId'], // §6.10
  [MessageType.OCCN]: ['txConnectSpeed', 'framingType'], // §6.11
  [MessageType.ICRQ]: ['assignedSessionId', 'callSerialNumber'], // §6.6
  [MessageType.ICRP]: ['assignedSessionId'], // §6.7
  [MessageType.ICCN]: ['txConnectSpeed', 'framingType'], // §6.8
  [MessageType.CDN]: ['resultCode', 'assignedSessionId'], // §6.12
  [MessageType.WEN]: ['callErrors'], // §6.13
  [MessageType.SLI]: ['accm'], // §6.14
}

/**
 * The verdict on a parsed message:
 * - accept: process it;
 * - ignore: an unknown message type without the M bit (§4.4.1 allows ignoring it);
 * - clearTunnel: send StopCCN with `result` and tear the tunnel and its sessions down;
 * - clearSession: send CDN with `result` for the session the message belongs to.
 * `reason` is a stable token for counters and logs.
 */
export type Verdict =
  | { readonly action: 'accept' }
  | { readonly action: 'ignore'; readonly reason: string }
  | { readonly action: 'clearTunnel'; readonly reason: string; readonly result: ResultCodeValue }
  | { readonly action: 'clearSession'; readonly reason: string; readonly result: ResultCodeValue }

/** True for the messages of the control connection (§3.2), false for call messages. */
export function isTunnelMessage(messageType: number): boolean { return TUNNEL_MESSAGES.has(messageType) }

/** Checks a parsed message against §4.1, §4.4.1, §5.3 and §6.x, in that order; see Verdict. */
export function validateControlMessage(m: ControlMessage): Verdict {
  const required = REQUIRED_AVPS[m.messageType]
  const name = MESSAGE_NAMES[m.messageType] ?? `type ${m.messageType}`
  if (!required) {
    // §4.4.1 "if the M-bit is set within the Message Type AVP and the Message Type is unknown to the
    // implementation, the tunnel MUST be cleared."
    if (!m.messageTypeMandatory) return { action: 'ignore', reason: 'unknown-message-type' }
    return { action: 'clearTunnel', reason: 'unknown-mandatory-message-type', result: { result: StopCcnResult.GeneralError, error: ErrorCode.OutOfRange, message: `unknown Message Type ${m.messageType}` } }
  }
  const tunnel = isTunnelMessage(m.messageType)
  const clear = (reason: string, error: number, message: string): Verdict => tunnel
    ? { action: 'clearTunnel', reason, result: { result: StopCcnResult.GeneralError, error, message } }
    : { action: 'clearSession', reason, result: { result: CdnResult.GeneralError, error, message } }
  // §4.1 "If the M bit is set on an unrecognized AVP within a message associated with a particular
  // session, the session ... MUST be terminated. If ... associated with the overall tunnel, the entire
  // tunnel (and all sessions within) MUST be terminated." Unrecognized AVPs without M are ignored.
  const unknown = m.unrecognized.find((a) => a.mandatory)
  if (unknown) return clear('unknown-mandatory-avp', ErrorCode.UnknownMandatoryAvp, `${name}: unknown mandatory AVP vendor ${unknown.vendorId} type ${unknown.type}`)
  const missing = required.filter((n) => m.fields[n] === undefined)
  if (missing.length > 0) return clear('missing-avp', ErrorCode.OutOfRange, `${name} lacks ${missing.join(', ')}`)
  // §5.3: "The value of 0 for Session ID and Tunnel ID is special and MUST NOT be used as an
  // Assigned Session ID or Assigned Tunnel ID."
  if (m.fields.assignedTunnelId === 0) return clear('zero-tunnel-id', ErrorCode.OutOfRange, `${name}: Assigned Tunnel ID 0`)
  if (m.fields.assignedSessionId === 0 && m.messageType !== MessageType.CDN) return clear('zero-session-id', ErrorCode.OutOfRange, `${name}: Assigned Session ID 0`)
  const v = m.fields.protocolVersion
  if (v && (v.version !== PROTOCOL_VERSION.version || v.revision !== PROTOCOL_VERSION.revision)) {
    return { action: 'clearTunnel', reason: 'protocol-version', result: { result: StopCcnResult.ProtocolVersionUnsupported, message: `version ${v.version}.${v.revision}` } }
  }
  return { action: 'accept' }
}
