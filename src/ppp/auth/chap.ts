// The CHAP automaton (RFC 1994 §2-§4) for both roles, specialised by a variant: MD5 (alg 5,
// chap-md5.ts) or MS-CHAPv2 (alg 0x81, RFC 2759, mschapv2.ts) decides values and messages.
import { bytesEqual, fromUtf8, utf8 } from '../../lib/bytes.js'
import type { Millis } from '../../lib/time.js'
import type { Rng } from '../../crypto/rng.js'
import type { AuthKeys, AuthProof, AuthVerdict } from '../../auth/types.js'
import { AuthCoreBase, DEFAULT_MAX_RETRIES, DEFAULT_RESTART_MS } from './core-base.js'
import { decodeChap, encodeChap } from './chap-codec.js'
import { AuthProtocol } from './option.js'
import type { AuthenticatorOptions, AuthPeerOptions, PppAuthCore } from './types.js'

type Outcome = { readonly ok: true; readonly keys?: AuthKeys } | { readonly ok: false; readonly reason: string; readonly message: string }

/** Authenticator-side policy of one CHAP algorithm. */
export interface ChapAuthenticatorVariant {
  readonly method: 'chap-md5' | 'mschapv2'
  /** A fresh Challenge Value. */
  challenge(rng: Rng): Uint8Array
  /** The proof carried by a Response (byte fields copied), or a drop reason for a malformed one. */
  proof(identifier: number, challenge: Uint8Array, value: Uint8Array, name: string): AuthProof | string
  /** Success Message for an accepting verdict, plus the keys to report; or a failure if the verdict is unusable. */
  success(verdict: Extract<AuthVerdict, { ok: true }>): { readonly ok: true; readonly message: Uint8Array; readonly keys?: AuthKeys } | { readonly ok: false; readonly reason: string; readonly message: string }
  /** Failure Message for a rejecting verdict (or for an unusable accepting one). */
  failure(rng: Rng, mschapError: number | undefined): Uint8Array
}

/** Peer-side policy of one CHAP algorithm: one answered Challenge and how to judge its outcome. */
export interface ChapPeerVariant {
  readonly method: 'chap-md5' | 'mschapv2'
  /** The answer to a Challenge, or a drop reason for a Challenge this algorithm cannot answer. */
  respond(identifier: number, challenge: Uint8Array): ChapAnswer | string
}
export interface ChapAnswer {
  /** The Response Value. */
  readonly value: Uint8Array
  /** Judges the Success Message (MS-CHAPv2: the authenticator response must prove the server knows the password). */
  onSuccess(message: Uint8Array): Outcome
  onFailure(message: Uint8Array): { readonly reason: string; readonly message: string }
}

/**
 * CHAP authenticator: Challenge, retransmitted every restartMs up to maxRetries times, then
 * 'verify' for the Response, then Success/Failure after the verdict.
 */
export class ChapAuthenticator extends AuthCoreBase implements PppAuthCore {
  readonly protocol = AuthProtocol.CHAP
  private readonly variant: ChapAuthenticatorVariant
  private readonly rng: Rng
  private readonly name: Uint8Array
  private readonly restartMs: number
  private readonly maxRetries: number
  private state: 'idle' | 'challenging' | 'verifying' | 'done' = 'idle'
  private identifier = 0
  private challenge: Uint8Array = new Uint8Array(0)
  private challengePacket: Uint8Array = new Uint8Array(0)
  private finalPacket: Uint8Array | undefined
  private retries = 0

  constructor(variant: ChapAuthenticatorVariant, opts: AuthenticatorOptions) {
    super()
    this.variant = variant
    this.rng = opts.rng
    this.name = utf8(opts.name)
    this.restartMs = opts.restartMs ?? DEFAULT_RESTART_MS
    this.maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES
  }

  start(now: Millis): void {
    if (this.state !== 'idle') return
    this.state = 'challenging'
    this.identifier = this.rng.bytes(1)[0]!
    this.challenge = this.variant.challenge(this.rng)
    this.challengePacket = encodeChap({ code: 'Challenge', identifier: this.identifier, value: this.challenge, name: this.name })
    this.send(this.challengePacket)
    this.deadline = now + this.restartMs
  }

  handlePacket(_now: Millis, info: Uint8Array): void {
    this.guard(() => {
      const m = decodeChap(info)
      if (m.code !== 'Response') return this.drop('unexpected-code')
      // RFC 1994 §4.1: the Response's Identifier "MUST be copied from the Identifier field of the Challenge".
      if (this.state === 'idle' || m.identifier !== this.identifier) return this.drop('identifier-mismatch')
      if (this.state === 'verifying') return this.drop('response-while-verifying')
      if (this.state === 'done') {
        // RFC 1994 §4.1 Implementation Note: "the authenticator MUST allow repeated Response packets
        // after completing the Authentication phase ... MUST return the same reply Code"; no second verify.
        if (this.finalPacket) this.send(this.finalPacket)
        return this.drop('repeated-response')
      }
      const proof = this.variant.proof(m.identifier, this.challenge, m.value, fromUtf8(m.name))
      if (typeof proof === 'string') return this.drop(proof)
      this.state = 'verifying'
      this.deadline = undefined // AAA's turn; the session bounds how long it waits
      this.events.push({ type: 'verify', proof })
    })
  }

