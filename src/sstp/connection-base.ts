// What the SSTP server and client cores share: [MS-SSTP] §3.1.1.1 (abort/disconnect state machines), §3.1.2 (abort,
// disconnect and Hello timers), §3.1.5.1 (status and error handling), echo (§2.2.16/§2.2.17) and the PPP pump.
import { Counters } from '../lib/counters.js'
import { DecodeError } from '../lib/errors.js'
import { nullLogger } from '../lib/log.js'
import type { Logger } from '../lib/log.js'
import type { Millis } from '../lib/time.js'
import type { AuthKeys, AuthVerdict } from '../auth/types.js'
import type { PppEvent, PppLink } from '../ppp/types.js'
import { SstpFramer } from './framer.js'
import { encodeDataPacket, packetPayload } from './packet.js'
import { SstpAttribStatus, SstpAttributeId } from './attributes.js'
import { SSTP_MESSAGE_NAMES, SstpMessageType, checkControlMessage, decodeControlPacket, encodeBareMessage, encodeStatusMessage } from './messages.js'
import type { SstpControlMessage } from './messages.js'
import { ABORT_TIMER_1_MS, ABORT_TIMER_2_MS, CLOSING, DISCONNECT_TIMER_1_MS, DISCONNECT_TIMER_2_MS, HELLO_MS, NEGOTIATION_MS, pppProtocolOf } from './connection-types.js'
import type { ClosingState, SstpCommonOptions, SstpEvent } from './connection-types.js'

export * from './connection-types.js'

export abstract class SstpConnectionBase<S extends string> {
  protected state: S | ClosingState
  protected readonly log: Logger
  protected readonly stats = new Counters()
  protected readonly framer = new SstpFramer()
  protected readonly helloMs: number
  protected readonly negotiationMs: number
  protected ppp: PppLink | undefined
  /** Crypto binding done: IP data may flow (server: Call Connected verified; client: Call Connected sent). */
  protected dataOpen = false
  /** Deadline of the current state's timer (negotiation, abort, disconnect). */
  protected stateDeadline: Millis | undefined
  private helloDeadline: Millis | undefined
  private echoOutstanding = false
  private readonly tx: Uint8Array[] = []
  private readonly events: SstpEvent[] = []
  private pendingUp: Extract<PppEvent, { type: 'up' }> | undefined
  private upSent = false
  private closeReason: string | undefined
  private closeMessage = ''

  protected readonly common: SstpCommonOptions

  constructor(common: SstpCommonOptions, initial: S, scope: string) {
    this.common = common
    this.state = initial
    this.log = (common.logger ?? nullLogger).child(scope)
    this.helloMs = common.helloIntervalMs ?? HELLO_MS
    this.negotiationMs = common.negotiationTimeoutMs ?? NEGOTIATION_MS
  }

  get currentState(): string { return this.state }

  // ---- role hooks -------------------------------------------------------------------------------------------------
  /** Bytes before the SSTP stream (HTTP); returns the bytes left for the framer, or undefined if none/closed. */
  protected abstract handleHttp(now: Millis, chunk: Uint8Array): Uint8Array | undefined
  protected abstract inHttpPhase(): boolean
  /** Role-specific control messages (those the shared code does not handle). */
  protected abstract handleControl(now: Millis, msg: SstpControlMessage, packet: Uint8Array): void
  /** May PPP frames (control) flow in the current state? */
  protected abstract pppActive(): boolean
  protected abstract onAuthenticated(now: Millis, keys: AuthKeys | undefined): void
  protected abstract onNegotiationTimeout(now: Millis): void

  // ---- inputs -----------------------------------------------------------------------------------------------------
  handleBytes(now: Millis, input: Uint8Array): void {
    // A Node Buffer's slice() is a view, not a copy; re-view the chunk as a plain Uint8Array (no copy) so that every
    // decoder downstream (ours and PPP's) that copies with slice() really copies.
    const chunk = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    this.guard(now, () => {
      if (this.state === 'closed') { this.stats.inc('drop:after-close'); return }
      let rest: Uint8Array | undefined = chunk
      if (this.inHttpPhase()) rest = this.handleHttp(now, chunk)
      if (!rest || rest.length === 0 || this.state === 'closed') return
      // Pump PPP after each packet so its output and events keep the order of the packets that caused them.
      const err = this.framer.push(rest, (packet, control) => { this.handlePacket(now, packet, control); this.pump(now) })
      if (err && this.state !== 'closed') {
        // §3.1.5.1: "the connection MUST be forcefully aborted without sending a message to the SSTP far end".
        this.stats.inc(`framing:${err}`)
        this.finish(now, 'protocol-error', `SSTP stream cannot be delineated: ${err}`)
      }
    })
  }

