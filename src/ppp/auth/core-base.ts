// Shared plumbing of the PPP authentication cores (RFC 1661 §3.5): output queues, the one timer,
// drop counters and the "exactly one final outcome" rule. Protocol logic lives in the subclasses.
import { Counters } from '../../lib/counters.js'
import type { Millis } from '../../lib/time.js'
import type { AuthSideEvent } from './types.js'

export const DEFAULT_RESTART_MS = 3000
export const DEFAULT_MAX_RETRIES = 10

/** Base for every PppAuthCore: subclasses queue packets and events here and arm `deadline`. */
export abstract class AuthCoreBase {
  protected readonly outbox: Uint8Array[] = []
  protected readonly events: AuthSideEvent[] = []
  protected readonly drops = new Counters()
  protected deadline: Millis | undefined
  /** Set once 'success' or 'failure' has been emitted; the phase is over for this core. */
  protected finished = false

  nextTimeout(): Millis | undefined { return this.deadline }
  pollPacket(): Uint8Array | undefined { return this.outbox.shift() }
  pollEvent(): AuthSideEvent | undefined { return this.events.shift() }
  /** Drop and outcome counters by reason (not part of PppAuthCore; sessions may surface them). */
  counters(): Record<string, number> { return this.drops.snapshot() }

  protected send(packet: Uint8Array): void {
    this.outbox.push(packet)
    this.drops.inc('tx')
  }

  protected drop(reason: string): void { this.drops.inc(`drop:${reason}`) }

  protected succeed(event: Extract<AuthSideEvent, { type: 'success' }>): void {
    if (this.finished) return
    this.finished = true
    this.deadline = undefined
    this.events.push(event)
  }

  protected fail(reason: string, message: string): void {
    if (this.finished) return
    this.finished = true
    this.deadline = undefined
    this.events.push({ type: 'failure', reason, message })
  }

  /**
   * Runs `fn` over hostile input: any exception (a DecodeError from a codec, or a bug) is counted
   * and swallowed, because nothing a peer sends may crash the session (DESIGN.md §5).
   */
  protected guard(fn: () => void): void {
    try {
      fn()
    } catch (e) {
      this.drop(e instanceof Error && e.name === 'DecodeError' ? 'malformed' : 'internal-error')
    }
  }
}

/** Peer-supplied text made safe for logs and events: printable ASCII only, bounded length. */
export function sanitizePeerText(text: string, max = 120): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[^\x20-\x7e]/g, '?')
  return clean.length > max ? `${clean.slice(0, max)}...` : clean
}
