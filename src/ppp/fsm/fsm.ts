// The RFC 1661 §4 option-negotiation automaton, written once: packets are classified into the §4.3
// events, then one transition function executes the §4.1 table (table.ts). LCP and every NCP supply
// a strategy object (pppd's fsm.c + callbacks) that builds and judges the options.
import type { Millis } from '../../lib/time.js'
import { Counters } from '../../lib/counters.js'
import { DecodeError } from '../../lib/errors.js'
import { bytesEqual, utf8 } from '../../lib/bytes.js'
import { type Logger, nullLogger } from '../../lib/log.js'
import { FSM_TABLE, TIMER_STATES, type FsmAction, type FsmEvent, type FsmState } from './table.js'
import { type ControlPacket, type PppOption, PppCode, decodeControlPacket, decodeOptions, encodeControlPacket, encodeOptions } from './packet.js'

/** The answer to a peer's Configure-Request (§5.1-5.4): Ack all, or Nak/Reject the listed options. */
export type ConfigureVerdict =
  | { readonly kind: 'ack' }
  | { readonly kind: 'nak' | 'reject'; readonly options: readonly PppOption[] }

/** What a protocol (LCP, IPCP, ...) supplies to the automaton. Option arrays passed in are views valid during the call. */
export interface FsmStrategy {
  readonly name: string
  /** Options for our next Configure-Request (§5.1), reflecting earlier Naks and Rejects. */
  buildRequest(): readonly PppOption[]
  /** Judge the peer's Configure-Request; remember what an 'ack' agreed to. Must not throw on any input. */
  processRequest(options: readonly PppOption[]): ConfigureVerdict
  /** Our request was Acked (the fsm already checked it is identical to what we sent). */
  processAck(options: readonly PppOption[]): void
  /** Adjust for the next request; return false to discard a Nak that makes no sense. */
  processNak(options: readonly PppOption[]): boolean
  /** Stop sending these options (the fsm checked they are a subset of our request); false discards. */
  processReject(options: readonly PppOption[]): boolean
  /** tlu / tld / tls / tlf (§4.4). */
  up(now: Millis): void
  down(now: Millis): void
  started(now: Millis): void
  finished(now: Millis): void
  /** Codes beyond 1..7 (LCP's 8..11): map to an event, or 'drop'. Undefined/missing: RUC (Code-Reject). */
  classifyExtra?(now: Millis, p: ControlPacket): { event: FsmEvent; reply?: ControlPacket } | 'drop' | undefined
  /** Is a Code-Reject of this code catastrophic (RXJ-)? Default: codes 1..7. */
  codeRejectIsFatal?(code: number): boolean
}

export interface FsmOptions {
  readonly restartMs?: number // §4.6 Restart timer, default 3000
  readonly maxTerminate?: number // default 2
  readonly maxConfigure?: number // default 10
  readonly maxFailure?: number // default 5
  /** Largest packet we send (Code-Reject truncation, §5.6); default 1500. */
  readonly peerMru?: () => number
  readonly logger?: Logger
}

export interface FsmTransition {
  readonly at: Millis
  readonly from: FsmState
  readonly event: FsmEvent
  readonly actions: readonly FsmAction[]
  readonly to: FsmState
}

/** Packet-derived inputs an action may need. */
export interface FsmContext {
  readonly id?: number
  /** sca/scn/ser: the reply prepared while classifying the packet. */
  readonly reply?: ControlPacket
  /** scj: the whole received packet (Code-Reject data, §5.6). */
  readonly rejected?: Uint8Array
}

/**
 * One automaton instance (LCP or an NCP). Inputs: up/down/open/close, handlePacket, handleTimeout;
 * outputs: pollPacket (Code..Data, the caller adds the PPP header) and strategy callbacks.
 * Peer input never throws (DecodeError is counted as a drop).
 */
export class Fsm {
  private st: FsmState = 'Initial'
  private restartCount = 0
  private timer: Millis | undefined
  private nextId = 1
  private reqId = -1
  private reqData: Uint8Array | undefined // Data of our outstanding Configure-Request
  private reqOptions: readonly PppOption[] = []
  private failures = 0
  private termData: Uint8Array = new Uint8Array(0)
  private readonly out: Uint8Array[] = []
  private readonly strategy: FsmStrategy
  private readonly restartMs: number
  private readonly maxTerminate: number
  private readonly maxConfigure: number
  private readonly maxFailure: number
  private readonly peerMru: () => number
  private readonly log: Logger
  readonly counters = new Counters()
  /** The most recent transitions, oldest first (bounded; for logs and tests). */
  readonly transitions: FsmTransition[] = []
  /** Data of the last Terminate-Request the peer sent (its reason text, if any). */
  peerTerminateData: Uint8Array | undefined

  constructor(strategy: FsmStrategy, opts: FsmOptions = {}) {
    this.strategy = strategy
    this.restartMs = opts.restartMs ?? 3000
    this.maxTerminate = opts.maxTerminate ?? 2
    this.maxConfigure = opts.maxConfigure ?? 10
    this.maxFailure = opts.maxFailure ?? 5
    this.peerMru = opts.peerMru ?? (() => 1500)
    this.log = opts.logger ?? nullLogger
  }

