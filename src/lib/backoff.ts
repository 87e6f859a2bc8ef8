// Reconnect back-off for persistent links (issue 3 §4, the router-to-router dialler): capped
// exponential delays with jitter, reset once a link has stayed up long enough. Sans-IO: the caller
// passes `now` and arms its own timer; randomness comes from an injected Rng.
// Type only: lib sits below crypto (DESIGN.md §1), the caller injects systemRng or a test Rng.
import type { Rng } from '../crypto/rng.js'
import type { Millis } from './time.js'
import { VpnError } from './errors.js'

export interface BackoffOptions {
  /** Delay ceiling before the first retry, ms. Default 1000. */
  readonly initialMs?: number
  /** Ceiling of any delay, ms. Default 60000. */
  readonly maxMs?: number
  /** Growth per consecutive failure. Default 2. */
  readonly factor?: number
  /**
   * Fraction of each delay that is random, 0..1. Default 0.5: a delay lies in [base/2, base]
   * ("equal jitter"), so two gateways that lost the same link do not redial in lock step, and the
   * delay still grows.
   */
  readonly jitter?: number
  /** A link that stayed up at least this long counts as healthy: the next drop starts over at initialMs. Default 30000. */
  readonly resetAfterMs?: number
}

export const DEFAULT_BACKOFF = { initialMs: 1000, maxMs: 60_000, factor: 2, jitter: 0.5, resetAfterMs: 30_000 } as const

function checked(opts: BackoffOptions): Required<BackoffOptions> {
  const o = { ...DEFAULT_BACKOFF, ...opts }
  if (!(o.initialMs > 0) || !(o.maxMs >= o.initialMs) || !(o.factor >= 1) || !(o.jitter >= 0 && o.jitter <= 1) || !(o.resetAfterMs >= 0)) {
    throw new VpnError('ERR_BACKOFF_CONFIG', `invalid back-off ${JSON.stringify(o)}`)
  }
  return o
}

function delayFor(n: number, rng: Rng, o: Required<BackoffOptions>): number {
  const base = Math.min(o.maxMs, o.initialMs * o.factor ** Math.min(Math.max(0, Math.floor(n)), 64))
  const b = rng.bytes(4)
  const u = (((b[0]! << 24) >>> 0) + ((b[1]! << 16) | (b[2]! << 8) | b[3]!)) / 2 ** 32 // [0, 1)
  return Math.max(1, Math.round(base * (1 - o.jitter * u)))
}

/**
 * Stateless form for a caller that counts failures itself: the delay in ms before the next
 * attempt after `failures` consecutive failures (0 or 1 -> about initialMs, 2 -> about twice
 * that, ...). Same jitter and cap as Backoff; resetAfterMs is the caller's business here.
 * Throws ERR_BACKOFF_CONFIG like the constructor.
 */
export function backoffDelay(failures: number, rng: Rng, opts: BackoffOptions = {}): number {
  return delayFor(failures - 1, rng, checked(opts))
}

/**
 * Use: call failed(now) after a dial attempt failed or the link dropped and wait the returned
 * delay before dialling again; call up(now) when the link is established. A link that drops
 * shortly after coming up (an authentication loop, a flapping path) keeps growing the delay.
 */
export class Backoff {
  private readonly o: Required<BackoffOptions>
  private readonly rng: Rng
  private failures = 0
  private upSince: Millis | undefined

  /** Throws VpnError ERR_BACKOFF_CONFIG for a non-positive delay, maxMs < initialMs, factor < 1 or jitter outside 0..1. */
  constructor(rng: Rng, opts: BackoffOptions = {}) {
    this.o = checked(opts)
    this.rng = rng
  }

  /** Consecutive failures counted so far (0 after a reset). */
  get attempts(): number { return this.failures }

  /** The link is up at `now`. */
  up(now: Millis): void { this.upSince = now }

  /**
   * A dial failed or the link went down at `now`: returns the delay in ms (an integer) before the
   * next attempt. If the link had been up for resetAfterMs or more, the count starts over.
   */
  failed(now: Millis): number {
    if (this.upSince !== undefined && now - this.upSince >= this.o.resetAfterMs) this.failures = 0
    this.upSince = undefined
    return delayFor(this.failures++, this.rng, this.o)
  }

  /** Forget the history (an administrator asked to reconnect now). */
  reset(): void { this.failures = 0; this.upSince = undefined }
}
