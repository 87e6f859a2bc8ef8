// Options and events of the L2TP tunnel cores, LNS and LAC (RFC 2661 §5.1 tunnel establishment, §5.2.1
// incoming call establishment, §5.7 teardown).
import type { Rng } from '../crypto/rng.js'
import type { Logger } from '../lib/log.js'
import type { ChannelOptions } from './control/channel.js'
import type { ResultCodeValue } from './avp/table.js'

export interface TunnelOptions {
  readonly rng: Rng
  /** Our Tunnel ID (the peer's header Tunnel ID towards us): non-zero (§5.3), unique among the listener's tunnels. */
  readonly tunnelId: number
  /** §4.4.3 Host Name we send (at least 1 octet). */
  readonly hostName: string
  readonly vendorName?: string
  readonly firmwareRevision?: number
  /**
   * The tunnel secret (§5.1.1): answers a peer's Challenge and reveals hidden AVPs (§4.3). Without
   * it, an SCCRQ carrying a Challenge is refused (StopCCN Result Code 4).
   */
  readonly secret?: Uint8Array
  /** Challenge the peer in SCCRP and require its response in SCCCN (needs `secret`). Windows and
   *  macOS clients cannot answer a challenge, so it is off unless configured. */
  readonly challengePeer?: boolean
  /** Calls on this tunnel; further ICRQs get CDN Result Code 4 (no facilities, temporary). Default 64. */
  readonly maxSessions?: number
  /** §5.7: how long a closed tunnel keeps acknowledging retransmissions (default: the full
   *  retransmission cycle of the default channel, 31 s). */
  readonly lingerMs?: number
  readonly channel?: ChannelOptions
  readonly logger?: Logger
}

/** What the gateway or client needs to attach a PppSession to a call. */
export interface L2tpSessionInfo {
  /** Our Session ID: the peer puts it in the header of data messages it sends us (§4.4.4). */
  readonly sessionId: number
  /** The peer's Session ID: we put it in the header of data messages we send. */
  readonly peerSessionId: number
  readonly callSerialNumber: number
  /** §4.4.5 (Tx) Connect Speed of the ICCN, bits per second. */
  readonly txConnectSpeed: number
  /** §4.4.5 Framing Type of the ICCN (Framing.Sync / Framing.Async bits). */
  readonly framingType: number
  /** §5.4: sequence numbers on the data channel (the LAC's Sequencing Required); encodeFrame then sends Ns. */
  readonly sequencing: boolean
  readonly callingNumber?: string | undefined
  readonly calledNumber?: string | undefined
}

export type L2tpTunnelEvent =
  /** §7.2.1 wait-ctl-conn -> established: the control connection is up. */
  | { readonly type: 'tunnelUp'; readonly peerTunnelId: number; readonly peerHostName: string; readonly peerVendorName: string | undefined; readonly peerFramingCapabilities: number }
  /** §7.4.1/§7.4.2 the call is established: attach PPP; frames flow through pollFrame/encodeFrame. */
  | ({ readonly type: 'sessionUp' } & L2tpSessionInfo)
  /** A call ended: CDN either way, refused, or the tunnel went down (`result` when the peer sent one). */
  | { readonly type: 'sessionDown'; readonly sessionId: number; readonly reason: string; readonly result?: ResultCodeValue | undefined }
  /** Exactly once. The core still acknowledges retransmissions until `done` (§5.7). */
  | { readonly type: 'closed'; readonly reason: string; readonly message: string }

/** A PPP frame that arrived on an established session; `frame` is a view into the datagram passed to handleDatagram. */
export interface L2tpFrame { readonly sessionId: number; readonly frame: Uint8Array }

export type LnsTunnelOptions = TunnelOptions
export type LacTunnelOptions = TunnelOptions
export type LnsTunnelEvent = L2tpTunnelEvent
export type LnsSessionInfo = L2tpSessionInfo
export type LnsFrame = L2tpFrame
