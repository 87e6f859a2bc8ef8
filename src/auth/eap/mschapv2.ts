// EAP-MS-CHAPv2 method cores (draft-kamath-pppext-eap-mschapv2-02 §2, RFC 2759): Challenge ->
// Response -> Success-Request (S=..., mutual auth) -> Success-Response -> EAP Success, or
// Failure-Request (E=...) -> Failure-Response -> EAP Failure. Keys: RFC 3079 §3.4 MasterKey.
import { fromUtf8, utf8 } from '../../lib/bytes.js'
import { stripDomain } from '../mschapv2.js'
import type { Rng } from '../../crypto/rng.js'
import type { AuthKeys, AuthVerdict } from '../types.js'
import { EapType } from './codec.js'
import type { EapPeerMethod, EapPeerOutcome, EapPeerStep, EapServerMethod, EapServerStep } from './method.js'
import { decodeEapMsChapV2, encodeEapMsChapV2 } from './mschapv2-codec.js'
import {
  buildFailureMessage, buildSuccessMessage, decodeMsChapV2ResponseValue, MsChapV2Error, MsChapV2PeerExchange,
  MSCHAPV2_CHALLENGE_LENGTH, MSCHAPV2_RESPONSE_LENGTH, mschapErrorText,
} from './mschapv2-common.js'

const AUTH_RESPONSE = /^S=[0-9A-Fa-f]{40}$/

/** Authenticator side; `identity` (from EAP Identity) is the user name AAA verifies. */
export class EapMsChapV2Server implements EapServerMethod {
  readonly name = 'eap-mschapv2'
  readonly type = EapType.MSCHAPV2
  private readonly rng: Rng
  private readonly serverName: Uint8Array
  private readonly identity: string
  private challenge: Uint8Array = new Uint8Array(0)
  private msChapV2Id = 0
  private state: 'idle' | 'challenged' | 'verifying' | 'success-sent' | 'failure-sent' | 'done' = 'idle'
  private granted: { user: string; keys?: AuthKeys } | undefined
  private refused: { reason: string; message: string } = { reason: 'bad-credentials', message: '' }

  constructor(opts: { readonly rng: Rng; readonly serverName: string; readonly identity: string }) {
    this.rng = opts.rng
    this.serverName = utf8(opts.serverName)
    this.identity = opts.identity
  }

  initiate(identifier: number): Uint8Array {
    this.challenge = this.rng.bytes(MSCHAPV2_CHALLENGE_LENGTH)
    // Like common servers we reuse the EAP Identifier as MS-CHAPv2-ID; the Response must echo it.
    this.msChapV2Id = identifier
    this.state = 'challenged'
    return encodeEapMsChapV2({ opCode: 'Challenge', msChapV2Id: identifier, value: this.challenge, name: this.serverName })
  }

  handleResponse(_identifier: number, typeData: Uint8Array): EapServerStep {
    const m = decodeEapMsChapV2(typeData, 'response')
    switch (this.state) {
      case 'challenged': {
        if (m.opCode !== 'Response') return { kind: 'drop', reason: 'unexpected-opcode' }
        if (m.msChapV2Id !== this.msChapV2Id) return { kind: 'drop', reason: 'ms-chapv2-id-mismatch' }
        if (m.value.length !== MSCHAPV2_RESPONSE_LENGTH) return { kind: 'drop', reason: 'bad-response-length' }
        const v = decodeMsChapV2ResponseValue(m.value)
        // RFC 2759 §8.2 hashes the user name the Response carries; it must name the same account as
        // the EAP Identity (Windows may send "DOMAIN\\user" in one and "user" in the other).
        const name = m.name.length > 0 ? fromUtf8(m.name) : this.identity
        if (stripDomain(name).toLowerCase() !== stripDomain(this.identity).toLowerCase()) {
          this.state = 'done'
          return { kind: 'failure', reason: 'identity-mismatch', message: `MS-CHAPv2 name "${name}" differs from the EAP identity "${this.identity}"` }
        }
        this.state = 'verifying'
        return { kind: 'verify', proof: { method: 'mschapv2', user: name, authenticatorChallenge: this.challenge.slice(), peerChallenge: v.peerChallenge.slice(), ntResponse: v.ntResponse.slice() } }
      }
      case 'success-sent':
        this.state = 'done'
        if (m.opCode === 'Success-Response' && this.granted) return { kind: 'success', user: this.granted.user, ...(this.granted.keys ? { keys: this.granted.keys } : {}) }
        // The peer refused our authenticator response (or answered nonsense): no access.
        return { kind: 'failure', reason: 'peer-rejected-server', message: 'the peer did not accept the MS-CHAPv2 Success-Request' }
      case 'failure-sent':
        if (m.opCode !== 'Failure-Response') return { kind: 'drop', reason: 'unexpected-opcode' }
        this.state = 'done'
        return { kind: 'failure', reason: this.refused.reason, message: this.refused.message }
      default:
        return { kind: 'drop', reason: 'unexpected-response' }
    }
  }

