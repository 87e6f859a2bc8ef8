// Local users in SQLite: policy-checked passwords stored as scrypt (PAP) and NT hash (MS-CHAPv2),
// optionally sealed reversibly for CHAP-MD5; verification of AuthProofs with per-user lockout;
// router accounts' routed prefixes (RFC 2865 §5.22 Framed-Route), handed out in the verdict.
import { randomBytes } from 'node:crypto'
import type { AuthProof, AuthVerdict } from '../auth/types.js'
import { chapMd5Response } from '../auth/chap-md5.js'
import { ntPasswordHash, stripDomain, verifyMsChapV2 } from '../auth/mschapv2.js'
import { constantTimeEqual, utf8 } from '../lib/bytes.js'
import { VpnError } from '../lib/errors.js'
import { openAaaDb, type AaaDb } from './database.js'
import { CLEAR_LOCKOUT, DEFAULT_LOCKOUT, isLocked, recordFailure, type LockoutOptions, type LockoutState } from './lockout.js'
import { DEFAULT_SCRYPT_N, hashPassword, verifyPassword, verifyPasswordAsync } from './password-hash.js'
import { checkPasswordPolicy, type PasswordPolicy } from './password-policy.js'
import { open as openBox, seal, SECRET_KEY_LENGTH } from './secret-box.js'
import { SessionLog } from './accounting.js'
import { checkRouteConflicts, loadAllRoutes, loadRoutes, normaliseRoutes, replaceUserRoutes, routesByUser, storeRoutes, storedRouteConflicts, type ReservedPrefix } from './framed-routes.js'

export interface UserStoreOptions {
  /** 32-byte key sealing reversible passwords; needed only to add/verify reversible (CHAP) users. */
  readonly secretKey?: Uint8Array
  readonly lockout?: Partial<LockoutOptions>
  /** Default password policy for add/passwd (overridable per call). */
  readonly policy?: PasswordPolicy
  /** scrypt cost (power of two); tests lower it. Default 2^15. */
  readonly scryptN?: number
  /**
   * Prefixes the gateway uses itself (the client pool, config routes): a router account's route
   * overlapping one is refused. The CLI passes them from the config.
   */
  readonly reservedPrefixes?: readonly ReservedPrefix[]
}

export interface SetPasswordOptions {
  /**
   * Also keep the password sealed with AES-256-GCM under the secret key, because CHAP-MD5 and
   * EAP-MD5 need the clear secret on the gateway. That is why CHAP is off by default: a stolen
   * database together with secret.key reveals these passwords. passwd() keeps the previous
   * setting when this is left out.
   */
  readonly reversible?: boolean
  readonly policy?: PasswordPolicy
}

export interface AddUserOptions extends SetPasswordOptions {
  /** Prefixes routed to this user's link ("10.2.0.0/24"); non-empty makes it a router account. */
  readonly routes?: readonly string[]
}

export interface UserInfo {
  readonly name: string
  readonly created: number
  readonly reversible: boolean
  readonly disabled: boolean
  readonly lockedUntil?: number
  readonly lastLogin?: number
  /** Canonical routed prefixes; empty for an ordinary (remote access) user. */
  readonly routes: readonly string[]
}

interface UserRow {
  name: string; created: number; pw_hash: string; nt_hash: Uint8Array; secret: Uint8Array | null
  disabled: number; failures: number; window_start: number | null; locked_until: number | null; last_login: number | null
}

type Failure = Extract<AuthVerdict, { ok: false }>

/** Outward answer for a wrong password and, identically, for an unknown user. */
const badCredentials = (user: string, reason: 'bad-credentials' | 'no-such-user'): Failure =>
  ({ ok: false, reason, message: `authentication failed for user ${user}`, mschapError: 691 })

const noReversible = (user: string, reason: 'method-not-allowed' | 'no-such-user'): Failure => ({
  ok: false, reason, mschapError: 691,
  message: `user ${user} has no reversibly stored password, which CHAP-MD5/EAP-MD5 need (set it with passwd --reversible)`,
})

