// MS-CHAPv2 pieces shared by PPP (RFC 2759 §3-§6) and EAP-MS-CHAPv2 (draft-kamath-pppext-eap-mschapv2-02):
// the 49-octet Response Value, the Success "S=... M=..." and Failure "E=... R=... C=... V=... M=..."
// message texts, and the peer's side of one exchange (NT-Response, mutual auth, MasterKey).
import { ByteReader, ByteWriter, toHex } from '../../lib/bytes.js'
import { DecodeError } from '../../lib/errors.js'
import type { Rng } from '../../crypto/rng.js'
import type { AuthKeys } from '../types.js'
import { checkAuthenticatorResponse, generateNtResponse, hashNtPasswordHash, ntPasswordHash } from '../mschapv2.js'
import { getMasterKey } from '../mppe-keys.js'

export const MSCHAPV2_CHALLENGE_LENGTH = 16
/** RFC 2759 §4: Peer-Challenge 16, Reserved 8, NT-Response 24, Flags 1. */
export const MSCHAPV2_RESPONSE_LENGTH = 49

/** RFC 2759 §6 error codes. */
export const MsChapV2Error = {
  RESTRICTED_LOGON_HOURS: 646,
  ACCT_DISABLED: 647,
  PASSWD_EXPIRED: 648,
  NO_DIALIN_PERMISSION: 649,
  AUTHENTICATION_FAILURE: 691,
  CHANGING_PASSWORD: 709,
} as const

export interface MsChapV2ResponseValue {
  readonly peerChallenge: Uint8Array
  readonly ntResponse: Uint8Array
  readonly flags: number
}

/** Decodes the Response Value (views into `value`). Throws DecodeError unless it is exactly 49 octets. */
export function decodeMsChapV2ResponseValue(value: Uint8Array): MsChapV2ResponseValue {
  if (value.length !== MSCHAPV2_RESPONSE_LENGTH) throw new DecodeError('value-size', 0, `MS-CHAPv2 Response Value is ${value.length} octets, not 49`)
  const r = new ByteReader(value)
  const peerChallenge = r.bytes(16, 'peer-challenge')
  // RFC 2759 §4: Reserved "must be zero" and Flags "MUST be zero" bind the sender; we ignore them.
  r.skip(8, 'reserved')
  const ntResponse = r.bytes(24, 'nt-response')
  return { peerChallenge, ntResponse, flags: r.u8('flags') }
}

/** Encodes the 49-octet Response Value with zero Reserved and Flags. Throws RangeError on wrong lengths. */
export function encodeMsChapV2ResponseValue(peerChallenge: Uint8Array, ntResponse: Uint8Array): Uint8Array {
  if (peerChallenge.length !== 16 || ntResponse.length !== 24) throw new RangeError('MS-CHAPv2 peer challenge is 16 and NT-Response 24 octets')
  return new ByteWriter(MSCHAPV2_RESPONSE_LENGTH).bytes(peerChallenge).zeros(8).bytes(ntResponse).u8(0).finish()
}

const ascii = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); out[i] = c < 0x80 ? c : 0x3f }
  return out
}
const fromAscii = (b: Uint8Array): string => {
  let s = ''
  for (const c of b) s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?'
  return s
}

/** RFC 2759 §5 Success Message: "S=<auth_string> M=<message>" (ASCII; non-ASCII text becomes '?'). */
export function buildSuccessMessage(authenticatorResponse: string, text: string): Uint8Array {
  return ascii(`${authenticatorResponse} M=${text}`)
}

/** The "S=<40 hex>" prefix of a Success Message, or undefined if the message does not start with one. */
export function parseSuccessMessage(message: Uint8Array): string | undefined {
  const s = fromAscii(message.subarray(0, 42))
  return /^S=[0-9A-Fa-f]{40}$/.test(s) ? s : undefined
}

/**
 * RFC 2759 §6 Failure Message "E=eeee R=r C=<32 hex> V=3 M=<msg>". We always send R=0 (no retry
 * with the same link: the peer must start over), so C is a fresh challenge only for form's sake.
 */
export function buildFailureMessage(error: number, challenge: Uint8Array, text: string): Uint8Array {
  return ascii(`E=${error} R=0 C=${toHex(challenge).toUpperCase()} V=3 M=${text}`)
}

export interface MsChapV2Failure {
  readonly error: number | undefined
  readonly retry: boolean
  readonly text: string
}

