// The LAC side of one L2TP tunnel (our client), RFC 2661 §5.1 (sends SCCRQ, takes SCCRP, sends SCCCN;
// tunnel authentication §5.1.1) and §5.2.1 (sends ICRQ, takes ICRP, sends ICCN), with the §7.4.1 session
// table. Sans-IO: the client feeds it the datagrams from its LNS.
import type { Millis } from '../lib/time.js'
import type { Endpoint } from '../lib/endpoint.js'
import { encodeControlBody } from './avp/codec.js'
import type { ControlMessage } from './avp/codec.js'
import type { ResultCodeValue } from './avp/table.js'
import { Bearer, CdnResult, Framing, MessageType, StopCcnResult } from './avp/constants.js'
import type { Verdict } from './rules.js'
import { challengeResponse, newChallenge, verifyChallengeResponse } from './auth.js'
import { LAC_INCOMING_TABLE, transition } from './states.js'
import type { LacIcEvent, LacIcState, TunnelAction } from './states.js'
import { L2tpTunnelBase } from './tunnel-base.js'
import type { BaseSession } from './tunnel-base.js'
import type { L2tpFrame, L2tpTunnelEvent, TunnelOptions } from './tunnel-types.js'

interface LacSession extends BaseSession {
  state: LacIcState; readonly serial: number
  readonly callingNumber: string | undefined; readonly calledNumber: string | undefined
}

/** What the LAC reports in ICCN (§6.8): a "connect speed" for a virtual call, and synchronous framing. */
const CONNECT_SPEED = 100_000_000

/**
 * One tunnel dialled by the client. open() sends SCCRQ; call() places an incoming call (§5.2.1, "incoming"
 * from the LAC's point of view) once the tunnel is up. Drain pollTransmit/pollEvent/pollFrame, arm one
 * timer at nextTimeout. Never throws on peer input.
 */
export class L2tpLacTunnel extends L2tpTunnelBase<LacSession> {
  private serial = 0

  constructor(now: Millis, opts: TunnelOptions) { super(now, opts, 'lac'); this.followPeerSequencing = true }

  /** §7.2.1 idle -> wait-ctl-reply: sends SCCRQ (with a Challenge when challengePeer and a secret are set). */
  open(now: Millis): void { if (this.state === 'idle' && !this.closing) this.fire(now, 'open', 'open', undefined) }

  /**
   * Places a call (§7.4.1 "Bearer Ring or Ready to indicate incoming conn."): ICRQ now if the tunnel is
   * established, else when it comes up (opening it if idle). Returns our Session ID, or undefined when
   * no Session ID is free or the tunnel is closing.
   */
  call(now: Millis, numbers: { callingNumber?: string; calledNumber?: string } = {}): number | undefined {
    if (this.closing || this.done) return undefined
    const id = this.allocateSessionId()
    if (id === undefined) return undefined
    this.serial = (this.serial + 1) >>> 0
    const s: LacSession = { id, peerId: 0, sequencing: false, ns: 0, state: 'idle', serial: this.serial, callingNumber: numbers.callingNumber, calledNumber: numbers.calledNumber }
    this.sessions.set(id, s)
    this.fireSession(now, s, 'ring', 'ring', undefined)
    if (this.state === 'established') this.fireSession(now, s, 'tunnel_open', 'tunnel-open', undefined)
    else this.open(now)
    return id
  }

  closeSession(now: Millis, sessionId: number, reason: string, result: ResultCodeValue = { result: CdnResult.Administrative }): void {
    const s = this.sessions.get(sessionId)
    if (s) this.fireSession(now, s, 'close', reason, result)
  }

