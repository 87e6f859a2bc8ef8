// The LNS side of one L2TP tunnel, RFC 2661 §5.1 (answers SCCRQ with SCCRP, takes SCCCN; tunnel
// authentication §5.1.1) and §5.2.1 (answers ICRQ with ICRP, takes ICCN), with the §7.4.2 session table.
// Sans-IO; the listener demultiplexes datagrams to it by Tunnel ID.
import type { Millis } from '../lib/time.js'
import { encodeControlBody } from './avp/codec.js'
import type { ControlMessage } from './avp/codec.js'
import type { ResultCodeValue } from './avp/table.js'
import { CdnResult, ErrorCode, MessageType, StopCcnResult } from './avp/constants.js'
import type { Verdict } from './rules.js'
import { challengeResponse, newChallenge, verifyChallengeResponse } from './auth.js'
import { LNS_INCOMING_TABLE, transition } from './states.js'
import type { LnsIcEvent, LnsIcState, TunnelAction } from './states.js'
import { L2tpTunnelBase } from './tunnel-base.js'
import type { BaseSession } from './tunnel-base.js'
import type { TunnelOptions } from './tunnel-types.js'

interface LnsSession extends BaseSession {
  state: LnsIcState; readonly serial: number
  readonly callingNumber: string | undefined; readonly calledNumber: string | undefined
}

/**
 * One tunnel answered by the gateway. Feed every datagram whose Tunnel ID is ours (and the SCCRQ
 * that created it, Tunnel ID 0) to handleDatagram; drain pollTransmit, pollEvent and pollFrame;
 * arm one timer at nextTimeout. Never throws on peer input.
 */
export class L2tpLnsTunnel extends L2tpTunnelBase<LnsSession> {
  private peerHello: { hostName: string; vendorName: string | undefined; framing: number } | undefined

  constructor(now: Millis, opts: TunnelOptions) { super(now, opts, 'lns') }

  closeSession(now: Millis, sessionId: number, reason: string, result: ResultCodeValue = { result: CdnResult.Administrative }): void {
    const s = this.sessions.get(sessionId)
    if (s) this.fireSession(now, s, 'close', reason, result)
  }

  protected onTunnelMessage(now: Millis, m: ControlMessage): void {
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

  protected onTunnelAction(now: Millis, action: TunnelAction, m: ControlMessage | undefined): void {
    if (action === 'send_sccrp') {
      const o = this.opt
      const fields = this.helloFields(MessageType.SCCRP)
      // §4.4.3 Challenge Response: "MUST be present in an SCCRP or SCCCN if a challenge was received".
      if (m?.fields.challenge) fields.challengeResponse = challengeResponse(MessageType.SCCRP, o.secret!, m.fields.challenge)
      if (o.challengePeer && o.secret) { this.ourChallenge = newChallenge(o.rng); fields.challenge = this.ourChallenge }
      this.channel.send(now, 0, encodeControlBody(fields))
    } else if (action === 'up') {
      const h = this.peerHello!
      this.events.push({ type: 'tunnelUp', peerTunnelId: this.peerTunnelId, peerHostName: h.hostName, peerVendorName: h.vendorName, peerFramingCapabilities: h.framing })
    } else {
      this.counters.inc(`tunnel-action-unused:${action}`) // LAC-side actions never reached by an LNS
    }
  }

  protected onClearSession(now: Millis, headerSessionId: number, m: ControlMessage, v: Extract<Verdict, { action: 'clearSession' }>): void {
    const s = this.sessions.get(headerSessionId)
    // A CDN is never answered with a CDN: whatever it carries, the call is over.
    if (s && m.messageType === MessageType.CDN) this.fireSession(now, s, 'rx_cdn', v.reason, m.fields.resultCode)
    else if (s) this.fireSession(now, s, 'close', v.reason, v.result)
    else if (m.messageType === MessageType.CDN) this.counters.inc('rx-cdn-unknown-session')
    // A call we never accepted (a refused ICRQ): the CDN goes to the peer's Assigned Session ID, ours is 0.
    else this.sendCdn(now, 0, m.fields.assignedSessionId ?? 0, v.result)
  }

  protected onCallMessage(now: Millis, headerSessionId: number, m: ControlMessage): void {
    const f = m.fields
    if (m.messageType === MessageType.ICRQ) {
      // ICRQ comes with Session ID 0 in the header (§5.3); the peer's Assigned Session ID names the call.
      for (const s of this.sessions.values()) if (s.peerId === f.assignedSessionId) { this.counters.inc('rx-icrq-duplicate-call'); return }
      const id = this.allocateSessionId()
      const s: LnsSession = { id: id ?? 0, peerId: f.assignedSessionId!, state: 'idle', serial: f.callSerialNumber!, sequencing: false, ns: 0, callingNumber: f.callingNumber, calledNumber: f.calledNumber }
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
        const info = { sessionId: s.id, peerSessionId: s.peerId, callSerialNumber: s.serial, txConnectSpeed: f.txConnectSpeed!, framingType: f.framingType!,
          sequencing: f.sequencingRequired === true, callingNumber: s.callingNumber, calledNumber: s.calledNumber }
        // §5.4: with Sequencing Required, "sequence numbers MUST be present at all times".
        if (s.state === 'wait_connect') { s.info = info; s.sequencing = info.sequencing }
        this.fireSession(now, s, 'rx_iccn_ok', 'iccn', undefined)
        return
      }
      case MessageType.CDN: this.fireSession(now, s, 'rx_cdn', 'peer-cdn', f.resultCode); return
      case MessageType.ICRP: this.fireSession(now, s, 'rx_icrp', 'unexpected-icrp', { result: CdnResult.GeneralError, error: ErrorCode.InvalidSessionId }); return
      default: this.counters.inc(`rx-call-message-ignored:${m.messageType}`) // WEN, SLI (meaningless for sync framing), OCxx
    }
  }

  protected sessionTunnelDown(now: Millis, s: LnsSession): void { this.fireSession(now, s, 'tunnel_down', 'tunnel-down', undefined) }

  /** Performs one §7.4.2 transition. */
  private fireSession(now: Millis, s: LnsSession, event: LnsIcEvent, reason: string, result: ResultCodeValue | undefined): void {
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
}
