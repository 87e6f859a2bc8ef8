// IkeV1Endpoint: the IKEv1 core as a DatagramCore (DESIGN.md §2). Demultiplexes by cookies (RFC 2408
// §2.5.3), runs main mode + quick mode tasks, and is the one owner of message IDs, retransmission, the
// reply cache, informational DELETE (RFC 2408 §3.15) and INITIAL-CONTACT (RFC 2407 §4.6.3.3).
import type { Endpoint } from '../../lib/endpoint.js'
import type { Millis } from '../../lib/time.js'
import { DecodeError } from '../../lib/errors.js'
/** A datagram to send (the shape of transport/datagram-driver's Transmit; protocol folders do not import transport/). */
export interface IkeTransmit { readonly to: Endpoint; readonly data: Uint8Array }
import { addressBytes } from './nat-t.js'
import type { IkeIdentity, NatTState } from './ike-sa.js'
import type { ChildSaParams, EspMode, TrafficSelector } from './tasks/quick-mode.js'
import { implementedEsp, implementedPhase1 } from './proposal/select.js'
import type { EspTransform, Phase1Transform } from './proposal/transforms.js'
import { DEFAULT_PHASE1_PROPOSALS } from './informational.js'
import { ipv4Identity } from './tasks/main-mode.js'
import type { Rng } from '../../crypto/rng.js'
import { IkeV1Manager } from './task-manager.js'
import { DEFAULT_FRAGMENTATION } from './fragment-io.js'
import type { FragmentationOptions } from './fragment-io.js'
import { OakleyAuth } from './oakley.js'
import { loadSigner } from './tasks/cert-auth.js'
import type { IkeCredentials, IkeTrust } from './tasks/cert-auth.js'
import { DEFAULT_DPD } from './tasks/dpd.js'
import type { DpdOptions } from './tasks/dpd.js'
import { VpnError } from '../../lib/errors.js'
export { AGGRESSIVE_MODE_WARNING } from './tasks/aggressive-mode.js'

