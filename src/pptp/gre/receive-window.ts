// Receive side of the PPTP data channel: in-order delivery over enhanced GRE sequence numbers,
// RFC 2637 §4.3 (out-of-sequence packets) and §4.2.4 (window overflow), with a small reorder buffer.
import type { Counters } from '../../lib/counters.js'
import type { Millis } from '../../lib/time.js'

/** Serial distance a -> b modulo 2^32 (RFC 1982 style): 0..2^31-1 is "b at or after a". */
export function seqDistance(a: number, b: number): number { return (b - a) >>> 0 }
/** True when b is strictly after a in modulo-2^32 sequence space. */
export function seqAfter(a: number, b: number): boolean { const d = (b - a) >>> 0; return d !== 0 && d < 0x80000000 }

export interface ReceiveWindowOptions {
  /**
   * Packets a gap may be waited for (0 disables the buffer: Linux's pptp.c behaviour). A packet
   * more than this far past the next expected one gives the gap up at once.
   */
  readonly reorderWindow: number
  /** How long the oldest buffered packet waits for a missing predecessor before the gap is given up. */
  readonly reorderTimeoutMs: number
  /** A sequence number further ahead than this is "far outside the window" and dropped (see resync). */
  readonly maxSeqJump: number
}

/** Far-ahead packets in close succession that prove the peer really jumped (e.g. after a long outage). */
const RESYNC_STREAK = 3
/** Sequence numbers remembered for telling a duplicate from a packet that came too late. */
const HISTORY = 256

interface Held { readonly frame: Uint8Array; readonly at: Millis }

/**
 * Tracks the peer's sequence numbers and hands frames to `deliver` strictly in order.
 *
 * What §4.3 asks: PPP copes with loss but not with reordering, so a packet older than one
 * already delivered is never delivered (counted 'drop:duplicate' if it was seen before, else
 * 'drop:late'). What we add, as pptpd and pptp-linux do: a packet that skips ahead by at most
 * `reorderWindow` waits (a copy is held) up to `reorderTimeoutMs` for the missing ones, so a
 * path that swaps neighbours does not turn into loss (which costs MPPE stateful mode a resync).
 * Gaps given up are counted 'lost' (per missing sequence number).
 */
export class ReceiveWindow {
  private readonly opts: ReceiveWindowOptions
  private readonly stats: Counters
  private started = false
  /** Sequence number of the last frame delivered. */
  private delivered = 0
  /** Highest sequence number accepted (delivered or held): what we acknowledge (§4.1 Ack Number). */
  private highestSeq = 0
  private readonly held = new Map<number, Held>()
  private readonly history = new Float64Array(HISTORY).fill(-1)
  private farLast: number | undefined
  private farStreak = 0

  constructor(opts: ReceiveWindowOptions, stats: Counters) {
    this.opts = opts
    this.stats = stats
  }

  /** The acknowledgment number to send, or undefined before anything was received. */
  get highest(): number | undefined { return this.started ? this.highestSeq : undefined }
  get heldCount(): number { return this.held.size }

  /**
   * One data packet. `frame` may be a view into a buffer the caller reuses: it is passed on at once
   * or copied when held. Returns true if the packet was accepted (delivered or held).
   */
  accept(now: Millis, seq: number, frame: Uint8Array, deliver: (f: Uint8Array) => void): boolean {
    if (!this.started) {
      // Nothing says where the peer starts (RFC 2890 §2.2 starts at 0, §4.1 of 2637 is silent).
      this.started = true
      this.delivered = seq
      this.highestSeq = seq
      this.remember(seq)
      deliver(frame)
      return true
    }
    const d = seqDistance(this.delivered, seq)
    if (d === 0 || d >= 0x80000000) {
      this.stats.inc(this.seen(seq) ? 'drop:duplicate' : 'drop:late')
      return false
    }
    if (d > this.opts.maxSeqJump) return this.farAhead(seq, frame, deliver)
    this.farStreak = 0
    if (this.held.has(seq)) { this.stats.inc('drop:duplicate'); return false }
    this.remember(seq)
    if (seqAfter(this.highestSeq, seq)) this.highestSeq = seq
    if (d === 1) {
      this.delivered = seq
      deliver(frame)
      this.drain(deliver)
      return true
    }
    if (d > this.opts.reorderWindow) {
      // Too far past the gap to wait (or no buffer): give the gap up, deliver what is held in order.
      this.releaseThrough(seq, deliver)
      this.skipTo(seq)
      this.delivered = seq
      deliver(frame)
      this.drain(deliver)
      return true
    }
    this.held.set(seq, { frame: frame.slice(), at: now })
    this.stats.inc('held')
    return true
  }

