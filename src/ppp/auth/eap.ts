// EAP over PPP (RFC 3748 §2, §4; protocol c227), authenticator role: Identity Request, then the
// first configured method, switching on a legacy Nak (§5.3.1); the peer role is in eap-peer.ts.
import { fromUtf8 } from '../../lib/bytes.js'
import type { Millis } from '../../lib/time.js'
import type { Rng } from '../../crypto/rng.js'
import type { AuthVerdict } from '../../auth/types.js'
import { decodeEap, decodeNak, encodeEap, EapType } from '../../auth/eap/codec.js'
import type { EapServerMethod, EapServerStep } from '../../auth/eap/method.js'
import { createEapServerMethod, eapMethodForType } from '../../auth/eap/methods.js'
import { AuthCoreBase, DEFAULT_MAX_RETRIES, DEFAULT_RESTART_MS } from './core-base.js'
import { AuthProtocol } from './option.js'
import type { AuthenticatorOptions, EapMethodName, PppAuthCore } from './types.js'

export { EapPeerCore } from './eap-peer.js'

/** Longest identity we accept (octets); RADIUS User-Name holds 253, so anything longer is abuse. */
const MAX_IDENTITY = 253

/**
 * EAP authenticator. Lock-step as RFC 3748 §4.3 requires: one outstanding Request, repeated every
 * restartMs up to maxRetries times; a Response is matched by Identifier, duplicates are dropped.
 */
export class EapAuthenticatorCore extends AuthCoreBase implements PppAuthCore {
  readonly protocol = AuthProtocol.EAP
  private readonly rng: Rng
  private readonly serverName: string
  private readonly allowed: readonly EapMethodName[]
  private readonly restartMs: number
  private readonly maxRetries: number
  private readonly tried = new Set<EapMethodName>()
  private identifier: number
  /** The one Request in flight; `opening` marks a method's first Request, the only one a Nak may answer. */
  private outstanding: { type: number; packet: Uint8Array; opening: boolean; onTimeout?: { reason: string; message: string } } | undefined
  private retries = 0
  private identity: string | undefined
  private method: EapServerMethod | undefined
  private verifying = false
  private started = false

  constructor(opts: AuthenticatorOptions) {
    super()
    this.rng = opts.rng
    this.serverName = opts.name
    this.allowed = opts.eapMethods && opts.eapMethods.length > 0 ? opts.eapMethods : ['eap-mschapv2']
    this.restartMs = opts.restartMs ?? DEFAULT_RESTART_MS
    this.maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES
    this.identifier = opts.rng.bytes(1)[0]!
  }

  start(now: Millis): void {
    if (this.started) return
    this.started = true
    // §5.1: Identity Type-Data MAY carry a displayable message; we send none.
    this.request(now, EapType.IDENTITY, new Uint8Array(0), false)
  }

  /** Sends a new Request under a fresh Identifier (§4.1: "a new Identifier for each new Request"). */
  private request(now: Millis, type: number, typeData: Uint8Array, opening: boolean, onTimeout?: { reason: string; message: string }): void {
    this.identifier = (this.identifier + 1) & 0xff
    const packet = encodeEap({ code: 'Request', identifier: this.identifier, type, typeData })
    this.outstanding = { type, packet, opening, ...(onTimeout ? { onTimeout } : {}) }
    this.retries = 0
    this.send(packet)
    this.deadline = now + this.restartMs
  }

  handlePacket(now: Millis, info: Uint8Array): void {
    this.guard(() => {
      const p = decodeEap(info)
      if (p.code !== 'Response') return this.drop('unexpected-code')
      const out = this.outstanding
      // §4.1: the Response Identifier "MUST match that of the currently outstanding Request";
      // a Response to an already-answered Request is a duplicate and is discarded too.
      if (out === undefined || this.finished || p.identifier !== this.identifier) return this.drop('identifier-mismatch')
      if (p.type === EapType.NAK) {
        // §5.3.1: a Nak answers "a Request where the desired authentication Type is unacceptable":
        // a method's opening Request, never Identity, never a method already under way.
        return out.opening ? this.onNak(now, p.typeData) : this.drop('nak-out-of-place')
      }
      if (p.type !== out.type) return this.drop('type-mismatch')
      if (p.type === EapType.IDENTITY) {
        if (p.typeData.length > MAX_IDENTITY) return this.drop('identity-too-long')
        this.outstanding = undefined
        this.identity = fromUtf8(p.typeData)
        return this.startMethod(now, this.allowed[0]!)
      }
      const m = this.method
      if (m === undefined) return this.drop('no-method')
      this.apply(now, m.handleResponse(p.identifier, p.typeData))
    })
  }

  private startMethod(now: Millis, name: EapMethodName): void {
    this.tried.add(name)
    this.method = createEapServerMethod(name, { rng: this.rng, serverName: this.serverName, identity: this.identity ?? '' })
    // The method's first Request goes out under the next Identifier, which it may bind into its data.
    const typeData = this.method.initiate((this.identifier + 1) & 0xff)
    this.request(now, this.method.type, typeData, true)
  }

  /** §5.3.1: the peer refuses the proposed method and lists the Types it wants, in preference order. */
  private onNak(now: Millis, typeData: Uint8Array): void {
    for (const t of decodeNak(typeData)) {
      const name = eapMethodForType(t)
      if (name !== undefined && this.allowed.includes(name) && !this.tried.has(name)) return this.startMethod(now, name)
    }
    this.outstanding = undefined
    this.send(encodeEap({ code: 'Failure', identifier: this.identifier }))
    this.fail('method-not-allowed', `the peer accepts none of the EAP methods we offer (${this.allowed.join(', ')})`)
  }

  private apply(now: Millis, step: EapServerStep): void {
    switch (step.kind) {
      case 'drop': return this.drop(step.reason)
      case 'request': return this.request(now, this.method!.type, step.typeData, false, step.onTimeout)
      case 'verify':
        this.outstanding = undefined
        this.verifying = true
        this.deadline = undefined // AAA's turn; the session bounds how long it waits
        this.events.push({ type: 'verify', proof: step.proof })
        return
      case 'success':
        this.outstanding = undefined
        // §4.2: the Success/Failure Identifier "MUST match the Identifier field of the Response packet that it is sent in response to".
        this.send(encodeEap({ code: 'Success', identifier: this.identifier }))
        return this.succeed({ type: 'success', user: step.user, method: this.method!.name, ...(step.keys ? { keys: step.keys } : {}) })
      case 'failure':
        this.outstanding = undefined
        this.send(encodeEap({ code: 'Failure', identifier: this.identifier }))
        return this.fail(step.reason, step.message)
    }
  }

  handleVerdict(now: Millis, verdict: AuthVerdict): void {
    if (!this.verifying || this.method === undefined || this.finished) return this.drop('unexpected-verdict')
    this.verifying = false
    this.apply(now, this.method.handleVerdict(verdict))
  }

  handleTimeout(now: Millis): void {
    const out = this.outstanding
    if (out === undefined || this.finished || this.deadline === undefined || now < this.deadline) return
    if (this.retries >= this.maxRetries) {
      this.outstanding = undefined
      // Courtesy Failure so a live but confused peer stops waiting (§4.2 lets us send it any time).
      this.send(encodeEap({ code: 'Failure', identifier: this.identifier }))
      const why = out.onTimeout ?? { reason: 'timeout', message: `no EAP Response after ${this.retries + 1} Requests` }
      return this.fail(why.reason, why.message)
    }
    // §4.3: retransmit the same Request, same Identifier.
    this.retries++
    this.send(out.packet)
    this.deadline = now + this.restartMs
  }
}