export interface IkeV1EndpointOptions {
  /** Our address and IKE port as the peer should see them (NAT-D input, default ID). */
  readonly local: Endpoint
  readonly rng: Rng
  /**
   * Pre-shared key for a peer. Main mode passes the address only (the ID is not known when keys are
   * derived, RFC 2409 §5.4); aggressive mode also passes the peer's ID, which arrives with its KE.
   */
  readonly psk: (peer: Endpoint, id?: IkeIdentity) => Uint8Array | undefined
  /**
   * Responder: take aggressive mode (RFC 2409 §5.4). Off by default: an aggressive mode 1 is then answered
   * with a plain INVALID-EXCHANGE-TYPE notify and counted (`refused:aggressive-mode`). Whoever turns it on
   * must show AGGRESSIVE_MODE_WARNING (tasks/aggressive-mode.ts).
   */
  readonly aggressive?: boolean
  readonly localId?: IkeIdentity
  readonly phase1Proposals?: readonly Phase1Transform[]
  readonly acceptPhase1?: (t: Phase1Transform) => boolean
  readonly acceptEsp?: (t: EspTransform) => boolean
  /** Responder policy: transport (L2TP/IPsec, the default) or tunnel. */
  readonly mode?: EspMode
  readonly acceptSelectors?: (local: TrafficSelector, remote: TrafficSelector) => boolean
  /**
   * Per-peer responder policy for quick mode; when given it replaces `mode` + `acceptSelectors` (and the
   * quick mode half of `peerPolicy`), and it sees the peer's authenticated phase 1 ID. One
   * gateway on UDP 500 can so take L2TP/IPsec (transport, any peer) and site-to-site tunnels (tunnel,
   * configured peers and subnets). true accepts; a string (or false) refuses with that reason (counted as
   * `refused:child-policy`, reported in `childSaFailed` on our side, and answered with a protected
   * INVALID-ID-INFORMATION, or NO-PROPOSAL-CHOSEN when the other mode would have passed). It must be a
   * pure function of its input (it may be asked about a mode the peer did not offer).
   */
  readonly acceptChild?: AcceptChild
  readonly natT?: boolean
  /** First retransmission after firstMs, then × factor, at most `tries` resends (strongSwan-like 2 s × 1.8, 5). */
  readonly retransmit?: { readonly firstMs: number; readonly factor: number; readonly tries: number }
  /** Responder SAs still in main mode per source address (issue 4: half-open SAs are bounded). */
  readonly halfOpenPerAddress?: number
  /** Responder SAs still in main mode altogether (default 1000). */
  readonly halfOpenTotal?: number
  /** A responder SA that has not finished main mode by then is dropped. */
  readonly halfOpenTimeoutMs?: number
  /** Bad main mode 5 messages (wrong key) a responder takes before giving up on that SA. */
  readonly maxAuthFailures?: number
  /** Inbound ESP SPIs taken outside this endpoint (e.g. by the ESP demux); ours are checked already. */
  readonly inboundSpiInUse?: (spi: number) => boolean
  /** Our certificate (DER) and private key (PEM) for signature authentication (RFC 2409 §5.1). */
  readonly credentials?: IkeCredentials
  /** CAs (+ revocation, + wall clock) the peer's certificate must chain to. */
  readonly trust?: IkeTrust
  /**
   * Phase 1 authentication methods a responder accepts (OakleyAuth values). Default: the signature
   * method of `credentials` when credentials and trust are given, else pre-shared key only.
   */
  readonly authMethods?: readonly number[]
  /** Dead peer detection (RFC 3706), used when the peer announced it; false: never probe. Default 30 s / 150 s. */
  readonly dpd?: DpdOptions | false
  /** Longest ISAKMP SA lifetime we keep (seconds, default 28800); the proposal's is used when shorter. */
  readonly ikeLifetimeSeconds?: number
  /** Longest child SA lifetime a quick mode responder grants (seconds, default 3600; RESPONDER-LIFETIME when shorter than offered). */
  readonly childLifetimeSeconds?: number
  /** Rekey margin (default 9 min), its random reduction (default 0.1) and the old child's overlap (default 10 s). */
  readonly rekey?: { readonly marginMs?: number; readonly fuzz?: number; readonly overlapMs?: number }
  /**
   * IKE fragmentation (Cisco/Microsoft; Windows uses it for certificate main mode): we always announce
   * it and reassemble; we fragment towards peers that announced it. Defaults: DEFAULT_FRAGMENTATION.
   */
  readonly fragmentation?: Partial<FragmentationOptions>
  /**
   * Per-peer policy by the peer's address (a gateway serving L2TP/IPsec clients and site-to-site tunnels on
   * one UDP 500): phase 1 proposals and methods for SAs with that peer (both roles), and the quick mode
   * responder's mode and selectors. Fields left out (or undefined) fall back to the endpoint-wide options.
   */
  readonly peerPolicy?: (peer: Endpoint) => PeerPolicy | undefined
  /**
   * Debugging only (a key log the user asked for): called once main mode is up with the cookies and the
   * phase 1 encryption key, so a capture's encrypted ISAKMP messages can be decoded. Never set by default.
   */
  readonly keyLog?: (k: IkeKeyLogEntry) => void
}

/** What `keyLog` receives (RFC 2409 App. B: the cipher key; the cookies name the ISAKMP SA). A copy. */
export interface IkeKeyLogEntry { readonly ckyI: Uint8Array; readonly ckyR: Uint8Array; readonly cipher: string; readonly encryptionKey: Uint8Array }

/** See `IkeV1EndpointOptions.peerPolicy`. */
export interface PeerPolicy {
  readonly phase1Proposals?: readonly Phase1Transform[]
  readonly authMethods?: readonly number[]
  /** The CAs this peer's certificate may chain to (e.g. a site-to-site peer's own CA), instead of `trust`. */
  readonly trust?: IkeTrust
  readonly mode?: EspMode
  readonly acceptSelectors?: (local: TrafficSelector, remote: TrafficSelector) => boolean
}

