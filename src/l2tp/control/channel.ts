// The reliable control channel of one L2TP tunnel, RFC 2661 §5.8 (Ns/Nr, window, ZLB acknowledgments,
// retransmission with exponential back-off) and §6.5 (HELLO keepalive). Sans-IO: time comes in as `now`.
import { Counters } from '../../lib/counters.js'
import type { Millis } from '../../lib/time.js'
import { encodeControl } from '../header.js'
import type { ControlHeader } from '../header.js'
import { encodeControlBody } from '../avp/codec.js'
import { DEFAULT_RECEIVE_WINDOW, MessageType } from '../avp/constants.js'
import { seqAdd, seqDiff, seqLt } from './seq.js'

/** Defaults, with where each comes from. */
export const CHANNEL_DEFAULTS = {
  /** First retransmission interval. §5.8 leaves it to the implementation; 1 s is xl2tpd's value. */
  initialTimeout: 1000,
  /** §5.8: a cap on the interval "MUST be no less than 8 seconds per retransmission". */
  maxTimeout: 8000,
  /** §5.8: "a recommended default is 5, but SHOULD be configurable"; then the tunnel MUST be cleared. */
  maxRetries: 5,
  /** Delay before a bare ZLB ACK, so a reply queued meanwhile carries the acknowledgment instead.
   *  A quarter of the initial timeout, as xl2tpd's NZL_TIMEOUT_DIVISOR. */
  ackDelay: 250,
  /** §6.5 HELLO after this long with nothing received from the peer (xl2tpd HELLO_DELAY: 60 s). */
  helloInterval: 60_000,
  /** The Receive Window Size we advertise: how many out-of-order messages we hold. */
  receiveWindow: DEFAULT_RECEIVE_WINDOW,
} as const

export interface ChannelOptions {
  readonly initialTimeout?: number
  readonly maxTimeout?: number
  readonly maxRetries?: number
  readonly ackDelay?: number
  /** 0 disables HELLO. */
  readonly helloInterval?: number
  readonly receiveWindow?: number
}

/** A control message delivered in order to the tunnel core: its header Session ID and AVP body. */
export interface DeliveredMessage { readonly sessionId: number; readonly ns: number; readonly body: Uint8Array }

/** `peerSilent`: a message went unacknowledged through every retransmission (§5.8: clear the tunnel). */
export type ChannelEvent = { readonly type: 'peerSilent'; readonly ns: number; readonly retries: number }

interface Outgoing { readonly sessionId: number; readonly body: Uint8Array }
interface InFlight extends Outgoing { readonly ns: number; timeout: number; deadline: Millis; retries: number }

/**
 * One tunnel's control channel. The tunnel core feeds it every decoded control header + body for
 * this tunnel (handleMessage), sends AVP bodies through it (send), and drains pollTransmit (encoded
 * UDP payloads), pollDelivered (new messages, in order, once each) and pollEvent. Never throws on
 * peer input; every discarded message is counted with a reason in `counters`.
 */
export class ControlChannel {
  readonly counters = new Counters()
  private readonly opt: { -readonly [K in keyof ChannelOptions]-?: number }
  /** §4.4.3: "Before the Assigned Tunnel ID AVP is received from a peer, messages MUST be sent to that peer with a Tunnel ID value of 0". */
  private peerTunnelId = 0
  private peerWindow: number = DEFAULT_RECEIVE_WINDOW
  /** Ns of our next new message. */
  private ns = 0
  /** Our Nr: the Ns we expect next from the peer. */
  private nr = 0
  private readonly pending: Outgoing[] = []
  private readonly inFlight: InFlight[] = []
  private readonly held = new Map<number, DeliveredMessage>()
  private readonly delivered: DeliveredMessage[] = []
  private readonly tx: Uint8Array[] = []
  private readonly events: ChannelEvent[] = []
  private ackDeadline: Millis | undefined
  private helloDeadline: Millis | undefined
  private stopped = false

