// ESP anti-replay window, RFC 4303 §3.4.3 (and Appendix A2's sliding window), kept as a ring of
// 32-bit words so sliding clears whole words instead of shifting the bitmap (RFC 6479 §2).

/** Verdicts of ReplayWindow.check (stable strings for counters). */
export const ReplayVerdict = {
  ok: 'ok',
  /** Already received (its bit is set). */
  duplicate: 'duplicate',
  /** Left of the window (§3.4.3: such packets are rejected before the ICV is computed). */
  tooOld: 'too-old',
  /** 0 is never sent: §3.3.3 "the first packet sent using a given SA will contain a sequence number of 1". */
  zero: 'zero',
} as const
export type ReplayVerdict = (typeof ReplayVerdict)[keyof typeof ReplayVerdict]

/** §3.4.3: "a window size of 64 is preferred and SHOULD be employed as the default". */
export const REPLAY_WINDOW_DEFAULT = 64
/** §3.4.3: "A minimum window size of 32 packets MUST be supported". */
export const REPLAY_WINDOW_MIN = 32
/** Our ceiling (a 4096-packet window is 516 bytes of bitmap). */
export const REPLAY_WINDOW_MAX = 4096

/**
 * The receive window of one inbound SA with 32-bit sequence numbers. check() is side-effect
 * free and is called before the ICV; accept() is called only after the ICV verified — §3.4.3:
 * "The receive window is updated only if the integrity verification succeeds."
 */
export class ReplayWindow {
  /** Packets the window spans (a multiple of 32). */
  readonly size: number
  private readonly words: Uint32Array
  private top = 0

  /** Throws RangeError unless `size` is a multiple of 32 in [32, 4096] (config is checked at load). */
  constructor(size = REPLAY_WINDOW_DEFAULT) {
    if (!Number.isInteger(size) || size % 32 !== 0 || size < REPLAY_WINDOW_MIN || size > REPLAY_WINDOW_MAX) {
      throw new RangeError(`replay window must be a multiple of 32 in [${REPLAY_WINDOW_MIN}, ${REPLAY_WINDOW_MAX}], got ${size}`)
    }
    this.size = size
    // One spare word: the word holding `top` may be partly ahead of the window (RFC 6479 §2).
    this.words = new Uint32Array(size / 32 + 1)
  }

  /** The highest sequence number accepted so far (0 before the first). */
  get highest(): number { return this.top }

  /** Whether `seq` (an unsigned 32-bit value) may be accepted. Never changes state. */
  check(seq: number): ReplayVerdict {
    if (seq === 0) return ReplayVerdict.zero
    if (seq > this.top) return ReplayVerdict.ok
    if (this.top - seq >= this.size) return ReplayVerdict.tooOld
    const w = this.words[(seq >>> 5) % this.words.length]!
    return (w >>> (seq & 31)) & 1 ? ReplayVerdict.duplicate : ReplayVerdict.ok
  }

  /** Marks `seq` received, sliding the window right if it is new. Call only after check() said ok and the ICV verified. */
  accept(seq: number): void {
    const n = this.words.length
    if (seq > this.top) {
      const from = this.top >>> 5
      const to = seq >>> 5
      if (to - from >= n) this.words.fill(0)
      else for (let b = from + 1; b <= to; b++) this.words[b % n] = 0
      this.top = seq
    }
    const i = (seq >>> 5) % n
    this.words[i] = (this.words[i]! | (1 << (seq & 31))) >>> 0
  }
}
