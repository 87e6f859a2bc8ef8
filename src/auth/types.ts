// What a PPP (or, later, IKEv2-EAP) authenticator hands to AAA, and what AAA answers.
// One shape per credential method, so the local store and RADIUS can both verify it.

/** Proof a peer presented; the gateway's AAA verifies it. Byte fields are copies owned by the proof. */
export type AuthProof =
  | { readonly method: 'pap'; readonly user: string; readonly password: string }
  /** CHAP-MD5 (RFC 1994) and EAP-MD5 (RFC 3748 §5.4): response = MD5(id || secret || challenge). */
  | { readonly method: 'chap-md5'; readonly user: string; readonly id: number; readonly challenge: Uint8Array; readonly response: Uint8Array }
  /** MS-CHAPv2 (RFC 2759), in PPP or inside EAP (EAP-MS-CHAPv2). */
  | {
      readonly method: 'mschapv2'; readonly user: string
      readonly authenticatorChallenge: Uint8Array // 16 bytes, ours
      readonly peerChallenge: Uint8Array // 16 bytes
      readonly ntResponse: Uint8Array // 24 bytes
    }

export type AuthMethodName = AuthProof['method']

/** Keys an authentication produced, from the authenticator's (server's) point of view. */
export interface AuthKeys {
  /** Which method produced the key: SSTP derives its HLAK differently for PPP MS-CHAPv2 and EAP. */
  readonly method: 'mschapv2' | 'eap-mschapv2'
  /** RFC 3079 §3.4 MasterKey (16 bytes), identical on both sides — source of MPPE keys and SSTP's HLAK. */
  readonly masterKey: Uint8Array
}

export type AuthVerdict =
  | {
      readonly ok: true
      readonly user: string
      /** MS-CHAPv2 only: the 42-char "S=<40 hex>" authenticator response (RFC 2759 §8.7). */
      readonly authenticatorResponse?: string
      readonly keys?: AuthKeys
      /** Address to assign to the peer (from the pool or a per-user setting), dotted IPv4. */
      readonly address?: string
      /** Seconds after which the session must end (RADIUS Session-Timeout, later). */
      readonly sessionTimeout?: number
      /**
       * A router account's networks, canonical "a.b.c.d/n" (RFC 2865 §5.22 Framed-Route): the
       * gateway routes them to this session besides its address. Absent for ordinary users.
       */
      readonly routes?: readonly string[]
    }
  | {
      readonly ok: false
      /** Machine-readable reason recorded for the administrator: 'bad-credentials', 'locked', 'no-such-user', 'method-not-allowed', 'pool-exhausted', 'backend-error'. */
      readonly reason: string
      /** Human-readable message for logs (never contains the password). */
      readonly message: string
      /** MS-CHAPv2 failure error code (RFC 2759 §6): 691 auth failure, 647 account disabled/locked. */
      readonly mschapError?: number
    }