// Unknown names get an in-memory lockout twin so that they lock exactly like real users (no
// enumeration through the lockout answer); bounded so a name-spraying peer cannot grow it.
const PHANTOM_LIMIT = 10_000

// 1–64 characters, no whitespace, control or format characters.
const NAME_RE = /^[^\s\p{Cc}\p{Cf}]{1,64}$/u

/** Throws ERR_BAD_USERNAME with the reason if `name` is not an acceptable user name. */
export function checkUserName(name: string): void {
  if (!NAME_RE.test(name)) throw new VpnError('ERR_BAD_USERNAME', `user name must be 1 to 64 characters without spaces or control characters, got ${JSON.stringify(name)}`)
}

export class UserStore {
  /** The migrated AAA database connection, shared with SessionLog (new SessionLog(store.database)). */
  readonly database: AaaDb
  private readonly secretKey: Uint8Array | undefined
  private readonly lockout: LockoutOptions
  private readonly policy: PasswordPolicy
  private readonly scryptN: number
  private readonly reserved: readonly ReservedPrefix[]
  private readonly phantoms = new Map<string, LockoutState>()
  // Comparable work for unknown users: a real scrypt hash and NT hash of a random password.
  private readonly dummyPwHash: string
  private readonly dummyNtHash: Uint8Array
  private readonly dummySecret: Uint8Array

  private constructor(database: AaaDb, opts: UserStoreOptions) {
    this.database = database
    if (opts.secretKey && opts.secretKey.length !== SECRET_KEY_LENGTH) throw new VpnError('ERR_BAD_SECRET_KEY', `secret key must be ${SECRET_KEY_LENGTH} bytes, got ${opts.secretKey.length}`)
    this.secretKey = opts.secretKey
    this.lockout = { ...DEFAULT_LOCKOUT, ...opts.lockout }
    this.policy = opts.policy ?? {}
    this.scryptN = opts.scryptN ?? DEFAULT_SCRYPT_N
    this.reserved = opts.reservedPrefixes ?? []
    const dummy = randomBytes(18).toString('base64')
    this.dummyPwHash = hashPassword(dummy, this.scryptN)
    this.dummyNtHash = ntPasswordHash(dummy)
    this.dummySecret = utf8(dummy)
  }

  /** Opens or creates the database at `path` (':memory:' for tests). Throws ERR_DB / ERR_BAD_SECRET_KEY. */
  static open(path: string, opts: UserStoreOptions = {}): UserStore {
    const db = openAaaDb(path)
    try { return new UserStore(db, opts) } catch (e) { db.close(); throw e }
  }

  /** A session log on this store's database connection (closed with the store; same as new SessionLog(store.database)). */
  sessionLog(): SessionLog { return new SessionLog(this.database) }

  close(): void { this.database.close() }

  private row(name: string): UserRow | undefined {
    return this.database.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined
  }

  private credentials(name: string, password: string, opts: SetPasswordOptions, reversible: boolean): { pw_hash: string; nt_hash: Uint8Array; secret: Uint8Array | null } {
    const verdict = checkPasswordPolicy(password, name, opts.policy ?? this.policy)
    if (!verdict.ok) throw new VpnError('ERR_WEAK_PASSWORD', verdict.message)
    let secret: Uint8Array | null = null
    if (reversible) {
      if (!this.secretKey) throw new VpnError('ERR_NO_SECRET_KEY', 'a reversibly stored password needs the secret key (secret.key); none was loaded')
      secret = seal(this.secretKey, utf8(password), aad(name))
    }
    return { pw_hash: hashPassword(password, this.scryptN), nt_hash: ntPasswordHash(password), secret }
  }