  protected onTunnelMessage(now: Millis, m: ControlMessage): void {
    const f = m.fields
    switch (m.messageType) {
      case MessageType.SCCRP: {
        if (this.state === 'wait_ctl_reply') this.setPeerTunnel(m)
        const ch = this.ourChallenge
        this.ourChallenge = undefined
        // §5.1.1: a mismatch "MUST be disallowed"; a Challenge from the LNS needs our secret to answer.
        const authOk = !ch || (f.challengeResponse !== undefined && verifyChallengeResponse(MessageType.SCCRP, this.opt.secret!, ch, f.challengeResponse))
        ch?.fill(0)
        const ok = authOk && !(f.challenge && !this.opt.secret)
        this.fire(now, ok ? 'rx_sccrp_ok' : 'rx_sccrp_bad', ok ? 'sccrp' : 'tunnel-authentication-failed', { result: StopCcnResult.NotAuthorized, message: 'tunnel authentication failed' }, m)
        return
      }
      // We never accept tunnels as a LAC client: a crossing SCCRQ is answered as §7.2.1 says for our state.
      case MessageType.SCCRQ: this.fire(now, 'rx_sccrq_bad', 'unexpected-sccrq', { result: StopCcnResult.FsmError }); return
      case MessageType.SCCCN: this.fire(now, 'rx_scccn_ok', 'unexpected-scccn', { result: StopCcnResult.FsmError }); return
      case MessageType.StopCCN: this.fire(now, 'rx_stopccn', `peer-stopccn result ${f.resultCode?.result}`, f.resultCode); return
      default: this.counters.inc('rx-hello')
    }
  }

  protected onTunnelAction(now: Millis, action: TunnelAction, m: ControlMessage | undefined): void {
    const o = this.opt
    switch (action) {
      case 'send_sccrq': {
        const fields = this.helloFields(MessageType.SCCRQ)
        fields.bearerCapabilities = Bearer.Analog | Bearer.Digital
        if (o.challengePeer && o.secret) { this.ourChallenge = newChallenge(o.rng); fields.challenge = this.ourChallenge }
        this.channel.send(now, 0, encodeControlBody(fields))
        return
      }
      case 'send_scccn_up': {
        const ch = m?.fields.challenge
        // §5.1.1: "a Challenge Response AVP MUST be sent in the following SCCRP or SCCCN".
        this.channel.send(now, 0, encodeControlBody(ch ? { messageType: MessageType.SCCCN, challengeResponse: challengeResponse(MessageType.SCCCN, o.secret!, ch) } : { messageType: MessageType.SCCCN }))
        const f = m!.fields
        this.events.push({ type: 'tunnelUp', peerTunnelId: this.peerTunnelId, peerHostName: f.hostName!, peerVendorName: f.vendorName, peerFramingCapabilities: f.framingCapabilities! })
        // §7.2.1: "Send tunnel-open event to waiting sessions".
        for (const s of [...this.sessions.values()]) if (s.state === 'wait_tunnel') this.fireSession(now, s, 'tunnel_open', 'tunnel-open', undefined)
        return
      }
      default: this.counters.inc(`tunnel-action-unused:${action}`)
    }
  }

  protected onClearSession(now: Millis, headerSessionId: number, m: ControlMessage, v: Extract<Verdict, { action: 'clearSession' }>): void {
    const s = this.sessions.get(headerSessionId)
    if (s && m.messageType === MessageType.CDN) this.fireSession(now, s, 'rx_cdn', v.reason, m.fields.resultCode)
    else if (s) this.fireSession(now, s, 'close', v.reason, v.result)
    else this.counters.inc(`rx-unknown-session:${m.messageType}`)
  }

  protected onCallMessage(now: Millis, headerSessionId: number, m: ControlMessage): void {
    const s = this.sessions.get(headerSessionId)
    if (!s) { this.counters.inc(`rx-unknown-session:${m.messageType}`); return }
    switch (m.messageType) {
      case MessageType.ICRP:
        if (s.state === 'wait_reply') s.peerId = m.fields.assignedSessionId!
        this.fireSession(now, s, 'rx_icrp_ok', 'icrp', undefined)
        return
      case MessageType.CDN: this.fireSession(now, s, 'rx_cdn', 'peer-cdn', m.fields.resultCode); return
      case MessageType.ICRQ: this.fireSession(now, s, 'rx_icrq', 'unexpected-icrq', undefined); return
      case MessageType.ICCN: this.fireSession(now, s, 'rx_iccn', 'unexpected-iccn', undefined); return
      default: this.counters.inc(`rx-call-message-ignored:${m.messageType}`) // SLI, WEN, OCxx
    }
  }

