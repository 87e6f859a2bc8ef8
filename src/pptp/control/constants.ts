// RFC 2637 §1.4 (control message types), §2 (field values and result/error codes) for the PPTP control connection.
// Names follow the RFC; the numeric values are the wire values.

/** §1.4: the PPTP Message Type in every header; 1 = Control Message (2 = Management, which we never accept). */
export const PPTP_MESSAGE_TYPE_CONTROL = 1
/** §1.4: "Magic Cookie ... always sent as the constant 0x1A2B3C4D" — a mismatch means the stream is lost. */
export const PPTP_MAGIC_COOKIE = 0x1a2b3c4d
/** §2.1: Protocol Version 1, Revision 0. */
export const PPTP_PROTOCOL_VERSION = 0x0100
export const PPTP_TCP_PORT = 1723
export const PPTP_HEADER_LENGTH = 12

/** §1.4: Control Message Type values. */
export const ControlMessageType = {
  StartControlConnectionRequest: 1,
  StartControlConnectionReply: 2,
  StopControlConnectionRequest: 3,
  StopControlConnectionReply: 4,
  EchoRequest: 5,
  EchoReply: 6,
  OutgoingCallRequest: 7,
  OutgoingCallReply: 8,
  IncomingCallRequest: 9,
  IncomingCallReply: 10,
  IncomingCallConnected: 11,
  CallClearRequest: 12,
  CallDisconnectNotify: 13,
  WanErrorNotify: 14,
  SetLinkInfo: 15,
} as const
export type ControlMessageType = (typeof ControlMessageType)[keyof typeof ControlMessageType]

export const CONTROL_MESSAGE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(ControlMessageType).map(([k, v]) => [v, k]),
)

/** §2.16 General Error Codes, carried in the Error Code field when a Result Code says "general error". */
export const GeneralErrorCode = {
  None: 0,
  NotConnected: 1,
  BadFormat: 2,
  BadValue: 3,
  NoResource: 4,
  BadCallId: 5,
  PacError: 6,
} as const

/** §2.2 Start-Control-Connection-Reply Result Code. */
export const StartCtlResult = {
  Successful: 1,
  GeneralError: 2,
  CommandChannelAlreadyExists: 3,
  RequesterNotAuthorized: 4,
  ProtocolVersionNotSupported: 5,
} as const

/** §2.3 Stop-Control-Connection-Request Reason. */
export const StopCtlReason = {
  None: 1,
  StopProtocol: 2,
  StopLocalShutdown: 3,
} as const

/** §2.4 Stop-Control-Connection-Reply Result Code. */
export const StopCtlResult = { Ok: 1, GeneralError: 2 } as const

/** §2.6 Echo-Reply Result Code. */
export const EchoResult = { Ok: 1, GeneralError: 2 } as const

/** §2.8 Outgoing-Call-Reply Result Code. */
export const OutgoingCallResult = {
  Connected: 1,
  GeneralError: 2,
  NoCarrier: 3,
  Busy: 4,
  NoDialTone: 5,
  TimeOut: 6,
  DoNotAccept: 7,
} as const

/** §2.10 Incoming-Call-Reply Result Code. */
export const IncomingCallResult = { Connect: 1, GeneralError: 2, DoNotAccept: 3 } as const

/** §2.13 Call-Disconnect-Notify Result Code. */
export const CallDisconnectResult = {
  LostCarrier: 1,
  GeneralError: 2,
  AdminShutdown: 3,
  Request: 4,
} as const

/** §2.1 Framing Capabilities / §2.7 Framing Type bits. */
export const FramingCapability = { Asynchronous: 1, Synchronous: 2 } as const
/** §2.1 Bearer Capabilities / §2.7 Bearer Type bits. */
export const BearerCapability = { Analog: 1, Digital: 2 } as const
