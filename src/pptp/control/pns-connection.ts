// The PNS side of the PPTP control connection (the client, or the calling router): Start-Control-Connection-Request
// (RFC 2637 §2.1/2.2), Outgoing-Call-Request/Reply (§2.7/2.8, §3.2.2 table), Call-Clear-Request and
// Call-Disconnect-Notify (§2.12/2.13), Set-Link-Info (§2.15). Several calls per connection. Sans-IO.
import type { Millis } from '../../lib/time.js'
import { BearerCapability, CONTROL_MESSAGE_NAMES, ControlMessageType as T, FramingCapability, IncomingCallResult, OutgoingCallResult, PPTP_PROTOCOL_VERSION, StartCtlResult } from './constants.js'
import type { PptpControlMessage } from './messages.js'
import { PNS_CALL_TABLE, transition } from './states.js'
import type { CtlAction, PnsCallEvent, PnsCallState } from './states.js'
import { PptpConnectionBase } from './connection-base.js'
import type { PptpPnsOptions } from './connection-types.js'

interface PnsCall {
  state: PnsCallState
  readonly callId: number
  peerCallId: number
  readonly serial: number
  deadline: Millis | undefined
}

export class PptpPnsConnection extends PptpConnectionBase {
  private readonly calls = new Map<number, PnsCall>() // by our Call ID
  private readonly pns: PptpPnsOptions
  private nextCallId: number
  private nextSerial = 1

  /** Queues Start-Control-Connection-Request at once: the TCP connection is open when the core is made (§3.1.1). */
  constructor(opts: PptpPnsOptions, now: Millis) {
    super(opts, 'pptp-pns')
    this.pns = opts
    const r = opts.rng.bytes(2)
    this.nextCallId = ((r[0]! << 8) | r[1]!) || 1
    this.ctl(now, 'open', 'protocol-error', '')
  }

  callState(callId: number): PnsCallState { return this.calls.get(callId)?.state ?? 'idle' }
  get callCount(): number { return this.calls.size }

  /** Places an outgoing call (§2.7); returns our Call ID, or undefined if the control connection is not established. */
  openCall(now: Millis): number | undefined {
    if (this.isClosed || this.ctlState !== 'established') return undefined
    let callId: number
    if (this.pns.callIds) {
      const id = this.pns.callIds.allocate()
      if (id === undefined || id === 0 || this.calls.has(id)) { this.stats.inc('no-call-id'); return undefined }
      callId = id
    } else {
      callId = this.nextCallId
      while (this.calls.has(callId)) callId = (callId % 0xffff) + 1
      this.nextCallId = (callId % 0xffff) + 1
    }
    const c: PnsCall = { state: 'idle', callId, peerCallId: 0, serial: this.nextSerial, deadline: undefined }
    this.nextSerial = (this.nextSerial % 0xffff) + 1
    this.calls.set(callId, c)
    this.callEvent(now, c, 'open', '')
    return callId
  }

  /** Clears a call (§2.12): Call-Clear-Request, then callDown when the PAC's Call-Disconnect-Notify arrives. */
  clearCall(now: Millis, callId: number): void {
    const c = this.calls.get(callId)
    if (!c || this.isClosed || this.ctlState !== 'established' || c.state === 'wait_disconnect') return
    this.callEvent(now, c, 'hangup', 'admin')
  }

  /** §2.15: tells the PAC the ACCMs PPP negotiated (only meaningful for asynchronous framing). */
  sendSetLinkInfo(callId: number, sendAccm: number, receiveAccm: number): void {
    const c = this.calls.get(callId)
    if (!c || c.state !== 'established' || this.isClosed) return
    this.send({ type: T.SetLinkInfo, peerCallId: c.peerCallId, sendAccm, receiveAccm })
  }

  protected roleAction(now: Millis, action: CtlAction): void {
    switch (action) {
      case 'send_sccrq':
        this.send({ type: T.StartControlConnectionRequest, protocolVersion: PPTP_PROTOCOL_VERSION, framingCapabilities: FramingCapability.Synchronous,
          bearerCapabilities: BearerCapability.Analog | BearerCapability.Digital, maximumChannels: 0, firmwareRevision: this.opts.firmwareRevision ?? 1,
          hostName: this.opts.hostName ?? 'gatehouse', vendorString: this.opts.vendorString ?? 'Gatehouse' })
        this.setCtlDeadline(now + this.replyMs)
        return
      case 'up':
        this.setCtlDeadline(undefined)
        this.startKeepalive(now)
        if (this.pns.autoCall ?? true) this.openCall(now)
        return
      default:
        this.violation(now, `control action ${action} on the PNS`)
    }
  }