  protected sessionTunnelDown(now: Millis, s: LacSession): void { this.fireSession(now, s, 'tunnel_down', 'tunnel-down', undefined) }

  /** Performs one §7.4.1 transition. */
  private fireSession(now: Millis, s: LacSession, event: LacIcEvent, reason: string, result: ResultCodeValue | undefined): void {
    const cell = transition(LAC_INCOMING_TABLE, s.state, event)
    if (!cell) { this.counters.inc(`session-violation:${s.state}:${event}`); return }
    s.state = cell.next
    switch (cell.action) {
      case 'send_icrq': {
        const f = { messageType: MessageType.ICRQ, assignedSessionId: s.id, callSerialNumber: s.serial, bearerType: Bearer.Digital } as const
        this.channel.send(now, 0, encodeControlBody({ ...f, ...(s.callingNumber !== undefined ? { callingNumber: s.callingNumber } : {}), ...(s.calledNumber !== undefined ? { calledNumber: s.calledNumber } : {}) }))
        return
      }
      case 'send_iccn': {
        this.channel.send(now, s.peerId, encodeControlBody({ messageType: MessageType.ICCN, txConnectSpeed: CONNECT_SPEED, framingType: Framing.Sync }))
        s.info = { sessionId: s.id, peerSessionId: s.peerId, callSerialNumber: s.serial, txConnectSpeed: CONNECT_SPEED, framingType: Framing.Sync, sequencing: false, callingNumber: s.callingNumber, calledNumber: s.calledNumber }
        this.events.push({ type: 'sessionUp', ...s.info })
        return
      }
      case 'send_cdn': this.sendCdn(now, s.id, s.peerId, result ?? { result: CdnResult.GeneralError, message: reason }); this.endSession(s, reason, undefined); return
      case 'cleanup': this.endSession(s, reason, result); return
      default: return // open_tunnel: call() opens the tunnel itself
    }
  }
}

/**
 * The LAC tunnel as a DatagramCore (transport/datagram-driver.ts) towards one LNS: datagrams from any
 * other address or port are dropped and counted; transmits carry the LNS endpoint. Frames go to
 * `onFrame` synchronously (a view into the datagram) or queue for pollFrame.
 */
export class L2tpLacEndpoint {
  readonly tunnel: L2tpLacTunnel
  readonly peer: Endpoint
  private readonly onFrame: ((sessionId: number, frame: Uint8Array) => void) | undefined

  constructor(tunnel: L2tpLacTunnel, peer: Endpoint, onFrame?: (sessionId: number, frame: Uint8Array) => void) {
    this.tunnel = tunnel
    this.peer = peer
    this.onFrame = onFrame
  }

  handleDatagram(now: Millis, data: Uint8Array, from: Endpoint): void {
    if (from.address !== this.peer.address || from.port !== this.peer.port) { this.tunnel.counters.inc('rx-wrong-peer'); return }
    this.tunnel.handleDatagram(now, data)
    if (this.onFrame) for (let f = this.tunnel.pollFrame(); f; f = this.tunnel.pollFrame()) this.onFrame(f.sessionId, f.frame)
  }
  handleTimeout(now: Millis): void { this.tunnel.handleTimeout(now) }
  nextTimeout(): Millis | undefined { return this.tunnel.nextTimeout() }
  pollTransmit(): { readonly to: Endpoint; readonly data: Uint8Array } | undefined {
    const data = this.tunnel.pollTransmit()
    return data ? { to: this.peer, data } : undefined
  }
  pollEvent(): L2tpTunnelEvent | undefined { return this.tunnel.pollEvent() }
  pollFrame(): L2tpFrame | undefined { return this.tunnel.pollFrame() }
  /** A PPP frame for our session as a datagram to the LNS, or undefined when the call is not up. */
  encodeFrame(sessionId: number, frame: Uint8Array): { readonly to: Endpoint; readonly data: Uint8Array } | undefined {
    const data = this.tunnel.encodeFrame(sessionId, frame)
    return data ? { to: this.peer, data } : undefined
  }
}
