// One PPTP call's data channel over enhanced GRE, RFC 2637 §4 (§4.1 header use, §4.2 sliding
// window and piggybacked acks, §4.3 out-of-sequence packets; §4.4 adaptive time-outs: see GreCall).
import { Counters } from '../../lib/counters.js'
import { DecodeError } from '../../lib/errors.js'
import type { Millis } from '../../lib/time.js'
import { decodeGre, encodeGreHeaderInto, greHeaderLength } from './packet.js'
import { packetSlab } from '../../ppp/mppe/byte-slab.js'
import type { GrePacket } from './packet.js'
import { ReceiveWindow, seqAfter, seqDistance } from './receive-window.js'

export interface GreCallOptions {
  /** Our Call ID: the peer puts it in the Call ID field of every packet it sends us (§4.1). */
  readonly localCallId: number
  /** The peer's Call ID: we put it in every packet we send. */
  readonly peerCallId: number
  /** The peer's Packet Receive Window Size from its Outgoing-Call-Request/Reply (§2.7/§2.8). */
  readonly peerReceiveWindow: number
  /** The receive window we advertised (default 64, what Windows advertises). */
  readonly receiveWindow?: number
  /** Ack-only packet after this long without data to piggyback on (default 100 ms). */
  readonly ackDelayMs?: number
  /** See ReceiveWindowOptions; defaults 32 packets, 50 ms, 1024. */
  readonly reorderWindow?: number
  readonly reorderTimeoutMs?: number
  readonly maxSeqJump?: number
}

export const GRE_CALL_DEFAULTS = { receiveWindow: 64, ackDelayMs: 100, reorderWindow: 32, reorderTimeoutMs: 50, maxSeqJump: 1024 } as const

/**
 * The data channel of one call. Inputs: handlePacket/handleGre (peer packets), sendFrame (our PPP
 * frames), handleTimeout. Outputs: pollFrame (PPP frames for the PppSession, in order),
 * pollTransmit (ack-only packets to send), nextTimeout. Never throws on peer input: malformed and
 * unwanted packets are counted by reason in counters().
 *
 * Flow control choice (§4.2): the send window is tracked and exposed (sendWindowOpen,
 * 'tx:over-window') but not enforced. Linux's pptp.c never sends an ack-only packet and pptpd
 * ignores windows; a sender that waited for acks would stall one-way traffic to such peers.
 * Retransmission is never done (§4.2 "retransmissions are not performed by the tunnel peers"),
 * so the §4.4 adaptive acknowledgment time-out (which only shrinks the send window) is not
 * computed either: with the window unenforced it would change nothing on the wire.
 */
export class GreCall {
  readonly localCallId: number
  readonly peerCallId: number
  private readonly stats = new Counters()
  private readonly rx: ReceiveWindow
  private readonly peerWindow: number
  private readonly receiveWindow: number
  private readonly ackDelayMs: number
  private readonly frames: Uint8Array[] = []
  private readonly tx: Uint8Array[] = []
  private readonly deliver = (f: Uint8Array): void => { this.frames.push(f); this.unacked++ }
  /** Next sequence number we send; §4.1 does not fix the first, we start at 0 as RFC 2890 §2.2 does. */
  private nextSeq = 0
  /** Highest of our sequence numbers the peer acknowledged; 2^32-1 = none yet. */
  private peerAcked = 0xffffffff
  /** The last acknowledgment number we sent, or undefined. */
  private ackSent: number | undefined
  /** Frames delivered since our last acknowledgment. */
  private unacked = 0
  private ackDeadline: Millis | undefined
  private closed = false

