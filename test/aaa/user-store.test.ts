// UserStore: validation, storage without clear passwords, PAP / CHAP-MD5 / MS-CHAPv2 verification
// (RFC 2759 §9.2 and RFC 3079 §3.5.3 vectors), lockout with injected time, unknown users.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import Database from 'better-sqlite3'
import type { AuthProof, AuthVerdict } from '../../src/auth/types.js'
import { chapMd5Response } from '../../src/auth/chap-md5.js'
import { generateNtResponse } from '../../src/auth/mschapv2.js'
import { UserStore } from '../../src/aaa/user-store.js'
import { fromHex, toHex, utf8 } from '../../src/lib/bytes.js'
import { VpnError } from '../../src/lib/errors.js'
import { ManualClock } from '../helpers/clock.js'

const FAST = { scryptN: 1 << 10 }
const KEY = new Uint8Array(32).fill(7)
const PW = 'Correct-Horse-42'
const isErr = (code: string) => (e: unknown): boolean => e instanceof VpnError && e.code === code

// RFC 2759 §9.2 "Sample Data" (also RFC 3079 §3.5.3 for the MasterKey).
const RFC = {
  user: 'User', password: 'clientPass',
  authenticatorChallenge: fromHex('5B5D7C7D7B3F2F3E3C2C602132262628'),
  peerChallenge: fromHex('21402324255E262A28295F2B3A337C7E'),
  ntResponse: fromHex('82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF'),
  authenticatorResponse: 'S=407A5589115FD0D6209F510FE9C04566932CDA56',
  masterKey: 'fdece3717a8c838cb388e527ae3cdd31',
}
const rfcProof = (user = RFC.user, ntResponse = RFC.ntResponse): AuthProof =>
  ({ method: 'mschapv2', user, authenticatorChallenge: RFC.authenticatorChallenge, peerChallenge: RFC.peerChallenge, ntResponse })
const LAX = { minLength: 8, minClasses: 2 } // "clientPass" has 10 characters and 2 classes

function mschap(user: string, password: string, rnd = randomBytes(32)): AuthProof {
  const a = new Uint8Array(rnd.subarray(0, 16)), p = new Uint8Array(rnd.subarray(16))
  return { method: 'mschapv2', user, authenticatorChallenge: a, peerChallenge: p, ntResponse: generateNtResponse(a, p, user, password) }
}
const pap = (user: string, password: string): AuthProof => ({ method: 'pap', user, password })
const without = (v: AuthVerdict): Omit<Extract<AuthVerdict, { ok: false }>, 'reason'> => {
  assert.equal(v.ok, false)
  const { reason: _r, ...rest } = v as Extract<AuthVerdict, { ok: false }>
  return rest
}

test('add validates the name, the password policy and uniqueness with clear messages', () => {
  const s = UserStore.open(':memory:', FAST)
  try {
    for (const bad of ['', 'a b', 'tab\there', 'x'.repeat(65), 'nul\0', 'zw\u200bsp']) assert.throws(() => s.add(bad, PW), isErr('ERR_BAD_USERNAME'), JSON.stringify(bad))
    s.add('x'.repeat(64), PW)
    assert.throws(() => s.add('alice', 'abcdefg1'), (e: unknown) => isErr('ERR_WEAK_PASSWORD')(e) &&
      (e as Error).message === 'password must be at least 12 characters (got 8) and mix 3 of: lower case, upper case, digits, symbols (got 2)')
    assert.throws(() => s.add('alice', 'Alice-2024-long!'), (e: unknown) => isErr('ERR_WEAK_PASSWORD')(e) && /user name/.test((e as Error).message))
    s.add('alice', PW)
    assert.throws(() => s.add('alice', PW), isErr('ERR_USER_EXISTS'))
    assert.throws(() => s.add('ALICE', PW), isErr('ERR_USER_EXISTS'))
    assert.throws(() => s.add('carol', PW, { reversible: true }), isErr('ERR_NO_SECRET_KEY'))
    assert.throws(() => UserStore.open(':memory:', { secretKey: new Uint8Array(16) }), isErr('ERR_BAD_SECRET_KEY'))
    s.add('dave', 'short1', { policy: { minLength: 6, minClasses: 2 } })
  } finally { s.close() }
})

