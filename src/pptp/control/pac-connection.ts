// The PAC side of the PPTP control connection (the gateway): answers Start-Control-Connection-Request (RFC 2637
// §2.1/2.2), accepts Outgoing-Call-Requests with its own Call IDs (§2.7/2.8, §3.2.1 table), answers
// Call-Clear-Request with Call-Disconnect-Notify (§2.12/2.13) and records Set-Link-Info (§2.15). Sans-IO.
import type { Millis } from '../../lib/time.js'
import { BearerCapability, CONTROL_MESSAGE_NAMES, CallDisconnectResult, ControlMessageType as T, FramingCapability, GeneralErrorCode, OutgoingCallResult, PPTP_PROTOCOL_VERSION, StartCtlResult } from './constants.js'
import type { PptpControlMessage, PptpMessageOf } from './messages.js'
import { PAC_CALL_TABLE, transition } from './states.js'
import type { CtlAction, PacCallEvent, PacCallState } from './states.js'
import { PptpConnectionBase } from './connection-base.js'
import type { PptpPacOptions } from './connection-types.js'

interface PacCall {
  state: PacCallState
  readonly callId: number
  readonly peerCallId: number
  readonly request: PptpMessageOf<typeof T.OutgoingCallRequest>
  sendAccm: number
  receiveAccm: number
}

export class PptpPacConnection extends PptpConnectionBase {
  private readonly calls = new Map<number, PacCall>() // by our Call ID
  private readonly byPeer = new Map<number, PacCall>() // by the PNS's Call ID
  private readonly pac: PptpPacOptions
  private readonly maxCalls: number
  private nextCallId: number
  private peerSccrq: PptpMessageOf<typeof T.StartControlConnectionRequest> | undefined

  constructor(opts: PptpPacOptions) {
    super(opts, 'pptp-pac')
    this.pac = opts
    this.maxCalls = opts.maxCalls ?? 256
    // A random first Call ID makes a stale GRE packet of an earlier connection unlikely to match a new call.
    const r = opts.rng.bytes(2)
    this.nextCallId = ((r[0]! << 8) | r[1]!) || 1
  }

  /** Calls in the §3.2.1 state 'established' or 'wait_cs_ans'. */
  get callCount(): number { return this.calls.size }
  callState(callId: number): PacCallState { return this.calls.get(callId)?.state ?? 'idle' }
  /** The last Set-Link-Info ACCMs of a call (§2.15); unused for synchronous framing but kept for diagnostics. */
  linkInfo(callId: number): { sendAccm: number; receiveAccm: number } | undefined {
    const c = this.calls.get(callId)
    return c ? { sendAccm: c.sendAccm, receiveAccm: c.receiveAccm } : undefined
  }

  /** Local hang-up (PPP ended, admin): Call-Disconnect-Notify with `result` (§2.13), then callDown. */
  hangupCall(now: Millis, callId: number, reason: string, result: number = CallDisconnectResult.AdminShutdown): void {
    const c = this.calls.get(callId)
    if (!c || this.isClosed || this.ctlState !== 'established') return
    this.callEvent(now, c, 'hangup', reason, result)
  }

  protected roleAction(now: Millis, action: CtlAction): void {
    const q = this.peerSccrq
    switch (action) {
      case 'send_sccrp_ok':
        this.sendSccrp(StartCtlResult.Successful)
        this.startKeepalive(now)
        if (q) this.emit({ type: 'controlUp', peerHostName: q.hostName, peerVendorString: q.vendorString, peerFirmwareRevision: q.firmwareRevision })
        return
      case 'send_sccrp_nak':
        // §2.2 Result Code 5: the requester's version is not supported; then the connection is closed (§3.1.1).
        this.sendSccrp(StartCtlResult.ProtocolVersionNotSupported)
        this.finish('protocol-error', `peer speaks PPTP version 0x${(q?.protocolVersion ?? 0).toString(16)}`)
        return
      default:
        this.violation(now, `control action ${action} on the PAC`)
    }
  }

  protected handleRoleMessage(now: Millis, msg: PptpControlMessage): void {
    switch (msg.type) {
      case T.StartControlConnectionRequest:
        this.peerSccrq = msg
        // §2.1: "Protocol Version ... 0x0100"; the major version must match for us to understand the peer.
        this.ctl(now, msg.protocolVersion >> 8 === PPTP_PROTOCOL_VERSION >> 8 ? 'rx_sccrq_ok' : 'rx_sccrq_bad', 'protocol-error', 'unsupported version')
        return
      case T.OutgoingCallRequest: return this.onOutgoingCallRequest(now, msg)
      case T.CallClearRequest: {
        // §2.12: Call ID is the PNS's own Call ID for the call.
        const c = this.byPeer.get(msg.callId)
        if (!c) { this.stats.inc('drop:ccrq-unknown-call-id'); return }
        this.callEvent(now, c, 'rx_ccrq', 'peer-cleared', CallDisconnectResult.Request)
        return
      }
      case T.SetLinkInfo: {
        // §2.15: Peer's Call ID is the PAC's (our) Call ID.
        const c = this.calls.get(msg.peerCallId)
        if (!c) { this.stats.inc('drop:sli-unknown-call-id'); return }
        c.sendAccm = msg.sendAccm
        c.receiveAccm = msg.receiveAccm
        this.callEvent(now, c, 'rx_sli', '', 0)
        return
      }
      default:
        // A PAC never receives SCCRP (it does not originate), OCRP, ICRQ, ICCN, CDN or WEN (§1.4 directions).
        this.violation(now, `${this.name(msg.type)} on the PAC`)
    }
  }