  /**
   * Adds a user, with its routes when given (a router account). Throws VpnError ERR_BAD_USERNAME,
   * ERR_USER_EXISTS (names are unique ignoring ASCII case), ERR_WEAK_PASSWORD (with the policy
   * message), ERR_NO_SECRET_KEY, or for routes ERR_BAD_ROUTE / ERR_ROUTE_CONFLICT (see
   * setRoutes); nothing is stored when it throws.
   */
  add(name: string, password: string, opts: AddUserOptions = {}): void {
    checkUserName(name)
    if (this.row(name)) throw new VpnError('ERR_USER_EXISTS', `user ${name} already exists`)
    // Refuse a bad route before the (slow) password hashing.
    const routes = this.checkRoutes(name, opts.routes ?? [])
    const c = this.credentials(name, password, opts, opts.reversible ?? false)
    // Immediate: the check and the insert hold the write lock together (the gateway and another
    // CLI may share the file), so two accounts cannot claim overlapping prefixes at once.
    this.database.transaction(() => {
      if (this.row(name)) throw new VpnError('ERR_USER_EXISTS', `user ${name} already exists`)
      checkRouteConflicts(name, routes, loadAllRoutes(this.database), this.reserved)
      this.database.prepare('INSERT INTO users (name, created, pw_hash, nt_hash, secret) VALUES (?, ?, ?, ?, ?)')
        .run(name, new Date().getTime(), c.pw_hash, c.nt_hash, c.secret)
      storeRoutes(this.database, name, routes)
    }).immediate()
  }

  /**
   * Replaces a user's routes; an empty list makes it an ordinary user again. Takes effect at the
   * user's next login (a live session keeps the routes it came up with). Throws ERR_NO_SUCH_USER,
   * ERR_BAD_ROUTE (malformed, host bits set, default route, never-routed range, duplicates) or
   * ERR_ROUTE_CONFLICT naming the client pool, a config route or the other router account.
   */
  setRoutes(name: string, routes: readonly string[]): void {
    replaceUserRoutes(this.database, name, normaliseRoutes(routes), this.reserved)
  }

  /**
   * Checks routes for account `name` as add/setRoutes would, without storing anything (the CLI
   * asks before prompting for a password). Returns the canonical list; throws ERR_BAD_ROUTE or
   * ERR_ROUTE_CONFLICT.
   */
  checkRoutes(name: string, routes: readonly string[]): string[] {
    const canonical = normaliseRoutes(routes)
    checkRouteConflicts(name, canonical, loadAllRoutes(this.database), this.reserved)
    return canonical
  }

  /**
   * Stored routes overlapping the reserved prefixes (default: the ones this store was opened
   * with), one message each; the gateway logs them at start (the pool may have changed since).
   */
  routeConflicts(reserved: readonly ReservedPrefix[] = this.reserved): string[] { return storedRouteConflicts(this.database, reserved) }

  /** The canonical routes of a user (empty for an ordinary user); throws ERR_NO_SUCH_USER. */
  routes(name: string): string[] {
    const row = this.row(name)
    if (!row) throw new VpnError('ERR_NO_SUCH_USER', `no user ${name}`)
    return loadRoutes(this.database, row.name)
  }

  /** Removes a user; throws ERR_NO_SUCH_USER. Session records keep the name. */
  del(name: string): void {
    if (this.database.prepare('DELETE FROM users WHERE name = ?').run(name).changes === 0) throw new VpnError('ERR_NO_SUCH_USER', `no user ${name}`)
  }

  /** Sets a new password (policy-checked) and clears any lockout. Throws like add() and ERR_NO_SUCH_USER. */
  passwd(name: string, password: string, opts: SetPasswordOptions = {}): void {
    const row = this.row(name)
    if (!row) throw new VpnError('ERR_NO_SUCH_USER', `no user ${name}`)
    const c = this.credentials(row.name, password, opts, opts.reversible ?? row.secret !== null)
    this.database.prepare('UPDATE users SET pw_hash = ?, nt_hash = ?, secret = ?, failures = 0, window_start = NULL, locked_until = NULL WHERE name = ?')
      .run(c.pw_hash, c.nt_hash, c.secret, row.name)
  }

