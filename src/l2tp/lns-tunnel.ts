// The LNS side of one L2TP tunnel, RFC 2661 §5.1 (SCCRQ/SCCRP/SCCCN, tunnel authentication §5.1.1),
// §5.2.1 (incoming calls ICRQ/ICRP/ICCN), §5.7 (StopCCN, CDN), over the reliable channel of §5.8 and
// the state tables of §7.2.1/§7.4.2. Sans-IO; the listener demultiplexes datagrams to it by Tunnel ID.
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
import { CdnResult, ErrorCode, Framing, MessageType, PROTOCOL_VERSION, StopCcnResult } from './avp/constants.js'
import { validateControlMessage, isTunnelMessage } from './rules.js'
import { challengeResponse, newChallenge, verifyChallengeResponse } from './auth.js'
import { LNS_INCOMING_TABLE, TUNNEL_TABLE, transition } from './states.js'
import type { LnsIcEvent, LnsIcState, TunnelEvent, TunnelState } from './states.js'
import { ControlChannel } from './control/channel.js'
import type { DeliveredMessage } from './control/channel.js'
import { seqAdd } from './control/seq.js'
import type { LnsFrame, LnsSessionInfo, LnsTunnelEvent, LnsTunnelOptions } from './lns-types.js'

interface Session {
  readonly id: number; peerId: number; state: LnsIcState; serial: number; ns: number
  callingNumber?: string | undefined; calledNumber?: string | undefined; info?: LnsSessionInfo
}

const DEFAULT_LINGER = 31_000

/**
 * One tunnel answered by the gateway. Feed every datagram whose Tunnel ID is ours (and the SCCRQ
 * that created it, Tunnel ID 0) to handleDatagram; drain pollTransmit, pollEvent and pollFrame;
 * arm one timer at nextTimeout. Never throws on peer input.
 */
export class L2tpLnsTunnel {
  readonly counters = new Counters()
  readonly tunnelId: number
  private readonly opt: LnsTunnelOptions
  private readonly log: Logger
  private readonly channel: ControlChannel
  private state: TunnelState = 'idle'
  private peerTunnelId = 0
  private readonly sessions = new Map<number, Session>()
  private readonly events: LnsTunnelEvent[] = []
  private readonly frames: LnsFrame[] = []
  private ourChallenge: Uint8Array | undefined
  private peerHello: { hostName: string; vendorName: string | undefined; framing: number } | undefined
  private lingerUntil: Millis | undefined
  private finished = false

  constructor(now: Millis, opts: LnsTunnelOptions) {
    this.opt = opts
    this.tunnelId = opts.tunnelId
    this.log = (opts.logger ?? nullLogger).child(`l2tp/${opts.tunnelId}`)
    this.channel = new ControlChannel(now, opts.channel)
  }

  /** Closed and past the §5.7 linger: the listener may forget this tunnel. */
  get done(): boolean { return this.finished }
  get established(): boolean { return this.state === 'established' }
  /** Counters of the reliable channel (duplicates, retransmissions, ZLBs, window drops). */
  channelCounters(): Record<string, number> { return this.channel.counters.snapshot() }
  /** Closed (the closed event was emitted); it only lingers to acknowledge retransmissions now. */
  get closing(): boolean { return this.lingerUntil !== undefined }