  protected handleRoleMessage(now: Millis, msg: PptpControlMessage): void {
    switch (msg.type) {
      case T.StartControlConnectionReply: {
        if (this.ctlState !== 'wait_ctl_reply') { this.violation(now, `StartControlConnectionReply in ${this.ctlState}`); return }
        const ok = msg.resultCode === StartCtlResult.Successful && msg.protocolVersion >> 8 === PPTP_PROTOCOL_VERSION >> 8
        if (ok) this.emit({ type: 'controlUp', peerHostName: msg.hostName, peerVendorString: msg.vendorString, peerFirmwareRevision: msg.firmwareRevision })
        this.ctl(now, ok ? 'rx_sccrp_ok' : 'rx_sccrp_bad', 'refused', `Start-Control-Connection-Reply result ${msg.resultCode} error ${msg.errorCode}`)
        return
      }
      case T.OutgoingCallReply: {
        // §2.8: Peer's Call ID is the Call ID we sent in the request.
        const c = this.calls.get(msg.peerCallId)
        if (!c || c.state !== 'wait_reply') { this.stats.inc('drop:ocrp-unknown-call-id'); return }
        if (msg.resultCode === OutgoingCallResult.Connected) {
          c.peerCallId = msg.callId
          this.callEvent(now, c, 'rx_ocrp_ok', '', msg)
        } else this.callEvent(now, c, 'rx_ocrp_bad', `refused: Outgoing-Call-Reply result ${msg.resultCode} error ${msg.errorCode}`)
        return
      }
      case T.CallDisconnectNotify: {
        // §2.13: Call ID is the PAC's; match it against the IDs the PAC gave us.
        const c = [...this.calls.values()].find((x) => x.peerCallId === msg.callId && x.state !== 'wait_reply')
        if (!c) { this.stats.inc('drop:cdn-unknown-call-id'); return }
        this.callEvent(now, c, 'rx_cdn', msg.resultCode === 4 ? 'peer-cleared' : `peer-disconnected (result ${msg.resultCode})`)
        return
      }
      case T.WanErrorNotify: {
        const c = this.calls.get(msg.peerCallId)
        if (!c) { this.stats.inc('drop:wen-unknown-call-id'); return }
        this.callEvent(now, c, 'rx_wen', '')
        return
      }
      case T.IncomingCallRequest:
        // We place calls only; §2.10 Result Code 3 (Do Not Accept) refuses this one without harming the others.
        if (this.ctlState !== 'established') { this.violation(now, `IncomingCallRequest in ${this.ctlState}`); return }
        this.stats.inc('refused:incoming-call')
        this.send({ type: T.IncomingCallReply, callId: 0, peerCallId: msg.callId, resultCode: IncomingCallResult.DoNotAccept, errorCode: 0, packetRecvWindowSize: 0, packetTransmitDelay: 0 })
        return
      case T.IncomingCallConnected:
        this.stats.inc('drop:iccn-unknown-call-id')
        return
      default:
        this.violation(now, `${CONTROL_MESSAGE_NAMES[msg.type] ?? msg.type} on the PNS`)
    }
  }

  /** Drives the §3.2.2 table for one call. */
  private callEvent(now: Millis, c: PnsCall, event: PnsCallEvent, reason: string, reply?: Extract<PptpControlMessage, { type: 8 }>): void {
    const cell = transition(PNS_CALL_TABLE, c.state, event)
    if (!cell) { this.violation(now, `${event} in call state ${c.state}`); return }
    c.state = cell.next
    switch (cell.action) {
      case 'send_ocrq':
        this.send({ type: T.OutgoingCallRequest, callId: c.callId, callSerialNumber: c.serial, minimumBps: 300, maximumBps: 100_000_000,
          bearerType: BearerCapability.Analog | BearerCapability.Digital, framingType: FramingCapability.Asynchronous | FramingCapability.Synchronous,
          packetRecvWindowSize: this.opts.receiveWindow ?? 64, packetProcessingDelay: 0, phoneNumberLength: 0, phoneNumber: '', subaddress: '' })
        c.deadline = now + this.replyMs
        return
      case 'up':
        c.deadline = undefined
        this.emit({ type: 'callUp', callId: c.callId, peerCallId: c.peerCallId, callSerialNumber: c.serial, peerReceiveWindow: reply?.packetRecvWindowSize ?? 0,
          peerProcessingDelay: reply?.packetProcessingDelay ?? 0, connectSpeed: reply?.connectSpeed ?? 0 })
        return
      case 'fail':
        this.forget(c.callId)
        this.emit({ type: 'callDown', callId: c.callId, reason })
        return
      case 'send_ccrq':
        // §2.12: Call ID is our own.
        this.send({ type: T.CallClearRequest, callId: c.callId })
        c.deadline = now + this.replyMs
        return
      case 'down':
        this.forget(c.callId)
        this.emit({ type: 'callDown', callId: c.callId, reason })
        return
      case 'record_wen':
        this.stats.inc('wan-error-notify')
        return
    }
  }

  protected dropAllCalls(reason: string): void {
    for (const c of [...this.calls.values()]) { this.forget(c.callId); this.emit({ type: 'callDown', callId: c.callId, reason }) }
  }

  private forget(callId: number): void {
    if (this.calls.delete(callId)) this.pns.callIds?.release(callId)
  }

  protected callTimeout(now: Millis): void {
    for (const c of [...this.calls.values()]) {
      if (c.deadline === undefined || now < c.deadline || !this.calls.has(c.callId)) continue
      c.deadline = undefined
      this.stats.inc(`timeout:call-${c.state}`)
      this.callEvent(now, c, 'timeout', 'timeout')
    }
  }

  protected nextCallDeadline(): Millis | undefined {
    let t: Millis | undefined
    for (const c of this.calls.values()) if (c.deadline !== undefined && (t === undefined || c.deadline < t)) t = c.deadline
    return t
  }
}