test('PAP: right password accepted, wrong refused with 691', () => {
  const s = UserStore.open(':memory:', FAST)
  s.add('alice', PW)
  assert.deepEqual(s.verify(pap('alice', PW), 1000), { ok: true, user: 'alice' })
  assert.deepEqual(s.verify(pap('ALICE', PW), 1000), { ok: true, user: 'alice' }) // names ignore ASCII case
  assert.deepEqual(s.verify(pap('alice', PW + 'x'), 1000), { ok: false, reason: 'bad-credentials', message: 'authentication failed for user alice', mschapError: 691 })
  s.close()
})

test('verifyAsync (PAP on the thread pool): the same answers as verify, lockout included, and the event loop keeps running', async () => {
  const s = UserStore.open(':memory:', { ...FAST, lockout: { maxFailures: 2, windowSeconds: 900, lockSeconds: 900 } })
  s.add('alice', PW)
  let ticked = false
  setImmediate(() => { ticked = true })
  assert.deepEqual(await s.verifyAsync(pap('alice', PW), 1000), { ok: true, user: 'alice' })
  assert.ok(ticked, 'other work ran while scrypt was computed')
  assert.deepEqual(await s.verifyAsync(pap('nobody', PW), 1000), { ok: false, reason: 'no-such-user', message: 'authentication failed for user nobody', mschapError: 691 })
  assert.equal((await s.verifyAsync(pap('alice', 'wrong-1'), 1001)).ok, false)
  assert.equal((await s.verifyAsync(pap('alice', 'wrong-2'), 1002)).ok, false)
  const lockedOut = await s.verifyAsync(pap('alice', PW), 1003)
  assert.equal(!lockedOut.ok && lockedOut.reason, 'locked', 'two failures lock; the right password is refused while locked')
  s.close()
})

test('MS-CHAPv2 with the RFC 2759 §9.2 sample: authenticator response and RFC 3079 MasterKey', () => {
  const s = UserStore.open(':memory:', FAST)
  s.add(RFC.user, RFC.password, { policy: LAX })
  const v = s.verify(rfcProof(), 1000)
  assert.equal(v.ok, true)
  if (!v.ok) return
  assert.equal(v.user, 'User')
  assert.equal(v.authenticatorResponse, RFC.authenticatorResponse)
  assert.equal(v.keys?.method, 'mschapv2')
  assert.equal(toHex(v.keys!.masterKey), RFC.masterKey)
  assert.equal(v.address, undefined) // filled by the gateway
  // A "DOMAIN\User" name finds User (RFC 2759 §8.2 hashes the name without the domain).
  assert.equal(s.verify(rfcProof('CORP\\User'), 1000).ok, true)
  const tampered = RFC.ntResponse.slice(); tampered[23]! ^= 1
  assert.deepEqual(s.verify(rfcProof(RFC.user, tampered), 1000), { ok: false, reason: 'bad-credentials', message: 'authentication failed for user User', mschapError: 691 })
  // A random exchange with the real password works too.
  assert.equal(s.verify(mschap('User', RFC.password), 1000).ok, true)
  s.close()
})

