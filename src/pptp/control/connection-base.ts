// What the PAC and PNS control cores share: RFC 2637 §3.1 control connection state table (states.ts), §2.3/2.4
// Stop-Control-Connection, §2.5/2.6 Echo keep-alive, framing over TCP and the sans-IO plumbing (queues, timers,
// counters, 'closed' exactly once). Roles add Start-Control-Connection details and the §3.2 call tables.
import { Counters } from '../../lib/counters.js'
import { DecodeError } from '../../lib/errors.js'
import { nullLogger } from '../../lib/log.js'
import type { Logger } from '../../lib/log.js'
import type { Millis } from '../../lib/time.js'
import { CONTROL_MESSAGE_NAMES, ControlMessageType as T, EchoResult, StopCtlReason, StopCtlResult } from './constants.js'
import { PptpFramer } from './framer.js'
import { decodeControlMessage, encodeControlMessage } from './messages.js'
import type { PptpControlMessage } from './messages.js'
import { CONTROL_TABLE, transition } from './states.js'
import type { CtlAction, CtlEvent, CtlState } from './states.js'
import { ECHO_REPLY_MS, KEEPALIVE_IDLE_MS, REPLY_MS } from './connection-types.js'
import type { PptpCommonOptions, PptpEvent } from './connection-types.js'

export * from './connection-types.js'

export abstract class PptpConnectionBase {
  protected ctlState: CtlState = 'idle'
  protected isClosed = false
  protected readonly log: Logger
  protected readonly stats = new Counters()
  protected readonly opts: PptpCommonOptions
  protected readonly replyMs: number
  private readonly framer = new PptpFramer()
  private readonly keepaliveMs: number
  private readonly echoMs: number
  private readonly tx: Uint8Array[] = []
  private readonly events: PptpEvent[] = []
  /** Deadline of the control reply timer (wait_ctl_reply, wait_stop_reply). */
  private ctlDeadline: Millis | undefined
  private idleDeadline: Millis | undefined
  private echoId: number
  private echoOutstanding: number | undefined
  private closeReason: string | undefined
  private closeMessage = ''

  constructor(opts: PptpCommonOptions, scope: string) {
    this.opts = opts
    this.log = (opts.logger ?? nullLogger).child(scope)
    this.replyMs = opts.replyMs ?? REPLY_MS
    this.keepaliveMs = opts.keepaliveIdleMs ?? KEEPALIVE_IDLE_MS
    this.echoMs = opts.echoReplyMs ?? ECHO_REPLY_MS
    const r = opts.rng.bytes(4)
    this.echoId = ((r[0]! << 24) >>> 0) + ((r[1]! << 16) | (r[2]! << 8) | r[3]!)
  }

  /** §3.1 state of the control connection ('closed' once the core is finished). */
  get currentState(): CtlState | 'closed' { return this.isClosed ? 'closed' : this.ctlState }

  // ---- role hooks -------------------------------------------------------------------------------------------------
  /** Messages other than Stop-Control-Connection and Echo. */
  protected abstract handleRoleMessage(now: Millis, msg: PptpControlMessage): void
  /** Control action of the role (send_sccrq, send_sccrp_ok, send_sccrp_nak, up). */
  protected abstract roleAction(now: Millis, action: CtlAction): void
  /** Ends every call (emitting callDown) because the control connection is going away (§2.3: calls are cleared). */
  protected abstract dropAllCalls(reason: string): void
  protected abstract callTimeout(now: Millis): void
  protected abstract nextCallDeadline(): Millis | undefined

  // ---- inputs -----------------------------------------------------------------------------------------------------
  handleBytes(now: Millis, chunk: Uint8Array): void {
    this.guard(now, () => {
      if (this.isClosed) { this.stats.inc('drop:after-close'); return }
      const err = this.framer.push(chunk, (m) => { if (!this.isClosed) this.handleMessage(now, m) })
      if (err && !this.isClosed) {
        // Nothing after a bad header can be delineated: close the TCP connection without a Stop request (§1.4).
        this.stats.inc(`framing:${err.field}`)
        this.finish('protocol-error', `PPTP control stream cannot be delineated: ${err.message}`)
      }
    })
  }

  handleEof(now: Millis): void {
    this.guard(now, () => this.finish(this.closeReason ?? 'eof', this.closeReason ? this.closeMessage : 'TCP connection ended'))
  }

  handleTimeout(now: Millis): void {
    this.guard(now, () => {
      if (this.isClosed) return
      if (this.ctlDeadline !== undefined && now >= this.ctlDeadline) {
        this.ctlDeadline = undefined
        this.stats.inc(`timeout:${this.ctlState}`)
        this.ctl(now, 'timeout', 'timeout', `no reply in ${this.ctlState}`)
        if (this.isClosed) return
      }
      if (this.idleDeadline !== undefined && now >= this.idleDeadline) {
        if (this.echoOutstanding !== undefined) {
          this.stats.inc('echo-timeout')
          this.finish('echo-timeout', `no Echo-Reply within ${this.echoMs} ms`)
          return
        }
        this.echoId = (this.echoId + 1) >>> 0
        this.echoOutstanding = this.echoId
        this.send({ type: T.EchoRequest, identifier: this.echoId })
        this.idleDeadline = now + this.echoMs
      }
      this.callTimeout(now)
    })
  }

  nextTimeout(): Millis | undefined {
    if (this.isClosed) return undefined
    let t = this.ctlDeadline
    for (const d of [this.idleDeadline, this.nextCallDeadline()]) if (d !== undefined && (t === undefined || d < t)) t = d
    return t
  }