  handleEof(now: Millis): void {
    this.guard(now, () => this.finish(now, this.closeReason ?? 'eof', this.closeReason ? this.closeMessage : 'TLS stream ended'))
  }

  handleTimeout(now: Millis): void {
    this.guard(now, () => {
      if (this.state === 'closed') return
      if (this.stateDeadline !== undefined && now >= this.stateDeadline) {
        this.stateDeadline = undefined
        if (CLOSING.has(this.state)) this.finish(now, this.closeReason ?? 'protocol-error', this.closeMessage)
        else this.onNegotiationTimeout(now)
      }
      if (this.helloDeadline !== undefined && now >= this.helloDeadline && this.state !== 'closed') {
        if (this.echoOutstanding) {
          // §3.1.2.3: "it MUST abort the connection without sending a Call Abort packet".
          this.stats.inc('echo-timeout')
          this.finish(now, 'echo-timeout', `no SSTP packet for ${2 * this.helloMs} ms`)
          return
        }
        this.send(encodeBareMessage(SstpMessageType.EchoRequest))
        this.echoOutstanding = true
        this.helloDeadline = now + this.helloMs
      }
      const pppDue = this.ppp?.nextTimeout()
      if (this.ppp && pppDue !== undefined && now >= pppDue && this.pppActive()) this.ppp.handleTimeout(now)
    })
  }

  nextTimeout(): Millis | undefined {
    if (this.state === 'closed') return undefined
    let t = this.stateDeadline
    const consider = (d: Millis | undefined): void => { if (d !== undefined && (t === undefined || d < t)) t = d }
    consider(this.helloDeadline)
    if (this.ppp && this.pppActive()) consider(this.ppp.nextTimeout())
    return t
  }

  pollTransmit(): Uint8Array | undefined { return this.tx.shift() }
  pollEvent(): SstpEvent | undefined { return this.events.shift() }

  /** Server: AAA's verdict for the last authRequest, passed to PPP. */
  handleAuthResult(now: Millis, verdict: AuthVerdict): void {
    this.guard(now, () => { if (this.ppp && this.pppActive()) this.ppp.handleAuthResult(now, verdict) })
  }

  /** Hot path: frame one IPv4 packet into a data packet and queue it; dropped (counted) unless 'up'. */
  sendIp(packet: Uint8Array): void {
    if (!this.dataOpen || !this.upSent || !this.ppp || this.state === 'closed' || CLOSING.has(this.state)) { this.stats.inc('drop:ip-not-up'); return }
    const frame = this.ppp.encodeIp(packet)
    if (!frame) { this.stats.inc('drop:ip-not-open'); return }
    if (frame.length > 4091) { this.stats.inc('drop:ip-too-large'); return }
    this.tx.push(encodeDataPacket(frame))
  }

  /** Administrative close: LCP Terminate-Request, then Call Disconnect; 'closed' follows with `reason`. */
  close(now: Millis, reason: string, message: string): void {
    this.guard(now, () => {
      if (CLOSING.has(this.state)) return
      if (this.inHttpPhase()) { this.finish(now, reason, message); return }
      if (this.ppp && this.pppActive()) { this.ppp.close(now, reason, message); this.drainPppFrames() }
      this.disconnect(now, reason, message)
    })
  }

  counters(): Record<string, number> {
    const out = this.stats.snapshot()
    if (this.ppp) for (const [k, v] of Object.entries(this.ppp.counters())) out[`ppp.${k}`] = v
    return out
  }

  // ---- shared machinery -------------------------------------------------------------------------------------------
  /** Every state change goes through here, so each one is logged (DESIGN.md §4). */
  protected enter(next: S | ClosingState): void {
    if (next === this.state) return
    this.log.debug('state', { from: this.state, to: next })
    this.state = next
  }

  protected send(packet: Uint8Array): void { this.tx.push(packet) }
  protected emit(ev: SstpEvent): void { this.events.push(ev) }
  protected isClosing(): boolean { return CLOSING.has(this.state) }

  protected startHello(now: Millis): void { this.helloDeadline = now + this.helloMs; this.echoOutstanding = false }

  /** Runs `fn`, then pumps PPP; an unexpected exception (our bug) closes this connection instead of escaping. */
  private guard(now: Millis, fn: () => void): void {
    try {
      fn()
      this.pump(now)
    } catch (e) {
      this.stats.inc('internal-error')
      this.log.error('internal error in SSTP core', { error: e instanceof Error ? e.message : String(e) })
      if (this.state !== 'closed') this.finish(now, 'internal-error', 'internal error')
    }
  }