test('CHAP-MD5 needs a reversibly stored password', () => {
  const s = UserStore.open(':memory:', { ...FAST, secretKey: KEY })
  s.add('alice', PW)
  s.add('bob', PW, { reversible: true })
  const challenge = new Uint8Array(randomBytes(16))
  const chap = (user: string, pw: string, id = 9): AuthProof => ({ method: 'chap-md5', user, id, challenge, response: chapMd5Response(id, utf8(pw), challenge) })
  const a = s.verify(chap('alice', PW), 1000)
  assert.equal(a.ok, false)
  if (!a.ok) { assert.equal(a.reason, 'method-not-allowed'); assert.match(a.message, /no reversibly stored password/) }
  assert.deepEqual(s.verify(chap('bob', PW), 1000), { ok: true, user: 'bob' })
  assert.deepEqual(s.verify(chap('bob', 'wrong-Password-1'), 1000), { ok: false, reason: 'bad-credentials', message: 'authentication failed for user bob', mschapError: 691 })
  // The response covers the identifier: a replay under another id fails (RFC 1994 §4.1).
  assert.equal(s.verify({ ...chap('bob', PW), id: 10 } as AuthProof, 1000).ok, false)
  assert.deepEqual(s.list().map((u) => [u.name, u.reversible]), [['alice', false], ['bob', true]])
  // Unknown users answer like a user without a reversible password.
  assert.deepEqual(without(s.verify(chap('nobody', PW), 1000)), { ...without(a), message: a.ok ? '' : a.message.replace('alice', 'nobody') })
  // passwd keeps reversibility unless told otherwise
  s.passwd('bob', 'New-Password-77')
  assert.deepEqual(s.verify(chap('bob', 'New-Password-77'), 1000), { ok: true, user: 'bob' })
  s.passwd('bob', 'New-Password-88', { reversible: false })
  assert.equal((s.verify(chap('bob', 'New-Password-88'), 1000) as { reason: string }).reason, 'method-not-allowed')
  s.close()
})