/** The question a responder's per-peer quick mode policy answers (see `IkeV1EndpointOptions.acceptChild`). */
export interface ChildPolicyQuery {
  readonly peer: Endpoint
  /** The peer's phase 1 identity, authenticated. */
  readonly peerId: IkeIdentity
  readonly mode: EspMode
  /** Our side (IDcr) and the peer's (IDci); undefined when quick mode carried no IDs (the hosts themselves). */
  readonly local: TrafficSelector | undefined
  readonly remote: TrafficSelector | undefined
}
export type AcceptChild = (q: ChildPolicyQuery) => boolean | string

/** How an initiator runs phase 1. */
export interface ConnectOptions {
  /** Aggressive mode (RFC 2409 §5.4) instead of main mode; see AGGRESSIVE_MODE_WARNING. */
  readonly aggressive?: boolean
  /** Our IDii for this SA (aggressive mode: what the responder picks the PSK by; default `localId`). */
  readonly id?: IkeIdentity
}

export interface ChildSaRequest {
  readonly mode: EspMode
  readonly proposals?: readonly EspTransform[]
  readonly pfsGroup?: number
  readonly selectors?: { readonly local: TrafficSelector; readonly remote: TrafficSelector }
}

export type IkeV1Event =
  /** `rekeyOf`: this ISAKMP SA re-establishes that one (before its lifetime ends) and takes over its children. */
  | { readonly type: 'ikeUp'; readonly sa: string; readonly peer: Endpoint; readonly peerId: IkeIdentity; readonly natT: NatTState | undefined; readonly peerCertificate?: { readonly serial: string; readonly subject: string }; readonly rekeyOf?: string }
  /** NAT detected: from now on this SA's IKE (and its ESP) uses `peer` (port 4500) with the non-ESP marker (RFC 3947 §4). */
  | { readonly type: 'natFloat'; readonly sa: string; readonly peer: Endpoint }
  /** `rekeyOf`: the inbound SPI of the child this one replaces (the old one goes down with reason 'rekeyed'). `peerId` is the IKE SA's authenticated phase 1 identity (the same as its ikeUp's). */
  | ({ readonly type: 'childSaUp'; readonly sa: string; readonly peer: Endpoint; readonly peerId: IkeIdentity; readonly rekeyOf?: number } & ChildSaParams)
  /** A quick mode failed (ours refused, or the peer's protected error notify); the IKE SA stays up. */
  | { readonly type: 'childSaFailed'; readonly sa: string; readonly reason: string }
  | { readonly type: 'childSaDown'; readonly sa: string; readonly inboundSpi: number; readonly outboundSpi: number; readonly reason: string }
  /**
   * `keptChildren`: inbound SPIs of children that stay up (an ISAKMP SA expiring or deleted alone does not end
   * them, RFC 2408); they are held by another ISAKMP SA of the peer or wait for the next one. `replacedBy`:
   * the ISAKMP SA that re-established this one.
   */
  | { readonly type: 'closed'; readonly sa: string; readonly peer: Endpoint; readonly reason: string; readonly keptChildren?: readonly number[]; readonly replacedBy?: string }

export class IkeV1Endpoint {
  private readonly m: IkeV1Manager