  /** Disables or re-enables a user; throws ERR_NO_SUCH_USER. */
  setDisabled(name: string, disabled: boolean): void {
    if (this.database.prepare('UPDATE users SET disabled = ? WHERE name = ?').run(disabled ? 1 : 0, name).changes === 0) throw new VpnError('ERR_NO_SUCH_USER', `no user ${name}`)
  }

  /** Lifts a lockout early (administrator action); throws ERR_NO_SUCH_USER. */
  unlock(name: string): void {
    if (this.database.prepare('UPDATE users SET failures = 0, window_start = NULL, locked_until = NULL WHERE name = ?').run(name).changes === 0) throw new VpnError('ERR_NO_SUCH_USER', `no user ${name}`)
  }

  /** All users sorted by name, with their routes; lockedUntil is present only when a lock has been recorded. */
  list(): UserInfo[] {
    const routes = routesByUser(this.database)
    const rows = this.database.prepare('SELECT name, created, secret IS NOT NULL AS reversible, disabled, locked_until, last_login FROM users ORDER BY name').all() as
      { name: string; created: number; reversible: number; disabled: number; locked_until: number | null; last_login: number | null }[]
    return rows.map((r) => ({
      name: r.name, created: r.created, reversible: r.reversible === 1, disabled: r.disabled === 1,
      ...(r.locked_until !== null ? { lockedUntil: r.locked_until } : {}),
      ...(r.last_login !== null ? { lastLogin: r.last_login } : {}),
      routes: routes.get(r.name.toLowerCase()) ?? [],
    }))
  }

  /**
   * Verifies a proof at `now` (ms). Never throws for peer input: malformed proofs are failures.
   * Order: lock check (a locked account is refused even with the right password), credential
   * check (a failure counts toward the lock), then disabled (revealed only to the right password).
   * The verdict's `address` is left for the gateway to fill.
   */
  verify(proof: AuthProof, now: number): AuthVerdict {
    return this.verifyWith(proof, now, undefined)
  }

  /**
   * verify() for the gateway: identical answers, but PAP's scrypt runs on the thread pool so a PAP
   * login (known, unknown or locked name) never blocks the event loop. Never rejects.
   */
  async verifyAsync(proof: AuthProof, now: number): Promise<AuthVerdict> {
    if (proof.method !== 'pap') return this.verify(proof, now)
    let stored = this.dummyPwHash
    try { stored = this.findRow(String(proof.user))?.pw_hash ?? this.dummyPwHash } catch { /* verifyWith reports the store error */ }
    const papOk = await verifyPasswordAsync(proof.password, stored)
    return this.verifyWith(proof, now, papOk)
  }

  private verifyWith(proof: AuthProof, now: number, papOk: boolean | undefined): AuthVerdict {
    try {
      return this.verifyUnsafe(proof, now, papOk)
    } catch (e) {
      return { ok: false, reason: 'backend-error', message: `user store error: ${(e as Error).message}` }
    }
  }

  /** The row for a login name; RFC 2759 §8.2 hashes the name without a "DOMAIN\\" prefix and Windows may send one. */
  private findRow(name: string): UserRow | undefined {
    const row = this.row(name)
    return !row && name.includes('\\') ? this.row(stripDomain(name)) : row
  }