test('the database never holds the clear password, and a reversible one opens only with the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-users-'))
  const path = join(dir, 'users.db')
  const pw = 'Unmistakable-Secret-93'
  try {
    const s = UserStore.open(path, { ...FAST, secretKey: KEY })
    s.add('alice', pw)
    s.add('bob', pw + 'b', { reversible: true })
    const rows = s.database.prepare('SELECT * FROM users').all() as Record<string, unknown>[]
    for (const r of rows) for (const v of Object.values(r)) {
      const b = typeof v === 'string' ? Buffer.from(v) : v instanceof Uint8Array ? Buffer.from(v) : Buffer.alloc(0)
      assert.ok(!b.includes(pw) && !b.includes(Buffer.from(pw, 'utf16le')), 'clear password in a column')
    }
    s.close()
    for (const f of readdirSync(dir)) {
      const b = readFileSync(join(dir, f))
      assert.ok(!b.includes(pw) && !b.includes(Buffer.from(pw, 'utf16le')), `clear password in ${f}`)
    }
    // Reopened with the wrong key: CHAP for bob is a backend error, never a success.
    const s2 = UserStore.open(path, { ...FAST, secretKey: new Uint8Array(32).fill(8) })
    const challenge = new Uint8Array(16)
    const v = s2.verify({ method: 'chap-md5', user: 'bob', id: 1, challenge, response: chapMd5Response(1, utf8(pw + 'b'), challenge) }, 1000)
    assert.equal(v.ok, false)
    assert.equal((v as { reason: string }).reason, 'backend-error')
    // …and users persist across reopen
    assert.deepEqual(s2.verify(pap('alice', pw), 1000), { ok: true, user: 'alice' })
    s2.close()
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('lockout: 5 failures lock for 15 minutes (647, until when), then the account opens again', () => {
  const clock = new ManualClock()
  const s = UserStore.open(':memory:', FAST)
  s.add('alice', PW)
  for (let i = 0; i < 5; i++) { clock.advance(1000); assert.equal((s.verify(mschap('alice', 'nope-Nope-123'), clock.now) as { reason: string }).reason, 'bad-credentials') }
  const lockedAt = clock.now
  const v = s.verify(mschap('alice', PW), clock.advance(1000))
  assert.equal(v.ok, false)
  if (!v.ok) {
    assert.equal(v.reason, 'locked')
    assert.equal(v.mschapError, 647)
    assert.ok(v.message.includes(new Date(lockedAt + 900_000).toISOString()), v.message)
  }
  assert.equal(s.list()[0]!.lockedUntil, lockedAt + 900_000)
  clock.now = lockedAt + 899_999
  assert.equal((s.verify(pap('alice', PW), clock.now) as { reason: string }).reason, 'locked')
  clock.now = lockedAt + 900_000
  const ok = s.verify(mschap('alice', PW), clock.now)
  assert.equal(ok.ok, true)
  assert.equal(s.list()[0]!.lastLogin, clock.now)
  assert.equal(s.list()[0]!.lockedUntil, undefined)
  s.close()
})

test('lockout: success resets the count; failures outside the window do not add up; options apply', () => {
  const clock = new ManualClock()
  const s = UserStore.open(':memory:', { ...FAST, lockout: { maxFailures: 3, windowSeconds: 60, lockSeconds: 30 } })
  s.add('alice', PW)
  const fail = (): string => (s.verify(pap('alice', 'wrong-Password-1'), clock.advance(1000)) as { reason: string }).reason
  fail(); fail()
  assert.equal(s.verify(pap('alice', PW), clock.advance(1000)).ok, true)
  fail(); fail()
  assert.equal(s.verify(pap('alice', PW), clock.advance(1000)).ok, true) // still 2 < 3
  fail(); clock.advance(60_000); fail(); clock.advance(60_000); fail()
  assert.equal(s.verify(pap('alice', PW), clock.advance(1000)).ok, true) // each failure in its own window
  fail(); fail(); fail()
  assert.equal(fail(), 'locked')
  assert.equal(s.verify(pap('alice', PW), clock.advance(30_000)).ok, true)
  // An administrator can unlock early
  fail(); fail(); fail()
  s.unlock('alice')
  assert.equal(s.verify(pap('alice', PW), clock.advance(1)).ok, true)
  s.close()
})

test('unknown user: the same answer as a wrong password, lockout included', () => {
  const clock = new ManualClock()
  const s = UserStore.open(':memory:', FAST)
  s.add('alice', PW)
  for (const mk of [(u: string) => pap(u, 'Wrong-Password-9'), (u: string) => mschap(u, 'Wrong-Password-9')]) {
    const known = s.verify(mk('alice'), clock.now)
    const unknown = s.verify(mk('alicf'), clock.now)
    assert.equal((known as { reason: string }).reason, 'bad-credentials')
    assert.equal((unknown as { reason: string }).reason, 'no-such-user')
    assert.deepEqual(without(unknown), { ...without(known), message: (without(known).message).replace('alice', 'alicf') })
  }
  s.unlock('alice')
  // both lock after the same number of failures with the same message shape
  const seq = (u: string): string[] => Array.from({ length: 6 }, () => (s.verify(pap(u, 'Wrong-Password-9'), clock.now) as { reason: string }).reason)
  assert.deepEqual(seq('alice'), ['bad-credentials', 'bad-credentials', 'bad-credentials', 'bad-credentials', 'bad-credentials', 'locked'])
  assert.deepEqual(seq('ghost'), ['no-such-user', 'no-such-user', 'no-such-user', 'no-such-user', 'no-such-user', 'locked'])
  const a = s.verify(pap('alice', PW), clock.now), g = s.verify(pap('ghost', PW), clock.now)
  assert.deepEqual(without(g), { ...without(a), message: without(a).message.replace('alice', 'ghost') })
  s.close()
})

test('unknown user: PAP does the scrypt work of a real check (no timing shortcut)', () => {
  const s = UserStore.open(':memory:', { scryptN: 1 << 14 })
  s.add('alice', PW)
  const time = (u: string): number => {
    const t: number[] = []
    for (let i = 0; i < 3; i++) { const t0 = process.hrtime.bigint(); s.verify(pap(u, 'Wrong-Password-9'), 0); t.push(Number(process.hrtime.bigint() - t0)) }
    return t.sort((x, y) => x - y)[1]!
  }
  s.unlock('alice')
  const known = time('alice'), unknown = time('nobody')
  assert.ok(unknown > known * 0.5 && unknown < known * 2, `known ${known} ns, unknown ${unknown} ns`)
  s.close()
})

test('disabled accounts: refused with 647 only for the right password', () => {
  const s = UserStore.open(':memory:', FAST)
  s.add('alice', PW)
  s.setDisabled('alice', true)
  assert.deepEqual(s.verify(pap('alice', PW), 1), { ok: false, reason: 'disabled', message: 'account alice is disabled', mschapError: 647 })
  assert.equal((s.verify(pap('alice', 'Wrong-Password-9'), 1) as { reason: string }).reason, 'bad-credentials')
  assert.equal(s.list()[0]!.disabled, true)
  s.setDisabled('alice', false)
  assert.equal(s.verify(pap('alice', PW), 1).ok, true)
  assert.throws(() => s.setDisabled('nobody', true), isErr('ERR_NO_SUCH_USER'))
  s.close()
})

test('list, passwd and del', () => {
  const s = UserStore.open(':memory:', FAST)
  s.add('bob', PW); s.add('alice', PW)
  const l = s.list()
  assert.deepEqual(l.map((u) => u.name), ['alice', 'bob'])
  assert.ok(l.every((u) => typeof u.created === 'number' && !u.reversible && !u.disabled && u.lastLogin === undefined && u.lockedUntil === undefined))
  assert.throws(() => s.passwd('alice', 'short'), isErr('ERR_WEAK_PASSWORD'))
  s.passwd('alice', 'Another-Pass-55')
  assert.equal(s.verify(pap('alice', PW), 1).ok, false)
  assert.equal(s.verify(pap('alice', 'Another-Pass-55'), 1).ok, true)
  assert.equal(s.verify(mschap('alice', 'Another-Pass-55'), 1).ok, true) // NT hash replaced too
  s.del('bob')
  assert.throws(() => s.del('bob'), isErr('ERR_NO_SUCH_USER'))
  assert.throws(() => s.passwd('bob', PW), isErr('ERR_NO_SUCH_USER'))
  assert.deepEqual(s.list().map((u) => u.name), ['alice'])
  s.close()
})

test('schema is versioned: migrations recorded once, newer databases refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-mig-'))
  const path = join(dir, 'users.db')
  try {
    UserStore.open(path, FAST).close()
    UserStore.open(path, FAST).close()
    const db = new Database(path)
    assert.deepEqual((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version), [1, 2])
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    db.prepare('INSERT INTO schema_migrations VALUES (99, 0)').run()
    db.close()
    assert.throws(() => UserStore.open(path, FAST), isErr('ERR_DB_VERSION'))
    assert.throws(() => UserStore.open(join(dir, 'no', 'such', 'dir.db')), isErr('ERR_DB'))
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('verify never throws on hostile proofs (wrong lengths, odd names)', () => {
  const s = UserStore.open(':memory:', { ...FAST, secretKey: KEY, lockout: { maxFailures: 1000 } })
  s.add('alice', PW, { reversible: true })
  const bytes = fc.uint8Array({ maxLength: 40 }).map((b) => new Uint8Array(b))
  const user = fc.oneof(fc.constant('alice'), fc.string({ maxLength: 80 }))
  const proof: fc.Arbitrary<AuthProof> = fc.oneof(
    fc.record({ method: fc.constant('pap' as const), user, password: fc.string({ maxLength: 300 }) }),
    fc.record({ method: fc.constant('chap-md5' as const), user, id: fc.integer({ min: -5, max: 1000 }), challenge: bytes, response: bytes }),
    fc.record({ method: fc.constant('mschapv2' as const), user, authenticatorChallenge: bytes, peerChallenge: bytes, ntResponse: bytes }),
  )
  fc.assert(fc.property(proof, (p) => { const v = s.verify(p, 1); assert.equal(v.ok, false) }), { numRuns: 300 })
  s.close()
})