  private onOutgoingCallRequest(now: Millis, q: PptpMessageOf<typeof T.OutgoingCallRequest>): void {
    if (this.ctlState !== 'established') { this.violation(now, `OutgoingCallRequest in ${this.ctlState}`); return }
    if (this.byPeer.has(q.callId)) {
      // The PNS's Call IDs must be unique on this connection; refuse only this request.
      this.stats.inc('refused:duplicate-peer-call-id')
      this.sendOcrp(0, q.callId, OutgoingCallResult.GeneralError, GeneralErrorCode.BadCallId)
      return
    }
    if (this.calls.size >= this.maxCalls) {
      this.stats.inc('refused:max-calls')
      this.sendOcrp(0, q.callId, OutgoingCallResult.GeneralError, GeneralErrorCode.NoResource)
      return
    }
    const callId = this.allocCallId()
    if (callId === undefined) {
      this.stats.inc('refused:no-call-id')
      this.sendOcrp(0, q.callId, OutgoingCallResult.GeneralError, GeneralErrorCode.NoResource)
      return
    }
    const c: PacCall = { state: 'idle', callId, peerCallId: q.callId, request: q, sendAccm: 0xffffffff, receiveAccm: 0xffffffff }
    this.calls.set(callId, c)
    this.byPeer.set(q.callId, c)
    this.callEvent(now, c, 'rx_ocrq', '', 0)
    // There is no telephone line to dial: the call is answered at once (§3.2.1 wait_cs_ans -> established).
    this.callEvent(now, c, 'answered', '', 0)
  }

  /** Drives the §3.2.1 table for one call. */
  private callEvent(now: Millis, c: PacCall, event: PacCallEvent, reason: string, result: number): void {
    const cell = transition(PAC_CALL_TABLE, c.state, event)
    if (!cell) { this.violation(now, `${event} in call state ${c.state}`); return }
    c.state = cell.next
    switch (cell.action) {
      case 'start':
      case 'none':
        return
      case 'send_ocrp_ok': {
        this.sendOcrp(c.callId, c.peerCallId, OutgoingCallResult.Connected, GeneralErrorCode.None)
        const q = c.request
        this.emit({ type: 'callUp', callId: c.callId, peerCallId: c.peerCallId, callSerialNumber: q.callSerialNumber, peerReceiveWindow: q.packetRecvWindowSize,
          peerProcessingDelay: q.packetProcessingDelay, connectSpeed: this.pac.connectSpeed ?? 10_000_000 })
        return
      }
      case 'send_ocrp_nak':
        this.sendOcrp(0, c.peerCallId, OutgoingCallResult.GeneralError, GeneralErrorCode.NoResource)
        this.forget(c)
        return
      case 'send_cdn':
        // §2.13: the Call ID in CDN is the PAC's own.
        this.send({ type: T.CallDisconnectNotify, callId: c.callId, resultCode: result, errorCode: 0, causeCode: 0, callStatistics: new Uint8Array(0) })
        this.forget(c)
        this.emit({ type: 'callDown', callId: c.callId, reason })
        return
      case 'record_sli':
        this.emit({ type: 'setLinkInfo', callId: c.callId, sendAccm: c.sendAccm, receiveAccm: c.receiveAccm })
        return
    }
  }

  protected dropAllCalls(reason: string): void {
    for (const c of [...this.calls.values()]) {
      const up = c.state === 'established'
      this.forget(c)
      if (up) this.emit({ type: 'callDown', callId: c.callId, reason })
    }
  }

  protected callTimeout(): void { /* the PAC answers at once: no call timers */ }
  protected nextCallDeadline(): Millis | undefined { return undefined }

  private forget(c: PacCall): void {
    c.state = 'idle'
    if (this.calls.delete(c.callId)) this.pac.callIds?.release(c.callId)
    if (this.byPeer.get(c.peerCallId) === c) this.byPeer.delete(c.peerCallId)
  }

  /** Next free Call ID, never 0 and never one in use on this connection (or from the shared allocator). */
  private allocCallId(): number | undefined {
    if (this.pac.callIds) {
      const id = this.pac.callIds.allocate()
      return id === undefined || id === 0 || this.calls.has(id) ? undefined : id
    }
    for (;;) {
      const id = this.nextCallId
      this.nextCallId = (this.nextCallId % 0xffff) + 1
      if (!this.calls.has(id)) return id
    }
  }

  private sendSccrp(resultCode: number): void {
    this.send({ type: T.StartControlConnectionReply, protocolVersion: PPTP_PROTOCOL_VERSION, resultCode, errorCode: 0,
      framingCapabilities: FramingCapability.Asynchronous | FramingCapability.Synchronous, bearerCapabilities: BearerCapability.Analog | BearerCapability.Digital,
      maximumChannels: Math.min(this.maxCalls, 0xffff), firmwareRevision: this.opts.firmwareRevision ?? 1, hostName: this.opts.hostName ?? 'gatehouse',
      vendorString: this.opts.vendorString ?? 'Gatehouse' })
  }

  private sendOcrp(callId: number, peerCallId: number, resultCode: number, errorCode: number): void {
    this.send({ type: T.OutgoingCallReply, callId, peerCallId, resultCode, errorCode, causeCode: 0, connectSpeed: this.pac.connectSpeed ?? 10_000_000,
      packetRecvWindowSize: this.opts.receiveWindow ?? 64, packetProcessingDelay: 0, physicalChannelId: 0 })
  }

  private name(t: number): string { return CONTROL_MESSAGE_NAMES[t] ?? `type ${t}` }
}