  /** `papOk`: the PAP password check already done (asynchronously) by the caller. */
  private verifyUnsafe(proof: AuthProof, now: number, papOk: boolean | undefined): AuthVerdict {
    const name = String(proof.user)
    const row = this.findRow(name)
    if (!row) return this.verifyUnknown(proof, name, now, papOk !== undefined)

    const state: LockoutState = { failures: row.failures, windowStart: row.window_start, lockedUntil: row.locked_until }
    if (isLocked(state, now)) return locked(name, state.lockedUntil!)

    let verdict: AuthVerdict
    switch (proof.method) {
      case 'pap':
        verdict = (papOk ?? verifyPassword(proof.password, row.pw_hash)) ? { ok: true, user: row.name } : badCredentials(name, 'bad-credentials')
        break
      case 'chap-md5': {
        if (row.secret === null) return noReversible(name, 'method-not-allowed')
        if (!this.secretKey) return { ok: false, reason: 'backend-error', message: `user ${name} has a reversible password but no secret key is loaded`, mschapError: 691 }
        const secret = openBox(this.secretKey, row.secret, aad(row.name))
        if (!secret) return { ok: false, reason: 'backend-error', message: `reversible password of user ${name} does not open with the loaded secret key`, mschapError: 691 }
        const expected = chapMd5Response(proof.id, secret, proof.challenge)
        secret.fill(0)
        verdict = constantTimeEqual(expected, proof.response) ? { ok: true, user: row.name } : badCredentials(name, 'bad-credentials')
        break
      }
      case 'mschapv2': {
        const r = verifyMsChapV2(row.nt_hash, proof)
        verdict = r.ok
          ? { ok: true, user: row.name, authenticatorResponse: r.authenticatorResponse, keys: { method: 'mschapv2', masterKey: r.masterKey } }
          : badCredentials(name, 'bad-credentials')
        break
      }
      default:
        return { ok: false, reason: 'method-not-allowed', message: 'unknown authentication method', mschapError: 691 }
    }

    if (!verdict.ok) {
      const next = recordFailure(state, now, this.lockout)
      this.database.prepare('UPDATE users SET failures = ?, window_start = ?, locked_until = ? WHERE name = ?').run(next.failures, next.windowStart, next.lockedUntil, row.name)
      return verdict
    }
    if (row.disabled) return { ok: false, reason: 'disabled', message: `account ${row.name} is disabled`, mschapError: 647 }
    this.database.prepare('UPDATE users SET failures = 0, window_start = NULL, locked_until = NULL, last_login = ? WHERE name = ?').run(now, row.name)
    // A router account: the gateway routes these prefixes to the session (Framed-Route, RFC 2865 §5.22).
    const routes = loadRoutes(this.database, row.name)
    return routes.length > 0 ? { ...verdict, routes } : verdict
  }

  /** Same work and same outward answers as for a known user with a wrong password. */
  private verifyUnknown(proof: AuthProof, name: string, now: number, papDone: boolean): AuthVerdict {
    const key = name.toLowerCase()
    const state = this.phantoms.get(key) ?? CLEAR_LOCKOUT
    if (isLocked(state, now)) return locked(name, state.lockedUntil!)
    let answer: Failure
    switch (proof.method) {
      case 'pap': if (!papDone) verifyPassword(proof.password, this.dummyPwHash); answer = badCredentials(name, 'no-such-user'); break
      // Most users have no reversible password, so an unknown name answers like one of them.
      case 'chap-md5': chapMd5Response(proof.id, this.dummySecret, proof.challenge); return noReversible(name, 'no-such-user')
      case 'mschapv2': verifyMsChapV2(this.dummyNtHash, proof); answer = badCredentials(name, 'no-such-user'); break
      default: return { ok: false, reason: 'method-not-allowed', message: 'unknown authentication method', mschapError: 691 }
    }
    this.phantoms.delete(key)
    if (this.phantoms.size >= PHANTOM_LIMIT) this.phantoms.delete(this.phantoms.keys().next().value!)
    this.phantoms.set(key, recordFailure(state, now, this.lockout))
    // A second lookup stands in for the known path's UPDATE; the gap left is microseconds of
    // SQLite work, far below the scrypt/DES work both paths share.
    this.database.prepare('SELECT 1 FROM users WHERE name = ?').get(key)
    return answer
  }
}

function aad(name: string): Uint8Array { return utf8(`gatehouse-user-secret-v1:${name.toLowerCase()}`) }

function locked(user: string, until: number): Failure {
  return { ok: false, reason: 'locked', message: `account ${user} is locked after repeated failed logins until ${new Date(until).toISOString()}`, mschapError: 647 }
}