  pollTransmit(): Uint8Array | undefined { return this.tx.shift() }
  pollEvent(): PptpEvent | undefined { return this.events.shift() }

  /** Administrative close: calls are cleared, Stop-Control-Connection-Request (Reason Stop-Local-Shutdown) is sent. */
  close(now: Millis, reason: string, message: string): void {
    this.guard(now, () => { if (!this.isClosed) this.ctl(now, 'close', reason, message, StopCtlReason.StopLocalShutdown) })
  }

  counters(): Record<string, number> { return this.stats.snapshot() }

  // ---- shared machinery -------------------------------------------------------------------------------------------
  protected send(msg: PptpControlMessage): void {
    this.stats.inc(`tx:${CONTROL_MESSAGE_NAMES[msg.type]}`)
    this.tx.push(encodeControlMessage(msg))
  }
  protected emit(ev: PptpEvent): void { this.events.push(ev) }
  protected startKeepalive(now: Millis): void { this.idleDeadline = now + this.keepaliveMs; this.echoOutstanding = undefined }
  protected setCtlDeadline(d: Millis | undefined): void { this.ctlDeadline = d }

  /**
   * Drives the §3.1 table. A missing cell is a violation: counted, and the connection is stopped with
   * Stop-Control-Connection-Request (or closed outright if it is not established enough for one).
   */
  protected ctl(now: Millis, event: CtlEvent, reason: string, message: string, stopReason: number = StopCtlReason.None): void {
    const from = this.ctlState
    const cell = transition(CONTROL_TABLE, from, event)
    if (!cell) { this.violation(now, `${event} in ${from}`); return }
    if (cell.next !== from) this.log.debug('state', { from, to: cell.next, event })
    this.ctlState = cell.next
    switch (cell.action) {
      case 'send_stopccrq':
        this.recordClose(reason, message)
        this.dropAllCalls(reason)
        this.send({ type: T.StopControlConnectionRequest, reason: stopReason })
        this.ctlDeadline = now + this.replyMs
        this.idleDeadline = undefined
        return
      case 'send_stopccrp_close':
        this.dropAllCalls(reason)
        this.send({ type: T.StopControlConnectionReply, resultCode: StopCtlResult.Ok, errorCode: 0 })
        this.finish(reason, message)
        return
      case 'fail':
      case 'close':
        this.finish(reason, message)
        return
      default:
        this.roleAction(now, cell.action)
    }
  }

  /** A message that the state (or role) does not allow: count it and stop this control connection only. */
  protected violation(now: Millis, what: string): void {
    this.stats.inc(`violation:${what}`)
    this.log.debug('protocol violation', { what })
    if (this.ctlState === 'established' || this.ctlState === 'wait_ctl_reply') this.ctl(now, 'close', 'protocol-error', `unexpected ${what}`)
    else this.finish('protocol-error', `unexpected ${what}`)
  }

  private handleMessage(now: Millis, raw: Uint8Array): void {
    let msg: PptpControlMessage
    try {
      msg = decodeControlMessage(raw)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      this.stats.inc(`decode:${e.field}`)
      this.violation(now, `malformed message (${e.message})`)
      return
    }
    this.stats.inc(`rx:${CONTROL_MESSAGE_NAMES[msg.type]}`)
    // §2.5: the keep-alive timer counts from the last control message of any kind.
    if (this.idleDeadline !== undefined) this.startKeepalive(now)
    switch (msg.type) {
      case T.StopControlConnectionRequest:
        this.ctl(now, 'rx_stopccrq', 'peer-stopped', `peer sent Stop-Control-Connection-Request (reason ${msg.reason})`)
        return
      case T.StopControlConnectionReply:
        this.ctl(now, 'rx_stopccrp', this.closeReason ?? 'admin', this.closeMessage)
        return
      case T.EchoRequest:
        if (this.ctlState === 'wait_stop_reply') { this.stats.inc('drop:stopping'); return }
        if (this.ctlState !== 'established') { this.violation(now, `EchoRequest in ${this.ctlState}`); return }
        // §2.6: the Identifier is copied from the request.
        this.send({ type: T.EchoReply, identifier: msg.identifier, resultCode: EchoResult.Ok, errorCode: 0 })
        return
      case T.EchoReply:
        if (this.echoOutstanding === undefined || msg.identifier !== this.echoOutstanding) { this.stats.inc('drop:echo-reply-unmatched'); return }
        this.echoOutstanding = undefined
        return
      default:
        if (this.ctlState === 'wait_stop_reply') { this.stats.inc('drop:stopping'); return }
        this.handleRoleMessage(now, msg)
    }
  }

  /** Runs `fn`; an unexpected exception (our bug) closes this connection instead of escaping. */
  private guard(now: Millis, fn: () => void): void {
    try {
      fn()
    } catch (e) {
      this.stats.inc('internal-error')
      this.log.error('internal error in PPTP control core', { error: e instanceof Error ? e.message : String(e), now })
      this.finish('internal-error', 'internal error')
    }
  }

  private recordClose(reason: string, message: string): void {
    if (this.closeReason !== undefined) return
    this.closeReason = reason
    this.closeMessage = message
  }

  /** Emits callDown for any remaining call and 'closed' exactly once; the first recorded reason wins. */
  protected finish(reason: string, message: string): void {
    if (this.isClosed) return
    this.recordClose(reason, message)
    this.dropAllCalls(this.closeReason ?? reason)
    this.ctlState = 'idle'
    this.isClosed = true
    this.ctlDeadline = undefined
    this.idleDeadline = undefined
    this.emit({ type: 'closed', reason: this.closeReason ?? reason, message: this.closeMessage })
  }
}
