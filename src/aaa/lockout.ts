// Account lockout arithmetic: failures counted in a window, then a fixed lock. Pure, so the user
// store (rows in SQLite) and its in-memory twin for unknown names share one rule.

export interface LockoutOptions {
  /** Failures within the window that lock the account (default 5). */
  readonly maxFailures: number
  /** Length of the counting window in seconds, from the first failure (default 900). */
  readonly windowSeconds: number
  /** How long a lock lasts in seconds (default 900). */
  readonly lockSeconds: number
}

export const DEFAULT_LOCKOUT: LockoutOptions = { maxFailures: 5, windowSeconds: 900, lockSeconds: 900 }

export interface LockoutState {
  readonly failures: number
  /** ms of the first failure of the current window; null when no failures are counted. */
  readonly windowStart: number | null
  /** ms until which logins are refused; null when not locked. */
  readonly lockedUntil: number | null
}

export const CLEAR_LOCKOUT: LockoutState = { failures: 0, windowStart: null, lockedUntil: null }

/** True while `now` is before the end of the lock. */
export function isLocked(s: LockoutState, now: number): boolean {
  return s.lockedUntil !== null && now < s.lockedUntil
}

/** State after one more failed login at `now` (callers do not count attempts refused while locked). */
export function recordFailure(s: LockoutState, now: number, o: LockoutOptions): LockoutState {
  const fresh = s.windowStart === null || now - s.windowStart >= o.windowSeconds * 1000
  const failures = fresh ? 1 : s.failures + 1
  const windowStart = fresh ? now : s.windowStart
  // Locking starts a new count: after the lock the user gets maxFailures fresh attempts.
  if (failures >= o.maxFailures) return { failures: 0, windowStart: null, lockedUntil: now + o.lockSeconds * 1000 }
  return { failures, windowStart, lockedUntil: null }
}
