// LCP Echo keepalive (RFC 1661 §5.8 Echo-Request/Reply used as a link-quality probe, as pppd's
// lcp-echo-interval/lcp-echo-failure): sans-IO timing only; the session sends the packets.
import type { Millis } from '../../lib/time.js'

export class EchoKeepalive {
  private readonly intervalMs: number
  private readonly failures: number
  private deadline: Millis | undefined
  private lastRx: Millis = 0
  /** Echo-Requests sent since the peer was last heard from. */
  pending = 0

  /** `intervalMs` 0 disables the keepalive. */
  constructor(intervalMs: number, failures: number) {
    this.intervalMs = intervalMs
    this.failures = failures
  }

  /** LCP opened: the quiet-link clock starts now. */
  start(now: Millis): void {
    this.lastRx = now
    this.pending = 0
    this.deadline = this.intervalMs > 0 ? now + this.intervalMs : undefined
  }
  stop(): void { this.deadline = undefined; this.pending = 0 }

  /** Any frame from the peer proves it alive (cheap: called per received frame). */
  heard(now: Millis): void { this.lastRx = now; this.pending = 0 }

  nextTimeout(): Millis | undefined { return this.deadline }

  /**
   * 'send': send an Echo-Request now; 'dead': `failures` requests went unanswered for an interval
   * each; undefined: nothing to do (early call, or the peer spoke recently).
   */
  handleTimeout(now: Millis): 'send' | 'dead' | undefined {
    if (this.deadline === undefined || now < this.deadline) return undefined
    if (this.pending === 0 && now - this.lastRx < this.intervalMs) { this.deadline = this.lastRx + this.intervalMs; return undefined }
    if (this.pending >= this.failures) { this.deadline = undefined; return 'dead' }
    this.pending++
    this.deadline = now + this.intervalMs
    return 'send'
  }
}