  constructor(now: Millis, opts: ChannelOptions = {}) {
    this.opt = { ...CHANNEL_DEFAULTS, ...opts }
    this.armHello(now)
  }

  /** The peer's Assigned Tunnel ID (§4.4.3), written into the header of everything sent after. */
  setPeerTunnelId(id: number): void { this.peerTunnelId = id & 0xffff }
  /** The peer's Receive Window Size AVP; 0 is treated as 1 so the channel cannot deadlock. */
  setPeerWindow(n: number): void { this.peerWindow = Math.max(1, n) }
  get receiveWindow(): number { return this.opt.receiveWindow }
  /** Messages sent but not yet acknowledged. */
  get unacknowledged(): number { return this.inFlight.length }
  /** Messages waiting for the peer's window to open. */
  get queued(): number { return this.pending.length }
  /** Nothing in flight, nothing queued (a closing tunnel may go once this holds, §5.7 lingering aside). */
  get idle(): boolean { return this.inFlight.length === 0 && this.pending.length === 0 }
  get nextNs(): number { return this.ns }
  get expectedNs(): number { return this.nr }

  /**
   * Queues a control message (`body` = encoded AVPs, Message Type first) for the session ID
   * `sessionId` (0 for tunnel messages). It goes out at once while the peer's window has room
   * (§5.8), otherwise when acknowledgments open it. Ignored after stop().
   */
  send(now: Millis, sessionId: number, body: Uint8Array): void {
    if (this.stopped) { this.counters.inc('send-after-stop'); return }
    this.pending.push({ sessionId, body })
    this.pump(now)
  }

  /** Processes one control message of this tunnel (header already decoded by decodeL2tp). */
  handleMessage(now: Millis, h: ControlHeader, body: Uint8Array): void {
    if (this.stopped) { this.counters.inc('rx-after-stop'); return }
    if (!this.acknowledge(now, h.nr)) return
    this.armHello(now)
    if (body.length === 0) { this.counters.inc('rx-zlb'); return }
    const d = seqDiff(h.ns, this.nr)
    if (d === 0) {
      this.delivered.push({ sessionId: h.sessionId, ns: h.ns, body: body.slice() })
      this.nr = seqAdd(this.nr, 1)
      for (let next = this.held.get(this.nr); next; next = this.held.get(this.nr)) {
        this.held.delete(this.nr)
        this.delivered.push(next)
        this.nr = seqAdd(this.nr, 1)
      }
    } else if (d < 0) {
      // §5.8: a duplicate is "ignored from processing", but "receipt of duplicate messages MUST be
      // acknowledged by the reliable transport" (its ZLB ACK may have been lost).
      this.counters.inc('rx-duplicate')
    } else if (d < this.opt.receiveWindow) {
      // Ahead of Nr but inside the window we advertised: hold it for in-order delivery.
      if (this.held.has(h.ns)) this.counters.inc('rx-duplicate')
      else { this.held.set(h.ns, { sessionId: h.sessionId, ns: h.ns, body: body.slice() }); this.counters.inc('rx-held') }
    } else {
      this.counters.inc('rx-beyond-window')
      return
    }
    // §5.8: "A peer MUST NOT withhold acknowledgment of messages as a technique for flow controlling".
    this.ackDeadline ??= now + this.opt.ackDelay
  }