  handleVerdict(_now: Millis, verdict: AuthVerdict): void {
    if (this.state !== 'verifying') return this.drop('unexpected-verdict')
    this.state = 'done'
    if (verdict.ok) {
      const s = this.variant.success(verdict)
      if (s.ok) {
        this.finalPacket = encodeChap({ code: 'Success', identifier: this.identifier, message: s.message })
        this.send(this.finalPacket)
        return this.succeed({ type: 'success', user: verdict.user, method: this.variant.method, ...(s.keys ? { keys: s.keys } : {}) })
      }
      this.finalPacket = encodeChap({ code: 'Failure', identifier: this.identifier, message: this.variant.failure(this.rng, undefined) })
      this.send(this.finalPacket)
      return this.fail(s.reason, s.message)
    }
    this.finalPacket = encodeChap({ code: 'Failure', identifier: this.identifier, message: this.variant.failure(this.rng, verdict.mschapError) })
    this.send(this.finalPacket)
    this.fail(verdict.reason, verdict.message)
  }

  handleTimeout(now: Millis): void {
    if (this.state !== 'challenging' || this.deadline === undefined || now < this.deadline) return
    if (this.retries >= this.maxRetries) {
      this.state = 'done'
      return this.fail('timeout', `no CHAP Response after ${this.retries + 1} Challenges`)
    }
    // RFC 1994 §4.1: "Additional Challenge packets MUST be sent until a valid Response packet is
    // received, or an optional retry counter expires." Same Identifier and Value, so a Response to
    // an earlier copy still matches.
    this.retries++
    this.send(this.challengePacket)
    this.deadline = now + this.restartMs
  }
}

/**
 * CHAP peer: answers each Challenge (a repeated one with the cached Response), repeats its
 * Response every restartMs until Success/Failure, and gives up after maxRetries repeats. Before
 * the first Challenge it waits restartMs × (maxRetries + 1).
 */
export class ChapPeer extends AuthCoreBase implements PppAuthCore {
  readonly protocol = AuthProtocol.CHAP
  private readonly variant: ChapPeerVariant
  private readonly user: string
  private readonly name: Uint8Array
  private readonly restartMs: number
  private readonly maxRetries: number
  private started = false
  private answered: { identifier: number; challenge: Uint8Array; packet: Uint8Array; answer: ChapAnswer } | undefined
  private retries = 0

  constructor(variant: ChapPeerVariant, opts: AuthPeerOptions) {
    super()
    this.variant = variant
    this.user = opts.user
    this.name = utf8(opts.user)
    this.restartMs = opts.restartMs ?? DEFAULT_RESTART_MS
    this.maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES
  }

  start(now: Millis): void {
    if (this.started) return
    this.started = true
    this.deadline = now + this.restartMs * (this.maxRetries + 1)
  }

  handlePacket(now: Millis, info: Uint8Array): void {
    this.guard(() => {
      const m = decodeChap(info)
      if (!this.started) return this.drop('not-waiting')
      if (m.code === 'Response') return this.drop('unexpected-code')
      if (m.code === 'Challenge') return this.onChallenge(now, m.identifier, m.value)
      if (this.finished) return this.drop('not-waiting')
      const a = this.answered
      if (a === undefined || m.identifier !== a.identifier) return this.drop('identifier-mismatch')
      if (m.code === 'Failure') {
        const f = a.answer.onFailure(m.message)
        return this.fail(f.reason, f.message)
      }
      const o = a.answer.onSuccess(m.message)
      if (o.ok) return this.succeed({ type: 'success', user: this.user, method: this.variant.method, ...(o.keys ? { keys: o.keys } : {}) })
      this.fail(o.reason, o.message)
    })
  }

  private onChallenge(now: Millis, identifier: number, challenge: Uint8Array): void {
    // RFC 1994 §4.1: "Whenever a Challenge packet is received, the peer MUST transmit a CHAP packet
    // with the Code field set to 2 (Response)" — also the re-challenges of §2 after the phase ended;
    // then we arm no timer and report nothing further.
    if (this.finished && this.answered === undefined) return this.drop('not-waiting')
    const a = this.answered
    if (a && a.identifier === identifier && bytesEqual(a.challenge, challenge)) {
      // A repeated Challenge: our Response was lost. Resend it unchanged (MS-CHAPv2's peer challenge
      // is random, so recomputing would answer a different question).
      this.send(a.packet)
      this.drop('repeated-challenge')
    } else {
      const answer = this.variant.respond(identifier, challenge)
      if (typeof answer === 'string') return this.drop(answer)
      const packet = encodeChap({ code: 'Response', identifier, value: answer.value, name: this.name })
      this.answered = { identifier, challenge: challenge.slice(), packet, answer }
      this.send(packet)
    }
    if (this.finished) return
    this.retries = 0
    this.deadline = now + this.restartMs
  }

  handleVerdict(): void { this.drop('verdict-on-peer') }

  handleTimeout(now: Millis): void {
    if (this.finished || this.deadline === undefined || now < this.deadline) return
    const a = this.answered
    if (a === undefined) return this.fail('timeout', 'no CHAP Challenge from the authenticator')
    if (this.retries >= this.maxRetries) return this.fail('timeout', `no CHAP Success/Failure after ${this.retries + 1} Responses`)
    this.retries++
    this.send(a.packet)
    this.deadline = now + this.restartMs
  }
}
