// The carrier-independent shape of an EAP method (RFC 3748 §2, §7): PPP (src/ppp/auth/eap.ts),
// IKEv2-EAP and RADIUS EAP pass-through drive the same method cores through these two interfaces.
import type { AuthKeys, AuthProof, AuthVerdict } from '../types.js'
import type { EapMethodName } from '../../ppp/auth/types.js'

/** What an authenticator-side method asks its carrier to do next. */
export type EapServerStep =
  /** Send a new Request of the method's Type; if it is never answered, fail with `onTimeout` (default 'timeout'). */
  | { readonly kind: 'request'; readonly typeData: Uint8Array; readonly onTimeout?: { readonly reason: string; readonly message: string } }
  /** Ask AAA; answer with handleVerdict. */
  | { readonly kind: 'verify'; readonly proof: AuthProof }
  /** Send EAP Success: the peer is authenticated. */
  | { readonly kind: 'success'; readonly user: string; readonly keys?: AuthKeys }
  /** Send EAP Failure. */
  | { readonly kind: 'failure'; readonly reason: string; readonly message: string }
  /** Ignore the Response (count `reason`); the Request stays outstanding. */
  | { readonly kind: 'drop'; readonly reason: string }

/**
 * Authenticator side of one method run. The carrier owns Identifiers, retransmission and
 * duplicate detection: a method only sees the first Response to each of its Requests.
 * handleResponse may throw DecodeError on malformed Type-Data; carriers count and drop it.
 */
export interface EapServerMethod {
  readonly name: EapMethodName
  readonly type: number
  /** Type-Data of the first Request, which the carrier sends under EAP Identifier `identifier`. */
  initiate(identifier: number): Uint8Array
  handleResponse(identifier: number, typeData: Uint8Array): EapServerStep
  /** AAA's answer to the 'verify' step. */
  handleVerdict(verdict: AuthVerdict): EapServerStep
}

export type EapPeerOutcome = { readonly ok: true; readonly keys?: AuthKeys } | { readonly ok: false; readonly reason: string; readonly message: string }

/** What a peer-side method asks its carrier to do with a Request. */
export type EapPeerStep =
  /** Send this Response Type-Data; with `failure`, the method then concluded unsuccessfully. */
  | { readonly kind: 'respond'; readonly typeData: Uint8Array; readonly failure?: { readonly reason: string; readonly message: string } }
  /** Conclude unsuccessfully without answering (e.g. the server failed mutual authentication). */
  | { readonly kind: 'fail'; readonly reason: string; readonly message: string }
  | { readonly kind: 'drop'; readonly reason: string }

/**
 * Peer side of one method run. The carrier answers duplicate Requests from its cache (RFC 3748
 * §4.1), so handleRequest sees each Request once. May throw DecodeError on malformed Type-Data.
 */
export interface EapPeerMethod {
  readonly name: EapMethodName
  readonly type: number
  handleRequest(identifier: number, typeData: Uint8Array): EapPeerStep
  /** EAP Success arrived: may the peer believe it? (RFC 3748 §7.16: a method with mutual authentication says no until the server proved itself.) */
  handleSuccess(): EapPeerOutcome
  /** EAP Failure arrived. */
  handleFailure(): { readonly reason: string; readonly message: string }
}