  get state(): FsmState { return this.st }
  get restartCounter(): number { return this.restartCount }

  up(now: Millis): void { this.fire(now, 'Up') }
  down(now: Millis): void { this.fire(now, 'Down') }
  open(now: Millis): void { this.fire(now, 'Open') }
  /** Administrative Close; `message` travels in the Terminate-Request's Data (§5.5). */
  close(now: Millis, message = ''): void { this.termData = utf8(message); this.fire(now, 'Close') }

  nextTimeout(): Millis | undefined { return this.timer }
  handleTimeout(now: Millis): void {
    if (this.timer === undefined || now < this.timer) return
    this.timer = undefined
    this.fire(now, this.restartCount > 0 ? 'TO+' : 'TO-')
  }

  /** Next control packet to send (Code, Identifier, Length, Data), or undefined. */
  pollPacket(): Uint8Array | undefined { return this.out.shift() }
  /** Sends a packet outside the automaton (LCP Echo-Request, Protocol-Reject, Discard). */
  sendRaw(code: number, data: Uint8Array): void { this.out.push(encodeControlPacket({ code, identifier: this.takeId(), data })) }

  /** One received packet of this protocol (bytes after the Protocol field). Never throws on peer input. */
  handlePacket(now: Millis, info: Uint8Array): void {
    let p: ControlPacket
    try { p = decodeControlPacket(info) } catch (e) { this.drop(e, 'malformed'); return }
    if (this.st === 'Initial' || this.st === 'Starting') { this.counters.inc('drop.not-up'); return }
    try { this.dispatch(now, p, info.subarray(0, 4 + p.data.length)) } catch (e) { this.drop(e, 'malformed-options') }
  }

  private drop(e: unknown, reason: string): void {
    if (!(e instanceof DecodeError)) throw e
    this.counters.inc(`drop.${reason}`)
    this.log.debug(`${this.strategy.name}: dropped packet`, { reason: e.message })
  }

  private dispatch(now: Millis, p: ControlPacket, whole: Uint8Array): void {
    switch (p.code) {
      case PppCode.ConfigureRequest: return this.rcvConfigureRequest(now, p)
      case PppCode.ConfigureAck: {
        // §5.2: "If the Identifier field does not match ... or the Configuration Options do not
        // exactly match, the packet is invalid and MUST be silently discarded".
        if (!this.matchesRequest(p)) return
        if (!bytesEqual(p.data, this.reqData!)) { this.counters.inc('drop.ack-content-mismatch'); return }
        this.reqData = undefined
        this.strategy.processAck(this.reqOptions)
        return this.fire(now, 'RCA', { id: p.identifier })
      }
      case PppCode.ConfigureNak:
      case PppCode.ConfigureReject: {
        if (!this.matchesRequest(p)) return
        const opts = decodeOptions(p.data)
        const isNak = p.code === PppCode.ConfigureNak
        if (!isNak && !this.isOrderedSubset(opts)) { this.counters.inc('drop.reject-content-mismatch'); return }
        const ok = isNak ? this.strategy.processNak(opts) : this.strategy.processReject(opts)
        if (!ok) { this.counters.inc(isNak ? 'drop.bad-nak' : 'drop.bad-reject'); return }
        this.reqData = undefined
        return this.fire(now, 'RCN', { id: p.identifier })
      }
      case PppCode.TerminateRequest:
        this.peerTerminateData = p.data.slice()
        return this.fire(now, 'RTR', { id: p.identifier })
      case PppCode.TerminateAck: return this.fire(now, 'RTA', { id: p.identifier })
      case PppCode.CodeReject: {
        const code = p.data[0]
        if (code === undefined) { this.counters.inc('drop.empty-code-reject'); return }
        const fatal = this.strategy.codeRejectIsFatal ? this.strategy.codeRejectIsFatal(code) : code >= 1 && code <= 7
        this.counters.inc('code-reject-received')
        return this.fire(now, fatal ? 'RXJ-' : 'RXJ+', { id: p.identifier })
      }
      default: {
        const c = this.strategy.classifyExtra?.(now, p)
        if (c === 'drop') { this.counters.inc(`ignored.code-${p.code}`); return }
        if (c === undefined) return this.fire(now, 'RUC', { id: p.identifier, rejected: whole })
        return this.fire(now, c.event, c.reply ? { id: p.identifier, reply: c.reply } : { id: p.identifier })
      }
    }
  }

  private matchesRequest(p: ControlPacket): boolean {
    if (this.reqData === undefined || p.identifier !== this.reqId) { this.counters.inc('drop.id-mismatch'); return false }
    return true
  }