  handleTimeout(now: Millis): void {
    if (this.stopped) return
    for (const m of this.inFlight) {
      if (m.deadline > now) continue
      if (m.retries >= this.opt.maxRetries) {
        // §5.8: "If no peer response is detected after several retransmissions ... the tunnel and
        // all sessions within MUST be cleared."
        this.events.push({ type: 'peerSilent', ns: m.ns, retries: m.retries })
        this.stop()
        return
      }
      m.retries++
      // §5.8: "Each subsequent retransmission of a message MUST employ an exponential backoff interval."
      m.timeout = Math.min(m.timeout * 2, this.opt.maxTimeout)
      m.deadline = now + m.timeout
      this.counters.inc('tx-retransmit')
      this.transmit(m)
    }
    if (this.ackDeadline !== undefined && this.ackDeadline <= now) {
      // A ZLB carries the next Ns without consuming it (§5.8).
      this.tx.push(encodeControl({ tunnelId: this.peerTunnelId, sessionId: 0, ns: this.ns, nr: this.nr }, new Uint8Array(0)))
      this.ackDeadline = undefined
      this.counters.inc('tx-zlb')
    }
    if (this.helloDeadline !== undefined && this.helloDeadline <= now) {
      this.armHello(now)
      // §6.5: the HELLO exists to detect a dead peer through the reliable channel; with a message in
      // flight its own retransmissions already do that.
      if (this.idle) { this.counters.inc('tx-hello'); this.send(now, 0, encodeControlBody({ messageType: MessageType.HELLO })) }
    }
  }

  nextTimeout(): Millis | undefined {
    if (this.stopped) return undefined
    let t = this.ackDeadline
    if (this.helloDeadline !== undefined && (t === undefined || this.helloDeadline < t)) t = this.helloDeadline
    for (const m of this.inFlight) if (t === undefined || m.deadline < t) t = m.deadline
    return t
  }

  pollTransmit(): Uint8Array | undefined { return this.tx.shift() }
  pollDelivered(): DeliveredMessage | undefined { return this.delivered.shift() }
  pollEvent(): ChannelEvent | undefined { return this.events.shift() }

  /** No more HELLOs (a closing tunnel only lingers to acknowledge retransmissions, §5.7). */
  disableHello(): void { this.opt.helloInterval = 0; this.helloDeadline = undefined }

  /** Stops every timer and drops queued and held messages (the tunnel is gone). */
  stop(): void {
    this.stopped = true
    this.pending.length = 0
    this.inFlight.length = 0
    this.held.clear()
    this.ackDeadline = undefined
    this.helloDeadline = undefined
  }

  /**
   * Removes every in-flight message the peer's Nr acknowledges (Ns < Nr), then sends what the window
   * allows. An Nr behind our oldest unacknowledged Ns is stale (a retransmission crossing our ack):
   * the message is still processed. An Nr past our next Ns acknowledges what we never sent: the
   * message is dropped (false).
   */
  private acknowledge(now: Millis, peerNr: number): boolean {
    if (seqLt(this.ns, peerNr)) { this.counters.inc('rx-nr-ahead'); return false }
    const oldest = this.inFlight[0]?.ns ?? this.ns
    if (seqLt(peerNr, oldest)) { this.counters.inc('rx-nr-stale'); return true }
    while (this.inFlight.length > 0 && seqLt(this.inFlight[0]!.ns, peerNr)) this.inFlight.shift()
    this.pump(now)
    return true
  }

  private pump(now: Millis): void {
    while (this.pending.length > 0 && this.inFlight.length < this.peerWindow) {
      const o = this.pending.shift()!
      const m: InFlight = { ...o, ns: this.ns, timeout: this.opt.initialTimeout, deadline: now + this.opt.initialTimeout, retries: 0 }
      this.ns = seqAdd(this.ns, 1)
      this.inFlight.push(m)
      this.transmit(m)
    }
  }

  /** §5.8: "The retransmitted message contains the same Ns value, but the Nr value MUST be updated". */
  private transmit(m: InFlight): void {
    this.tx.push(encodeControl({ tunnelId: this.peerTunnelId, sessionId: m.sessionId, ns: m.ns, nr: this.nr }, m.body))
    this.ackDeadline = undefined // the Nr rides on this message
  }

  private armHello(now: Millis): void {
    this.helloDeadline = this.opt.helloInterval > 0 ? now + this.opt.helloInterval : undefined
  }
}
