// What the LNS and LAC tunnel cores share (RFC 2661): the reliable channel (§5.8), control message intake
// with the §6 rules, the §7.2.1 tunnel table, StopCCN/CDN (§5.7), the §5.7 linger and the data path (§5.4).
// The roles add their message handling and the session table of §7.4.1 or §7.4.2.
import { Counters } from '../lib/counters.js'
import { DecodeError } from '../lib/errors.js'
import { nullLogger } from '../lib/log.js'
import type { Logger } from '../lib/log.js'
import type { Millis } from '../lib/time.js'
import { decodeL2tp, encodeData } from './header.js'
import type { ControlHeader, DataHeader } from './header.js'
import { decodeControlBody, encodeControlBody } from './avp/codec.js'
import type { ControlMessage } from './avp/codec.js'
import type { AvpFields, ResultCodeValue } from './avp/table.js'
import { ErrorCode, Framing, MessageType, PROTOCOL_VERSION, StopCcnResult } from './avp/constants.js'
import { validateControlMessage, isTunnelMessage } from './rules.js'
import type { Verdict } from './rules.js'
import { TUNNEL_TABLE, transition } from './states.js'
import type { TunnelAction, TunnelEvent, TunnelState } from './states.js'
import { ControlChannel } from './control/channel.js'
import type { DeliveredMessage } from './control/channel.js'
import { seqAdd } from './control/seq.js'
import type { L2tpFrame, L2tpSessionInfo, L2tpTunnelEvent, TunnelOptions } from './tunnel-types.js'

/** A call on the tunnel; the roles add their table state. */
export interface BaseSession {
  readonly id: number; peerId: number
  /** Send Ns on data messages (§5.4), and the next Ns to send. */
  sequencing: boolean; ns: number
  /** Set once the call is established. */
  info?: L2tpSessionInfo | undefined
}

/** §5.7: linger for the full retransmission cycle of the default channel (1+2+4+8+8+8 s). */
const DEFAULT_LINGER = 31_000

export abstract class L2tpTunnelBase<S extends BaseSession> {
  readonly counters = new Counters()
  readonly tunnelId: number
  protected readonly opt: TunnelOptions
  protected readonly log: Logger
  protected readonly channel: ControlChannel
  protected state: TunnelState = 'idle'
  protected peerTunnelId = 0
  protected readonly sessions = new Map<number, S>()
  protected readonly events: L2tpTunnelEvent[] = []
  private readonly frames: L2tpFrame[] = []
  /** Our Challenge (§5.1.1) until the peer's response is checked; zeroed afterwards. */
  protected ourChallenge: Uint8Array | undefined
  private lingerUntil: Millis | undefined
  private finished = false
  /** §5.4 (LAC): follow the peer — send Ns exactly while the LNS's data messages carry them. */
  protected followPeerSequencing = false

  constructor(now: Millis, opts: TunnelOptions, role: string) {
    this.opt = opts
    this.tunnelId = opts.tunnelId
    this.log = (opts.logger ?? nullLogger).child(`l2tp-${role}/${opts.tunnelId}`)
    this.channel = new ControlChannel(now, opts.channel)
  }

  /** Closed and past the §5.7 linger: the owner may forget this tunnel. */
  get done(): boolean { return this.finished }
  get established(): boolean { return this.state === 'established' }
  /** Closed (the closed event was emitted); it only lingers to acknowledge retransmissions now. */
  get closing(): boolean { return this.lingerUntil !== undefined }
  /** Counters of the reliable channel (duplicates, retransmissions, ZLBs, window drops). */
  channelCounters(): Record<string, number> { return this.channel.counters.snapshot() }

  handleDatagram(now: Millis, data: Uint8Array): void {
    if (this.finished) return
    let p
    try { p = decodeL2tp(data) } catch (e) { this.drop(e); return }
    if (p.header.type === 'data') { this.handleData(p.header, p.payload); return }
    // Tunnel ID 0 only while the peer does not know ours yet (its SCCRQ and retransmissions, §5.3).
    if (p.header.tunnelId !== this.tunnelId && p.header.tunnelId !== 0) { this.counters.inc('rx-wrong-tunnel-id'); return }
    this.channel.handleMessage(now, p.header as ControlHeader, p.payload)
    this.pump(now)
  }

  handleTimeout(now: Millis): void {
    if (this.finished) return
    this.channel.handleTimeout(now)
    this.pump(now)
    if (this.lingerUntil !== undefined && now >= this.lingerUntil) { this.finished = true; this.channel.stop() }
  }

  nextTimeout(): Millis | undefined {
    if (this.finished) return undefined
    const c = this.channel.nextTimeout()
    if (this.lingerUntil === undefined) return c
    return c === undefined ? this.lingerUntil : Math.min(c, this.lingerUntil)
  }

  pollTransmit(): Uint8Array | undefined { return this.channel.pollTransmit() }
  pollEvent(): L2tpTunnelEvent | undefined { return this.events.shift() }
  pollFrame(): L2tpFrame | undefined { return this.frames.shift() }