  // §5.4: "the Configuration Options ... MUST be a subset of those in the last transmitted
  // Configure-Request ... MUST NOT be reordered" (Reject carries them unmodified).
  private isOrderedSubset(rej: readonly PppOption[]): boolean {
    let i = 0
    for (const r of rej) {
      while (i < this.reqOptions.length && !(this.reqOptions[i]!.type === r.type && bytesEqual(this.reqOptions[i]!.data, r.data))) i++
      if (i === this.reqOptions.length) return false
      i++
    }
    return rej.length > 0
  }

  private rcvConfigureRequest(now: Millis, p: ControlPacket): void {
    // Closed/Closing/Stopping never use the verdict; do not let the strategy record options there.
    if (this.st === 'Closed' || this.st === 'Closing' || this.st === 'Stopping') return this.fire(now, 'RCR+', { id: p.identifier })
    const opts = decodeOptions(p.data)
    let v = this.strategy.processRequest(opts)
    if (v.kind === 'nak' && this.failures >= this.maxFailure) {
      // §4.6 Max-Failure: stop Naking; "Configure-Reject packets are sent instead" for those options.
      const types = new Set(v.options.map((o) => o.type))
      v = { kind: 'reject', options: opts.filter((o) => types.has(o.type)) }
    }
    let reply: ControlPacket
    if (v.kind === 'ack') { reply = { code: PppCode.ConfigureAck, identifier: p.identifier, data: p.data.slice() }; this.failures = 0 } else {
      if (v.kind === 'nak') this.failures++
      reply = { code: v.kind === 'nak' ? PppCode.ConfigureNak : PppCode.ConfigureReject, identifier: p.identifier, data: encodeOptions(v.options) }
    }
    this.fire(now, v.kind === 'ack' ? 'RCR+' : 'RCR-', { id: p.identifier, reply })
  }

  /** Executes one §4.1 cell. Public so tests and the session can inject the abstract events. */
  fire(now: Millis, event: FsmEvent, ctx: FsmContext = {}): void {
    const from = this.st
    const cell = FSM_TABLE[event][from]
    if (cell.next === undefined) {
      // "-": the RFC says it cannot happen; a packet here is ignored, a local event is our bug.
      this.counters.inc(`illegal-event.${event}.${from}`)
      this.log.debug(`${this.strategy.name}: event ${event} ignored in ${from}`)
      return
    }
    const to = cell.next
    this.st = to
    this.transitions.push({ at: now, from, event, actions: cell.actions, to })
    if (this.transitions.length > 64) this.transitions.shift()
    this.log.debug(`${this.strategy.name}: ${from} --${event}--> ${to}`, { actions: cell.actions.join(',') })
    for (const a of cell.actions) this.act(now, a, to, ctx)
    // §4.6: the Restart timer runs only while a Configure- or Terminate-Request is outstanding.
    if (!TIMER_STATES.has(this.st)) this.timer = undefined
  }

  private act(now: Millis, a: FsmAction, to: FsmState, ctx: FsmContext): void {
    const s = this.strategy
    switch (a) {
      case 'tlu': this.failures = 0; s.up(now); break
      case 'tld': s.down(now); break
      case 'tls': s.started(now); break
      case 'tlf': s.finished(now); break
      case 'irc': this.restartCount = to === 'Closing' || to === 'Stopping' ? this.maxTerminate : this.maxConfigure; break
      // §4.4 zrc: "the implementation MUST set the timeout period to an appropriate value".
      case 'zrc': this.restartCount = 0; this.timer = now + this.restartMs; break
      case 'scr': {
        const opts = s.buildRequest()
        this.reqOptions = opts.map((o) => ({ type: o.type, data: o.data.slice() }))
        this.reqData = encodeOptions(this.reqOptions)
        // §5.1: "the Identifier field MUST be changed whenever the contents of the Options field changes";
        // a fresh one per transmission also lets stale Acks be told apart.
        this.reqId = this.takeId()
        this.out.push(encodeControlPacket({ code: PppCode.ConfigureRequest, identifier: this.reqId, data: this.reqData }))
        this.restartCount--
        this.timer = now + this.restartMs
        break
      }
      case 'sca': case 'scn': case 'ser':
        if (ctx.reply) this.out.push(encodeControlPacket(ctx.reply))
        break
      case 'str':
        this.out.push(encodeControlPacket({ code: PppCode.TerminateRequest, identifier: this.takeId(), data: this.termData }))
        this.restartCount--
        this.timer = now + this.restartMs
        break
      case 'sta': this.out.push(encodeControlPacket({ code: PppCode.TerminateAck, identifier: ctx.id ?? this.takeId(), data: new Uint8Array(0) })); break
      case 'scj': {
        // §5.6: the rejected packet, "truncated to comply with the peer's established MRU".
        const max = Math.max(0, this.peerMru() - 4)
        const rej = ctx.rejected ?? new Uint8Array(0)
        this.out.push(encodeControlPacket({ code: PppCode.CodeReject, identifier: this.takeId(), data: rej.subarray(0, max) }))
        break
      }
    }
  }

  private takeId(): number { const id = this.nextId; this.nextId = (this.nextId + 1) & 0xff; return id }
}