/** Parses a Failure Message leniently (peer text): unknown or missing fields are left undefined. */
export function parseFailureMessage(message: Uint8Array): MsChapV2Failure {
  const s = fromAscii(message.subarray(0, 512))
  const m = /M=(.*)$/.exec(s)
  const head = m ? s.slice(0, m.index) : s
  const e = /(?:^|\s)E=(\d{1,10})(?=\s|$)/.exec(head)
  const r = /(?:^|\s)R=([01])(?=\s|$)/.exec(head)
  return { error: e ? Number(e[1]) : undefined, retry: r?.[1] === '1', text: m?.[1]?.slice(0, 120) ?? '' }
}

/** Machine-readable reason for an RFC 2759 §6 error code. */
export function mschapErrorReason(error: number | undefined): string {
  switch (error) {
    case MsChapV2Error.AUTHENTICATION_FAILURE: return 'bad-credentials'
    case MsChapV2Error.ACCT_DISABLED: return 'locked'
    case MsChapV2Error.PASSWD_EXPIRED: return 'password-expired'
    case MsChapV2Error.NO_DIALIN_PERMISSION: return 'no-dialin-permission'
    case MsChapV2Error.RESTRICTED_LOGON_HOURS: return 'restricted-logon-hours'
    case MsChapV2Error.CHANGING_PASSWORD: return 'password-change-failed'
    default: return 'auth-failed'
  }
}

const ERROR_TEXT: Record<number, string> = {
  646: 'restricted logon hours', 647: 'account disabled or locked', 648: 'password expired',
  649: 'no dial-in permission', 691: 'authentication failure', 709: 'error changing password',
}

/** The peer-facing text for a failure code; names the error without saying why beyond it. */
export function mschapErrorText(error: number): string { return ERROR_TEXT[error] ?? 'authentication failed' }

type PeerOutcome = { readonly ok: true; readonly keys: AuthKeys } | { readonly ok: false; readonly reason: string; readonly message: string }

/**
 * The peer's half of one MS-CHAPv2 exchange: the Response Value for an authenticator challenge,
 * then the judgement of the server's Success (mutual authentication, RFC 2759 §8.8) or Failure.
 */
export class MsChapV2PeerExchange {
  /** The 49-octet Response Value to send. */
  readonly value: Uint8Array
  private readonly user: string
  private readonly password: string
  private readonly authenticatorChallenge: Uint8Array
  private readonly peerChallenge: Uint8Array
  private readonly ntResponse: Uint8Array
  private readonly keyMethod: AuthKeys['method']

  /** Throws RangeError if `authenticatorChallenge` is not 16 octets (callers check peer input first). */
  constructor(rng: Rng, user: string, password: string, authenticatorChallenge: Uint8Array, keyMethod: AuthKeys['method']) {
    if (authenticatorChallenge.length !== MSCHAPV2_CHALLENGE_LENGTH) throw new RangeError('MS-CHAPv2 challenge must be 16 octets')
    this.user = user
    this.password = password
    this.keyMethod = keyMethod
    this.authenticatorChallenge = authenticatorChallenge.slice()
    this.peerChallenge = rng.bytes(16)
    this.ntResponse = generateNtResponse(this.authenticatorChallenge, this.peerChallenge, user, password)
    this.value = encodeMsChapV2ResponseValue(this.peerChallenge, this.ntResponse)
  }

  /**
   * Judges a Success Message. RFC 2759 §5: the peer "MUST verify the authenticator response"; a
   * server that cannot prove it knows the password is refused ('mutual-auth-failed').
   */
  onSuccess(message: Uint8Array): PeerOutcome {
    const received = parseSuccessMessage(message)
    const ntHash = ntPasswordHash(this.password)
    try {
      if (received === undefined || !checkAuthenticatorResponse(ntHash, this.ntResponse, this.peerChallenge, this.authenticatorChallenge, this.user, received)) {
        return { ok: false, reason: 'mutual-auth-failed', message: 'MS-CHAPv2 authenticator response is missing or wrong: the server did not prove it knows the password' }
      }
      const hashHash = hashNtPasswordHash(ntHash)
      const masterKey = getMasterKey(hashHash, this.ntResponse)
      hashHash.fill(0)
      return { ok: true, keys: { method: this.keyMethod, masterKey } }
    } finally {
      ntHash.fill(0)
    }
  }

  /** Maps a Failure Message to a reason: E=691 'bad-credentials', E=647 'locked', others by code. */
  onFailure(message: Uint8Array): { readonly reason: string; readonly message: string } {
    const f = parseFailureMessage(message)
    const code = f.error === undefined ? 'without an error code' : `E=${f.error} (${mschapErrorText(f.error)})`
    return { reason: mschapErrorReason(f.error), message: `MS-CHAPv2 failure ${code}${f.text ? `: ${f.text}` : ''}` }
  }
}