  constructor(o: IkeV1EndpointOptions) {
    // Configuration time: a bad key or certificate throws here, never while a peer is talking.
    const signer = o.credentials ? loadSigner(o.credentials) : undefined
    const certAuth = signer !== undefined && o.trust !== undefined
    const dpd = o.dpd ?? DEFAULT_DPD
    if (dpd && !(dpd.intervalMs > 0 && dpd.timeoutMs > dpd.intervalMs)) throw new VpnError('ERR_IKE_DPD', `dpd: timeoutMs (${dpd.timeoutMs}) must exceed intervalMs (${dpd.intervalMs}) > 0`)
    this.m = new IkeV1Manager({
      local: o.local, rng: o.rng, psk: o.psk, aggressive: o.aggressive ?? false,
      localId: o.localId ?? ipv4Identity(addressBytes(o.local.address)),
      ...(signer ? { signer, certLocalId: o.localId ?? signer.id } : {}), ...(o.trust ? { trust: o.trust } : {}),
      authMethods: o.authMethods ?? (certAuth ? [signer.method] : [OakleyAuth.PreSharedKey]),
      // With certificates the default suites are offered with our key's signature method instead of PSK.
      phase1Proposals: o.phase1Proposals ?? (certAuth ? DEFAULT_PHASE1_PROPOSALS.map((t) => ({ ...t, authMethod: signer.method })) : DEFAULT_PHASE1_PROPOSALS),
      acceptPhase1: o.acceptPhase1 ?? implementedPhase1,
      acceptEsp: o.acceptEsp ?? implementedEsp,
      mode: o.mode ?? 'transport',
      acceptSelectors: o.acceptSelectors ?? (() => true),
      ...(o.acceptChild ? { acceptChild: o.acceptChild } : {}),
      natT: o.natT ?? true,
      retransmit: o.retransmit ?? { firstMs: 2000, factor: 1.8, tries: 5 },
      halfOpenPerAddress: o.halfOpenPerAddress ?? 8,
      halfOpenTotal: o.halfOpenTotal ?? 1000,
      halfOpenTimeoutMs: o.halfOpenTimeoutMs ?? 30_000,
      maxAuthFailures: o.maxAuthFailures ?? 3,
      inboundSpiInUse: o.inboundSpiInUse ?? (() => false),
      ...(o.peerPolicy ? { peerPolicy: o.peerPolicy } : {}),
      ...(o.keyLog ? { keyLog: o.keyLog } : {}),
      lifecycle: {
        dpd, ikeLifetimeSeconds: o.ikeLifetimeSeconds ?? 28800, childLifetimeSeconds: o.childLifetimeSeconds ?? 3600,
        marginMs: o.rekey?.marginMs ?? 540_000, fuzz: o.rekey?.fuzz ?? 0.1, overlapMs: o.rekey?.overlapMs ?? 10_000,
      },
      fragmentation: { ...DEFAULT_FRAGMENTATION, ...o.fragmentation },
    })
  }

  /**
   * Starts main mode (or aggressive mode with `opts.aggressive`) towards `peer` and, once it is up, quick mode for `child`. Returns the SA's name
   * (the hex initiator cookie) that every event of this SA carries.
   */
  connect(now: Millis, peer: Endpoint, child?: ChildSaRequest, opts?: ConnectOptions): string { return this.m.connect(now, peer, child, opts) }
  /** Starts another quick mode on an established SA (undefined when `sa` is not established). */
  createChildSa(now: Millis, sa: string, child: ChildSaRequest): number | undefined { return this.m.createChildSa(now, sa, child) }
  /** Sends an encrypted DELETE for every child SA and the ISAKMP SA, then forgets it. */
  deleteIkeSa(now: Millis, sa: string, reason = 'deleted locally'): void { this.m.deleteIkeSa(now, sa, reason) }

  /** The ESP layer received a packet on this inbound SPI (DPD counts it as proof of life). Allocation-free. */
  trafficSeen(now: Millis, inboundSpi: number): void { this.m.life.trafficSeen(now, inboundSpi) }
  /**
   * Rekeys the child with this inbound SPI now (the ESP layer's soft byte/sequence limit): a new quick mode
   * with the same mode, selectors and proposals. False when the SPI is unknown or already replaced.
   */
  rekeyChild(now: Millis, inboundSpi: number): boolean {
    try { return this.m.life.rekeyChild(now, inboundSpi) } catch { this.m.stats.inc('error:internal'); return false }
  }

  handleDatagram(now: Millis, data: Uint8Array, from: Endpoint): void {
    try { this.m.handleDatagram(now, data, from) } catch (e) {
      // Decoders throw only DecodeError; anything else is our bug, still never the peer's crash.
      this.m.stats.inc(e instanceof DecodeError ? `drop:decode:${e.field}` : 'error:internal')
    }
  }
  handleTimeout(now: Millis): void {
    try { this.m.handleTimeout(now) } catch { this.m.stats.inc('error:internal') }
  }
  nextTimeout(): Millis | undefined { return this.m.nextTimeout() }
  pollTransmit(): IkeTransmit | undefined { return this.m.transmits.shift() }
  pollEvent(): IkeV1Event | undefined { return this.m.events.shift() }
  /** Drop and event counters by reason. */
  counters(): Record<string, number> { return this.m.stats.snapshot() }
  /** Live IKE SAs (for tests and the admin view). */
  get saCount(): number { return this.m.entries.size }
}