  /** Gives up gaps whose oldest held packet has waited reorderTimeoutMs. Harmless if early. */
  handleTimeout(now: Millis, deliver: (f: Uint8Array) => void): void {
    for (;;) {
      const due = this.nextTimeout()
      if (due === undefined || due > now) return
      const first = this.lowestHeld()
      if (first === undefined) return
      this.skipTo(first)
      this.delivered = (first - 1) >>> 0
      this.drain(deliver)
    }
  }

  /** When handleTimeout has work: the oldest held packet's arrival + reorderTimeoutMs. */
  nextTimeout(): Millis | undefined {
    let t: Millis | undefined
    for (const h of this.held.values()) if (t === undefined || h.at < t) t = h.at
    return t === undefined ? undefined : t + this.opts.reorderTimeoutMs
  }

  /** Drops held copies (teardown). */
  clear(): void {
    for (const h of this.held.values()) h.frame.fill(0)
    this.held.clear()
  }

  private farAhead(seq: number, frame: Uint8Array, deliver: (f: Uint8Array) => void): boolean {
    // One forged or corrupt packet must not move the window; a peer that really jumped keeps
    // sending just after its jump, so a short in-order streak far ahead resynchronises.
    const close = this.farLast !== undefined && seqAfter(this.farLast, seq) && seqDistance(this.farLast, seq) <= Math.max(this.opts.reorderWindow, 1) + 1
    this.farStreak = close ? this.farStreak + 1 : 1
    this.farLast = seq
    if (this.farStreak < RESYNC_STREAK) { this.stats.inc('drop:far-ahead'); return false }
    this.stats.inc('resync')
    this.farStreak = 0
    this.farLast = undefined
    for (const s of this.sortedHeld()) { deliver(this.held.get(s)!.frame); this.held.delete(s) }
    this.delivered = seq
    this.highestSeq = seq
    this.remember(seq)
    deliver(frame)
    return true
  }

  /** Delivers held frames that continue the sequence. */
  private drain(deliver: (f: Uint8Array) => void): void {
    for (;;) {
      const next = (this.delivered + 1) >>> 0
      const h = this.held.get(next)
      if (!h) return
      this.held.delete(next)
      this.delivered = next
      this.stats.inc('reordered')
      deliver(h.frame)
    }
  }

  /** Delivers, in order, every held frame before `seq`, counting the holes between them as lost. */
  private releaseThrough(seq: number, deliver: (f: Uint8Array) => void): void {
    for (const s of this.sortedHeld()) {
      if (!seqAfter(s, seq)) break
      this.skipTo(s)
      this.delivered = s
      const h = this.held.get(s)!
      this.held.delete(s)
      deliver(h.frame)
    }
  }

  /** Counts the sequence numbers between the last delivered and `seq` (exclusive) as lost. */
  private skipTo(seq: number): void {
    const missing = seqDistance(this.delivered, seq) - 1
    if (missing > 0) this.stats.inc('lost', missing)
  }

  private lowestHeld(): number | undefined { return this.sortedHeld()[0] }

  private sortedHeld(): number[] {
    const base = this.delivered
    return [...this.held.keys()].sort((a, b) => seqDistance(base, a) - seqDistance(base, b))
  }

  private remember(seq: number): void { this.history[seq % HISTORY] = seq }

  private seen(seq: number): boolean {
    return seqDistance(seq, this.highestSeq) < HISTORY && this.history[seq % HISTORY] === seq
  }
}
