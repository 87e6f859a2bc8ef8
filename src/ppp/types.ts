// The public face of a PPP link (RFC 1661) as carriers (SSTP, PPTP, L2TP) and the gateway see it.
import type { Millis } from '../lib/time.js'
import type { Rng } from '../crypto/rng.js'
import type { AuthKeys, AuthProof, AuthVerdict } from '../auth/types.js'
import type { EapMethodName, PppAuthMethod } from './auth/types.js'
import type { MppePolicy } from './ccp/policy.js'

export interface PppCommonOptions {
  readonly rng: Rng
  /** Our MRU; default 1400 (fits SSTP/PPTP/L2TP over a 1500-byte path). */
  readonly mru?: number
  /** LCP Echo-Request interval when the link is quiet; default 10000 ms; 0 disables. */
  readonly echoIntervalMs?: number
  /** Unanswered echoes before the link is declared dead; default 3. */
  readonly echoFailures?: number
  readonly restartMs?: number // RFC 1661 Restart timer, default 3000
  readonly maxConfigure?: number // default 10
  readonly maxTerminate?: number // default 2
  readonly maxFailure?: number // default 5
  /** MPPE over CCP (RFC 3078/3079, PPTP). Absent: no CCP at all (SSTP); CCP from the peer gets Protocol-Reject. */
  readonly mppe?: MppePolicy
}

export interface PppServerOptions extends PppCommonOptions {
  readonly role: 'server'
  /** Methods we ask for, in preference order (LCP Configure-Nak walks down this list). */
  readonly authMethods: readonly PppAuthMethod[]
  readonly eapMethods?: readonly EapMethodName[]
  /** Our name in challenges. */
  readonly authName: string
  /** Our IPCP address (the gateway's tunnel-side address), dotted IPv4. */
  readonly localAddress: string
  readonly dns?: readonly string[] // primary, secondary (RFC 1877)
  readonly wins?: readonly string[]
}

export interface PppClientOptions extends PppCommonOptions {
  readonly role: 'client'
  readonly user: string
  readonly password: string
  /** Methods we agree to when the server asks; default ['mschapv2', 'eap'] (never PAP/CHAP unless listed). */
  readonly acceptAuthMethods?: readonly PppAuthMethod[]
  readonly eapMethods?: readonly EapMethodName[] // default ['eap-mschapv2']
}

export type PppOptions = PppServerOptions | PppClientOptions

export type PppPhase = 'dead' | 'establish' | 'authenticate' | 'network' | 'terminate'

export type PppEvent =
  /** Server: verify this proof (AAA) and answer with handleAuthResult; the verdict carries the address. */
  | { readonly type: 'authRequest'; readonly proof: AuthProof }
  | { readonly type: 'authenticated'; readonly user: string; readonly method: string; readonly keys?: AuthKeys }
  /** IPCP opened: addresses agreed. Client: dns/wins the server pushed. */
  | { readonly type: 'up'; readonly localAddress: string; readonly peerAddress: string; readonly dns: readonly string[]; readonly wins: readonly string[] }
  /** A received IPv4 packet (a view valid until the next call into the session). */
  | { readonly type: 'ip'; readonly packet: Uint8Array }
  /** The link is down for good; reason is machine-readable: 'auth-failed', 'peer-terminated', 'echo-timeout', 'admin', 'negotiation-failed', 'lower-down', ... */
  | { readonly type: 'down'; readonly reason: string; readonly message: string }

/** What a carrier needs from a PPP session. Implemented by PppSession (src/ppp/session.ts). */
export interface PppLink {
  readonly phase: PppPhase
  /** Lower layer is up: start LCP. */
  open(now: Millis): void
  /** Administrative close: LCP Terminate-Request carrying `message`; 'down' follows with `reason`. */
  close(now: Millis, reason: string, message: string): void
  /** The carrier is gone: go down immediately, emitting 'down' with `reason`. */
  lowerDown(now: Millis, reason: string, message: string): void
  /** One PPP frame as carried without HDLC flags/FCS: optional FF 03, then protocol (1 or 2 bytes), then info. Hostile input. */
  handleFrame(now: Millis, frame: Uint8Array): void
  handleAuthResult(now: Millis, verdict: AuthVerdict): void
  /** Frame an IPv4 packet for sending (hot path; returns a new frame or undefined if IPCP is not open). */
  encodeIp(packet: Uint8Array): Uint8Array | undefined
  handleTimeout(now: Millis): void
  nextTimeout(): Millis | undefined
  pollFrame(): Uint8Array | undefined
  pollEvent(): PppEvent | undefined
  /** Drop counters by reason, plus packets/bytes each way. */
  counters(): Record<string, number>
}