  /**
   * A PPP frame for session `sessionId` (ours) as a data message, or undefined when the session is
   * not established. §5.4: Ns only when sequencing was asked for.
   */
  encodeFrame(sessionId: number, frame: Uint8Array): Uint8Array | undefined {
    const s = this.sessions.get(sessionId)
    if (!s || !s.info) { this.counters.inc('tx-data-no-session'); return undefined }
    const ns = s.sequencing ? s.ns : undefined
    if (ns !== undefined) s.ns = seqAdd(s.ns, 1)
    return encodeData({ tunnelId: this.peerTunnelId, sessionId: s.peerId, ns }, frame)
  }

  /** Clears one call with a CDN (default Result Code: administrative, §4.4.2). */
  abstract closeSession(now: Millis, sessionId: number, reason: string, result?: ResultCodeValue): void

  /** Administrative close: StopCCN (Result Code 1 unless given), then linger (§5.7). */
  close(now: Millis, reason: string, result: ResultCodeValue = { result: StopCcnResult.GeneralClear }): void {
    if (this.lingerUntil !== undefined || this.finished) return
    if (this.state === 'idle' || !this.fire(now, 'close', reason, result)) this.teardown(now, reason, 'closed before establishment')
  }

  /** A tunnel message (SCCRQ, SCCRP, SCCCN, StopCCN, HELLO) that passed the rules. */
  protected abstract onTunnelMessage(now: Millis, m: ControlMessage): void
  /** A call message on an established tunnel that passed the rules. */
  protected abstract onCallMessage(now: Millis, headerSessionId: number, m: ControlMessage): void
  /** A call message the rules refuse (§4.1 unknown mandatory AVP, §6 missing AVP). */
  protected abstract onClearSession(now: Millis, headerSessionId: number, m: ControlMessage, v: Extract<Verdict, { action: 'clearSession' }>): void
  /** The role's share of §7.2.1 actions: send_sccrq, send_sccrp, send_scccn_up, up, sessions_open. */
  protected abstract onTunnelAction(now: Millis, action: TunnelAction, m: ControlMessage | undefined): void
  /** §6.4: the tunnel went down; clear `s` without a CDN. */
  protected abstract sessionTunnelDown(now: Millis, s: S): void

  private pump(now: Millis): void {
    for (let d = this.channel.pollDelivered(); d; d = this.channel.pollDelivered()) {
      if (this.lingerUntil !== undefined) { this.counters.inc('rx-while-closing'); continue }
      this.handleControl(now, d)
    }
    for (let e = this.channel.pollEvent(); e; e = this.channel.pollEvent()) {
      if (this.lingerUntil !== undefined) { this.finished = true; continue } // our StopCCN went unanswered
      this.fire(now, 'peer_silent', 'peer-silent', undefined)
    }
  }

  private handleControl(now: Millis, d: DeliveredMessage): void {
    let m: ControlMessage
    try { m = decodeControlBody(d.body, { secret: this.opt.secret }) } catch (e) {
      this.drop(e)
      // §7.1: a malformed control message "should be logged appropriately and the control connection cleared".
      const field = e instanceof DecodeError ? e.field : 'body'
      this.stopWith(now, `malformed ${field}`, { result: StopCcnResult.GeneralError, error: ErrorCode.WrongLength, message: `malformed ${field}` })
      return
    }
    const v = validateControlMessage(m)
    if (v.action === 'ignore') { this.counters.inc(`ignored:${v.reason}`); return }
    if (v.action === 'clearTunnel') {
      this.log.warn('clearing tunnel', { reason: v.reason, message: v.result.message })
      if ((m.messageType === MessageType.SCCRQ || m.messageType === MessageType.SCCRP) && m.fields.assignedTunnelId) this.setPeerTunnel(m)
      if (m.messageType === MessageType.StopCCN) this.fire(now, 'rx_stopccn', 'peer-stopccn', undefined)
      else this.stopWith(now, v.reason, v.result)
      return
    }
    if (v.action === 'clearSession') { this.counters.inc(`session-cleared:${v.reason}`); this.onClearSession(now, d.sessionId, m, v); return }
    if (isTunnelMessage(m.messageType)) { this.onTunnelMessage(now, m); return }
    // §5.0: "The Tunnel and corresponding Control Connection MUST be established before an incoming or
    // outgoing call is initiated."
    if (this.state !== 'established') { this.stopWith(now, 'call-before-tunnel', { result: StopCcnResult.FsmError, message: 'call message before the tunnel is established' }); return }
    this.onCallMessage(now, d.sessionId, m)
  }