  constructor(opts: GreCallOptions) {
    if (!isU16(opts.localCallId) || !isU16(opts.peerCallId)) throw new RangeError('GRE call ids must be 0..65535')
    this.localCallId = opts.localCallId
    this.peerCallId = opts.peerCallId
    // A peer that advertises 0 would block every sender that honours windows; count it as 1.
    this.peerWindow = Math.max(1, opts.peerReceiveWindow | 0)
    this.receiveWindow = Math.max(1, opts.receiveWindow ?? GRE_CALL_DEFAULTS.receiveWindow)
    this.ackDelayMs = opts.ackDelayMs ?? GRE_CALL_DEFAULTS.ackDelayMs
    this.rx = new ReceiveWindow({
      reorderWindow: opts.reorderWindow ?? GRE_CALL_DEFAULTS.reorderWindow,
      reorderTimeoutMs: opts.reorderTimeoutMs ?? GRE_CALL_DEFAULTS.reorderTimeoutMs,
      maxSeqJump: opts.maxSeqJump ?? GRE_CALL_DEFAULTS.maxSeqJump,
    }, this.stats)
  }

  /** Our packets sent and not yet acknowledged. */
  get outstanding(): number { return seqDistance(this.peerAcked, (this.nextSeq - 1) >>> 0) }
  /** False when outstanding packets fill the peer's receive window (§4.2): a driver may hold back. */
  get sendWindowOpen(): boolean { return this.outstanding < this.peerWindow }

  /** Decodes and handles one GRE packet (the bytes after the IPv4 header). Hostile input; never throws. */
  handlePacket(now: Millis, packet: Uint8Array): void {
    let p: GrePacket
    try {
      p = decodeGre(packet)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      this.stats.inc(`drop:malformed:${e.field}`)
      return
    }
    this.handleGre(now, p)
  }

  /** Handles a decoded packet (GreDemux decodes once). `p.payload` may be a view the caller reuses after pollFrame drained. */
  handleGre(now: Millis, p: GrePacket): void {
    if (this.closed) { this.stats.inc('drop:closed'); return }
    if (p.callId !== this.localCallId) { this.stats.inc('drop:wrong-call-id'); return }
    this.stats.inc('rx:packets')
    if (p.acknowledgmentNumber !== undefined) this.handleAck(p.acknowledgmentNumber)
    if (p.sequenceNumber === undefined) { this.stats.inc('rx:ack-only'); return }
    if (p.payload.length === 0) { this.stats.inc('drop:empty-payload'); return }
    if (!this.rx.accept(now, p.sequenceNumber, p.payload, this.deliver)) return
    this.stats.inc('rx:bytes', p.payload.length)
    this.scheduleAck(now)
  }

  /** The next PPP frame received, in sequence order, or undefined. A view: copy it to keep it past the next input. */
  pollFrame(): Uint8Array | undefined { return this.frames.shift() }

  /** The next ack-only packet to send, or undefined. */
  pollTransmit(): Uint8Array | undefined { return this.tx.shift() }

  /**
   * Encapsulates one PPP frame (FF 03 + protocol + info, no flags or FCS: §4.1) with the next
   * sequence number and, when one is due, a piggybacked acknowledgment. Returns fresh bytes (a slab
   * region no later call reuses: the driver queues them until its batched send).
   */
  sendFrame(frame: Uint8Array): Uint8Array {
    if (this.closed) throw new RangeError(`GRE call ${this.localCallId} is closed`)
    // Sized exactly (an ack is due or not is known now), so the slab keeps no slack per packet.
    const need = greHeaderLength(true, this.ackDue) + frame.length
    const out = packetSlab.take(need)
    const n = this.sendFrameInto(frame, out, 0)
    return n === need ? out : out.subarray(0, n)
  }