  handleDatagram(now: Millis, data: Uint8Array): void {
    if (this.finished) return
    let p
    try { p = decodeL2tp(data) } catch (e) { this.drop(e); return }
    if (p.header.type === 'data') { this.handleData(p.header, p.payload); return }
    // Only the SCCRQ (and its retransmissions) reach us with Tunnel ID 0: the peer does not know ours yet.
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
  pollEvent(): LnsTunnelEvent | undefined { return this.events.shift() }
  pollFrame(): LnsFrame | undefined { return this.frames.shift() }

  /**
   * A PPP frame for session `sessionId` (ours) as a data message, or undefined when the session is
   * not established. §5.4: Ns only when the LAC asked for sequencing.
   */
  encodeFrame(sessionId: number, frame: Uint8Array): Uint8Array | undefined {
    const s = this.sessions.get(sessionId)
    if (!s || s.state !== 'established') { this.counters.inc('tx-data-no-session'); return undefined }
    const ns = s.info?.sequencing ? s.ns : undefined
    if (ns !== undefined) s.ns = seqAdd(s.ns, 1)
    return encodeData({ tunnelId: this.peerTunnelId, sessionId: s.peerId, ns }, frame)
  }

  /** Clears one call (PPP ended): CDN with `result` (default: administrative, §4.4.2). */
  closeSession(now: Millis, sessionId: number, reason: string, result: ResultCodeValue = { result: CdnResult.Administrative }): void {
    const s = this.sessions.get(sessionId)
    if (s) this.fireSession(now, s, 'close', reason, result)
  }

  /** Administrative close: StopCCN (Result Code 1 unless given), then linger (§5.7). */
  close(now: Millis, reason: string, result: ResultCodeValue = { result: StopCcnResult.GeneralClear }): void {
    if (this.lingerUntil !== undefined || this.finished) return
    if (!this.fire(now, 'close', reason, result)) this.teardown(now, reason, 'closed before establishment')
  }

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
      if (m.messageType === MessageType.SCCRQ && m.fields.assignedTunnelId) this.setPeerTunnel(m)
      if (m.messageType === MessageType.StopCCN) this.fire(now, 'rx_stopccn', 'peer-stopccn', undefined)
      else this.stopWith(now, v.reason, v.result)
      return
    }
    if (v.action === 'clearSession') {
      this.counters.inc(`session-cleared:${v.reason}`)
      const s = this.sessions.get(d.sessionId)
      // A CDN is never answered with a CDN: whatever it carries, the call is over.
      if (s && m.messageType === MessageType.CDN) this.fireSession(now, s, 'rx_cdn', v.reason, m.fields.resultCode)
      else if (s) this.fireSession(now, s, 'close', v.reason, v.result)
      else if (m.messageType === MessageType.CDN) this.counters.inc('rx-cdn-unknown-session')
      // A call we never accepted (a refused ICRQ): the CDN goes to the peer's Assigned Session ID, ours is 0.
      else this.sendCdn(now, 0, m.fields.assignedSessionId ?? 0, v.result)
      return
    }
    if (isTunnelMessage(m.messageType)) { this.handleTunnelMessage(now, m); return }
    // §5.0: "The Tunnel and corresponding Control Connection MUST be established before an incoming or
    // outgoing call is initiated."
    if (this.state !== 'established') { this.stopWith(now, 'call-before-tunnel', { result: StopCcnResult.FsmError, message: 'call message before the tunnel is established' }); return }
    this.handleCallMessage(now, d.sessionId, m)
  }

  private handleTunnelMessage(now: Millis, m: ControlMessage): void {
    const f = m.fields
    switch (m.messageType) {
      case MessageType.SCCRQ: {
        this.setPeerTunnel(m)
        // §5.1.1: answering a Challenge needs the shared secret; without one we cannot authenticate.
        if (f.challenge && !this.opt.secret) { this.fire(now, 'rx_sccrq_bad', 'challenge-without-secret', { result: StopCcnResult.NotAuthorized, message: 'no tunnel secret configured' }); return }
        this.peerHello = { hostName: f.hostName!, vendorName: f.vendorName, framing: f.framingCapabilities! }
        this.fire(now, 'rx_sccrq_ok', 'sccrq', undefined, m)
        return
      }
      case MessageType.SCCRP: this.fire(now, 'rx_sccrp_ok', 'unexpected-sccrp', { result: StopCcnResult.FsmError }); return
      case MessageType.SCCCN: {
        const ch = this.ourChallenge
        this.ourChallenge = undefined
        // §5.1.1: "If the expected response and response received from a peer does not match,
        // establishment of the tunnel MUST be disallowed."
        const ok = !ch || (f.challengeResponse !== undefined && verifyChallengeResponse(MessageType.SCCCN, this.opt.secret!, ch, f.challengeResponse))
        ch?.fill(0)
        this.fire(now, ok ? 'rx_scccn_ok' : 'rx_scccn_bad', ok ? 'scccn' : 'challenge-response-mismatch', { result: StopCcnResult.NotAuthorized, message: 'tunnel authentication failed' })
        return
      }
      case MessageType.StopCCN: this.fire(now, 'rx_stopccn', `peer-stopccn result ${f.resultCode?.result}`, undefined); return
      default: this.counters.inc('rx-hello') // HELLO: the channel has acknowledged it; nothing else to do (§6.5)
    }
  }

  private handleCallMessage(now: Millis, headerSessionId: number, m: ControlMessage): void {
    const f = m.fields
    if (m.messageType === MessageType.ICRQ) {
      // ICRQ comes with Session ID 0 in the header (§5.3); the peer's Assigned Session ID names the call.
      const dup = [...this.sessions.values()].find((s) => s.peerId === f.assignedSessionId && s.state !== 'idle')
      if (dup) { this.counters.inc('rx-icrq-duplicate-call'); return }
      const id = this.allocateSessionId()
      const s: Session = { id: id ?? 0, peerId: f.assignedSessionId!, state: 'idle', serial: f.callSerialNumber!, ns: 0, callingNumber: f.callingNumber, calledNumber: f.calledNumber }
      if (id === undefined) { this.fireSession(now, s, 'rx_icrq_bad', 'no-session-slot', { result: CdnResult.NoFacilitiesTemporary }); return }
      this.sessions.set(id, s)
      this.fireSession(now, s, 'rx_icrq_ok', 'icrq', undefined)
      return
    }
    const s = this.sessions.get(headerSessionId)
    if (!s) { this.counters.inc(`rx-unknown-session:${m.messageType}`); return }
    switch (m.messageType) {
      case MessageType.ICCN: {
        // §4.4.3: the Framing Type must be one the LNS advertised; we advertise both, so any is fine.
        s.info = { sessionId: s.id, peerSessionId: s.peerId, callSerialNumber: s.serial, txConnectSpeed: f.txConnectSpeed!, framingType: f.framingType!,
          sequencing: f.sequencingRequired === true, callingNumber: s.callingNumber, calledNumber: s.calledNumber }
        this.fireSession(now, s, 'rx_iccn_ok', 'iccn', undefined)
        return
      }
      case MessageType.CDN: this.fireSession(now, s, 'rx_cdn', 'peer-cdn', f.resultCode); return
      case MessageType.ICRP: this.fireSession(now, s, 'rx_icrp', 'unexpected-icrp', { result: CdnResult.GeneralError, error: ErrorCode.InvalidSessionId }); return
      default: this.counters.inc(`rx-call-message-ignored:${m.messageType}`) // WEN, SLI (meaningless for sync framing), OCxx
    }
  }

  /** Performs one §7.2.1 transition; false when the table has no cell (counted as a violation). */
  private fire(now: Millis, event: TunnelEvent, reason: string, result: ResultCodeValue | undefined, m?: ControlMessage): boolean {
    const cell = transition(TUNNEL_TABLE, this.state, event)
    if (!cell) { this.counters.inc(`tunnel-violation:${this.state}:${event}`); return false }
    this.log.debug('tunnel transition', { from: this.state, event, to: cell.next, action: cell.action })
    this.state = cell.next
    switch (cell.action) {
      case 'send_sccrp': this.sendSccrp(now, m!); break
      case 'up': {
        const h = this.peerHello!
        this.events.push({ type: 'tunnelUp', peerTunnelId: this.peerTunnelId, peerHostName: h.hostName, peerVendorName: h.vendorName, peerFramingCapabilities: h.framing })
        break
      }
      case 'send_stopccn': this.sendStopCcn(now, result ?? { result: StopCcnResult.FsmError, message: reason }); this.teardown(now, reason, result?.message ?? reason); break
      case 'cleanup': this.teardown(now, reason, result?.message ?? reason); break
      default: this.counters.inc(`tunnel-action-unused:${cell.action}`) // send_sccrq, requeue: LAC-side actions
    }
    return true
  }

  private fireSession(now: Millis, s: Session, event: LnsIcEvent, reason: string, result: ResultCodeValue | undefined): void {
    const cell = transition(LNS_INCOMING_TABLE, s.state, event)
    if (!cell) { this.counters.inc(`session-violation:${s.state}:${event}`); return }
    s.state = cell.next
    switch (cell.action) {
      case 'send_icrp': this.channel.send(now, s.peerId, encodeControlBody({ messageType: MessageType.ICRP, assignedSessionId: s.id })); break
      case 'up': this.events.push({ type: 'sessionUp', ...s.info! }); break
      case 'send_cdn': this.sendCdn(now, s.id, s.peerId, result ?? { result: CdnResult.GeneralError, message: reason }); this.endSession(s, reason, undefined); break
      case 'cleanup': this.endSession(s, reason, result); break
      default: break
    }
  }

  /** Forgets a call; a call we had accepted (answered with ICRP) is reported as sessionDown. */
  private endSession(s: Session, reason: string, result: ResultCodeValue | undefined): void {
    if (this.sessions.delete(s.id)) this.events.push({ type: 'sessionDown', sessionId: s.id, reason, result })
  }

  private setPeerTunnel(m: ControlMessage): void {
    this.peerTunnelId = m.fields.assignedTunnelId ?? 0
    this.channel.setPeerTunnelId(this.peerTunnelId)
    // §4.4.3 Receive Window Size: absent means 4.
    this.channel.setPeerWindow(m.fields.receiveWindowSize ?? 4)
  }

  private sendSccrp(now: Millis, m: ControlMessage): void {
    const o = this.opt
    const fields: Partial<AvpFields> & { messageType: number } = {
      messageType: MessageType.SCCRP, protocolVersion: PROTOCOL_VERSION, framingCapabilities: Framing.Sync | Framing.Async,
      hostName: o.hostName, assignedTunnelId: this.tunnelId, receiveWindowSize: this.channel.receiveWindow,
    }
    if (o.firmwareRevision !== undefined) fields.firmwareRevision = o.firmwareRevision
    if (o.vendorName !== undefined) fields.vendorName = o.vendorName
    // §4.4.3 Challenge Response: "MUST be present in an SCCRP or SCCCN if a challenge was received".
    if (m.fields.challenge) fields.challengeResponse = challengeResponse(MessageType.SCCRP, o.secret!, m.fields.challenge)
    if (o.challengePeer && o.secret) { this.ourChallenge = newChallenge(o.rng); fields.challenge = this.ourChallenge }
    this.channel.send(now, 0, encodeControlBody(fields))
  }

  private stopWith(now: Millis, reason: string, result: ResultCodeValue): void {
    if (this.state !== 'idle') { this.fire(now, 'close', reason, result); return }
    // idle has no close cell: an SCCRQ we refuse still gets a StopCCN when we know where to send it.
    if (this.peerTunnelId !== 0) this.sendStopCcn(now, result)
    this.teardown(now, reason, result.message ?? reason)
  }

  private sendStopCcn(now: Millis, result: ResultCodeValue): void {
    // §4.4.3: the StopCCN's Assigned Tunnel ID is the one we first sent (ours), so the peer finds the tunnel.
    this.channel.send(now, 0, encodeControlBody({ messageType: MessageType.StopCCN, assignedTunnelId: this.tunnelId, resultCode: result }))
  }

  private sendCdn(now: Millis, ourId: number, peerId: number, result: ResultCodeValue): void {
    this.channel.send(now, peerId, encodeControlBody({ messageType: MessageType.CDN, resultCode: result, assignedSessionId: ourId }))
  }

  /** §6.4: a StopCCN clears every session "without sending any explicit call control messages". */
  private teardown(now: Millis, reason: string, message: string): void {
    if (this.lingerUntil !== undefined) return
    for (const s of [...this.sessions.values()]) this.fireSession(now, s, 'tunnel_down', 'tunnel-down', undefined)
    this.ourChallenge?.fill(0)
    this.ourChallenge = undefined
    this.channel.disableHello()
    this.lingerUntil = now + (this.opt.lingerMs ?? DEFAULT_LINGER)
    this.log.info('tunnel closed', { reason, peerTunnelId: this.peerTunnelId })
    this.events.push({ type: 'closed', reason, message })
  }

  private allocateSessionId(): number | undefined {
    if (this.sessions.size >= (this.opt.maxSessions ?? 64)) return undefined
    for (let i = 0; i < 64; i++) {
      const b = this.opt.rng.bytes(2)
      const id = (b[0]! << 8) | b[1]!
      if (id !== 0 && !this.sessions.has(id)) return id
    }
    return undefined
  }

  private handleData(h: DataHeader, payload: Uint8Array): void {
    if (h.tunnelId !== this.tunnelId) { this.counters.inc('rx-data-wrong-tunnel-id'); return }
    const s = this.sessions.get(h.sessionId)
    if (!s || s.state !== 'established') { this.counters.inc('rx-data-unknown-session'); return }
    this.frames.push({ sessionId: s.id, frame: payload })
  }

  private drop(e: unknown): void {
    if (!(e instanceof DecodeError)) throw e
    this.counters.inc(`malformed:${e.field}`)
  }
}
