// Options, events and timer values of the PPTP control connection cores (RFC 2637 §2.5 keep-alive, §3.1/§3.2 timers).
import type { Logger } from '../../lib/log.js'
import type { Millis } from '../../lib/time.js'
import type { Rng } from '../../crypto/rng.js'

/** §2.5: "the Echo-Request ... is sent if no control message has been received for 60 seconds". */
export const KEEPALIVE_IDLE_MS = 60_000
/** How long an Echo-Request may go unanswered before the control connection is dropped (§2.5 leaves it open). */
export const ECHO_REPLY_MS = 60_000
/** How long we wait for SCCRP, StopCCRP, OCRP and CDN before giving up (the RFC names no value; pptpd uses 60 s). */
export const REPLY_MS = 60_000

export interface PptpCommonOptions {
  readonly rng: Rng
  /** Our Host Name (§2.1), at most 64 octets. */
  readonly hostName?: string
  /** Our Vendor String (§2.1), at most 64 octets. */
  readonly vendorString?: string
  readonly firmwareRevision?: number
  /** Packet Recv Window Size we announce per call (§2.7/§2.8): how many GRE packets we buffer. */
  readonly receiveWindow?: number
  readonly keepaliveIdleMs?: number
  readonly echoReplyMs?: number
  readonly replyMs?: number
  readonly logger?: Logger
  /**
   * Gateway-wide Call ID allocator. GRE packets are demultiplexed by (peer address, our Call ID) (§4.1), so IDs must be
   * unique across every control connection sharing one GRE socket (several clients behind one NAT; a gateway that
   * both answers and dials the same peer), not only within one. Without it the core allocates per connection.
   * `allocate` returns undefined when none is free (the PAC refuses the call with No-Resource; the PNS places none).
   */
  readonly callIds?: { allocate(): number | undefined; release(callId: number): void }
}

export interface PptpPacOptions extends PptpCommonOptions {
  /** Calls accepted on one control connection; further Outgoing-Call-Requests are refused (§2.8 General Error, No-Resource). */
  readonly maxCalls?: number
  /** Connect Speed reported in Outgoing-Call-Reply (§2.8), bits per second. */
  readonly connectSpeed?: number
}

export interface PptpPnsOptions extends PptpCommonOptions {
  /** Place one outgoing call as soon as the control connection is established (default true). */
  readonly autoCall?: boolean
}

/** What the gateway/client needs to attach a GRE call (RFC 2637 §4) and a PppSession to it. */
export interface PptpCallInfo {
  /** Our Call ID: the value the peer puts in the GRE Call ID field of packets it sends us (§4.1). */
  readonly callId: number
  /** The peer's Call ID: the value we put in the GRE Call ID field of packets we send. */
  readonly peerCallId: number
  readonly callSerialNumber: number
  /** The peer's Packet Recv Window Size: how many unacknowledged GRE packets we may send it (§4.2). */
  readonly peerReceiveWindow: number
  /** The peer's Packet Processing Delay (§2.7/§2.8), 1/10 s units. */
  readonly peerProcessingDelay: number
  readonly connectSpeed: number
}

export type PptpEvent =
  /** The control connection is established (after SCCRQ/SCCRP). */
  | { readonly type: 'controlUp'; readonly peerHostName: string; readonly peerVendorString: string; readonly peerFirmwareRevision: number }
  | ({ readonly type: 'callUp' } & PptpCallInfo)
  /** A call ended (cleared by either side, refused, or the control connection went down). */
  | { readonly type: 'callDown'; readonly callId: number; readonly reason: string }
  /** §2.15 Set-Link-Info from the PNS: ACCMs for asynchronous framing (meaningless for our synchronous GRE framing). */
  | { readonly type: 'setLinkInfo'; readonly callId: number; readonly sendAccm: number; readonly receiveAccm: number }
  /** Exactly once. Afterwards drain pollTransmit, then end the TCP socket. */
  | { readonly type: 'closed'; readonly reason: string; readonly message: string }
