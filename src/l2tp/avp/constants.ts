// Numbers of RFC 2661: control message types (§3.2), AVP attribute types (§4.4, IANA registry of
// RFC 3438), Result and Error Codes of StopCCN and CDN (§4.4.2), capability bits (§4.4.3, §4.4.5).

/** §3.2 Control Message Types (the value of the Message Type AVP). 5 and 13 are reserved. */
export const MessageType = {
  SCCRQ: 1, SCCRP: 2, SCCCN: 3, StopCCN: 4, HELLO: 6,
  OCRQ: 7, OCRP: 8, OCCN: 9, ICRQ: 10, ICRP: 11, ICCN: 12, CDN: 14, WEN: 15, SLI: 16,
} as const
export type MessageTypeValue = typeof MessageType[keyof typeof MessageType]

export const MESSAGE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(MessageType).map(([k, v]) => [v, k]))

/** §3.2: which messages belong to the control connection (tunnel) and which to a call (session). */
export const TUNNEL_MESSAGES: ReadonlySet<number> = new Set([MessageType.SCCRQ, MessageType.SCCRP, MessageType.SCCCN, MessageType.StopCCN, MessageType.HELLO])

/** §4.4 Attribute Types (Vendor ID 0). 20 is unassigned in RFC 2661. */
export const AvpType = {
  MessageType: 0, ResultCode: 1, ProtocolVersion: 2, FramingCapabilities: 3, BearerCapabilities: 4,
  TieBreaker: 5, FirmwareRevision: 6, HostName: 7, VendorName: 8, AssignedTunnelId: 9,
  ReceiveWindowSize: 10, Challenge: 11, Q931CauseCode: 12, ChallengeResponse: 13, AssignedSessionId: 14,
  CallSerialNumber: 15, MinimumBps: 16, MaximumBps: 17, BearerType: 18, FramingType: 19,
  CalledNumber: 21, CallingNumber: 22, SubAddress: 23, TxConnectSpeed: 24, PhysicalChannelId: 25,
  InitialReceivedLcpConfreq: 26, LastSentLcpConfreq: 27, LastReceivedLcpConfreq: 28,
  ProxyAuthenType: 29, ProxyAuthenName: 30, ProxyAuthenChallenge: 31, ProxyAuthenId: 32, ProxyAuthenResponse: 33,
  CallErrors: 34, Accm: 35, RandomVector: 36, PrivateGroupId: 37, RxConnectSpeed: 38, SequencingRequired: 39,
} as const

/** §4.4.2 Result Code values of a StopCCN. */
export const StopCcnResult = {
  GeneralClear: 1, GeneralError: 2, ControlChannelExists: 3, NotAuthorized: 4,
  ProtocolVersionUnsupported: 5, ShuttingDown: 6, FsmError: 7,
} as const

/** §4.4.2 Result Code values of a CDN. */
export const CdnResult = {
  LostCarrier: 1, GeneralError: 2, Administrative: 3, NoFacilitiesTemporary: 4, NoFacilitiesPermanent: 5,
  InvalidDestination: 6, NoCarrier: 7, Busy: 8, NoDialTone: 9, Timeout: 10, NoFraming: 11,
} as const

/** §4.4.2 General Error Codes (carried with Result Code "General error"). */
export const ErrorCode = {
  NoError: 0, NoControlConnection: 1, WrongLength: 2, OutOfRange: 3, InsufficientResources: 4,
  InvalidSessionId: 5, VendorSpecific: 6, TryAnother: 7, UnknownMandatoryAvp: 8,
} as const

/** §4.4.3 Framing Capabilities / §4.4.5 Framing Type bits: A (asynchronous) and S (synchronous). */
export const Framing = { Sync: 0x1, Async: 0x2 } as const
/** §4.4.3 Bearer Capabilities / §4.4.5 Bearer Type bits: A (analog) and D (digital). */
export const Bearer = { Digital: 0x1, Analog: 0x2 } as const
/** §4.4.3 Protocol Version: "Ver 1, Rev 0" is the only version this document defines. */
export const PROTOCOL_VERSION = { version: 1, revision: 0 } as const
/** §4.4.3 Receive Window Size: a peer that sends none is treated as offering a window of 4 (§5.8). */
export const DEFAULT_RECEIVE_WINDOW = 4
