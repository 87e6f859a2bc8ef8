// MS-CHAPv2 over PPP CHAP (RFC 2759 §2-§6, CHAP algorithm 0x81): 16-octet challenge, 49-octet
// Response Value, "S=... M=..." Success with mutual authentication, "E=... R=0 C=... V=3" Failure.
import type { AuthVerdict } from '../../auth/types.js'
import {
  buildFailureMessage, buildSuccessMessage, decodeMsChapV2ResponseValue, MsChapV2Error, MsChapV2PeerExchange,
  MSCHAPV2_CHALLENGE_LENGTH, MSCHAPV2_RESPONSE_LENGTH, mschapErrorText,
} from '../../auth/eap/mschapv2-common.js'
import type { AuthPeerOptions } from './types.js'
import type { ChapAuthenticatorVariant, ChapPeerVariant } from './chap.js'

const AUTH_RESPONSE = /^S=[0-9A-Fa-f]{40}$/

export const msChapV2AuthenticatorVariant: ChapAuthenticatorVariant = {
  method: 'mschapv2',
  // RFC 2759 §3: "the Challenge packet ... the Value field contains a 16-octet challenge".
  challenge: (rng) => rng.bytes(MSCHAPV2_CHALLENGE_LENGTH),
  proof(_identifier, challenge, value, name) {
    if (value.length !== MSCHAPV2_RESPONSE_LENGTH) return 'bad-response-length'
    const v = decodeMsChapV2ResponseValue(value)
    return { method: 'mschapv2', user: name, authenticatorChallenge: challenge.slice(), peerChallenge: v.peerChallenge.slice(), ntResponse: v.ntResponse.slice() }
  },
  success(verdict: Extract<AuthVerdict, { ok: true }>) {
    // Without the authenticator response the peer would (rightly) refuse us: fail here instead.
    if (verdict.authenticatorResponse === undefined || !AUTH_RESPONSE.test(verdict.authenticatorResponse)) {
      return { ok: false, reason: 'backend-error', message: 'MS-CHAPv2 verdict lacks a valid authenticator response' }
    }
    return { ok: true, message: buildSuccessMessage(verdict.authenticatorResponse.toUpperCase(), 'Access granted'), ...(verdict.keys ? { keys: verdict.keys } : {}) }
  },
  failure(rng, mschapError) {
    const error = mschapError ?? MsChapV2Error.AUTHENTICATION_FAILURE
    return buildFailureMessage(error, rng.bytes(MSCHAPV2_CHALLENGE_LENGTH), mschapErrorText(error))
  },
}

/** Peer side: a fresh peer challenge per Challenge; Success is accepted only after §8.8's check. */
export function msChapV2PeerVariant(opts: AuthPeerOptions): ChapPeerVariant {
  return {
    method: 'mschapv2',
    respond(_identifier, challenge) {
      if (challenge.length !== MSCHAPV2_CHALLENGE_LENGTH) return 'bad-challenge-length'
      const x = new MsChapV2PeerExchange(opts.rng, opts.user, opts.password, challenge, 'mschapv2')
      return { value: x.value, onSuccess: (m) => x.onSuccess(m), onFailure: (m) => x.onFailure(m) }
    },
  }
}