  /** Hot path form of sendFrame: writes into `target` at `offset`, returns the bytes written (at most 16 + frame length). */
  sendFrameInto(frame: Uint8Array, target: Uint8Array, offset: number): number {
    if (this.closed) throw new RangeError(`GRE call ${this.localCallId} is closed`)
    if (frame.length === 0 || frame.length > 0xffff) throw new RangeError(`PPP frame of ${frame.length} bytes cannot be carried in GRE`)
    const ack = this.takeAck()
    const seq = this.nextSeq
    const need = greHeaderLength(true, ack >= 0) + frame.length
    if (offset + need > target.length) throw new RangeError(`GRE packet needs ${need} bytes at offset ${offset} of ${target.length}`)
    if (!this.sendWindowOpen) this.stats.inc('tx:over-window')
    const h = encodeGreHeaderInto(target, offset, this.peerCallId, frame.length, seq, ack)
    target.set(frame, offset + h)
    this.nextSeq = (seq + 1) >>> 0
    this.stats.inc('tx:packets')
    this.stats.inc('tx:bytes', frame.length)
    return h + frame.length
  }

  /** Sends a due ack-only packet and gives up reorder gaps that timed out. Harmless if early. */
  handleTimeout(now: Millis): void {
    if (this.closed) return
    this.rx.handleTimeout(now, this.deliver)
    if (this.ackDeadline !== undefined && now >= this.ackDeadline) this.sendAckOnly()
  }

  nextTimeout(): Millis | undefined {
    if (this.closed) return undefined
    const r = this.rx.nextTimeout()
    const a = this.ackDeadline
    return r === undefined ? a : a === undefined ? r : Math.min(r, a)
  }

  /** Ends the call: queued frames and held copies are dropped; later input is counted 'drop:closed'. */
  close(): void {
    this.closed = true
    this.rx.clear()
    this.frames.length = 0
    this.tx.length = 0
    this.ackDeadline = undefined
  }

  /** Drop and traffic counters by reason; plus gauges outstanding and held. */
  counters(): Record<string, number> {
    return { ...this.stats.snapshot(), outstanding: this.outstanding, held: this.rx.heldCount }
  }

  private handleAck(ack: number): void {
    const lastSent = (this.nextSeq - 1) >>> 0
    // §4.1: the Acknowledgment Number is "the highest numbered GRE packet received by the sending
    // peer": one for a packet we never sent is bogus, an older one is merely stale (reordered).
    if (this.nextSeq === 0 || seqAfter(lastSent, ack)) { this.stats.inc('ack:invalid'); return }
    if (this.peerAcked !== 0xffffffff && !seqAfter(this.peerAcked, ack)) { if (ack !== this.peerAcked) this.stats.inc('ack:stale'); return }
    this.peerAcked = ack
  }

  private scheduleAck(now: Millis): void {
    // §4.2 lets acks ride on data packets "or be sent separately": without data going back we
    // send one alone after ackDelayMs, so a one-way flow still opens the peer's window.
    // Half a window unacknowledged is acked at once: a peer that honours the window (Windows)
    // would otherwise stall waiting for credit.
    if (this.unacked >= Math.ceil(this.receiveWindow / 2)) { this.sendAckOnly(); return }
    if (this.ackDeadline === undefined) this.ackDeadline = now + this.ackDelayMs
  }

  /** True when the next data packet will carry an acknowledgment (what takeAck would return). */
  private get ackDue(): boolean {
    const h = this.rx.highest
    return h !== undefined && h !== this.ackSent
  }

  /** The acknowledgment number to piggyback now, or -1; marks it sent. */
  private takeAck(): number {
    const h = this.rx.highest
    if (h === undefined || h === this.ackSent) return -1
    this.ackSent = h
    this.unacked = 0
    this.ackDeadline = undefined
    return h
  }

  private sendAckOnly(): void {
    const ack = this.takeAck()
    this.ackDeadline = undefined
    if (ack < 0) return
    const out = new Uint8Array(greHeaderLength(false, true))
    encodeGreHeaderInto(out, 0, this.peerCallId, 0, -1, ack)
    this.tx.push(out)
    this.stats.inc('tx:ack-only')
  }
}

function isU16(n: number): boolean { return Number.isInteger(n) && n >= 0 && n <= 0xffff }
