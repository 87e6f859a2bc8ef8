// EAP over PPP (RFC 3748 §2, §4, §5; protocol c227), peer role: answers Identity with the user
// name, Notification with an empty Response, Naks methods it does not accept, runs the ones it does.
import { bytesEqual, utf8 } from '../../lib/bytes.js'
import type { Millis } from '../../lib/time.js'
import type { Rng } from '../../crypto/rng.js'
import { decodeEap, encodeEap, encodeNak, EapType } from '../../auth/eap/codec.js'
import type { EapPeerMethod, EapPeerStep } from '../../auth/eap/method.js'
import { createEapPeerMethod, EAP_METHOD_TYPES, eapMethodForType } from '../../auth/eap/methods.js'
import { AuthCoreBase, DEFAULT_MAX_RETRIES, DEFAULT_RESTART_MS } from './core-base.js'
import { AuthProtocol } from './option.js'
import type { AuthPeerOptions, EapMethodName, PppAuthCore } from './types.js'

/**
 * EAP peer. The peer never retransmits (§4.3: the authenticator does); it gives up with 'timeout'
 * after restartMs × (maxRetries + 1) without a Request or an outcome.
 */
export class EapPeerCore extends AuthCoreBase implements PppAuthCore {
  readonly protocol = AuthProtocol.EAP
  private readonly rng: Rng
  private readonly user: string
  private readonly password: string
  private readonly accepted: readonly EapMethodName[]
  private readonly idleMs: number
  private method: EapPeerMethod | undefined
  private last: { identifier: number; request: Uint8Array; response: Uint8Array } | undefined
  private started = false

  constructor(opts: AuthPeerOptions) {
    super()
    this.rng = opts.rng
    this.user = opts.user
    this.password = opts.password
    this.accepted = opts.eapMethods && opts.eapMethods.length > 0 ? opts.eapMethods : ['eap-mschapv2']
    this.idleMs = (opts.restartMs ?? DEFAULT_RESTART_MS) * ((opts.maxRetries ?? DEFAULT_MAX_RETRIES) + 1)
  }

  start(now: Millis): void {
    if (this.started) return
    this.started = true
    this.deadline = now + this.idleMs
  }

  handlePacket(now: Millis, info: Uint8Array): void {
    this.guard(() => {
      if (!this.started) return this.drop('not-waiting')
      const p = decodeEap(info)
      if (p.code === 'Response') return this.drop('unexpected-code')
      const last = this.last
      const request = p.code === 'Request' ? info.subarray(0, 5 + p.typeData.length) : info.subarray(0, 4)
      if (p.code === 'Request' && last && last.identifier === p.identifier && bytesEqual(last.request, request)) {
        // §4.1: "If a peer receives a valid duplicate Request for which it has already sent a
        // Response, it MUST resend its original Response without reprocessing the Request."
        // Also after we concluded: a lost Failure-Response is repeated so the server can finish.
        this.send(last.response)
        if (!this.finished) this.deadline = now + this.idleMs
        return this.drop('repeated-request')
      }
      if (this.finished) return this.drop('not-waiting')
      if (p.code !== 'Request') return this.onOutcome(p.code, p.identifier)
      switch (p.type) {
        case EapType.IDENTITY:
          return this.respond(now, p.identifier, request, EapType.IDENTITY, utf8(this.user))
        case EapType.NOTIFICATION:
          // §5.2: the peer "MUST respond to a Notification Request with a Notification Response"; Type-Data empty.
          return this.respond(now, p.identifier, request, EapType.NOTIFICATION, new Uint8Array(0))
        case EapType.NAK:
          return this.drop('nak-request') // §5.3: Nak is valid only in Responses
      }
      const name = eapMethodForType(p.type)
      if (name === undefined || !this.accepted.includes(name)) {
        // §5.3.1: Nak with the Types we would accept, most preferred first.
        return this.respond(now, p.identifier, request, EapType.NAK, encodeNak(this.accepted.map((n) => EAP_METHOD_TYPES[n])))
      }
      if (this.method === undefined || this.method.name !== name) {
        this.method = createEapPeerMethod(name, { rng: this.rng, user: this.user, password: this.password })
      }
      this.apply(now, p.identifier, request, this.method.handleRequest(p.identifier, p.typeData))
    })
  }

  private apply(now: Millis, identifier: number, request: Uint8Array, step: EapPeerStep): void {
    if (step.kind === 'drop') return this.drop(step.reason)
    if (step.kind === 'fail') return this.fail(step.reason, step.message)
    this.respond(now, identifier, request, this.method!.type, step.typeData)
    if (step.failure) this.fail(step.failure.reason, step.failure.message)
  }

  private respond(now: Millis, identifier: number, request: Uint8Array, type: number, typeData: Uint8Array): void {
    const response = encodeEap({ code: 'Response', identifier, type, typeData })
    this.last = { identifier, request: request.slice(), response }
    this.send(response)
    this.deadline = now + this.idleMs
  }

  private onOutcome(code: 'Success' | 'Failure', identifier: number): void {
    // §4.2 says the Identifier matches our last Response; like widely deployed peers we also take
    // last+1, which some authenticators send.
    const last = this.last
    if (last === undefined || (identifier !== last.identifier && identifier !== ((last.identifier + 1) & 0xff))) return this.drop('identifier-mismatch')
    const m = this.method
    if (code === 'Failure') {
      const f = m?.handleFailure() ?? { reason: 'auth-failed', message: 'EAP Failure before any method ran' }
      return this.fail(f.reason, f.message)
    }
    if (m === undefined) return this.fail('unexpected-success', 'EAP Success before any method ran')
    const o = m.handleSuccess()
    if (!o.ok) return this.fail(o.reason, o.message)
    this.succeed({ type: 'success', user: this.user, method: m.name, ...(o.keys ? { keys: o.keys } : {}) })
  }

  handleVerdict(): void { this.drop('verdict-on-peer') }

  handleTimeout(now: Millis): void {
    if (this.finished || this.deadline === undefined || now < this.deadline) return
    this.fail('timeout', this.last ? 'EAP authenticator went silent' : 'no EAP Request from the authenticator')
  }
}