  private handlePacket(now: Millis, packet: Uint8Array, control: boolean): void {
    if (this.state === 'closed') return
    if (this.helloDeadline !== undefined) this.startHello(now) // §3.1.2.3: restarted on any SSTP packet
    if (this.state === 'abort-timeout-pending' || this.state === 'disconnect-timeout-pending') { this.stats.inc('drop:closing'); return }
    if (!control) { this.handleData(now, packetPayload(packet)); return }
    let msg: SstpControlMessage
    try {
      msg = decodeControlPacket(packet)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      this.stats.inc(`decode:${e.field}`)
      this.abort(now, 'protocol-error', `malformed control message: ${e.message}`, SstpAttribStatus.InvalidFrameReceived, SstpAttributeId.NoError)
      return
    }
    const bad = checkControlMessage(msg)
    if (bad) {
      this.stats.inc(`rule:${bad.reason}`)
      this.abort(now, 'protocol-error', `${SSTP_MESSAGE_NAMES[msg.messageType] ?? `message ${msg.messageType}`}: ${bad.reason}`, bad.status, bad.attribId)
      return
    }
    if (this.state === 'abort-pending' && msg.messageType !== SstpMessageType.CallAbort) { this.stats.inc('drop:abort-pending'); return } // §3.1.2.1
    switch (msg.messageType) {
      case SstpMessageType.CallAbort: {
        const info = msg.attributes[0]
        const detail = info?.attribute === 'statusInfo' ? ` (status ${info.status}, attribute ${info.attribId})` : ''
        if (this.state === 'abort-pending') { this.enterClosing(now, 'abort-timeout-pending', ABORT_TIMER_2_MS); return } // §3.2.5.3.4
        this.send(encodeBareMessage(SstpMessageType.CallAbort))
        this.recordClose('peer-aborted', `peer sent Call Abort${detail}`)
        this.enterClosing(now, 'abort-timeout-pending', ABORT_TIMER_2_MS)
        return
      }
      case SstpMessageType.CallDisconnect:
        if (this.state === 'disconnect-ack-pending') { this.send(encodeBareMessage(SstpMessageType.CallDisconnectAck)); this.enterClosing(now, 'disconnect-timeout-pending', DISCONNECT_TIMER_2_MS); return }
        this.send(encodeBareMessage(SstpMessageType.CallDisconnectAck))
        this.recordClose('peer-disconnected', 'peer sent Call Disconnect')
        this.enterClosing(now, 'disconnect-timeout-pending', DISCONNECT_TIMER_2_MS)
        return
      case SstpMessageType.CallDisconnectAck:
        if (this.state === 'disconnect-ack-pending') { this.finish(now, this.closeReason ?? 'admin', this.closeMessage); return }
        this.stats.inc('unexpected:disconnect-ack')
        this.abort(now, 'protocol-error', 'unexpected Call Disconnect Ack', SstpAttribStatus.UnacceptedFrameReceived, SstpAttributeId.NoError)
        return
      case SstpMessageType.EchoRequest:
        // §3.3.5.2.7 answers only in Call_Connected; we also answer while PPP negotiates, which costs nothing and
        // avoids aborting a peer whose Hello timer started early.
        if (this.state === 'disconnect-ack-pending') return
        this.send(encodeBareMessage(SstpMessageType.EchoResponse))
        return
      case SstpMessageType.EchoResponse:
        return // the Hello timer was restarted above
      default:
        if (this.state === 'disconnect-ack-pending') { this.stats.inc('drop:disconnect-pending'); return }
        this.handleControl(now, msg, packet)
    }
  }

  private handleData(now: Millis, frame: Uint8Array): void {
    if (!this.ppp || !this.pppActive()) { this.stats.inc('drop:data-not-expected'); return }
    const proto = pppProtocolOf(frame)
    if (proto === undefined) { this.stats.inc('drop:short-ppp-frame'); return }
    // §3.3.5: PPP data frames only once the call is connected (binding verified); control frames before that.
    if (proto < 0x4000 && !this.dataOpen) { this.stats.inc('drop:data-before-call-connected'); return }
    this.stats.inc('dataPacketsIn')
    this.ppp.handleFrame(now, frame)
  }