  /** Performs one §7.2.1 transition; false when the table has no cell (counted as a violation). */
  protected fire(now: Millis, event: TunnelEvent, reason: string, result: ResultCodeValue | undefined, m?: ControlMessage): boolean {
    const cell = transition(TUNNEL_TABLE, this.state, event)
    if (!cell) { this.counters.inc(`tunnel-violation:${this.state}:${event}`); return false }
    this.log.debug('tunnel transition', { from: this.state, event, to: cell.next, action: cell.action })
    this.state = cell.next
    switch (cell.action) {
      case 'send_stopccn': this.sendStopCcn(now, result ?? { result: StopCcnResult.FsmError, message: reason }); this.teardown(now, reason, result?.message ?? reason); break
      case 'cleanup': this.teardown(now, reason, result?.message ?? reason); break
      default: this.onTunnelAction(now, cell.action, m)
    }
    return true
  }

  protected stopWith(now: Millis, reason: string, result: ResultCodeValue): void {
    if (this.state !== 'idle') { this.fire(now, 'close', reason, result); return }
    // idle has no close cell: a refused SCCRQ still gets a StopCCN when we know where to send it.
    if (this.peerTunnelId !== 0) this.sendStopCcn(now, result)
    this.teardown(now, reason, result.message ?? reason)
  }

  /** The AVPs SCCRQ and SCCRP share (§6.1, §6.2) plus our optional ones. */
  protected helloFields(messageType: number): Partial<AvpFields> & { messageType: number } {
    const o = this.opt
    const f: Partial<AvpFields> & { messageType: number } = {
      messageType, protocolVersion: PROTOCOL_VERSION, framingCapabilities: Framing.Sync | Framing.Async,
      hostName: o.hostName, assignedTunnelId: this.tunnelId, receiveWindowSize: this.channel.receiveWindow,
    }
    if (o.firmwareRevision !== undefined) f.firmwareRevision = o.firmwareRevision
    if (o.vendorName !== undefined) f.vendorName = o.vendorName
    return f
  }

  protected sendStopCcn(now: Millis, result: ResultCodeValue): void {
    // §4.4.3: the StopCCN's Assigned Tunnel ID is the one we first sent (ours), so the peer finds the tunnel.
    this.channel.send(now, 0, encodeControlBody({ messageType: MessageType.StopCCN, assignedTunnelId: this.tunnelId, resultCode: result }))
  }

  protected sendCdn(now: Millis, ourId: number, peerId: number, result: ResultCodeValue): void {
    this.channel.send(now, peerId, encodeControlBody({ messageType: MessageType.CDN, resultCode: result, assignedSessionId: ourId }))
  }

  /** Forgets a call; one that was in the map is reported as sessionDown. */
  protected endSession(s: S, reason: string, result: ResultCodeValue | undefined): void {
    if (this.sessions.delete(s.id)) this.events.push({ type: 'sessionDown', sessionId: s.id, reason, result })
  }

  protected setPeerTunnel(m: ControlMessage): void {
    this.peerTunnelId = m.fields.assignedTunnelId ?? 0
    this.channel.setPeerTunnelId(this.peerTunnelId)
    // §4.4.3 Receive Window Size: absent means 4.
    this.channel.setPeerWindow(m.fields.receiveWindowSize ?? 4)
  }

  protected allocateSessionId(): number | undefined {
    if (this.sessions.size >= (this.opt.maxSessions ?? 64)) return undefined
    for (let i = 0; i < 64; i++) {
      const b = this.opt.rng.bytes(2)
      const id = (b[0]! << 8) | b[1]!
      // §5.3: 0 "MUST NOT be used as an Assigned Session ID".
      if (id !== 0 && !this.sessions.has(id)) return id
    }
    return undefined
  }

  /** §6.4: a StopCCN clears every session "without sending any explicit call control messages". */
  protected teardown(now: Millis, reason: string, message: string): void {
    if (this.lingerUntil !== undefined) return
    for (const s of [...this.sessions.values()]) this.sessionTunnelDown(now, s)
    this.ourChallenge?.fill(0)
    this.ourChallenge = undefined
    this.channel.disableHello()
    this.lingerUntil = now + (this.opt.lingerMs ?? DEFAULT_LINGER)
    this.log.info('tunnel closed', { reason, peerTunnelId: this.peerTunnelId })
    this.events.push({ type: 'closed', reason, message })
  }

  private handleData(h: DataHeader, payload: Uint8Array): void {
    if (h.tunnelId !== this.tunnelId) { this.counters.inc('rx-data-wrong-tunnel-id'); return }
    const s = this.sessions.get(h.sessionId)
    if (!s || !s.info) { this.counters.inc('rx-data-unknown-session'); return }
    // §5.4: "if the LAC receives a data message without sequence numbers present, it MUST stop sending
    // sequence numbers"; with them present it "MUST begin sending sequence numbers".
    if (this.followPeerSequencing) s.sequencing = h.ns !== undefined
    this.frames.push({ sessionId: s.id, frame: payload })
  }

  protected drop(e: unknown): void {
    if (!(e instanceof DecodeError)) throw e
    this.counters.inc(`malformed:${e.field}`)
  }
}