  handleVerdict(verdict: AuthVerdict): EapServerStep {
    if (this.state !== 'verifying') return { kind: 'drop', reason: 'unexpected-verdict' }
    let error: number = MsChapV2Error.AUTHENTICATION_FAILURE
    if (verdict.ok) {
      if (verdict.authenticatorResponse !== undefined && AUTH_RESPONSE.test(verdict.authenticatorResponse)) {
        this.state = 'success-sent'
        // AAA labels keys by the inner proof ('mschapv2'); SSTP needs to know they came through EAP.
        this.granted = { user: verdict.user, ...(verdict.keys ? { keys: { method: 'eap-mschapv2', masterKey: verdict.keys.masterKey } } : {}) }
        const message = buildSuccessMessage(verdict.authenticatorResponse.toUpperCase(), 'Access granted')
        return { kind: 'request', typeData: encodeEapMsChapV2({ opCode: 'Success-Request', msChapV2Id: this.msChapV2Id, message }), onTimeout: { reason: 'timeout', message: 'no answer to the EAP-MS-CHAPv2 Success-Request' } }
      }
      this.refused = { reason: 'backend-error', message: 'MS-CHAPv2 verdict lacks a valid authenticator response' }
    } else {
      this.refused = { reason: verdict.reason, message: verdict.message }
      error = verdict.mschapError ?? error
    }
    this.state = 'failure-sent'
    const message = buildFailureMessage(error, this.rng.bytes(MSCHAPV2_CHALLENGE_LENGTH), mschapErrorText(error))
    return { kind: 'request', typeData: encodeEapMsChapV2({ opCode: 'Failure-Request', msChapV2Id: this.msChapV2Id, message }), onTimeout: this.refused }
  }
}

/** Peer side: EAP Success counts only after the Success-Request proved the server knows the password. */
export class EapMsChapV2Peer implements EapPeerMethod {
  readonly name = 'eap-mschapv2'
  readonly type = EapType.MSCHAPV2
  private readonly rng: Rng
  private readonly user: string
  private readonly password: string
  private exchange: MsChapV2PeerExchange | undefined
  private verified: { keys: AuthKeys } | undefined
  private failed = false

  constructor(opts: { readonly rng: Rng; readonly user: string; readonly password: string }) {
    this.rng = opts.rng
    this.user = opts.user
    this.password = opts.password
  }

  handleRequest(_identifier: number, typeData: Uint8Array): EapPeerStep {
    const m = decodeEapMsChapV2(typeData, 'request')
    if (this.failed || this.verified) return { kind: 'drop', reason: 'method-concluded' }
    if (m.opCode === 'Challenge') {
      if (m.value.length !== MSCHAPV2_CHALLENGE_LENGTH) return { kind: 'drop', reason: 'bad-challenge-length' }
      this.exchange = new MsChapV2PeerExchange(this.rng, this.user, this.password, m.value, 'eap-mschapv2')
      return { kind: 'respond', typeData: encodeEapMsChapV2({ opCode: 'Response', msChapV2Id: m.msChapV2Id, value: this.exchange.value, name: utf8(this.user) }) }
    }
    const x = this.exchange
    if (x === undefined) return { kind: 'drop', reason: 'no-challenge-yet' }
    if (m.opCode === 'Success-Request') {
      // The MS-CHAPv2-ID is not checked here: servers differ in what they put there, and the
      // authenticator response below is what proves the Success genuine.
      const o = x.onSuccess(m.message)
      if (!o.ok) {
        this.failed = true
        return { kind: 'fail', reason: o.reason, message: o.message }
      }
      this.verified = { keys: o.keys }
      return { kind: 'respond', typeData: encodeEapMsChapV2({ opCode: 'Success-Response' }) }
    }
    if (m.opCode === 'Failure-Request') {
      this.failed = true
      return { kind: 'respond', typeData: encodeEapMsChapV2({ opCode: 'Failure-Response' }), failure: x.onFailure(m.message) }
    }
    return { kind: 'drop', reason: 'unexpected-opcode' }
  }

  handleSuccess(): EapPeerOutcome {
    if (this.verified) return { ok: true, keys: this.verified.keys }
    // RFC 3748 §7.16 and draft §2.3: without a verified Success-Request the server has not shown it
    // knows the password; an EAP Success here could come from anyone.
    return { ok: false, reason: 'mutual-auth-failed', message: 'EAP Success before the server proved it knows the password' }
  }

  handleFailure(): { reason: string; message: string } {
    return { reason: 'auth-failed', message: 'EAP Failure during EAP-MS-CHAPv2' }
  }
}
