// Contract between the PPP session and its authentication-phase protocols (RFC 1661 §3.5):
// PAP (RFC 1334), CHAP-MD5 (RFC 1994), MS-CHAPv2 (RFC 2759), EAP (RFC 3748; MD5, MS-CHAPv2).
import type { Millis } from '../../lib/time.js'
import type { Rng } from '../../crypto/rng.js'
import type { AuthKeys, AuthProof, AuthVerdict } from '../../auth/types.js'

/** Methods as negotiated by LCP's Authentication-Protocol option; 'eap' carries EAP-MD5/EAP-MS-CHAPv2 inside. */
export type PppAuthMethod = 'pap' | 'chap-md5' | 'mschapv2' | 'eap'
export type EapMethodName = 'eap-mschapv2' | 'eap-md5'

export type AuthSideEvent =
  /** Authenticator side: AAA must verify this proof and answer with handleVerdict. */
  | { readonly type: 'verify'; readonly proof: AuthProof }
  /** Both sides: the authentication phase succeeded (peer side: only after mutual auth was checked). */
  | { readonly type: 'success'; readonly user: string; readonly method: PppAuthMethod | EapMethodName; readonly keys?: AuthKeys }
  /** Both sides: failed; `reason` is machine-readable ('bad-credentials', 'timeout', 'mutual-auth-failed', 'locked', ...). */
  | { readonly type: 'failure'; readonly reason: string; readonly message: string }

/** One authentication protocol instance for one direction of one link. Sans-IO like every core. */
export interface PppAuthCore {
  /** PPP protocol number this core's packets travel under: 0xc023 PAP, 0xc223 CHAP, 0xc227 EAP. */
  readonly protocol: number
  /** Begin the phase: the authenticator sends its first Challenge/Request; a PAP peer sends Authenticate-Request. */
  start(now: Millis): void
  /** A packet under `protocol`: the bytes after the PPP protocol field (Code, Identifier, Length, ...). Hostile input. */
  handlePacket(now: Millis, info: Uint8Array): void
  /** Authenticator side only: AAA's answer to the last 'verify' event. */
  handleVerdict(now: Millis, verdict: AuthVerdict): void
  handleTimeout(now: Millis): void
  nextTimeout(): Millis | undefined
  /** Next packet to send under `protocol` (Code, Identifier, Length, ...). */
  pollPacket(): Uint8Array | undefined
  pollEvent(): AuthSideEvent | undefined
}

export interface AuthenticatorOptions {
  readonly rng: Rng
  /** Our name in CHAP/MS-CHAPv2 challenges. */
  readonly name: string
  /** For method 'eap': the EAP methods to offer, in preference order. */
  readonly eapMethods?: readonly EapMethodName[]
  readonly restartMs?: number // default 3000
  readonly maxRetries?: number // default 10
}

export interface AuthPeerOptions {
  readonly rng: Rng
  readonly user: string
  readonly password: string
  /** For method 'eap': EAP methods we accept (we Nak toward the first of these). */
  readonly eapMethods?: readonly EapMethodName[]
  readonly restartMs?: number
  readonly maxRetries?: number
}
