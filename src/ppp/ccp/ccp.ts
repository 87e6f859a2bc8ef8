// CCP (RFC 1962) as an FsmStrategy negotiating only MPPE (option 18, RFC 3078 §2): every other
// compression option, and the MPPC bit, is refused. Both directions must agree on one strength/mode.
import type { Millis } from '../../lib/time.js'
import type { ConfigureVerdict, FsmStrategy } from '../fsm/fsm.js'
import { type PppOption, copyOption, optionLengthOk } from '../fsm/packet.js'
import { CCP_OPTIONS, CcpOption, MppeBit, decodeMppeBits, formatMppeBits, mppeOption } from './options.js'
import { type MppePolicy, acceptable, chooseBits, offeredBits, singleStrength } from './policy.js'
import type { MppeParams } from '../mppe/key-chain.js'

export interface CcpHooks {
  /** tlu: `mppe` is what both directions agreed, undefined when CCP opened without MPPE. */
  up(now: Millis, mppe: MppeParams | undefined): void
  down(now: Millis): void
  finished(now: Millis): void
  /** Opened with different modes each way: renegotiate (Down + Up) once the current packet is done. */
  renegotiate(now: Millis): void
  /** MPPE cannot be agreed and the policy requires it: end the link with `reason`. */
  failed(now: Millis, reason: string, detail: string): void
}

/** A peer request without acceptable MPPE is Naked once toward our choice; the next one fails the link. */
const MAX_UNACCEPTABLE = 2

export class CcpStrategy implements FsmStrategy {
  readonly name = 'CCP'
  private readonly policy: MppePolicy
  private readonly hooks: CcpHooks
  private readonly now: () => Millis
  /** Our option 18 value; undefined once Rejected (or when MPPE is disabled). */
  private want: number | undefined
  private ours: number | undefined // Acked by the peer
  private theirs: number | undefined // Acked by us
  private unacceptable = 0
  private nakedForStateless = false
  /** Set when negotiation failed for policy reasons (the link must end). */
  failure: string | undefined

  /** `now` supplies the time for hooks called from packet handlers that have none. */
  constructor(policy: MppePolicy, hooks: CcpHooks, now: () => Millis) {
    this.policy = policy
    this.hooks = hooks
    this.now = now
    const v = offeredBits(policy)
    this.want = v === 0 ? undefined : v
  }

  buildRequest(): readonly PppOption[] { return this.want === undefined ? [] : [mppeOption(this.want)] }

  processRequest(options: readonly PppOption[]): ConfigureVerdict {
    const rej: PppOption[] = []
    let mppe: PppOption | undefined
    for (const o of options) {
      // RFC 1962 §3: only MPPE is implemented; anything else (Deflate, BSD, Stac, ...) is Rejected.
      if (o.type !== CcpOption.Mppe || !optionLengthOk(CCP_OPTIONS, o) || mppe !== undefined || this.policy.keyBits.length === 0) rej.push(copyOption(o))
      else mppe = o
    }
    if (rej.length > 0) return { kind: 'reject', options: rej }
    if (mppe === undefined) {
      if (!this.policy.required) { this.theirs = undefined; return { kind: 'ack' } }
      return this.unacceptableRequest('peer requested no MPPE')
    }
    const v = decodeMppeBits(mppe)
    let choice = chooseBits(this.policy, v)
    if (choice !== undefined && (v & MppeBit.H) === 0 && this.policy.stateless === 'allowed') {
      // The peer asks for stateful. Prefer stateless once (as Windows does, and because it survives
      // loss without Reset-Requests); if the peer insists, follow it and drop H from our own request
      // so both directions end up alike (RFC 3078 §2 negotiates one mode for the link).
      if (this.want !== undefined && (this.want & MppeBit.H) !== 0 && !this.nakedForStateless) {
        this.nakedForStateless = true
        choice = (choice | MppeBit.H) >>> 0
      } else if (this.want !== undefined) this.want = (this.want & ~MppeBit.H) >>> 0
    }
    if (choice === undefined) {
      if (!this.policy.required) return { kind: 'reject', options: [copyOption(mppe)] }
      return this.unacceptableRequest(`peer offered ${formatMppeBits(v)}`)
    }
    if (v === choice) { this.theirs = v; return { kind: 'ack' } }
    // RFC 3078 §2: several bits offered; Nak with the single choice (C, D and unknown bits dropped).
    return { kind: 'nak', options: [mppeOption(choice)] }
  }

  private unacceptableRequest(detail: string): ConfigureVerdict {
    if (++this.unacceptable >= MAX_UNACCEPTABLE) this.fail(`${detail}; MPPE is required`)
    const ours = chooseBits(this.policy, offeredBits(this.policy) | MppeBit.H) ?? offeredBits(this.policy)
    return { kind: 'nak', options: [mppeOption(ours)] }
  }

  processAck(options: readonly PppOption[]): void {
    const o = options.find((x) => x.type === CcpOption.Mppe)
    this.ours = o ? decodeMppeBits(o) : undefined
  }

  processNak(options: readonly PppOption[]): boolean {
    const o = options.find((x) => x.type === CcpOption.Mppe)
    if (!o || o.data.length !== 4 || this.want === undefined) return true // nothing we can act on; resend
    const v = decodeMppeBits(o)
    // The peer names its choice: take it if our policy allows (client side "accepts what the server
    // offers"); otherwise there is nothing common.
    if (acceptable(this.policy, v)) { this.want = v; return true }
    const c = chooseBits(this.policy, v)
    if (c !== undefined) { this.want = c; return true }
    if (this.policy.required) this.fail(`peer insists on ${formatMppeBits(v)}`)
    return true
  }

  processReject(options: readonly PppOption[]): boolean {
    if (options.some((o) => o.type === CcpOption.Mppe)) {
      this.want = undefined
      if (this.policy.required) this.fail('peer rejected MPPE')
    }
    return true
  }

  up(now: Millis): void {
    const o = this.ours, t = this.theirs
    if (o === undefined && t === undefined && !this.policy.required) { this.hooks.up(now, undefined); return }
    // RFC 3078 §2 has one option for both directions; a different strength or mode each way is refused.
    if (o !== undefined && t !== undefined && o !== t && (o ^ t) === MppeBit.H && this.policy.stateless === 'allowed' && acceptable(this.policy, t)) {
      // Only the mode differs (our H was Acked before the peer insisted on stateful): request again
      // with the peer's value; the layer renegotiates after this packet (Down + Up, RFC 1661 §4).
      this.want = t
      this.ours = undefined
      this.hooks.renegotiate(now)
      return
    }
    if (o === undefined || t === undefined || o !== t || !acceptable(this.policy, o)) {
      this.fail(`directions disagree (sent ${formatMppeBits(o ?? 0)}, received ${formatMppeBits(t ?? 0)})`, this.policy.required ? 'mppe-required' : 'mppe-mismatch')
      return
    }
    this.hooks.up(now, { bits: singleStrength(o)!, stateless: (o & MppeBit.H) !== 0 })
  }

  down(now: Millis): void { this.hooks.down(now) }
  started(): void {}
  finished(now: Millis): void { this.hooks.finished(now) }

  private fail(detail: string, reason = 'mppe-required'): void {
    if (this.failure !== undefined) return
    this.failure = reason
    this.hooks.failed(this.now(), this.failure, detail)
  }
}