  /** Moves PPP frames to the wire and handles PPP events until both queues are empty. */
  protected pump(now: Millis): void {
    const ppp = this.ppp
    if (!ppp) return
    for (let guard = 0; guard < 10_000; guard++) {
      const ev = ppp.pollEvent()
      if (!ev) { if (!this.drainPppFrames()) return; continue }
      // Frames queued with an event go out first (a 'down' follows its Terminate-Request / auth Failure), except
      // after 'authenticated': the client's Call Connected then precedes the IPCP requests, as Windows orders them.
      if (ev.type !== 'authenticated') this.drainPppFrames()
      if (this.isClosing()) continue // PPP's own 'down' after lowerDown/close: already accounted for
      switch (ev.type) {
        case 'authRequest': this.emit({ type: 'authRequest', proof: ev.proof }); break
        case 'authenticated':
          this.emit({ type: 'authenticated', user: ev.user, method: ev.method })
          this.onAuthenticated(now, ev.keys)
          break
        case 'up': this.pendingUp = ev; this.maybeUp(); break
        case 'ip':
          if (this.dataOpen && this.upSent) this.emit({ type: 'ip', packet: ev.packet })
          else this.stats.inc('drop:ip-before-up')
          break
        case 'down':
          // The higher layer gave up (auth failure, LCP terminate, echo timeout): Disconnect Tunnel Event (§3.3.4.2).
          this.disconnect(now, ev.reason, ev.message)
          break
      }
    }
  }

  private drainPppFrames(): boolean {
    const ppp = this.ppp
    if (!ppp) return false
    let any = false
    for (let f = ppp.pollFrame(); f; f = ppp.pollFrame()) {
      any = true
      if (!this.pppActive() || this.isClosing()) { this.stats.inc('drop:ppp-frame-while-closed'); continue }
      if (f.length > 4091) { this.stats.inc('drop:ppp-frame-too-large'); continue }
      this.send(encodeDataPacket(f))
    }
    return any
  }

  protected maybeUp(): void {
    if (this.upSent || !this.dataOpen || !this.pendingUp) return
    this.upSent = true
    const u = this.pendingUp
    this.emit({ type: 'up', localAddress: u.localAddress, peerAddress: u.peerAddress, dns: u.dns, wins: u.wins })
  }

  /** §3.1.5.1: send Call Abort (with one Status Info), start TIMER_VAL_ABORT_STATE_TIMER_1, state Call_Abort_Pending. */
  protected abort(now: Millis, reason: string, message: string, status: number, attribId: number): void {
    if (this.isClosing()) return
    this.log.debug('aborting', { reason, message })
    this.send(encodeStatusMessage(SstpMessageType.CallAbort, attribId, status))
    this.recordClose(reason, message)
    this.enterClosing(now, 'abort-pending', ABORT_TIMER_1_MS)
  }

  /** Disconnect Tunnel Event: Call Disconnect, TIMER_VAL_DISCONNECT_STATE_TIMER_1, state Call_Disconnect_Ack_Pending. */
  protected disconnect(now: Millis, reason: string, message: string): void {
    if (this.isClosing()) return
    // §2.2.14: "This message SHOULD have one Status Info attribute" — sstp-client cannot parse one
    // without it and then never sends the Disconnect Ack. A normal disconnect: AttribID 0, no error.
    this.send(encodeStatusMessage(SstpMessageType.CallDisconnect, SstpAttributeId.NoError, SstpAttribStatus.NoError))
    this.recordClose(reason, message)
    this.enterClosing(now, 'disconnect-ack-pending', DISCONNECT_TIMER_1_MS)
  }

  private recordClose(reason: string, message: string): void {
    if (this.closeReason !== undefined) return
    this.closeReason = reason
    this.closeMessage = message
  }

  private enterClosing(now: Millis, state: ClosingState, ms: number): void {
    this.enter(state)
    this.stateDeadline = now + ms
    this.helloDeadline = undefined
    this.dataOpen = false
    this.lowerPpp(now)
  }

  private lowerPpp(now: Millis): void {
    const ppp = this.ppp
    if (ppp && ppp.phase !== 'dead') ppp.lowerDown(now, this.closeReason ?? 'lower-down', this.closeMessage)
    if (ppp) { for (let f = ppp.pollFrame(); f; f = ppp.pollFrame()); for (let e = ppp.pollEvent(); e; e = ppp.pollEvent()); }
  }

  /** Clears the connection and emits 'closed' exactly once; the first recorded reason wins. */
  protected finish(now: Millis, reason: string, message: string): void {
    if (this.state === 'closed') return
    this.recordClose(reason, message)
    this.enter('closed')
    this.stateDeadline = undefined
    this.helloDeadline = undefined
    this.dataOpen = false
    this.lowerPpp(now)
    this.emit({ type: 'closed', reason: this.closeReason ?? reason, message: this.closeMessage })
  }
}
